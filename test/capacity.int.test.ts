/**
 * The capacity path end to end (issue 14), all real parts: the dev server, an in-process simulator pool with its
 * admin API listening, the SimProvisioner over that API, a CapacityManager with two managed agents of distinct
 * models (`alpha` on `model-a`, `beta` on `model-b`), a real global controller server whose only policy is a
 * scripted one (it issues the test's capacity primitives in its next round, as a policy would), and a Nalar worker
 * whose local controller is linked to that server and whose NALAR_AGENT_MODELS binds both agents to their first
 * replica. Calls are not retried (test/fixtures/capacity-llm.ts): a lost call fails its workflow.
 * - provision: the new replica loads (a short model load), then serves, joins the agent's routing in the
 *   published decisions and serves that agent's calls;
 * - kill while calls run on it: it leaves routing at once, the calls it holds finish, the ones waiting in the
 *   worker go to the other replica, every workflow completes, then the replica leaves the simulator's list;
 * - reassign: the replica drains, loads the other agent's model and serves that agent's calls.
 * The tests share the stack and run in this order; every wait is on a condition with a deadline.
 */
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import type { CallLlmResult, LlmConfig } from '../activities/llm';
import { configDefaults, loadConfig } from '../common/config';
import { createLogger } from '../common/log';
import { routeHash } from '../common/route-hash';
import { CapacityManager, type CapacityEvent } from '../control-plane/capacity/manager';
import { SimProvisioner } from '../control-plane/capacity/sim-provisioner';
import { GlobalController } from '../control-plane/global-controller/controller';
import { startControllerServer, type ControllerServer } from '../control-plane/global-controller/server';
import { GlobalLink } from '../control-plane/local-controller/global-link';
import { LocalController } from '../control-plane/local-controller/local-controller';
import type { Policy, Primitives } from '../control-plane/policies/api';
import { createNalarWorker } from '../data-plane/worker/worker';
import { buildSimAdminApp } from '../sim/admin';
import type { SimPool } from '../sim/pool';
import { startTestPool } from '../sim/test-helpers';
import { bindCapacityLlm, capacityLlm } from './fixtures/capacity-llm';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, uniqueTaskQueue } from './temporal';

/** Period of the global loop and of the worker's reports: short, so waits are on rounds, not seconds. */
const periodMs = 100;
/** Every replica: two sequences at a time, 20 ms per output token, a 300 ms model load (time scale 1: real ms). */
const replicaProfile = { maxNumSeqs: 2, decodeBaseMs: 20, decodePerSeqMs: 0, modelLoadMs: 300 };
const log = createLogger('capacity-test', 'error');

/** What the scripted policy does in its next round (then forgets). */
const script: ((act: Primitives) => void)[] = [];
const scripted: Policy = {
  name: 'scripted-capacity',
  decide(_snapshot, act) {
    for (const step of script.splice(0)) step(act);
  },
};

let env: TestWorkflowEnvironment;
let sim: SimPool;
let admin: FastifyInstance;
let controller: GlobalController;
let server: ControllerServer;
let manager: CapacityManager;
let local: LocalController;
let link: GlobalLink;
let stopWorker: () => Promise<void>;
let taskQueue: string;
const events: CapacityEvent[] = [];

/** Base URL of the simulator replica with this id. */
const urlOf = (id: string) => sim.info(id).baseUrl;
/** The simulator replica serving at `url`, if the pool still has it. */
const replicaAt = (url: string) => sim.list().find((r) => r.baseUrl === url);

/** Runs `step` in the controller's next round, as a policy would. */
function inNextRound(step: (act: Primitives) => void): void {
  script.push(step);
}

/** Waits until the published decisions list exactly `urls` for `agent` and the worker has installed them. */
async function routedTo(agent: string, urls: readonly string[]): Promise<void> {
  const want = [...urls].sort().join(' ');
  const version = await waitFor(
    () => {
      const d = controller.decisions;
      return [...(d.replicas[agent] ?? [])].sort().join(' ') === want ? d.version : undefined;
    },
    { what: () => `${agent} routed to ${want} (decisions: ${JSON.stringify(controller.decisions.replicas)})` },
  );
  await waitFor(() => local.decisionsVersion >= version, { what: `decisions version ${version} in the worker` });
}

/** A session whose static choice (`routeHash % n`) is position `index` of an agent's routed list. */
function keyOn(index: number, n: number, prefix: string): string {
  for (let i = 0; ; i++) if (routeHash(`${prefix}${i}`) % n === index) return `${prefix}${i}`;
}

const call = (workflowId: string, session: string, agent: string, tokens: number) =>
  env.client.workflow.execute('capacityCallWorkflow', {
    taskQueue,
    workflowId: `${taskQueue}-${workflowId}`,
    args: [session, agent, tokens],
  }) as Promise<CallLlmResult>;

/** Waits for the first event of `kind` (about `replica`, if given) seen since `from` (an index into events). */
function eventAfter(from: number, kind: CapacityEvent['kind'], replica?: string): Promise<CapacityEvent> {
  return waitFor(
    () => events.slice(from).find((e) => e.kind === kind && (replica === undefined || e.replica === replica)),
    { what: () => `capacity event ${kind}${replica ? ` of ${replica}` : ''} (events: ${JSON.stringify(events)})` },
  );
}

beforeAll(async () => {
  env = await connectTestEnv();
  sim = await startTestPool({
    timeScale: 1,
    replicas: [
      { name: 'alpha-0', model: 'model-a', ...replicaProfile },
      { name: 'beta-0', model: 'model-b', ...replicaProfile },
    ],
  });
  admin = buildSimAdminApp({ pool: sim });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  const adminUrl = `http://127.0.0.1:${(admin.server.address() as AddressInfo).port}`;

  controller = new GlobalController({
    policies: [{ name: scripted.name, params: undefined, policy: scripted }],
    periodMs,
    log,
  });
  manager = await CapacityManager.start({
    provisioner: new SimProvisioner({ adminUrl, template: () => ({ ...replicaProfile }), pollIntervalMs: 20 }),
    agents: [
      { agent: 'alpha', model: 'model-a', minInstances: 1, maxInstances: 3 },
      { agent: 'beta', model: 'model-b', minInstances: 1, maxInstances: 2 },
    ],
    view: controller.view,
    log,
  });
  manager.onEvent((e) => events.push(e));
  controller.setCapacity(manager);
  server = await startControllerServer({ host: '127.0.0.1', port: 0, controller, log });

  const config: LlmConfig = {
    llmBaseUrl: 'http://127.0.0.1:9/v1', // never used: both agents have replicas
    llmApiKey: undefined,
    llmModel: configDefaults.llmModel,
    llmTimeout: loadConfig().llmTimeout,
    agentModels: {
      alpha: { baseUrls: [urlOf('0')], model: 'model-a', maxInFlight: replicaProfile.maxNumSeqs },
      beta: { baseUrls: [urlOf('1')], model: 'model-b', maxInFlight: replicaProfile.maxNumSeqs },
    },
  };
  bindCapacityLlm(config);
  local = new LocalController();
  taskQueue = uniqueTaskQueue('capacity');
  const worker = await createNalarWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue,
    workflowBundle: await bundle(path.join(__dirname, 'fixtures', 'workflows', 'capacity.ts')),
    localController: local,
    definitions: [capacityLlm],
  });
  link = new GlobalLink({
    url: server.url,
    periodMs,
    node: worker.options.identity,
    taskQueues: [taskQueue],
    controller: local,
    log,
  }).start();
  const running = worker.run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
  };
  // The managed agents' starting replicas are routed by the decisions from the first rounds on.
  await routedTo('alpha', [urlOf('0')]);
  await routedTo('beta', [urlOf('1')]);
}, 120_000);

afterAll(async () => {
  await link?.stop();
  await stopWorker?.();
  await server?.close();
  await manager?.close();
  await admin?.close();
  await sim?.close();
  await env?.teardown();
});

/** The replica `provision(agent)` started (the first `serving` event of `agent` after `from`), once it serves. */
async function provisioned(agent: string, from: number): Promise<string> {
  const requested = await eventAfter(from, 'provision-requested');
  expect(requested.agent).toBe(agent);
  const serving = await waitFor(() => events.slice(from).find((e) => e.kind === 'serving' && e.agent === agent), {
    what: () => `a replica serving ${agent} (events: ${JSON.stringify(events)})`,
  });
  return serving.replica as string;
}

test('provision: the new replica loads, then serves the agent and its calls', async () => {
  const from = events.length;
  inNextRound((act) => act.provision('alpha'));
  // It exists in the simulator while it loads, and is not routed before it serves.
  const loading = await waitFor(() => sim.list().find((r) => r.name.startsWith('alpha-') && r.id !== '0'), {
    what: 'the provisioned replica in the simulator',
  });
  const url = loading.baseUrl;
  if (replicaAt(url)?.state === 'loading') expect(controller.decisions.replicas.alpha).not.toContain(url);
  expect(await provisioned('alpha', from)).toBe(url);
  expect(replicaAt(url)?.state).toBe('serving');
  expect(replicaAt(url)?.model).toBe('model-a');
  await routedTo('alpha', [urlOf('0'), url]);

  // Sessions whose static choice is the new replica's position go to it.
  const routed = controller.decisions.replicas.alpha as string[];
  const sessions = [0, 1, 2].map((i) => keyOn(routed.indexOf(url), routed.length, `provisioned-${i}-`));
  const results = await Promise.all(sessions.map((s, i) => call(`provisioned-${i}`, s, 'alpha', 5)));
  for (const r of results) {
    expect(r.local?.replica).toBe(url);
    expect(r.model).toBe('model-a');
  }
  expect(sim.replica(loading.id).busyMs).toBeGreaterThan(0);
  expect(manager.status().agents.find((a) => a.agent === 'alpha')?.serving).toEqual(routed);
}, 120_000);

test('kill while calls run on it: no call is lost, the replica leaves routing, then the simulator', async () => {
  const routed = [...(controller.decisions.replicas.alpha as string[])];
  const victim = routed.find((u) => u !== urlOf('0')) as string;
  const victimId = replicaAt(victim)?.id as string;
  // Twelve one-call workflows of ~1 s calls over two replicas of two sequences each: some run on the victim,
  // more wait in the worker's local controller.
  const sessions = Array.from({ length: 12 }, (_, i) => keyOn(i % 2, 2, `kill-${i}-`));
  const runs = sessions.map((s, i) => call(`kill-${i}`, s, 'alpha', 50));
  runs.forEach((r) => r.catch(() => {})); // awaited below
  await waitFor(() => sim.replica(victimId).engine.numRunning >= 1 && local.dispatcher.waitingCalls().length >= 1, {
    what: 'calls running on the victim and calls waiting in the worker',
  });
  const from = events.length;
  inNextRound((act) => act.kill(victim));
  await eventAfter(from, 'kill-requested', victim);
  await routedTo('alpha', [urlOf('0')]);

  const settled = await Promise.allSettled(runs);
  expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
  const results = settled.map((r) => (r as PromiseFulfilledResult<CallLlmResult>).value);
  // The victim finished what it held; the rest went to the replica that stays.
  expect(results.filter((r) => r.local?.replica === victim).length).toBeGreaterThanOrEqual(1);
  expect(results.every((r) => r.attempt === 1 && r.model === 'model-a')).toBe(true);

  await eventAfter(from, 'released', victim);
  await eventAfter(from, 'removed', victim);
  await waitFor(() => replicaAt(victim) === undefined, { what: `${victim} gone from the simulator's list` });
  expect(manager.status().replicas.map((r) => r.url)).not.toContain(victim);
  // Later calls of the agent all go to the replica that stays.
  const after = await call('after-kill', 'after-kill', 'alpha', 3);
  expect(after.local?.replica).toBe(urlOf('0'));
}, 120_000);

test('reassign: the replica drains, loads the other agent model and serves that agent calls', async () => {
  // alpha needs a second replica to give one away (minInstances 1).
  const from = events.length;
  inNextRound((act) => act.provision('alpha'));
  const spare = await provisioned('alpha', from);
  await routedTo('alpha', [urlOf('0'), spare]);

  const moved = urlOf('0');
  const reassignFrom = events.length;
  inNextRound((act) => act.reassign(moved, 'beta'));
  await eventAfter(reassignFrom, 'reassign-requested', moved);
  // It leaves alpha's routing at once; alpha's calls go to the spare meanwhile.
  await routedTo('alpha', [spare]);
  const serving = await waitFor(
    () => events.slice(reassignFrom).find((e) => e.kind === 'serving' && e.replica === moved),
    { what: () => `${moved} serving again (events: ${JSON.stringify(events)})` },
  );
  expect(serving.agent).toBe('beta');
  expect(replicaAt(moved)?.model).toBe('model-b');
  expect(replicaAt(moved)?.state).toBe('serving');
  await routedTo('beta', [urlOf('1'), moved]);

  const routed = controller.decisions.replicas.beta as string[];
  const sessions = [0, 1, 2].map((i) => keyOn(routed.indexOf(moved), routed.length, `reassigned-${i}-`));
  const results = await Promise.all(sessions.map((s, i) => call(`reassigned-${i}`, s, 'beta', 5)));
  for (const r of results) {
    expect(r.local?.replica).toBe(moved);
    expect(r.model).toBe('model-b');
  }
  const alphaCall = await call('alpha-after-reassign', 'alpha-after-reassign', 'alpha', 3);
  expect(alphaCall.local?.replica).toBe(spare);
}, 120_000);
