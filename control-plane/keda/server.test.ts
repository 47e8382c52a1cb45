/**
 * The KEDA external scaler end to end over gRPC: a real @grpc/grpc-js client, built from the same .proto,
 * against the real server on a free port, over the controller's view as a source (snapshots built with the
 * policy test kit). Stream ticks run on a manual clock: a test advances it and waits for the pushed message
 * with a deadline, never for a fixed time.
 */
import * as grpc from '@grpc/grpc-js';
import { ManualClock } from '../../common/clock';
import { createLogger } from '../../common/log';
import { waitFor } from '../../test/helpers/wait-for';
import type { Snapshot } from '../policies/api';
import { SnapshotBuilder } from '../policies/testing';
import { acceptedMetadataKeys, defaultTargetPerWorker, metricName } from './metadata';
import { kedaRequests } from './metrics';
import { ExternalScalerClient, unaryCall, type ScaledObjectRef } from '../../test/helpers/keda-client';
import { kedaListenOptions, startKedaScaler, type KedaScaler } from './server';
import type { KedaSource } from './source';
import { viewSource } from './view-source';

const periodMs = 100;
const token = 'keda-test-token-0123456789abcdef';
const quiet = createLogger('keda', 'error');

const ref = (scalerMetadata: Record<string, string>): ScaledObjectRef => ({
  name: 'workers',
  namespace: 'nalar',
  scalerMetadata,
});

/** An idle system: no backlog, no calls. */
const idle = (): Snapshot => new SnapshotBuilder().replica('p1', { agent: 'planner' }).build();

/** 3 tasks in Temporal's backlog, 2 calls waiting in local controllers for the planner, 1 writer call in flight. */
const busy = (): Snapshot =>
  new SnapshotBuilder()
    .backlog('nalar', 3)
    .replica('p1', { agent: 'planner', capacity: 1, inFlight: 1 })
    .replica('w1', { agent: 'writer', inFlight: 1 })
    .session('s1', { waiting: [{ agent: 'planner', replica: 'p1', waitedMs: 400 }] })
    .session('s2', { waiting: [{ agent: 'planner', replica: 'p1', waitedMs: 100 }] })
    .build();

/** What a unary call failed with. */
async function failure(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('the call succeeded; expected a gRPC error');
}

/** An open StreamIsActive: messages as they come, and how it ended. */
function openStream(client: grpc.Client, request: ScaledObjectRef, metadata = new grpc.Metadata()) {
  const fn = (client as unknown as Record<string, (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<unknown>>)
    .StreamIsActive as (r: unknown, m: grpc.Metadata) => grpc.ClientReadableStream<{ result: boolean }>;
  const stream = fn.call(client, request, metadata);
  const messages: boolean[] = [];
  const state: { status?: grpc.StatusObject; error?: grpc.ServiceError } = {};
  stream.on('data', (m: { result: boolean }) => messages.push(m.result));
  stream.on('status', (s: grpc.StatusObject) => (state.status = s));
  stream.on('error', (e: grpc.ServiceError) => (state.error = e));
  return { stream, messages, state };
}

/** A source that counts its subscribers (to see a cancelled stream let go of it). */
function counted(source: KedaSource): KedaSource & { subscribers(): number } {
  let n = 0;
  return {
    demand: (q, a) => source.demand(q, a),
    subscribe(listener) {
      n++;
      const unsubscribe = source.subscribe(listener);
      return () => {
        n--;
        unsubscribe();
      };
    },
    subscribers: () => n,
  };
}

async function requestCount(method: string, code: string): Promise<number> {
  const metric = await kedaRequests.get();
  return metric.values.find((v) => v.labels.method === method && v.labels.code === code)?.value ?? 0;
}

describe('without a token', () => {
  let snapshot: Snapshot;
  let clock: ManualClock;
  let source: ReturnType<typeof counted>;
  let scaler: KedaScaler;
  let client: grpc.Client;

  beforeEach(async () => {
    snapshot = idle();
    clock = new ManualClock();
    source = counted(viewSource({ snapshot: () => snapshot, periodMs, clock, log: quiet }));
    scaler = await startKedaScaler({ host: '127.0.0.1', port: 0, source, log: quiet });
    client = new ExternalScalerClient(`127.0.0.1:${scaler.port}`, grpc.credentials.createInsecure());
  });

  afterEach(async () => {
    client.close();
    await scaler.close();
  });

  test('IsActive is false while idle and true once demand appears', async () => {
    const before = await requestCount('IsActive', 'OK');
    expect(await unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar' }))).toEqual({ result: false });
    snapshot = busy();
    expect(await unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar' }))).toEqual({ result: true });
    // Another queue has no backlog, and the default placement puts every agent on 'nalar'.
    expect(await unaryCall(client, 'IsActive', ref({ taskQueue: 'other' }))).toEqual({ result: false });
    expect(await requestCount('IsActive', 'OK')).toBe(before + 3);
  });

  test('GetMetricSpec names one metric with targetPerWorker as its target (default 10)', async () => {
    expect(await unaryCall(client, 'GetMetricSpec', ref({ taskQueue: 'nalar', targetPerWorker: '4' }))).toEqual({
      metricSpecs: [{ metricName: 'nalar-nalar', targetSize: 4, targetSizeFloat: 4 }],
    });
    expect(await unaryCall(client, 'GetMetricSpec', ref({ taskQueue: 'Chat_Q', agent: 'planner' }))).toEqual({
      metricSpecs: [
        {
          metricName: 'nalar-chat-q-planner',
          targetSize: defaultTargetPerWorker,
          targetSizeFloat: defaultTargetPerWorker,
        },
      ],
    });
  });

  test('GetMetrics is backlog + waiting calls + calls in flight (one agent: its calls + the backlog)', async () => {
    snapshot = busy();
    const request = (metadata: Record<string, string>) => ({
      scaledObjectRef: ref(metadata),
      metricName: metricName({ taskQueue: 'nalar', agent: metadata.agent }),
    });
    // 3 backlog + 2 waiting + 1 planner in flight + 1 writer in flight.
    expect(await unaryCall(client, 'GetMetrics', request({ taskQueue: 'nalar' }))).toEqual({
      metricValues: [{ metricName: 'nalar-nalar', metricValue: 7, metricValueFloat: 7 }],
    });
    expect(await unaryCall(client, 'GetMetrics', request({ taskQueue: 'nalar', agent: 'planner' }))).toEqual({
      metricValues: [{ metricName: 'nalar-nalar-planner', metricValue: 6, metricValueFloat: 6 }],
    });
    const wrong = await failure(
      unaryCall(client, 'GetMetrics', { scaledObjectRef: ref({ taskQueue: 'nalar' }), metricName: 'nalar-other' }),
    );
    expect(wrong.code).toBe(grpc.status.NOT_FOUND);
    expect(wrong.details).toContain('it serves nalar-nalar');
  });

  test('StreamIsActive sends the state at once, pushes a change on the next tick, and ends on cancel', async () => {
    const { stream, messages } = openStream(client, ref({ taskQueue: 'nalar' }));
    await waitFor(() => messages.length === 1, { what: 'the first StreamIsActive message' });
    expect(messages).toEqual([false]);
    await waitFor(() => source.subscribers() === 1, { what: 'the stream to subscribe' });

    clock.advance(periodMs); // nothing changed: nothing is sent
    snapshot = busy();
    clock.advance(periodMs);
    await waitFor(() => messages.length === 2, { what: 'the pushed change' });
    expect(messages).toEqual([false, true]);
    snapshot = idle();
    clock.advance(periodMs);
    await waitFor(() => messages.length === 3, { what: 'the pushed change back' });
    expect(messages).toEqual([false, true, false]);

    stream.cancel();
    await waitFor(() => source.subscribers() === 0, { what: 'the cancelled stream to unsubscribe' });
  });

  test('closing the server ends an open stream with OK', async () => {
    const { messages, state } = openStream(client, ref({ taskQueue: 'nalar' }));
    await waitFor(() => messages.length === 1, { what: 'the first StreamIsActive message' });
    await scaler.close();
    await waitFor(() => state.status, { what: 'the stream status' });
    expect(state.status?.code).toBe(grpc.status.OK);
    expect(source.subscribers()).toBe(0);
  });

  test('bad metadata is INVALID_ARGUMENT with a message naming the key, on every method', async () => {
    const before = await requestCount('IsActive', 'INVALID_ARGUMENT');
    const missing = await failure(unaryCall(client, 'IsActive', ref({ targetPerWorker: '5' })));
    expect(missing.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(missing.details).toContain('taskQueue: is required');

    const zero = await failure(unaryCall(client, 'GetMetricSpec', ref({ taskQueue: 'nalar', targetPerWorker: '0' })));
    expect(zero.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(zero.details).toContain('targetPerWorker: expected a number above 0');

    const typo = await failure(unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar', targetPerworker: '5' })));
    expect(typo.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(typo.details).toContain('unknown key(s) targetPerworker');
    expect(typo.details).toContain(`accepted keys: ${acceptedMetadataKeys.join(', ')}`);

    const noRef = await failure(unaryCall(client, 'GetMetrics', { metricName: 'nalar-nalar' }));
    expect(noRef.code).toBe(grpc.status.INVALID_ARGUMENT);

    const { state } = openStream(client, ref({ taskQueue: '' }));
    await waitFor(() => state.error, { what: 'the refused stream' });
    expect(state.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await requestCount('IsActive', 'INVALID_ARGUMENT')).toBe(before + 2);
  });

  test("KEDA's own connection keys are accepted and ignored", async () => {
    const metadata = { taskQueue: 'nalar', scalerAddress: 'nalar-controller:8237', enableTLS: 'false' };
    expect(await unaryCall(client, 'IsActive', ref(metadata))).toEqual({ result: false });
  });
});

describe('with NALAR_CONTROL_TOKEN', () => {
  let scaler: KedaScaler;
  let client: grpc.Client;

  beforeAll(async () => {
    const source = viewSource({ snapshot: busy, periodMs, clock: new ManualClock(), log: quiet });
    scaler = await startKedaScaler({ host: '127.0.0.1', port: 0, source, token, log: quiet });
    client = new ExternalScalerClient(`127.0.0.1:${scaler.port}`, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await scaler.close();
  });

  const bearer = (value: string): grpc.Metadata => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${value}`);
    return m;
  };

  test('a call without the token is UNAUTHENTICATED', async () => {
    const before = await requestCount('IsActive', 'UNAUTHENTICATED');
    const err = await failure(unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar' })));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(err.details).toContain('tokenFromEnv');
    expect(await requestCount('IsActive', 'UNAUTHENTICATED')).toBe(before + 1);

    const wrong = await failure(
      unaryCall(client, 'GetMetricSpec', ref({ taskQueue: 'nalar' }), bearer('not-the-token')),
    );
    expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(wrong.details).not.toContain(token);

    const { state } = openStream(client, ref({ taskQueue: 'nalar' }));
    await waitFor(() => state.error, { what: 'the refused stream' });
    expect(state.error?.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('the token is taken as a gRPC bearer or as the trigger metadata KEDA forwards (tokenFromEnv)', async () => {
    expect(await unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar' }), bearer(token))).toEqual({ result: true });
    expect(await unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar', tokenFromEnv: token }))).toEqual({
      result: true,
    });
    const wrong = await failure(unaryCall(client, 'IsActive', ref({ taskQueue: 'nalar', tokenFromEnv: 'guess' })));
    expect(wrong.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('an unauthenticated caller learns nothing about the metadata', async () => {
    const err = await failure(unaryCall(client, 'IsActive', ref({ bogus: 'x' })));
    expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
  });
});

describe('kedaListenOptions', () => {
  test('port 0 turns the scaler off', () => {
    expect(kedaListenOptions({ kedaHost: '127.0.0.1', kedaPort: 0, controlToken: undefined })).toBeUndefined();
  });

  test('loopback needs no token; any other address needs NALAR_CONTROL_TOKEN', () => {
    expect(kedaListenOptions({ kedaHost: '127.0.0.1', kedaPort: 8237, controlToken: undefined })).toEqual({
      host: '127.0.0.1',
      port: 8237,
    });
    expect(() => kedaListenOptions({ kedaHost: '0.0.0.0', kedaPort: 8237, controlToken: undefined })).toThrow(
      /NALAR_KEDA_HOST=0\.0\.0\.0 .* set NALAR_CONTROL_TOKEN/,
    );
    expect(kedaListenOptions({ kedaHost: '0.0.0.0', kedaPort: 8237, controlToken: token })).toEqual({
      host: '0.0.0.0',
      port: 8237,
      token,
    });
  });

  test('a taken port is NALAR_ERR_PORT_IN_USE naming NALAR_KEDA_PORT', async () => {
    const source = viewSource({ snapshot: idle, periodMs, clock: new ManualClock(), log: quiet });
    const first = await startKedaScaler({ host: '127.0.0.1', port: 0, source, log: quiet });
    grpc.setLogVerbosity(grpc.logVerbosity.NONE); // grpc-js logs the failed bind itself
    try {
      await expect(startKedaScaler({ host: '127.0.0.1', port: first.port, source, log: quiet })).rejects.toThrow(
        /already in use; change it with NALAR_KEDA_PORT/,
      );
    } finally {
      grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
      await first.close();
    }
  });
});
