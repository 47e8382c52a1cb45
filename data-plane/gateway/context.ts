/**
 * The contract between the gateway's core (app.ts: auth, tenants, errors, limits, runs) and the plugins that
 * add routes to it (streams, sessions). A plugin gets the authenticated request's tenant as `request.tenant`,
 * throws {@link NalarError} for any refusal (the gateway's error handler answers it in the one error shape,
 * with the code's HTTP status), and starts and finds runs only through {@link GatewayRouteDeps}, so a tenant
 * can never reach another tenant's runs.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';

export { ErrorCode, NalarError } from '../../common/errors';
/** The memo key that carries a run's tenant; the stub runtime reads it as the fairness key (stubs/workflow/future.ts). */
export { TENANT_MEMO_KEY } from '../../stubs/workflow/types';

/** What a gateway plugin needs to start and find a tenant's runs. */
export interface GatewayRouteDeps {
  /** A Temporal client with the Nalar data converter (results decode to values, large inputs are offloaded). */
  client: Client;
  /**
   * The Temporal workflow id of a tenant's public id (`<tenant>:<id>`): a tenant's ids live in its own
   * namespace of workflow ids, so the same public id of two tenants are two workflows.
   */
  workflowIdOf(tenant: string, id: string): string;
  /** The inverse of {@link workflowIdOf}; undefined when the workflow is not `tenant`'s (answer 404). */
  publicIdOf(tenant: string, workflowId: string): string | undefined;
  /** The task queue the gateway starts workflows on (NALAR_TASK_QUEUE). */
  taskQueue: string;
  /**
   * The memo to start a run of `tenant` with (`memo: deps.startHeaders(tenant)`): it carries the tenant into
   * the workflow, whose stub calls then use it as their activities' fairness key. Any run a plugin starts for
   * a tenant must carry it.
   */
  startHeaders(tenant: string): Record<string, unknown>;
}

/**
 * A set of routes added to the gateway inside its authenticated `/v1` scope: paths are relative to `/v1`
 * (`app.get('/runs/:id/events', …)` serves `GET /v1/runs/:id/events`); every request has passed auth, the
 * tenant's rate limit and the body limit before a plugin sees it, and `request.tenant` is set. A thrown
 * {@link NalarError} is answered in the gateway's error shape with its code's HTTP status. A route documents
 * itself in the OpenAPI document with `config: routeDoc({...})`; one without gets a generic entry.
 */
export type GatewayPlugin = (app: FastifyInstance, deps: GatewayRouteDeps) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the bearer token (or the implicit `local` tenant without configured tokens). */
    tenant: string;
  }
}

/** One response of a documented plugin route. */
export interface RouteDocResponse {
  description: string;
  /** @default 'application/json' when `schema` is set */
  contentType?: string;
  /** The body's schema (a zod schema, rendered as JSON Schema). @default none */
  schema?: z.ZodType;
}

/** What the OpenAPI document says about a plugin route. */
export interface RouteDoc {
  summary: string;
  /** The JSON request body. @default none */
  body?: z.ZodType;
  /** Status → response; error statuses answer the gateway's error shape. */
  responses: Readonly<Record<string, RouteDocResponse>>;
}

/** Route options that document a plugin route in the OpenAPI document: `app.get(path, routeDoc({...}), handler)`. */
export function routeDoc(doc: RouteDoc): { config: { openapi: RouteDoc } } {
  return { config: { openapi: doc } };
}
