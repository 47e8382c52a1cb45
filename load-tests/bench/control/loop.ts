/**
 * Part 1, the global loop against live futures: a real GlobalController with the default policies, fed real
 * reports of a {@link SyntheticCluster} as JSON text, parsed and validated exactly as its server does
 * (`JSON.parse`, then the protocol's zod schema), then merged by its own round. Per round, collection is the
 * parse + validate of that round's reports plus the round's merge (and expiry); policy time is the round's
 * policy phase (the default policies and the decisions they produce).
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { GlobalController } from '../../../control-plane/global-controller/controller';
import { resolvePolicies, type InstalledPolicy } from '../../../control-plane/global-controller/policy-config';
import { defaultPolicies } from '../../../control-plane/policies/lines';
import { report as reportSchema } from '../../../control-plane/protocol';
import { createLogger } from '../../../common/log';
import { summarize, type LatencySummary } from '../stats';
import { SyntheticCluster } from './synthetic-cluster';

/** The sessions the high-priority policy names in the benchmark (every 100th session is a `vip-` one). */
export const benchVipSessions = ['vip-*'];

/** Periods a finished workflow stays in the bench's view: the graph keeps its size under churn. */
export const benchRetentionPeriods = 4;

/** The default policies (policies/lines.ts), with the high-priority one naming the bench's VIP sessions. */
export function benchPolicies(): InstalledPolicy[] {
  return resolvePolicies(
    defaultPolicies.map((name) => (name === 'high-priority' ? { name, params: { sessions: benchVipSessions } } : name)),
  );
}

/** A global controller as the bench runs it: the default policies, rounds driven by hand on a virtual epoch. */
export interface BenchController {
  controller: GlobalController;
  cluster: SyntheticCluster;
  /** Parses, validates and submits one report's text; returns the ms it took. */
  ingest(text: string): number;
}

/** What one loop measurement found. */
export interface LoopResult {
  size: number;
  nodes: number;
  /** Futures in the view after the build, and at the end of the measured rounds. */
  liveFutures: number;
  liveFuturesAtEnd: number;
  workflows: number;
  sessions: number;
  /** Events per round over all nodes (mean), and waiting calls in the view at the end. */
  eventsPerRound: number;
  waitingCalls: number;
  /** Report bytes per round over all nodes (mean). */
  reportBytesPerRound: number;
  collectMs: LatencySummary;
  /** Of collection: parse + zod, and the controller's merge. */
  parseMs: LatencySummary;
  mergeMs: LatencySummary;
  policyMs: LatencySummary;
  totalMs: LatencySummary;
  /** Heap the controller holds for this graph (after a full GC), MiB; NaN when GC could not be forced. */
  heapMiB: number;
  /** Policy rounds skipped (over their budget, or failing) during the measured rounds. */
  policySkips: number;
  /** Seconds to generate and ingest the initial graph (not a measured figure). */
  buildSeconds: number;
  /** Decisions version and pins at the end. */
  decisionsVersion: number;
  pins: number;
}

let forcedGc: (() => void) | undefined | null = null;
/** A full GC, when the runtime lets us force one (V8's flag set at run time; undefined when it does not). */
export function fullGc(): (() => void) | undefined {
  if (forcedGc === null) {
    try {
      setFlagsFromString('--expose-gc');
      forcedGc = runInNewContext('gc') as () => void;
    } catch {
      forcedGc = undefined;
    }
  }
  return forcedGc;
}

function heapUsed(): number {
  const gc = fullGc();
  if (!gc) return NaN;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A controller over a cluster of `size` futures on `nodes` nodes, built and with one round run; and its heap. */
export function buildBenchController(
  size: number,
  nodes: number,
  o: { seed: number; periodMs: number; churnShare: number; waitingShare: number },
): { bench: BenchController; heapMiB: number; buildSeconds: number } {
  const began = performance.now();
  const cluster = new SyntheticCluster({
    futures: size,
    nodes,
    seed: o.seed,
    churnShare: o.churnShare,
    waitingShare: o.waitingShare,
    periodMs: o.periodMs,
  });
  const before = heapUsed();
  const controller = new GlobalController({
    policies: benchPolicies(),
    periodMs: o.periodMs,
    retentionMs: benchRetentionPeriods * o.periodMs,
    epochNow: () => cluster.now,
    log: createLogger('controller', 'error'),
  });
  const ingest = (text: string): number => {
    const t = performance.now();
    const parsed = reportSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new Error(`the synthetic report is not a valid report: ${parsed.error.message}`);
    controller.submit(parsed.data);
    return performance.now() - t;
  };
  for (const text of cluster.buildReports()) {
    ingest(text);
    // Merge per node: the whole graph's parsed reports at once would double the peak heap.
    controller.runRound();
  }
  const heapMiB = (heapUsed() - before) / 2 ** 20;
  return { bench: { controller, cluster, ingest }, heapMiB, buildSeconds: (performance.now() - began) / 1000 };
}

/** Runs `warmup` then `rounds` measured rounds of churn on a built controller. */
export function measureLoop(
  built: { bench: BenchController; heapMiB: number; buildSeconds: number },
  size: number,
  o: { rounds: number; warmupRounds: number },
): LoopResult {
  const { controller, cluster, ingest } = built.bench;
  const liveFutures = controller.view.futures.size;
  const parse: number[] = [];
  const merge: number[] = [];
  const policy: number[] = [];
  let events = 0;
  let bytes = 0;
  let skips = 0;
  for (let r = 0; r < o.warmupRounds + o.rounds; r++) {
    const texts = cluster.churnReports();
    let parseMs = 0;
    for (const text of texts) parseMs += ingest(text);
    const timings = controller.runRound();
    if (r < o.warmupRounds) continue;
    parse.push(parseMs);
    merge.push(timings.collectMs);
    policy.push(timings.policyMs);
    skips += controller.status().skippedLastRound.length;
    for (const text of texts) {
      bytes += text.length;
      events += countEvents(text);
    }
  }
  const collect = parse.map((p, i) => p + merge[i]!);
  let waiting = 0;
  for (const s of controller.view.sessions.values()) waiting += s.waitingCount;
  const d = controller.decisions;
  return {
    size,
    nodes: cluster.nodes,
    liveFutures,
    liveFuturesAtEnd: controller.view.futures.size,
    workflows: controller.view.workflows.size,
    sessions: controller.view.sessions.size,
    eventsPerRound: events / o.rounds,
    waitingCalls: waiting,
    reportBytesPerRound: bytes / o.rounds,
    collectMs: summarize(collect),
    parseMs: summarize(parse),
    mergeMs: summarize(merge),
    policyMs: summarize(policy),
    totalMs: summarize(collect.map((c, i) => c + policy[i]!)),
    heapMiB: built.heapMiB,
    policySkips: skips,
    buildSeconds: built.buildSeconds,
    decisionsVersion: d.version,
    pins: Object.values(d.pins).reduce((n, bySession) => n + Object.keys(bySession).length, 0),
  };
}

/** Events in a report's text (counted without a second parse: each event has one `"futureId"` before `calls`). */
function countEvents(text: string): number {
  const end = text.indexOf('"calls":');
  let n = 0;
  for (let i = text.indexOf('"futureId"'); i >= 0 && i < end; i = text.indexOf('"futureId"', i + 1)) n++;
  return n;
}
