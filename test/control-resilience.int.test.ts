/**
 * The control plane's resilience (issue 13, point 7) on the real dev server, two real simulator replicas of one
 * sequence each (over HTTP), two real worker processes (test/fixtures/resilient-worker.ts) on one task queue
 * whose local controllers are linked to a real global controller server, `maxInFlight: 1` so calls wait in the
 * workers:
 * - the global controller stopped under steady load: the workers keep serving on their last decisions (a pin
 *   installed before the stop still routes calls), their link goes down; started again on the same port, the
 *   links come back, it rebuilds its view from the next reports and its new decisions reach the workers;
 * - policies that throw or overrun their budget on the real server: skipped and reported by GET /v1/policy
 *   and /metrics, while the loop keeps publishing;
 * - a worker SIGKILLed while calls wait in its local controller: Temporal notices (short heartbeat timeout)
 *   and retries them on the other worker; every workflow completes.
 * The tests share the stack and run in this order (the last one kills a worker).
 */
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CallLlmResult } from '../activities/llm';
import { realClock, type Clock } from '../common/clock';
import { createLogger } from '../common/log';
import { routeHash } from '../common/route-hash';
import { GlobalController } from '../control-plane/global-controller/controller';
import type { InstalledPolicy, PolicyRegistry } from '../control-plane/global-controller/policy-config';
import { startControllerServer, type ControllerServer } from '../control-plane/global-controller/server';
import type { Policy } from '../control-plane/policies/api';
import { ManagedProcess } from '../data-plane/supervisor/managed-process';
import { waitForReadyMessage } from '../data-plane/supervisor/readiness';
import type { SimPool } from '../sim/pool';
import { startTestPool } from '../sim/test-helpers';
import type { ResilientWorkerReady } from './fixtures/resilient-worker';
import { waitFor } from './helpers/wait-for';
import { connectTestEnv, testTemporalAddress, uniqueTaskQueue } from './temporal';

const token = 'resilience-test-token-0123456789';
const auth = { authorization: `Bearer ${token}` };
const taskQueue = uniqueTaskQueue('resil');
/** Period of the global loop and of the workers' reports: short, so a test waits on rounds, not seconds. */
const periodMs = 100;

/** Which session a test policy pins where (the test changes it; the next round publishes it). */
let target: { session: string; replica: string } | undefined;

/** Pins `target.session`'s calls of agent `analyst` to `target.replica` once a node has reported that replica. */
const pinByTest: Policy = {
  name: 'pin-by-test',
  decide(snapshot, act) {
    if (target && snapshot.replicas.has(target.replica)) act.route(target.session, 'analyst', target.replica);
  },
};
/** A policy with a bug: throws every round. */
const throws: Policy = {
  name: 'throws',
  decide() {
    throw new Error('policy bug: no such session');
  },
};
/** Budget of one policy in these controllers (ms). */
const policyBudgetMs = 20;
/**
 * The controllers' clock: real time and timers, plus a skew that a policy can add to, so that a policy "takes"
 * a set time on the clock the controller measures it with, whatever the machine's speed.
 */
let skewMs = 0;
const controllerClock: Clock = {
  now: () => realClock.now() + skewMs,
  setTimer: (fn, delayMs) => realClock.setTimer(fn, delayMs),
};
/** A policy that runs past its budget every round (on the controller's clock; it is skipped after). */
const overruns: Policy = {
  name: 'overruns',
  decide(snapshot, act) {
    skewMs += policyBudgetMs + 15; // a slow policy, in the controller's time
    for (const id of snapshot.sessions.keys()) act.setPriority(id, 1); // discarded with the overrun
  },
};
const registry: PolicyRegistry = Object.fromEntries(
  [pinByTest, throws, overruns].map((p) => [p.name, { description: 'test', create: () => p }]),
);
const installed = (p: Policy): InstalledPolicy => ({ name: p.name, params: undefined, policy: p });

let env: TestWorkflowEnvironment;
let sim: SimPool;
let server: ControllerServer | undefined;
let controllerPort = 0;
let replicas: [string, string];

interface WorkerProc {
  proc: ManagedProcess;
  identity: string;
  metricsUrl: string;
  output: string[];
}
const workers: WorkerProc[] = [];

const controllerLog = createLogger('controller', 'error');

async function startController(port: number): Promise<ControllerServer> {
  const controller = new GlobalController({
    policies: [installed(pinByTest)],
    periodMs,
    policyBudgetMs,
    clock: controllerClock,
    log: controllerLog,
  });
  return startControllerServer({ host: '127.0.0.1', port, controller, token, registry, log: controllerLog });
}

async function startWorker(name: string): Promise<WorkerProc> {
  const output: string[] = [];
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: testTemporalAddress(),
    NALAR_TASK_QUEUE: taskQueue,
    NALAR_WORKER_NAME: name,
    NALAR_AGENT_MODELS: JSON.stringify({ analyst: { baseUrls: replicas, maxInFlight: 1 } }),
    NALAR_CONTROLLER_URL: `http://127.0.0.1:${controllerPort}`,
    NALAR_CONTROL_TOKEN: token,
    NALAR_CONTROL_PERIOD: `${periodMs} ms`,
  };
  delete childEnv.NALAR_STREAM_URL;
  const proc = await ManagedProcess.start(
    { name, command: path.join(__dirname, 'fixtures', 'resilient-worker.ts'), nodeModule: true, env: childEnv },
    (_n, _s, line) => output.push(line),
  );
  let ready: ResilientWorkerReady | undefined;
  await waitForReadyMessage(
    proc,
    (m) => {
      if ((m as { type?: string })?.type === 'ready') ready = m as ResilientWorkerReady;
      return ready !== undefined;
    },
    120_000,
  );
  if (!ready) throw new Error(`${name} sent no ready message:\n${output.join('\n')}`);
  return { proc, identity: ready.identity, metricsUrl: ready.metricsUrl, output };
}

/** The sum of every sample of `name` on a worker's /metrics (undefined when the worker does not answer). */
async function metric(w: WorkerProc, name: string): Promise<number | undefined> {
  const res = await fetch(w.metricsUrl).catch(() => undefined);
  if (!res?.ok) return undefined;
  const text = await res.text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

const everyWorker = async (name: string, ok: (v: number) => boolean) =>
  (await Promise.all(workers.map((w) => metric(w, name)))).every((v) => v !== undefined && ok(v));

interface PolicyStatus {
  policies: { name: string; errors: number; overruns: number }[];
  decisions: { version: number; pins: Record<string, Record<string, string>> };
  lastRound?: { at: number };
  skippedLastRound: { policy: string; reason: string; message: string }[];
}
const base = () => `http://127.0.0.1:${controllerPort}`;
const policyStatus = async () => (await (await fetch(`${base()}/v1/policy`)).json()) as PolicyStatus;

/** Waits until the controller publishes `target`'s pin and every worker installed that version; returns it. */
async function pinReachesWorkers(what: string): Promise<number> {
  const t = target!;
  let last: unknown;
  const version = await waitFor(
    async () => {
      const s = await policyStatus();
      const g = (await (await fetch(`${base()}/v1/graph?limit=1`)).json()) as { replicas: unknown[] };
      last = { replicas: g.replicas, decisions: s.decisions, skipped: s.skippedLastRound };
      return s.decisions.pins.analyst?.[t.session] === t.replica ? s.decisions.version : undefined;
    },
    { what: () => `${what}: the pin of ${t.session} on ${t.replica} published (now ${JSON.stringify(last)})` },
  );
  await waitFor(() => everyWorker('nalar_local_decisions_version', (v) => v >= version), {
    what: `${what}: version ${version} installed by every worker`,
  });
  return version;
}

/** A session whose static choice (`routeHash % 2`) is replica `index`. */
function keyOn(index: number, prefix: string): string {
  for (let i = 0; ; i++) if (routeHash(`${prefix}${i}`) % 2 === index) return `${prefix}${i}`;
}

const run = (workflowId: string, session: string, calls: number, tokens: number) =>
  env.client.workflow.execute('resilientCallsWorkflow', {
    taskQueue,
    workflowId,
    args: [session, calls, tokens],
  }) as Promise<CallLlmResult[]>;

beforeAll(async () => {
  env = await connectTestEnv();
  // Real time: a call of n output tokens takes about n × 25 ms on its replica, one at a time.
  sim = await startTestPool({
    timeScale: 1,
    replicas: [0, 1].map((i) => ({ name: `r${i}`, maxNumSeqs: 1, decodeBaseMs: 25, decodePerSeqMs: 0 })),
  });
  replicas = sim.baseUrls as [string, string];
  server = await startController(0);
  controllerPort = Number(new URL(server.url).port);
  workers.push(...(await Promise.all([startWorker('worker-a'), startWorker('worker-b')])));
  // A node reports a replica once it has sent it a call: one call on each makes both known to the controller.
  await Promise.all([0, 1].map((i) => run(`${taskQueue}-warm-${i}`, keyOn(i, 'warm-'), 1, 2)));
}, 240_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.proc.stop(15_000)));
  await server?.close();
  await sim?.close();
  await env?.teardown();
});

test('the global controller stopped under load: workers serve on their last decisions, then relink to its restart', async () => {
  const pinned = keyOn(0, 'pinned-'); // by hash on r0; the policy pins it to r1
  target = { session: pinned, replica: replicas[1] };
  const before = await pinReachesWorkers('before the stop');

  // Steady load: a one-call workflow every 200 ms, each its own session, until the test ends it.
  const load: { id: string; phase: 'before' | 'outage' | 'after'; result: Promise<CallLlmResult[]> }[] = [];
  let phase: 'before' | 'outage' | 'after' = 'before';
  const done = new Set<string>();
  const loadTimer = setInterval(() => {
    const id = `${taskQueue}-load-${load.length}`;
    const result = run(id, `load-${load.length}`, 1, 4);
    result.then(() => done.add(id)).catch(() => {}); // failures are awaited and reported below
    load.push({ id, phase, result });
  }, 200);
  const doneIn = (p: typeof phase) => load.filter((l) => l.phase === p && done.has(l.id)).length;
  try {
    await waitFor(() => doneIn('before') >= 3, { what: 'load completing before the stop' });

    await server!.close();
    server = undefined;
    phase = 'outage';
    await waitFor(() => everyWorker('nalar_local_controller_link_up', (v) => v === 0), {
      what: 'every link down',
    });
    // The last decisions still route: the pinned session's calls go to r1, not to its hash's r0.
    const during = await run(`${taskQueue}-pinned-outage`, pinned, 2, 2);
    expect(during.map((r) => r.local?.replica)).toEqual([replicas[1], replicas[1]]);
    await waitFor(() => doneIn('outage') >= 5, { what: 'load completing while the controller is away' });
    expect(await everyWorker('nalar_local_decisions_version', (v) => v === before)).toBe(true);

    // Restarted on the same port with an empty view; a new decision: the session goes back to r0.
    target = { session: pinned, replica: replicas[0] };
    server = await startController(controllerPort);
    phase = 'after';
    await waitFor(() => everyWorker('nalar_local_controller_link_up', (v) => v === 1), { what: 'every link up' });
    // Its view is rebuilt from the reports: workflows started while it was away are in the graph.
    const outageIds = new Set(load.filter((l) => l.phase === 'outage').map((l) => l.id));
    await waitFor(
      async () => {
        const g = (await (await fetch(`${base()}/v1/graph?limit=100000`)).json()) as { workflows: { id: string }[] };
        return g.workflows.some((w) => outageIds.has(w.id));
      },
      { what: 'a workflow of the outage in the rebuilt graph' },
    );
    const after = await pinReachesWorkers('after the restart');
    expect(after).toBeGreaterThan(before); // published above what the workers held
    const moved = await run(`${taskQueue}-pinned-after`, pinned, 1, 2);
    expect(moved.map((r) => r.local?.replica)).toEqual([replicas[0]]);
    await waitFor(() => doneIn('after') >= 3, { what: 'load completing after the restart' });
  } finally {
    clearInterval(loadTimer);
  }
  // Every request of the load completed, whatever the phase.
  const results = await Promise.allSettled(load.map((l) => l.result));
  expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  expect(load.filter((l) => l.phase === 'outage').length).toBeGreaterThanOrEqual(5);
}, 180_000);

test('policies that throw or overrun on the real server are skipped and reported; the loop keeps publishing', async () => {
  const put = await fetch(`${base()}/v1/policy`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(['throws', 'overruns', 'pin-by-test']),
  });
  expect(put.status).toBe(200);
  const first = await waitFor(
    async () => {
      const s = await policyStatus();
      return s.skippedLastRound.length === 2 ? s : undefined;
    },
    { what: 'a round with both bad policies skipped' },
  );
  expect(first.skippedLastRound.map((s) => [s.policy, s.reason])).toEqual([
    ['throws', 'error'],
    ['overruns', 'overrun'],
  ]);
  expect(first.skippedLastRound[0]?.message).toBe('policy bug: no such session');
  expect(first.skippedLastRound[1]?.message).toMatch(/over its budget of 20 ms/);
  // The good policy after them still acts, round after round: a new pin reaches the workers.
  target = { session: keyOn(1, 'pinned-again-'), replica: replicas[0] };
  await pinReachesWorkers('with bad policies installed');
  const later = await waitFor(
    async () => {
      const s = await policyStatus();
      const bad = s.policies.filter((p) => p.errors + p.overruns >= 3);
      return bad.length === 2 && (s.lastRound?.at ?? 0) > (first.lastRound?.at ?? 0) ? s : undefined;
    },
    { what: 'more rounds, each skipping both' },
  );
  expect(later.policies.map((p) => [p.name, p.errors > 0, p.overruns > 0])).toEqual([
    ['throws', true, false],
    ['overruns', false, true],
    ['pin-by-test', false, false],
  ]);
  expect(Object.keys((await policyStatus()).decisions.pins)).toEqual(['analyst']); // no priority from overruns
  const metrics = await (await fetch(`${base()}/metrics`)).text();
  expect(metrics).toMatch(/^nalar_controller_policy_skips_total\{policy="throws",reason="error"\} [1-9]/m);
  expect(metrics).toMatch(/^nalar_controller_policy_skips_total\{policy="overruns",reason="overrun"\} [1-9]/m);
  expect((await fetch(`${base()}/healthz`)).status).toBe(200);
  const restore = await fetch(`${base()}/v1/policy`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: '["pin-by-test"]',
  });
  expect(restore.status).toBe(200);
});

test('a worker killed while calls wait in its local controller: Temporal retries them on the other worker', async () => {
  // Ten one-call workflows of ~1.5 s calls: at most 2 workers × 2 replicas run at once, the rest wait.
  const ids = Array.from({ length: 10 }, (_, i) => `${taskQueue}-kill-${i}`);
  const results = ids.map((id, i) => run(id, `kill-${i}`, 1, 60));
  results.forEach((r) => r.catch(() => {})); // awaited below
  let waitingAtKill = 0;
  const doomed = await waitFor(
    async () => {
      for (const w of workers) {
        const waiting = await metric(w, 'nalar_local_waiting_calls');
        if (waiting !== undefined && waiting >= 1) {
          waitingAtKill = waiting;
          return w;
        }
      }
      return undefined;
    },
    { what: 'a worker with calls waiting in its local controller', intervalMs: 20 },
  );
  process.kill(-doomed.proc.pid, 'SIGKILL');
  await doomed.proc.exited;
  const survivor = workers.find((w) => w !== doomed)!;

  const settled = await Promise.allSettled(results);
  expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
  // The calls the killed worker held were retried (attempt > 1, after a heartbeat timeout) on the survivor.
  const retried: temporal.api.history.v1.IActivityTaskStartedEventAttributes[] = [];
  for (const id of ids) {
    const history = await env.client.workflow.getHandle(id).fetchHistory();
    for (const e of history.events ?? []) {
      const started = e.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) retried.push(started);
    }
  }
  expect(retried.length).toBeGreaterThanOrEqual(waitingAtKill);
  for (const r of retried) {
    expect(r.identity).toBe(survivor.identity);
    expect(r.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(
      temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
    );
  }
}, 180_000);
