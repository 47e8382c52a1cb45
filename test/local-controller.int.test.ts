/**
 * The local controller on the request path, on the real dev server against two real simulator replicas of
 * one sequence each (over HTTP), with `maxInFlight: 1`: a future's model calls wait in the worker, not in the
 * engine; installing decisions that migrate a session moves its waiting call to the other replica; plain
 * activities (the baselines) keep the static binding whatever the decisions say.
 */
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CallLlmResult, LlmConfig } from '../activities/llm';
import { createLlmActivities } from '../activities/llm';
import { ManualClock } from '../common/clock';
import { configDefaults, loadConfig } from '../common/config';
import { routeHash } from '../common/route-hash';
import { LocalController } from '../control-plane/local-controller/local-controller';
import { emptyDecisions, type Decisions } from '../control-plane/protocol';
import type { SimPool } from '../sim/pool';
import { poolsClosedAfterEach } from '../sim/test-helpers';
import { bindGatedLlm, gatedLlm } from './fixtures/gated-llm';
import { waitFor } from './helpers/wait-for';
import { bundle, connectTestEnv, withNalarWorker, type NalarWorkflowBundle } from './temporal';

let env: TestWorkflowEnvironment;
let workflowBundle: NalarWorkflowBundle;
const pool = poolsClosedAfterEach();

beforeAll(async () => {
  env = await connectTestEnv();
  workflowBundle = await bundle(path.join(__dirname, 'fixtures', 'workflows', 'gated.ts'));
});

afterAll(async () => {
  await env?.teardown();
});

/** Longest stretch of simulated time a test advances (a hang, not a measurement). */
const MAX_CLOCK_MS = 600_000;

/** Requests in replica `i`'s engine: [waiting, running]. */
function engineLoad(p: SimPool, i: number): [number, number] {
  const engine = p.replicas[i]?.engine;
  if (!engine) throw new Error(`no replica ${i}`);
  return [engine.numWaiting, engine.numRunning];
}

const busy = (p: SimPool, i: number) => engineLoad(p, i)[0] + engineLoad(p, i)[1];

/** A key whose static choice (`routeHash % 2`) is replica `index`. */
function keyOn(index: number, prefix: string): string {
  for (let i = 0; ; i++) if (routeHash(`${prefix}${i}`) % 2 === index) return `${prefix}${i}`;
}

const decisions = (version: number, pins: Decisions['pins']): Decisions => ({ ...emptyDecisions, version, pins });

test('calls wait in the local controller, a migration moves a waiting call, the baseline keeps static routing', async () => {
  const clock = new ManualClock();
  const sim = await pool({
    clock,
    timeScale: 1,
    replicas: [0, 1].map((i) => ({ name: `r${i}`, maxNumSeqs: 1, decodeBaseMs: 10, decodePerSeqMs: 0 })),
  });
  const [r0, r1] = sim.baseUrls as [string, string];
  const config: LlmConfig = {
    llmBaseUrl: 'http://127.0.0.1:9/v1', // never used: the agent's replicas win
    llmApiKey: undefined,
    llmModel: configDefaults.llmModel,
    llmTimeout: loadConfig().llmTimeout,
    agentModels: { analyst: { baseUrls: [r0, r1], maxInFlight: 1 } },
  };
  bindGatedLlm(config);
  const controller = new LocalController();
  const options = {
    workflowBundle,
    localController: controller,
    definitions: [gatedLlm],
    activities: createLlmActivities(config),
  };
  await withNalarWorker(env, 'local-controller', options, async (taskQueue) => {
    const run = (type: string, workflowId: string, args: unknown[]) =>
      env.client.workflow.execute(type, { taskQueue, workflowId, args }) as Promise<unknown>;
    /** Advances the simulators' clock until both engines are idle. */
    const drain = () => clock.advanceUntil(() => busy(sim, 0) + busy(sim, 1) === 0, MAX_CLOCK_MS);

    // Session P would go to r0 by hash; the installed decisions pin it to r1.
    const p = keyOn(0, 'session-p-');
    controller.install(decisions(1, { analyst: { [p]: r1 } }));
    const pinned = run('gatedCallsWorkflow', `${taskQueue}-p`, [p, 2]) as Promise<CallLlmResult[]>;
    // One call is on r1, the other waits in the worker: the engine's own queue stays empty.
    await waitFor(() => busy(sim, 1) === 1 && controller.dispatcher.waitingCalls().length === 1, {
      what: () =>
        `one call on r1 and one waiting locally (r1 ${engineLoad(sim, 1)}, waiting ${controller.dispatcher.waitingCalls().length})`,
    });
    expect(engineLoad(sim, 1)).toEqual([0, 1]);
    expect(busy(sim, 0)).toBe(0);
    const metrics = await (await fetch(`${r1.replace(/\/v1$/, '')}/metrics`)).text();
    expect(metrics).toMatch(/^vllm:num_requests_waiting\{[^}]*\} 0$/m);
    expect(controller.dispatcher.waitingCalls()[0]).toMatchObject({ sessionId: p, agent: 'analyst', replica: r1 });

    // migrate(P, r1, r0): the waiting call leaves for r0 at once, while r1 still serves the first one.
    controller.install(decisions(2, { analyst: { [p]: r0 } }));
    await waitFor(() => busy(sim, 0) === 1, { what: 'the migrated call on r0' });
    expect(controller.dispatcher.waitingCalls()).toEqual([]);
    drain();
    const results = await pinned;
    expect(results.map((r) => r.engine?.replica).sort()).toEqual(['r0', 'r1']);
    for (const r of results) expect(r.local?.replica).toBe(r.engine?.replica === 'r0' ? r0 : r1);
    expect(Math.max(...results.map((r) => r.local?.queueMs ?? -1))).toBeGreaterThan(0);

    // Sessions without a pin go where the static binding sends them: hash(session) % 2.
    for (const [index, session] of [keyOn(0, 'session-q-'), keyOn(1, 'session-q-')].entries()) {
      const done = run('gatedCallsWorkflow', `${taskQueue}-${session}`, [session, 1]) as Promise<CallLlmResult[]>;
      await waitFor(() => busy(sim, index) === 1, { what: `${session}'s call on r${index}` });
      drain();
      const [result] = await done;
      expect(result?.engine?.replica).toBe(`r${index}`);
      expect(result?.local).toMatchObject({ replica: index === 0 ? r0 : r1, priority: 3 });
    }
    const reported = controller.dispatcher.drainCalls().calls;
    expect(reported.map((c) => c.sessionId).sort()).toEqual(
      [p, p, keyOn(0, 'session-q-'), keyOn(1, 'session-q-')].sort(),
    );
    expect(reported.every((c) => c.ok)).toBe(true);

    // A plain activity (a vanilla baseline) binds statically: a pin of its session changes nothing.
    const baselineId = keyOn(1, `${taskQueue}-baseline-`);
    controller.install(decisions(3, { analyst: { [baselineId]: r0 } }));
    const input = {
      agent: 'analyst',
      messages: [{ role: 'user', content: 'Hi' }],
      metadata: { sim_output_tokens: '5' },
      stream: false,
    };
    const baseline = run('llmCallWorkflow', baselineId, [input, 1]) as Promise<CallLlmResult>;
    await waitFor(() => busy(sim, 1) === 1, { what: 'the baseline call on r1' });
    drain();
    const plain = await baseline;
    expect(plain.engine?.replica).toBe('r1');
    expect(plain.local).toBeUndefined();
    expect(controller.dispatcher.drainCalls().calls).toEqual([]);
  });
});
