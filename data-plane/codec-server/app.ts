/**
 * Temporal's codec-server protocol over HTTP, so the Temporal Web UI and CLI show offloaded payloads as the
 * values they stand for instead of `binary/nalar-blob` handles.
 *
 * The protocol, as the Web UI and CLI call it: `POST <endpoint>/decode` (and `/encode`) with
 * `Content-Type: application/json`, an `X-Namespace` header and a body of Payloads in protobuf JSON
 * (`{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`); the answer has the same
 * shape. Only the last path segment selects the operation, so the endpoint may sit under any prefix. The Web
 * UI calls from the browser, hence CORS: a preflight (OPTIONS) from the UI's origin, then the POST, with
 * credentials when the UI is configured to include them. The CLI sends `--codec-auth` as the `Authorization`
 * header verbatim.
 *
 * Decoding only reads the blob store. A payload the codec does not touch (not offloaded) comes back exactly
 * as sent; a handle whose blob is gone fails that request with `NALAR_ERR_BLOB_MISSING`, never the server.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { register } from 'prom-client';
import { z } from 'zod';
import {
  ErrorCode,
  errorCodes,
  errorMessage,
  isNalarError,
  NalarError,
  type ErrorCode as ErrorCodeType,
} from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import { codecBytes, codecPayloads, codecRequests } from './metrics';

/** Options of {@link buildCodecApp}. */
export interface CodecAppOptions {
  /** The codec applied to payloads: for Nalar, the claim-check codec over the blob store. */
  codec: PayloadCodec;
  /**
   * Browser origins allowed to call (CORS), e.g. the Web UI at `http://127.0.0.1:8233`. A request with an
   * `Origin` header not in this list is refused (403), so another web page cannot use the server.
   */
  allowedOrigins: readonly string[];
  /**
   * When set, `/decode` and `/encode` require `Authorization: Bearer <token>` (what `temporal
   * --codec-auth "Bearer <token>"` sends). @default undefined: no token (loopback only; see codec-config.ts)
   */
  token?: string;
  /** Largest accepted request body. @default 4 MiB (Temporal's gRPC message limit) */
  bodyLimitBytes?: number;
  /** @default a logger named `codec` at info */
  log?: Logger;
}

/** Default of {@link CodecAppOptions.bodyLimitBytes}. */
export const defaultCodecBodyLimitBytes = 4 * 1024 * 1024;

/** Headers the Web UI sends with its POST (the CLI sends the same minus the browser's own). */
const allowedHeaders = 'Content-Type, X-Namespace, Authorization';

// Standard or URL-safe base64 (protobuf JSON accepts both), padding optional.
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');

/** One Payload in protobuf JSON; unknown fields are kept, so an untouched payload goes back exactly as sent. */
const payloadJson = z.looseObject({
  metadata: z.record(z.string(), base64).optional(),
  data: base64.optional(),
});
type PayloadJson = z.infer<typeof payloadJson>;

/** The body of /decode and /encode: Payloads in protobuf JSON. */
export const payloadsBody = z.object({ payloads: z.array(payloadJson) });

/** What the server answers on failure: the stable code and a message for the person reading it. */
export interface CodecErrorBody {
  error: { code: ErrorCodeType; message: string };
}

type Route = 'decode' | 'encode';

function toPayload(json: PayloadJson): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(json.metadata ?? {})) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(json.data ?? '', 'base64') };
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Protobuf JSON of a payload: bytes as standard base64, an empty `data` left out (as protobuf JSON does). */
function toJson(p: Payload): { json: PayloadJson; bytes: number } {
  const metadata: Record<string, string> = {};
  let bytes = p.data?.length ?? 0;
  for (const [k, v] of Object.entries(p.metadata ?? {})) {
    metadata[k] = toBase64(v ?? new Uint8Array(0));
    bytes += k.length + (v?.length ?? 0);
  }
  const json: PayloadJson = { metadata };
  if (p.data && p.data.length > 0) json.data = toBase64(p.data);
  return { json, bytes };
}

/** Compares a presented token with the expected one in constant time (hashes make the lengths equal). */
function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

function sendError(reply: FastifyReply, code: ErrorCodeType, message: string, status?: number): FastifyReply {
  const body: CodecErrorBody = { error: { code, message } };
  return reply.status(status ?? errorCodes[code].httpStatus ?? 500).send(body);
}

/** What {@link applyCodec} produced. */
export interface CodecOutcome {
  /** The answer's payloads: a payload the codec left alone is exactly what was sent. */
  payloads: PayloadJson[];
  /** Payloads received. */
  received: number;
  /** Payloads the codec changed, and the bytes of what it produced for them. */
  changed: number;
  bytes: number;
}

/**
 * One codec-protocol operation on a request body (`{"payloads": [...]}` in protobuf JSON), shared by the codec
 * server and the gateway's `/v1/codec/*` routes. Throws `NALAR_ERR_INVALID_INPUT` for a malformed body, the
 * codec's own `NalarError` (e.g. `NALAR_ERR_BLOB_MISSING`), and `NALAR_ERR_STATE_UNAVAILABLE` when the blob
 * store cannot be read.
 */
export async function applyCodec(
  codec: PayloadCodec,
  route: 'decode' | 'encode',
  body: unknown,
): Promise<CodecOutcome> {
  const parsed = payloadsBody.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
    throw new NalarError(
      ErrorCode.INVALID_INPUT,
      `expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}: ${problems.slice(0, 5).join('; ')}`,
    );
  }
  const input = parsed.data.payloads;
  let output: Payload[];
  const payloads = input.map(toPayload);
  try {
    output = route === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
    if (output.length !== payloads.length) throw new Error(`codec returned ${output.length} of ${payloads.length}`);
  } catch (err) {
    if (isNalarError(err)) throw err;
    // The blob store could not be read (permissions, I/O): 503, the request may succeed later.
    throw new NalarError(ErrorCode.STATE_UNAVAILABLE, `${route} failed: ${errorMessage(err)}`, { cause: err });
  }
  let changed = 0;
  let bytes = 0;
  const answer = output.map((p, i) => {
    // A payload the codec left alone is the same object: answer with exactly what was sent.
    if (p === payloads[i]) return input[i] as PayloadJson;
    const { json, bytes: n } = toJson(p);
    changed++;
    bytes += n;
    return json;
  });
  return { payloads: answer, received: input.length, changed, bytes };
}

/** The codec server as a Fastify app (not listening: tests use `app.inject`, `startCodecServer` listens). */
export function buildCodecApp(options: CodecAppOptions): FastifyInstance {
  const log = options.log ?? createLogger('codec');
  const origins = new Set(options.allowedOrigins);
  const app = Fastify({ bodyLimit: options.bodyLimitBytes ?? defaultCodecBodyLimitBytes, logger: false });

  // CORS for the Web UI, and a refusal for any other web page: browsers send `Origin` on cross-origin
  // requests, so a page elsewhere cannot make this server decode (reveal) or encode (write) anything.
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return; // not a browser (the CLI, curl)
    if (!origins.has(origin)) {
      return sendError(
        reply,
        ErrorCode.UNAUTHORIZED,
        `origin ${origin} may not call this codec server; allowed: ${[...origins].join(', ') || 'none'} (NALAR_CODEC_CORS_ORIGINS)`,
        403,
      );
    }
    reply.header('Access-Control-Allow-Origin', origin);
    reply.header('Access-Control-Allow-Credentials', 'true');
    reply.header('Vary', 'Origin');
  });

  // Preflight of the Web UI's POST (its JSON content type and X-Namespace header make it non-simple).
  // Browsers never send credentials with a preflight, so it needs no token.
  app.options('/*', async (_request, reply) => {
    reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
    reply.header('Access-Control-Allow-Headers', allowedHeaders);
    reply.header('Access-Control-Max-Age', '600');
    return reply.status(204).send();
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', register.contentType);
    return register.metrics();
  });

  // The protocol looks only at the last path segment: `/decode`, `/ns/default/decode`, … all decode.
  app.post('/*', async (request, reply) => {
    const last = request.url.split('?')[0]?.split('/').pop();
    if (last !== 'decode' && last !== 'encode') {
      return sendError(
        reply,
        ErrorCode.INVALID_INPUT,
        `no such endpoint ${request.url}: POST …/decode or …/encode`,
        404,
      );
    }
    return handle(last, request, reply);
  });

  async function handle(route: Route, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const fail = (code: ErrorCodeType, message: string, status?: number) => {
      codecRequests.inc({ route, outcome: code });
      return sendError(reply, code, message, status);
    };
    if (options.token !== undefined) {
      const header = request.headers.authorization ?? '';
      const presented = /^Bearer (.+)$/i.exec(header)?.[1];
      if (presented === undefined || !tokenMatches(presented, options.token)) {
        return fail(
          ErrorCode.UNAUTHORIZED,
          header
            ? 'the bearer token is not the one this codec server expects (NALAR_CODEC_TOKEN)'
            : 'this codec server requires Authorization: Bearer <NALAR_CODEC_TOKEN> (temporal --codec-auth "Bearer <token>")',
        );
      }
    }
    try {
      const { payloads, changed, bytes, received } = await applyCodec(options.codec, route, request.body);
      codecRequests.inc({ route, outcome: 'ok' });
      codecPayloads.inc({ route }, changed);
      codecBytes.inc({ route }, bytes);
      log.debug(`${route}`, {
        namespace: request.headers['x-namespace'] as string | undefined,
        payloads: received,
        changed,
      });
      return reply.header('content-type', 'application/json').send({ payloads });
    } catch (err) {
      if (isNalarError(err)) {
        if (err.code !== ErrorCode.INVALID_INPUT) log.warn(`${route} failed: ${err.code}: ${err.message}`);
        return fail(err.code, err.message);
      }
      throw err;
    }
  }

  // Fastify's own rejections (malformed JSON, a body over the limit, another content type) in our shape.
  app.setErrorHandler((err: { statusCode?: number; message: string }, _request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) log.error(`request failed: ${err.message}`);
    return sendError(reply, status < 500 ? ErrorCode.INVALID_INPUT : ErrorCode.STATE_UNAVAILABLE, err.message, status);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, ErrorCode.INVALID_INPUT, `no such endpoint ${request.method} ${request.url}`, 404),
  );
  return app;
}
