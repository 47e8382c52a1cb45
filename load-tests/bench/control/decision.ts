/**
 * Part 2, time per routing decision at a graph size, two ways:
 * - **two-level**: a real LocalController whose dispatcher installed the global controller's decisions at
 *   that size (its decisions JSON, validated as the link does). One decision is `acquire` of a call (a
 *   random session and agent of the graph, finding room on its replica) until its lease, then `release`.
 * - **one-level**: the emulated local controller asks the real controller's HTTP server for every call
 *   (`POST /bench/v1/route` on loopback, see one-level.ts): the controller runs the routing policies over its
 *   live view for that call. One decision is the whole request, as the caller waits for it.
 */
import type { AddressInfo } from 'node:net';
import { buildControllerApp } from '../../../control-plane/global-controller/app';
import { LocalController } from '../../../control-plane/local-controller/local-controller';
import { decisions as decisionsSchema } from '../../../control-plane/protocol';
import { createLogger } from '../../../common/log';
import type { GatedCall } from '../../../stubs/future-context';
import { summarize, type LatencySummary } from '../stats';
import { benchPolicies, type BenchController } from './loop';
import { addOneLevelRoute, oneLevelAnswer, oneLevelRoutePath } from './one-level';
import { seededRandom } from './synthetic-cluster';

/** What the decision part found at one size. */
export interface DecisionResult {
  size: number;
  liveFutures: number;
  /** ms per decision, two-level (acquire + release in the local controller). */
  local: LatencySummary;
  /** ms per decision, one-level (HTTP request to the global controller, which runs the policies). */
  central: LatencySummary;
  /** Pins, weighted agents and prioritised sessions in the installed decisions. */
  installed: { version: number; pins: number; weightedAgents: number; prioritised: number };
}

/** A random call of the graph: a session that exists, one of the agents, its configured replicas. */
function callPicker(bench: BenchController, seed: number): () => GatedCall {
  const random = seededRandom(seed);
  const { cluster } = bench;
  const sessions = [...bench.controller.view.sessions.keys()];
  return () => {
    const agent = cluster.agents[Math.floor(random() * cluster.agents.length)] as string;
    const session = sessions[Math.floor(random() * sessions.length)] as string;
    return {
      agent,
      replicas: cluster.replicas.get(agent) as readonly string[],
      sessionId: session,
      workflowId: `${session}/bench`,
      promptTokens: 1000,
    };
  };
}

/** Two-level: acquire + release in a local controller with the size's decisions installed. */
export async function measureLocal(bench: BenchController, calls: number, seed: number): Promise<LatencySummary> {
  const local = new LocalController();
  local.install(decisionsSchema.parse(JSON.parse(bench.controller.decisionsJson())));
  const pick = callPicker(bench, seed);
  const signal = new AbortController().signal;
  const warmup = Math.min(2000, Math.ceil(calls / 5));
  const times: number[] = [];
  for (let i = 0; i < warmup + calls; i++) {
    const call = pick();
    const t = performance.now();
    const lease = await local.acquire(call, signal);
    lease.release({ ok: true, promptTokens: 1000 });
    const ms = performance.now() - t;
    if (i >= warmup) times.push(ms);
    // The link takes the finished calls every period; here every 1000 calls, outside the timed part.
    if (i % 1000 === 999) local.takeReport();
  }
  return summarize(times);
}

/** One-level: every call is an HTTP request the real controller server decides from its live view. */
export async function measureCentral(bench: BenchController, calls: number, seed: number): Promise<LatencySummary> {
  const { controller } = bench;
  const app = buildControllerApp({ controller, log: createLogger('controller', 'error') });
  addOneLevelRoute(app, controller, benchPolicies());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}${oneLevelRoutePath}`;
  const pick = callPicker(bench, seed + 1);
  const warmup = Math.min(20, Math.ceil(calls / 10));
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + calls; i++) {
      const call = pick();
      const t = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent: call.agent, session: call.sessionId }),
      });
      if (!res.ok) throw new Error(`${oneLevelRoutePath} answered ${res.status}: ${await res.text()}`);
      oneLevelAnswer.parse(await res.json());
      const ms = performance.now() - t;
      if (i >= warmup) times.push(ms);
    }
  } finally {
    await app.close();
  }
  return summarize(times);
}

/** Both modes at one size (the controller as the loop part left it). */
export async function measureDecisions(
  bench: BenchController,
  size: number,
  o: { localCalls: number; centralCalls: number; seed: number },
): Promise<DecisionResult> {
  const d = bench.controller.decisions;
  const local = await measureLocal(bench, o.localCalls, o.seed);
  const central = await measureCentral(bench, o.centralCalls, o.seed);
  return {
    size,
    liveFutures: bench.controller.view.futures.size,
    local,
    central,
    installed: {
      version: d.version,
      pins: Object.values(d.pins).reduce((n, s) => n + Object.keys(s).length, 0),
      weightedAgents: Object.keys(d.weights).length,
      prioritised: Object.keys(d.priorities).length,
    },
  };
}
