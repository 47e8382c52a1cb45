/**
 * The global controller over real HTTP, as local controllers and operators use it: reports in, decisions out
 * by long poll within a deadline, 400s for bad bodies, the token on the link and on PUT /v1/policy, the live
 * graph and the policy status as JSON, /metrics; task-queue backlogs read from the real dev server; and the
 * controller process as `npm start` runs it.
 */
import * as grpc from '@grpc/grpc-js';
import { Client, Connection } from '@temporalio/client';
import { ManualClock } from '../common/clock';
import { createLogger } from '../common/log';
import { GlobalController } from '../control-plane/global-controller/controller';
import { controllerUrl } from '../control-plane/global-controller/listen';
import type { InstalledPolicy, PolicyRegistry } from '../control-plane/global-controller/policy-config';
import { startControllerServer, type ControllerServer } from '../control-plane/global-controller/server';
import { temporalBacklog } from '../control-plane/global-controller/backlog';
import { metricName } from '../control-plane/keda/metadata';
import type { Policy } from '../control-plane/policies/api';
import { decisions as decisionsSchema, type Report } from '../control-plane/protocol';
import { controllerProcess } from '../data-plane/supervisor/controller-process';
import type { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { freePort } from '../data-plane/supervisor/ports';
import { startQuietly } from '../data-plane/supervisor/start-quietly';
import { ExternalScalerClient, unaryCall, type ScaledObjectRef } from './helpers/keda-client';
import { waitFor } from './helpers/wait-for';
import { testTemporalAddress, uniqueTaskQueue } from './temporal';

const token = 'test-control-token-0123456789';
const auth = { authorization: `Bearer ${token}` };
const json = { 'content-type': 'application/json' };

/** Pins every session with a waiting call to the first replica of its agent. */
const pinWaiting: Policy = {
  name: 'pin-waiting',
  decide(snapshot, act) {
    for (const session of snapshot.sessions.values()) {
      for (const call of session.waiting) {
        const first = snapshot.agents.get(call.agent)?.replicas[0];
        if (first !== undefined) act.route(session.id, call.agent, first);
      }
    }
  },
};

/** Gives every session priority 1. */
const allFirst: Policy = {
  name: 'all-first',
  decide(snapshot, act) {
    for (const id of snapshot.sessions.keys()) act.setPriority(id, 1);
  },
};

const registry: PolicyRegistry = {
  'pin-waiting': { description: 'test', create: () => pinWaiting },
  'all-first': { description: 'test', create: () => allFirst },
};

const installed = (p: Policy): InstalledPolicy => ({ name: p.name, params: undefined, policy: p });

let server: ControllerServer;
let connection: Connection;
let base: string;
const taskQueue = uniqueTaskQueue('gc');

/**
 * A stand-in for one worker's local controller: `send` reports events and calls once, and what waits in it
 * now (`waiting`); between sends it keeps reporting its level state every 50 ms, as a live node does (a node
 * silent for 3 periods is dropped).
 */
class FakeNode {
  seq = 0;
  waiting: Report['waiting'] = [];
  /** One report at a time, in seq order, as a local controller sends them (a later seq overtaking would make the earlier one a duplicate). */
  private last: Promise<unknown> = Promise.resolve();
  private readonly timer = setInterval(() => void this.send().catch(() => {}), 50);

  send(parts: Partial<Report> = {}): Promise<Response> {
    const next = this.last.then(() => {
      if (parts.waiting) this.waiting = parts.waiting;
      return post(reportOf(this.seq++, { waiting: this.waiting, ...parts }));
    });
    this.last = next.catch(() => {});
    return next;
  }

  close(): void {
    clearInterval(this.timer);
  }
}

let node: FakeNode;

function reportOf(seq: number, parts: Partial<Report> = {}): Report {
  return {
    node: 'worker-1',
    seq,
    decisionsVersion: 0,
    taskQueues: [taskQueue],
    events: [],
    calls: [],
    waiting: [],
    replicas: [
      {
        agent: 'planner',
        replica: 'http://127.0.0.1:1/v1',
        inFlight: 1,
        waiting: 1,
        limit: null,
        capacity: 4,
        healthy: true,
      },
      {
        agent: 'planner',
        replica: 'http://127.0.0.1:2/v1',
        inFlight: 0,
        waiting: 0,
        limit: null,
        capacity: 4,
        healthy: true,
      },
    ],
    at: Date.now(),
    ...parts,
  };
}

beforeAll(async () => {
  connection = await Connection.connect({ address: testTemporalAddress() });
  const controller = new GlobalController({ policies: [installed(pinWaiting)], periodMs: 100 });
  server = await startControllerServer({
    host: '127.0.0.1',
    port: 0,
    controller,
    token,
    registry,
    bodyLimitBytes: 64 * 1024,
    log: createLogger('controller', 'error'),
    backlog: temporalBacklog(connection, 'default'),
    backlogIntervalMs: 100,
  });
  base = server.url;
  node = new FakeNode();
});

afterAll(async () => {
  node?.close();
  await server?.close();
  await connection?.close();
});

async function post(body: unknown, headers: Record<string, string> = { ...auth, ...json }): Promise<Response> {
  return fetch(`${base}/v1/reports`, { method: 'POST', headers, body: JSON.stringify(body) });
}

test('a report goes in, and the decisions it leads to come out of a long poll; nothing newer: 204', async () => {
  const sent = await node.send({
    events: [
      {
        type: 'created',
        futureId: 'wf-1/1',
        workflowId: 'wf-1',
        sessionId: 's-1',
        activityType: 'planner.plan',
        dependencies: [],
        at: Date.now(),
      },
    ],
    waiting: [
      {
        workflowId: 'wf-1',
        futureId: 'wf-1/1',
        sessionId: 's-1',
        agent: 'planner',
        replica: 'http://127.0.0.1:2/v1',
        priority: 3,
        since: Date.now(),
        promptTokens: 100,
      },
    ],
  });
  expect(sent.status).toBe(202);
  expect(await sent.json()).toEqual({ decisionsVersion: expect.any(Number) });
  // Held until a round publishes the pin (a deadline bounds a hang; the poll itself waits at most 10 s).
  const decisions = await waitFor(
    async () => {
      const res = await fetch(`${base}/v1/decisions?after=0&waitMs=10000`, { headers: auth });
      if (res.status !== 200) return undefined;
      const d = decisionsSchema.parse(await res.json());
      return d.pins.planner?.['s-1'] !== undefined ? d : undefined;
    },
    { what: 'decisions pinning s-1' },
  );
  expect(decisions.pins).toEqual({ planner: { 's-1': 'http://127.0.0.1:1/v1' } });
  expect(decisions.limits).toEqual({ 'http://127.0.0.1:1/v1': 4, 'http://127.0.0.1:2/v1': 4 });
  expect(decisions.policies).toEqual(['pin-waiting']);
  const none = await fetch(`${base}/v1/decisions?after=${decisions.version}&waitMs=50`, { headers: auth });
  expect(none.status).toBe(204);
});

test('a long poll is held until a newer version exists', async () => {
  const current = decisionsSchema.parse(
    await (await fetch(`${base}/v1/decisions?after=0&waitMs=0`, { headers: auth })).json(),
  );
  const held = fetch(`${base}/v1/decisions?after=${current.version}&waitMs=20000`, { headers: auth });
  let answered = false;
  void held.then(() => (answered = true));
  // Still held after several rounds (nothing changes while the same node reports the same state).
  const status = async () => (await (await fetch(`${base}/v1/policy`)).json()) as { lastRound: { at: number } };
  const before = (await status()).lastRound.at;
  await waitFor(async () => (await status()).lastRound.at > before + 300, { what: 'three more rounds' });
  expect(answered).toBe(false);
  // A new session waits: the next round pins it, and the held poll answers with that version.
  await node.send({ waiting: [...node.waiting, { ...node.waiting[0]!, sessionId: 's-held', workflowId: 'wf-held' }] });
  const res = await held;
  expect(res.status).toBe(200);
  const next = decisionsSchema.parse(await res.json());
  expect(next.version).toBeGreaterThan(current.version);
  expect(next.pins.planner?.['s-held']).toBe('http://127.0.0.1:1/v1');
});

test('bad reports and queries answer 400 with what is wrong; a missing or wrong token 401; a huge body 413', async () => {
  const bad = await post({ ...reportOf(1), seq: -1, events: 'none' });
  expect(bad.status).toBe(400);
  const body = (await bad.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('NALAR_ERR_INVALID_INPUT');
  expect(body.error.message).toMatch(/not a report.*seq.*events/);
  const notJson = await fetch(`${base}/v1/reports`, { method: 'POST', headers: { ...auth, ...json }, body: '{' });
  expect(notJson.status).toBe(400);
  expect((await post(reportOf(1), json)).status).toBe(401);
  expect((await post(reportOf(1), { authorization: 'Bearer wrong-token-0123456789', ...json })).status).toBe(401);
  expect((await fetch(`${base}/v1/decisions?after=0`)).status).toBe(401);
  const badPoll = await fetch(`${base}/v1/decisions?after=-1&waitMs=99999999`, { headers: auth });
  expect(badPoll.status).toBe(400);
  expect(((await badPoll.json()) as { error: { message: string } }).error.message).toMatch(/after.*waitMs/);
  const huge = await post({ ...reportOf(1), padding: 'x'.repeat(100 * 1024) });
  expect(huge.status).toBe(413);
  expect((await fetch(`${base}/v1/graph?limit=0`)).status).toBe(400);
});

test('GET /v1/graph shows the live graph, filtered by workflow or session and bounded by limit', async () => {
  const now = Date.now();
  const ev = (futureId: string, workflowId: string, sessionId: string, dependencies: string[] = []) => ({
    type: 'created' as const,
    futureId,
    workflowId,
    sessionId,
    activityType: 'writer.draft',
    dependencies,
    at: now,
  });
  const sent = await node.send({ events: [ev('wf-2/1', 'wf-2', 's-2'), ev('wf-2/2', 'wf-2', 's-2', ['wf-2/1'])] });
  expect(sent.status).toBe(202);
  const graph = await waitFor(
    async () => {
      const g = (await (await fetch(`${base}/v1/graph?session=s-2`)).json()) as {
        futures: { id: string; stage: number; dependencies: string[] }[];
        workflows: { id: string; stage: number }[];
        sessions: { id: string }[];
        counts: { futures: number; nodes: number };
      };
      return g.futures.length === 2 ? g : undefined;
    },
    { what: 'the futures of s-2 in the graph' },
  );
  expect(graph.futures.map((f) => [f.id, f.stage])).toEqual([
    ['wf-2/1', 0],
    ['wf-2/2', 1],
  ]);
  expect(graph.workflows).toEqual([expect.objectContaining({ id: 'wf-2', stage: 1 })]);
  expect(graph.sessions.map((s) => s.id)).toEqual(['s-2']);
  expect(graph.counts).toMatchObject({ futures: 3, nodes: 1 });
  const byWorkflow = (await (await fetch(`${base}/v1/graph?workflow=wf-1`)).json()) as { futures: { id: string }[] };
  expect(byWorkflow.futures.map((f) => f.id)).toEqual(['wf-1/1']);
  const limited = (await (await fetch(`${base}/v1/graph?limit=1`)).json()) as {
    futures: unknown[];
    replicas: { id: string; capacity: number }[];
  };
  expect(limited.futures).toHaveLength(1);
  expect(limited.replicas.map((r) => [r.id, r.capacity])).toEqual([
    ['http://127.0.0.1:1/v1', 4],
    ['http://127.0.0.1:2/v1', 4],
  ]);
});

test('the backlog of a reported task queue is read from Temporal', async () => {
  // A workflow on a queue no worker polls: one workflow task waits in its backlog.
  const client = new Client({ connection });
  await client.workflow.start('nobodyRunsThis', { taskQueue, workflowId: `${taskQueue}-wf`, args: [] });
  try {
    await waitFor(
      async () => {
        const g = (await (await fetch(`${base}/v1/graph?limit=1`)).json()) as {
          taskQueueBacklog: Record<string, number>;
        };
        return (g.taskQueueBacklog[taskQueue] ?? 0) >= 1;
      },
      { what: `a backlog of ${taskQueue} in the graph` },
    );
  } finally {
    await client.workflow.getHandle(`${taskQueue}-wf`).terminate();
  }
});

test('GET /v1/policy shows policies, decisions and timings; PUT /v1/policy swaps them with the token', async () => {
  interface Status {
    policies: { name: string }[];
    decisions: { version: number };
    lastRound: { collectMs: number; policyMs: number };
    skippedLastRound: unknown[];
  }
  // Once the node's replicas are known, a round has published their limits.
  const status = await waitFor(
    async () => {
      const s = (await (await fetch(`${base}/v1/policy`)).json()) as Status;
      return s.decisions.version > 0 ? s : undefined;
    },
    { what: 'a first decisions version' },
  );
  expect(status.policies.map((p) => p.name)).toEqual(['pin-waiting']);
  expect(status.lastRound).toEqual(expect.objectContaining({ collectMs: expect.any(Number) }));
  expect(status.skippedLastRound).toEqual([]);

  const put = (body: string, headers: Record<string, string>) =>
    fetch(`${base}/v1/policy`, { method: 'PUT', headers, body });
  expect((await put('["all-first"]', json)).status).toBe(401);
  const unknown = await put('["nope"]', { ...auth, ...json });
  expect(unknown.status).toBe(400);
  expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe(
    "PUT /v1/policy: unknown policy 'nope'; known: pin-waiting, all-first",
  );
  const swapped = await put('["pin-waiting", {"name": "all-first"}]', { ...auth, ...json });
  expect(swapped.status).toBe(200);
  const d = await waitFor(
    async () => {
      const res = await fetch(`${base}/v1/decisions?after=${status.decisions.version}&waitMs=10000`, {
        headers: auth,
      });
      if (res.status !== 200) return undefined;
      const next = decisionsSchema.parse(await res.json());
      return next.policies.includes('all-first') ? next : undefined;
    },
    { what: 'decisions of the swapped policies' },
  );
  expect(d.priorities['s-1']).toEqual({ '*': 1 });
  expect(d.pins.planner?.['s-1']).toBe('http://127.0.0.1:1/v1'); // the pin outlived the swap
  // A comma list as text works too.
  const text = await put('pin-waiting', { ...auth, 'content-type': 'text/plain' });
  expect(text.status).toBe(200);
});

test('/metrics has the round time by phase, the live view, reports and the decisions version', async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  expect(text).toMatch(/nalar_controller_round_seconds_count\{phase="collect"\} [1-9]/);
  expect(text).toMatch(/nalar_controller_round_seconds_count\{phase="policy"\} [1-9]/);
  expect(text).toMatch(/nalar_controller_live\{kind="futures"\} [1-9]/);
  expect(text).toMatch(/nalar_controller_live\{kind="nodes"\} 1/);
  expect(text).toMatch(/nalar_controller_reports_total\{outcome="accepted"\} [1-9]/);
  expect(text).toMatch(/nalar_controller_reports_total\{outcome="rejected"\} [1-9]/);
  expect(text).toMatch(/nalar_controller_decisions_version [1-9]/);
});

test('a round can be driven directly with an injected clock, as the control benchmark does', () => {
  const clock = new ManualClock();
  const controller = new GlobalController({ policies: [], periodMs: 250, clock, epochNow: () => clock.now() });
  controller.submit(reportOf(0));
  const timings = controller.runRound();
  expect(timings).toEqual({ at: 0, collectMs: 0, policyMs: 0, totalMs: 0, reports: 1, changed: true });
});

describe('the controller process, as npm start runs it', () => {
  let proc: ManagedProcess | undefined;
  afterAll(async () => {
    await proc?.stop(10_000);
  });

  test('starts, says it is ready, serves without a token on loopback, and stops on SIGINT', async () => {
    const port = await freePort();
    const url = controllerUrl('127.0.0.1', port);
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      NALAR_CONTROLLER_PORT: String(port),
      NALAR_CONTROL_TOKEN: '',
      NALAR_POLICIES: '[]',
      NALAR_CONTROL_PERIOD: '50 ms',
    };
    proc = await startQuietly(controllerProcess({ host: '127.0.0.1', port, url, tokenRequired: false, env }));
    const status = (await (await fetch(`${url}/v1/policy`)).json()) as { policies: unknown[]; periodMs: number };
    expect(status).toMatchObject({ policies: [], periodMs: 50 });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // No token configured: PUT from this machine is allowed.
    const put = await fetch(`${url}/v1/policy`, { method: 'PUT', headers: json, body: '[]' });
    expect(put.status).toBe(200);
    // SIGINT: it answers held polls, closes and exits 0 within the grace (no SIGKILL).
    await expect(proc.stop(10_000)).resolves.toEqual({ code: 0, signal: null });
    proc = undefined;
  });

  test('KEDA scales workers from zero: a queue no worker polls shows its Temporal backlog once KEDA asks', async () => {
    const [port, kedaPort] = [await freePort(), await freePort()];
    const url = controllerUrl('127.0.0.1', port);
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: testTemporalAddress(),
      NALAR_CONTROLLER_PORT: String(port),
      NALAR_KEDA_PORT: String(kedaPort),
      NALAR_CONTROL_TOKEN: '',
      NALAR_POLICIES: '[]',
      NALAR_CONTROL_PERIOD: '50 ms',
    };
    proc = await startQuietly(controllerProcess({ host: '127.0.0.1', port, url, tokenRequired: false, env }));
    const keda = new ExternalScalerClient(`127.0.0.1:${kedaPort}`, grpc.credentials.createInsecure());
    const queue = `${taskQueue}-from-zero`;
    const ref: ScaledObjectRef = { name: 'workers', namespace: 'nalar', scalerMetadata: { taskQueue: queue } };
    const client = new Client({ connection });
    try {
      // Scaled to zero: no worker polls the queue, so no node reports it. KEDA asks all the same.
      expect(await unaryCall(keda, 'IsActive', ref)).toEqual({ result: false });
      await client.workflow.start('nobodyRunsThis', { taskQueue: queue, workflowId: `${queue}-wf`, args: [] });
      await waitFor(async () => (await unaryCall<{ result: boolean }>(keda, 'IsActive', ref)).result, {
        what: `KEDA to see the backlog of ${queue}`,
      });
      const metrics = await unaryCall<{ metricValues: { metricValue: string }[] }>(keda, 'GetMetrics', {
        scaledObjectRef: ref,
        metricName: metricName({ taskQueue: queue }),
      });
      expect(Number(metrics.metricValues[0]?.metricValue)).toBeGreaterThanOrEqual(1);
    } finally {
      keda.close();
      await client.workflow.getHandle(`${queue}-wf`).terminate();
      await proc.stop(10_000);
      proc = undefined;
    }
  });
});
