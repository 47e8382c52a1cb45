/**
 * KEDA's external scaler, served by the global controller over gRPC (externalscaler.proto): KEDA asks it how
 * much work the workers of a task queue have, and scales their Deployment on the answer.
 *
 * - Metadata (the ScaledObject trigger's, see metadata.ts): `taskQueue` (required), `targetPerWorker`
 *   (default 10), `agent` (optional), `tokenFromEnv`; anything else is INVALID_ARGUMENT naming the key.
 * - `IsActive`: demand > 0. `StreamIsActive`: the answer at once, then again whenever it changes (checked each
 *   time the source ticks, once per control period); the stream ends when the client cancels or the server
 *   closes. `GetMetricSpec`: one metric, `nalar-<taskQueue>`, target `targetPerWorker`. `GetMetrics`: the
 *   demand (see view-source.ts for what it counts).
 * - Authorization: with NALAR_CONTROL_TOKEN set, every call must present it, either as gRPC metadata
 *   `authorization: Bearer <token>` or, since KEDA sends no credentials of its own, as the trigger metadata
 *   `tokenFromEnv` (KEDA resolves it from the scaled workload's environment); otherwise UNAUTHENTICATED.
 *   Without a token it binds to loopback only (the global controller's rule).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { NalarConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import { createLogger, type Logger } from '../../common/log';
import { isLoopback } from '../../common/loopback';
import { metricName, parseScalerMetadata, type ScalerMetadata } from './metadata';
import { kedaRequests } from './metrics';
import type { KedaSource } from './source';

/** The service definition file, loaded at runtime (tests load the same file for their client). */
export const kedaProtoPath = path.join(__dirname, 'externalscaler.proto');

/** How proto-loader reads the file here and in tests: field names as written, int64 as JavaScript numbers. */
export const kedaProtoLoaderOptions: protoLoader.Options = { keepCase: true, longs: Number, defaults: true };

/** How long {@link KedaScaler.close} lets calls under way finish before cutting them. */
const closeGraceMs = 2_000;

/** Options of {@link startKedaScaler}. */
export interface KedaScalerOptions {
  /** Address to bind (NALAR_KEDA_HOST, through {@link kedaListenOptions}). */
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** Where demand comes from (the controller's view: {@link viewSource}). */
  source: KedaSource;
  /** NALAR_CONTROL_TOKEN: required on every call when set. @default undefined: none (loopback only) */
  token?: string;
  /** @default a logger named `keda` */
  log?: Logger;
}

/** A listening scaler. */
export interface KedaScaler {
  /** `host:port` as bound (the port chosen when 0 was asked). */
  readonly address: string;
  readonly port: number;
  /** Ends every open StreamIsActive (status OK), then stops the server. Idempotent. */
  close(): Promise<void>;
}

/** What {@link kedaListenOptions} reads. */
export type KedaSettings = Pick<NalarConfig, 'kedaHost' | 'kedaPort' | 'controlToken'>;

/**
 * Where the scaler listens, from the configuration: undefined when NALAR_KEDA_PORT is 0 (off). Throws
 * NALAR_ERR_CONFIG_INVALID when it would be reachable beyond this machine without NALAR_CONTROL_TOKEN.
 */
export function kedaListenOptions(
  settings: KedaSettings,
): Pick<KedaScalerOptions, 'host' | 'port' | 'token'> | undefined {
  if (settings.kedaPort === 0) return undefined;
  if (!isLoopback(settings.kedaHost) && settings.controlToken === undefined) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_KEDA_HOST=${settings.kedaHost} lets anyone on the network read worker demand: set ` +
        'NALAR_CONTROL_TOKEN (KEDA then forwards it with the trigger metadata tokenFromEnv) or bind to 127.0.0.1',
    );
  }
  return {
    host: settings.kedaHost,
    port: settings.kedaPort,
    ...(settings.controlToken !== undefined && { token: settings.controlToken }),
  };
}

interface ScaledObjectRef {
  name: string;
  namespace: string;
  scalerMetadata: Record<string, string>;
}

interface GetMetricsRequest {
  scaledObjectRef: ScaledObjectRef | null;
  metricName: string;
}

type Method = 'IsActive' | 'StreamIsActive' | 'GetMetricSpec' | 'GetMetrics';

/** A refusal: the gRPC status to answer with. */
class Refusal {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {}
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Constant-time comparison (hashes make the lengths equal). */
function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

function loadService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(kedaProtoPath, kedaProtoLoaderOptions);
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    externalscaler: { ExternalScaler: grpc.ServiceClientConstructor };
  };
  return loaded.externalscaler.ExternalScaler.service;
}

/** Starts the scaler; rejects with NALAR_ERR_PORT_IN_USE when the port is taken. */
export async function startKedaScaler(options: KedaScalerOptions): Promise<KedaScaler> {
  const { source, token } = options;
  const log = options.log ?? createLogger('keda');
  const server = new grpc.Server();
  const streams = new Set<{ end(): void }>();
  // Each distinct refusal is logged once: KEDA repeats a bad trigger every polling interval.
  const logged = new Set<string>();

  const refuse = (method: Method, refusal: Refusal): grpc.ServiceError => {
    kedaRequests.inc({ method, code: grpc.status[refusal.code] });
    if (!logged.has(refusal.details)) {
      if (logged.size >= 100) logged.clear();
      logged.add(refusal.details);
      log.warn(`KEDA ${method} refused: ${refusal.details}`);
    }
    return Object.assign(new Error(refusal.details), {
      code: refusal.code,
      details: refusal.details,
      metadata: new grpc.Metadata(),
    });
  };

  /** The checked metadata of an authorized call, or the refusal. */
  const admit = (ref: ScaledObjectRef | null | undefined, metadata: grpc.Metadata): ScalerMetadata | Refusal => {
    const parsed = parseScalerMetadata(ref?.scalerMetadata);
    const bearer = metadata
      .get('authorization')
      .map((v) => /^Bearer (.+)$/i.exec(String(v))?.[1])
      .find((v) => v !== undefined);
    if (token !== undefined) {
      const presented = bearer ?? (parsed.ok ? parsed.value.token : ref?.scalerMetadata?.tokenFromEnv);
      if (presented === undefined || !tokenMatches(presented, token)) {
        return new Refusal(
          grpc.status.UNAUTHENTICATED,
          presented === undefined
            ? 'this scaler requires NALAR_CONTROL_TOKEN: trigger metadata tokenFromEnv naming a variable that holds it, or gRPC metadata authorization: Bearer <token>'
            : 'the token is not the one this controller expects (NALAR_CONTROL_TOKEN)',
        );
      }
    }
    if (!parsed.ok) return new Refusal(grpc.status.INVALID_ARGUMENT, parsed.message);
    return parsed.value;
  };

  /** The demand, or an INTERNAL refusal when the source fails. */
  const demandOf = (m: ScalerMetadata): number | Refusal => {
    try {
      return source.demand(m.taskQueue, m.agent);
    } catch (err) {
      return new Refusal(grpc.status.INTERNAL, `demand not read: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  /** A unary method: admitted, answered, counted. */
  const unary =
    <Req, Res>(
      method: Method,
      refOf: (req: Req) => ScaledObjectRef | null,
      answer: (m: ScalerMetadata, req: Req) => Res | Refusal,
    ) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const m = admit(refOf(call.request), call.metadata);
      const result = m instanceof Refusal ? m : answer(m, call.request);
      if (result instanceof Refusal) {
        callback(refuse(method, result));
        return;
      }
      kedaRequests.inc({ method, code: 'OK' });
      callback(null, result);
    };

  const implementation: grpc.UntypedServiceImplementation = {
    IsActive: unary<ScaledObjectRef, { result: boolean }>(
      'IsActive',
      (ref) => ref,
      (m) => {
        const demand = demandOf(m);
        return demand instanceof Refusal ? demand : { result: demand > 0 };
      },
    ),
    GetMetricSpec: unary<ScaledObjectRef, object>(
      'GetMetricSpec',
      (ref) => ref,
      (m) => ({
        metricSpecs: [
          {
            metricName: metricName(m),
            targetSize: Math.max(1, Math.round(m.targetPerWorker)),
            targetSizeFloat: m.targetPerWorker,
          },
        ],
      }),
    ),
    GetMetrics: unary<GetMetricsRequest, object>(
      'GetMetrics',
      (req) => req.scaledObjectRef,
      (m, req) => {
        const name = metricName(m);
        if (req.metricName !== '' && req.metricName !== name) {
          return new Refusal(
            grpc.status.NOT_FOUND,
            `no metric ${req.metricName} for this trigger: it serves ${name} (from its taskQueue and agent)`,
          );
        }
        const demand = demandOf(m);
        if (demand instanceof Refusal) return demand;
        return { metricValues: [{ metricName: name, metricValue: Math.round(demand), metricValueFloat: demand }] };
      },
    ),
    StreamIsActive(call: grpc.ServerWritableStream<ScaledObjectRef, { result: boolean }>) {
      const m = admit(call.request, call.metadata);
      const first = m instanceof Refusal ? m : demandOf(m);
      if (first instanceof Refusal || m instanceof Refusal) {
        call.emit('error', refuse('StreamIsActive', first instanceof Refusal ? first : (m as Refusal)));
        return;
      }
      kedaRequests.inc({ method: 'StreamIsActive', code: 'OK' });
      let active = first > 0;
      call.write({ result: active });
      const unsubscribe = source.subscribe(() => {
        const demand = demandOf(m);
        // A failed read keeps the last answer: KEDA holds the stream, and the next tick may read again.
        if (demand instanceof Refusal || demand > 0 === active) return;
        active = demand > 0;
        call.write({ result: active });
      });
      let ended = false;
      const entry = {
        end() {
          if (ended) return;
          ended = true;
          unsubscribe();
          streams.delete(entry);
          if (!call.cancelled) call.end();
        },
      };
      streams.add(entry);
      call.on('cancelled', () => entry.end());
      call.on('close', () => entry.end());
    },
  };
  server.addService(loadService(), implementation);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.host}:${options.port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (!err) return resolve(bound);
      server.forceShutdown();
      reject(
        /EADDRINUSE|address already in use/i.test(err.message)
          ? new NalarError(
              ErrorCode.PORT_IN_USE,
              `port ${options.port} on ${options.host} (KEDA external scaler) is already in use; change it with NALAR_KEDA_PORT`,
            )
          : err,
      );
    });
  });

  let closing: Promise<void> | undefined;
  return {
    address: `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const stream of [...streams]) stream.end();
        const cut = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, closeGraceMs);
        cut.unref();
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      });
      return closing;
    },
  };
}
