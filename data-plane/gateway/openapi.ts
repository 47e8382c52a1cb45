/**
 * The gateway's OpenAPI 3.1 document, generated from the same zod schemas the routes validate with (zod 4's
 * `z.toJSONSchema`, JSON Schema 2020-12 as OpenAPI 3.1 uses it), so it cannot drift from what the gateway
 * accepts. One operation per workflow type, each with its own input schema.
 */
import { z } from 'zod';
import type { RouteDoc } from './context';
import { listRunsQuery, runView } from './runs';

/** The one error body of every refusal. */
export const errorBody = z.object({
  error: z.object({
    code: z.string().regex(/^NALAR_ERR_[A-Z0-9_]+$/),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

/** A JSON Schema of a zod schema, as a request body (`io: 'input'`) or a response. */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema; // OpenAPI 3.1 sets the dialect once (jsonSchemaDialect)
  return out;
}

const json = (schemaRef: string) => ({ 'application/json': { schema: { $ref: schemaRef } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [String(s), { description: `Error (${s})`, content: json('#/components/schemas/Error') }]),
  );

/** Options of {@link openApiDocument}. */
export interface OpenApiOptions {
  /** Workflow type → input schema. */
  workflows: Readonly<Record<string, z.ZodType>>;
  /** Whether `/v1/codec/decode|encode` are served. */
  codec: boolean;
  /** Whether requests need a bearer token. */
  auth: boolean;
  /** Extra paths added by plugins (their own operations). @default none */
  extraPaths?: Readonly<Record<string, unknown>>;
}

/** The OpenAPI document `GET /openapi.json` serves. */
export function openApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const security = options.auth ? [{ bearer: [] }] : [];
  const runParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'Run id' };
  const runResponses = { '200': { description: 'The run', content: json('#/components/schemas/Run') } };
  const paths: Record<string, unknown> = {
    '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } } },
    '/readyz': {
      get: {
        summary: 'Readiness: Temporal is reachable',
        security: [],
        responses: { '200': { description: 'Ready' }, ...errors(503) },
      },
    },
    '/metrics': {
      get: { summary: 'Prometheus metrics', security: [], responses: { '200': { description: 'Metrics text' } } },
    },
    '/openapi.json': {
      get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
    },
    '/v1/runs': {
      get: {
        summary: "The caller's most recent runs, newest first (from Temporal visibility: lags by a moment)",
        parameters: [
          { name: 'status', in: 'query', schema: jsonSchema(listRunsQuery.shape.status, 'input') },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
          {
            name: 'cursor',
            in: 'query',
            description: 'The page after the one whose nextCursor this is (keep the same status)',
            schema: jsonSchema(listRunsQuery.shape.cursor, 'input'),
          },
        ],
        responses: {
          '200': {
            description: 'Runs (without result or error)',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    runs: { type: 'array', items: { $ref: '#/components/schemas/Run' } },
                    nextCursor: { type: 'string', description: 'Present when more runs follow: pass it as cursor' },
                  },
                },
              },
            },
          },
          ...errors(400, 401, 429, 503),
        },
      },
    },
    '/v1/runs/{id}': {
      get: {
        summary: 'A run: status, result, error with its code',
        parameters: [runParam],
        responses: { ...runResponses, ...errors(401, 404, 429, 503) },
      },
      delete: {
        summary: 'Cancel a run (same as POST /v1/runs/{id}/cancel)',
        parameters: [runParam],
        responses: { '202': runResponses['200'], ...errors(401, 404, 409, 429, 503) },
      },
    },
    '/v1/runs/{id}/cancel': {
      post: {
        summary: 'Cancel a run',
        parameters: [runParam],
        responses: { '202': runResponses['200'], ...errors(401, 404, 409, 429, 503) },
      },
    },
  };
  const schemas: Record<string, unknown> = {
    Error: jsonSchema(errorBody, 'output'),
    Run: jsonSchema(runView, 'output'),
  };
  for (const [name, schema] of Object.entries(options.workflows)) {
    schemas[`${name}Input`] = jsonSchema(schema, 'input');
    paths[`/v1/workflows/${name}`] = {
      post: {
        summary: `Start ${name}`,
        operationId: `start_${name}`,
        parameters: [
          {
            name: 'mode',
            in: 'query',
            schema: { type: 'string', enum: ['wait', 'async', 'stream'], default: 'wait' },
            description:
              'wait: answer the result (202 with the run after the timeout); async: 202 at once; stream: Server-Sent Events',
          },
          {
            name: 'timeout',
            in: 'query',
            schema: { type: 'string' },
            description: "How long wait mode waits, e.g. '10s' or milliseconds (at most 5 minutes)",
          },
          {
            name: 'workflowId',
            in: 'query',
            schema: { type: 'string', pattern: '^[A-Za-z0-9._~:-]{1,200}$' },
            description:
              'Run id of your choice (also the Idempotency-Key header): a repeated id answers the existing run',
          },
        ],
        requestBody: { required: true, content: json(`#/components/schemas/${name}Input`) },
        responses: {
          '200': {
            description: 'The run closed (wait mode), or the id was already used',
            content: json('#/components/schemas/Run'),
          },
          '202': { description: 'The run is running', content: json('#/components/schemas/Run') },
          ...errors(400, 401, 404, 413, 415, 429, 501, 503),
        },
      },
    };
  }
  if (options.codec) {
    for (const op of ['decode', 'encode']) {
      paths[`/v1/codec/${op}`] = {
        post: {
          summary: `Temporal codec-server protocol: ${op} payloads`,
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { '200': { description: 'Payloads' }, ...errors(400, 401, 404, 429, 503) },
        },
      };
    }
  }
  Object.assign(paths, options.extraPaths);
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: { title: 'Nalar HTTP gateway', version: '1' },
    security,
    paths,
    components: {
      schemas,
      ...(options.auth && { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }),
    },
  };
}

/** The OpenAPI operation of a plugin route documented with `routeDoc` (data-plane/gateway/context.ts). */
export function pluginOperation(doc: RouteDoc, params: readonly Record<string, unknown>[]): Record<string, unknown> {
  const responses = Object.fromEntries(
    Object.entries(doc.responses).map(([status, r]) => {
      const errorStatus = Number(status) >= 400;
      const schema = r.schema
        ? jsonSchema(r.schema, 'output')
        : errorStatus
          ? { $ref: '#/components/schemas/Error' }
          : undefined;
      const contentType = r.contentType ?? 'application/json';
      return [status, { description: r.description, ...(schema && { content: { [contentType]: { schema } } }) }];
    }),
  );
  return {
    summary: doc.summary,
    ...(params.length && { parameters: params }),
    ...(doc.body && {
      requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(doc.body, 'input') } } },
    }),
    responses,
  };
}
