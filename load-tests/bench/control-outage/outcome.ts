/**
 * The arithmetic and the report of `npm run bench -- control-outage`, pure and unit-tested: where the outage
 * falls in its phase, the statistics of each phase (and of the requests sent while the controller was away),
 * the metrics and targets of the closing line, and report.md.
 */
import { round } from '../stats';
import { recordStats, type RecordStats, type RunRecord } from '../e2e/stats';
import { target, type RunInfo, type Target } from '../run-info';

/** The two phases, played in this order with the same arrivals. */
export const outagePhases = ['normal', 'outage'] as const;
export type OutagePhase = (typeof outagePhases)[number];

/** When the controller is away, in ms from the start of the outage phase's arrivals: centred in the phase. */
export function outageWindow(phaseSeconds: number, outageSeconds: number): { startMs: number; endMs: number } {
  if (!(outageSeconds > 0) || outageSeconds >= phaseSeconds) {
    throw new RangeError(
      `the outage (${outageSeconds} s) must be longer than 0 and shorter than a phase (${phaseSeconds} s)`,
    );
  }
  const startMs = Math.round(((phaseSeconds - outageSeconds) / 2) * 1000);
  return { startMs, endMs: startMs + outageSeconds * 1000 };
}

/** One played phase. */
export interface PhaseResult {
  phase: OutagePhase;
  records: RunRecord[];
  /** Epoch ms of the phase's first arrival. */
  startedAt: number;
  /** Real seconds from the first arrival until the replicas were idle again. */
  wallSeconds: number;
  /** Epoch ms the controller was stopped and listening again (the outage phase only). */
  outage?: { stoppedAt: number; restartedAt: number; relinkedAt: number | undefined };
}

/** Statistics of one phase. */
export interface PhaseSummary extends RecordStats {
  phase: OutagePhase;
  wallSeconds: number;
  /** Requests sent while the controller was away (the outage phase only). */
  duringOutage?: RecordStats;
}

export function summarizePhase(p: PhaseResult): PhaseSummary {
  const summary: PhaseSummary = { phase: p.phase, wallSeconds: p.wallSeconds, ...recordStats(p.records) };
  if (p.outage) {
    const { stoppedAt, restartedAt } = p.outage;
    summary.duringOutage = recordStats(p.records.filter((r) => r.sentAt >= stoppedAt && r.sentAt < restartedAt));
  }
  return summary;
}

/** The closing line's metrics and targets (issue 13, point 7). */
export function outageOutcome(
  normal: PhaseSummary,
  outage: PhaseSummary,
  relinkSeconds: number,
): { metrics: Record<string, number>; targets: Record<string, Target> } {
  const ratio = outage.latency.p99 / normal.latency.p99;
  const metrics: Record<string, number> = {
    normal_requests: normal.requests,
    normal_completed: normal.completed,
    normal_failed: normal.failed,
    normal_p50_ms: round(normal.latency.p50),
    normal_p95_ms: round(normal.latency.p95),
    normal_p99_ms: round(normal.latency.p99),
    outage_requests: outage.requests,
    outage_completed: outage.completed,
    outage_failed: outage.failed,
    outage_p50_ms: round(outage.latency.p50),
    outage_p95_ms: round(outage.latency.p95),
    outage_p99_ms: round(outage.latency.p99),
    outage_p99_ratio: round(ratio),
    sent_during_outage: outage.duringOutage?.requests ?? 0,
    sent_during_outage_p99_ms: round(outage.duringOutage?.latency.p99 ?? NaN),
    relink_seconds: round(relinkSeconds),
  };
  return {
    metrics,
    // A phase with failures has fewer latencies: its p99 says less, so failures are a target of their own.
    targets: {
      outage_p99_ratio: target(ratio, '<=', 2),
      outage_failed: target(outage.failed, '<=', 0),
    },
  };
}

/** What report.md is made of. */
export interface OutageReportInput {
  info: RunInfo;
  temporalVersion: string;
  runId: string;
  seconds: number;
  settings: Record<string, unknown>;
  simulator: string;
  policies: readonly string[];
  window: { startMs: number; endMs: number };
  phases: PhaseSummary[];
  outage: NonNullable<PhaseResult['outage']>;
  phaseStartedAt: number;
  outcome: ReturnType<typeof outageOutcome>;
}

const fmt = (x: number) => (Number.isFinite(x) ? String(round(x)) : '–');

function row(label: string, s: RecordStats): string {
  const l = s.latency;
  const failed = s.failed
    ? `${s.failed} (${Object.entries(s.failedBy)
        .map(([c, n]) => `${c}: ${n}`)
        .join(', ')})`
    : '0';
  return `| ${label} | ${s.requests} | ${s.completed} | ${failed} | ${fmt(l.mean)} | ${fmt(l.p50)} | ${fmt(l.p95)} | ${fmt(l.p99)} | ${fmt(l.max)} |`;
}

/** report.md of a run. */
export function outageReport(r: OutageReportInput): string {
  const rel = (at: number) => `${((at - r.phaseStartedAt) / 1000).toFixed(1)} s`;
  const lines = [
    '# control-outage: the global controller stopped under load',
    '',
    'Issue 13, point 7: "global controller stopped for 60 s under load — every request still completes and p99 stays ' +
      'within 2× of the run with it". The financial analyst (Nalar variant) at a steady open-loop rate, two phases of ' +
      'equal length with the same seeded arrivals: the global controller up throughout, then stopped in the middle ' +
      'of the phase and started again on the same port (a fresh controller with an empty view, as after a crash).',
    '',
    '## Run',
    '',
    `- commit ${r.info.commit}${r.info.dirty ? ' (dirty)' : ''}, ${r.info.date}, run ${r.runId}, ${Math.round(r.seconds)} s`,
    `- machine: ${r.info.machine.cores} cores (${r.info.machine.cpu}), ${r.info.machine.memoryGiB} GiB, ${r.info.machine.platform}, Node ${r.info.node}`,
    `- Temporal: ${r.temporalVersion} (dev server, one per run)`,
    `- settings: ${JSON.stringify(r.settings)}`,
    `- simulator: ${r.simulator}`,
    `- policy set: ${r.policies.length ? r.policies.join(', ') : 'none (the controller merges reports and publishes decisions, with no policy actions)'}`,
    `- outage: planned ${r.window.startMs / 1000}–${r.window.endMs / 1000} s of the phase; stopped at ${rel(r.outage.stoppedAt)}, ` +
      `listening again at ${rel(r.outage.restartedAt)}, every worker reporting again at ` +
      `${r.outage.relinkedAt === undefined ? 'never (within the phase)' : rel(r.outage.relinkedAt)}`,
    '',
    '## Per phase',
    '',
    '| phase | requests | completed | failed | mean ms | p50 | p95 | p99 | max |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...r.phases.flatMap((p) => [
      row(p.phase, p),
      ...(p.duringOutage ? [row(`${p.phase}: sent while the controller was away`, p.duringOutage)] : []),
    ]),
    '',
    '## Targets',
    '',
    '| metric | value | target | met |',
    '| --- | ---: | --- | --- |',
    ...Object.entries(r.outcome.targets).map(
      ([k, t]) => `| ${k} | ${fmt(t.value)} | ${t.op} ${t.target} | ${t.met ? 'yes' : 'no'} |`,
    ),
    '',
    'Latency is per turn as the client sees it (update-with-start or update to the session workflow until its answer). ' +
      'The normal phase runs first; both phases play the same arrivals after the same warm-up. Raw records: ' +
      'records.jsonl.gz (field `variant` is `nalar`, `rate` the offered rate; `phase` says which phase).',
    '',
  ];
  return lines.join('\n');
}
