/**
 * The goals of `npm run bench -- state` and the metrics of its closing line: read + write of an agent call
 * at p99 within 5 ms on every plain backend, and history bytes per agent step with offload within 1 KiB. A
 * goal that was not measured (part not run, backend skipped, a run failed) is in `targets` as not met, with
 * a note saying why; a goal with failed operations is not met whatever its figure.
 */
import { target, type Target } from '../run-info';
import { round } from '../stats';
import { historyMaxima, type HistorySizeResult } from './history-stats';
import type { HistoryResult } from './history';
import type { OpsResult } from './ops';
import type { StateBenchOptions } from './options';

/** Goal: p99 of read + write per agent call, ms, on each plain backend. */
export const STATE_TARGET_MS = 5;
/** Goal: history bytes per agent step with offload. */
export const HISTORY_TARGET_BYTES = 1024;

/** A target with why it is not met when it was not measured. */
export type NotedTarget = Target & { note?: string };

/** The target of a goal that has no figure. */
function unmeasured(goal: number, note: string): NotedTarget {
  return { ...target(NaN, '<=', goal), met: false, note };
}

/** Per-backend metrics and the per-backend goals (plain backends only: `<backend>+cache` has no goal). */
export function stateOpsOutcome(
  o: StateBenchOptions,
  ops: OpsResult | undefined,
): { targets: Record<string, NotedTarget>; metrics: Record<string, unknown> } {
  const targets: Record<string, NotedTarget> = {};
  const metrics: Record<string, unknown> = {};
  const ran = (ops?.variants ?? []).filter((v) => v.ops);
  const fastestP99 = Math.min(...ran.map((v) => v.ops!.readWrite.p99));
  for (const name of o.backends) {
    // The goal is per backend: the plain store is the cost a session not (yet) placed on a worker pays too.
    const isTarget = !name.includes('+');
    const key = `state_read_write_p99_ms_${name}`;
    const v = ops?.variants.find((x) => x.name === name);
    if (!v) {
      targets[key] = unmeasured(STATE_TARGET_MS, 'not run (--parts)');
    } else if (!v.ops) {
      targets[key] = unmeasured(STATE_TARGET_MS, `skipped: ${v.reason}`);
      metrics[name] = { skipped: v.reason };
    } else {
      const s = v.ops;
      const p99 = round(s.readWrite.p99);
      targets[key] = target(p99, '<=', STATE_TARGET_MS);
      if (s.failed > 0) targets[key] = { ...targets[key]!, met: false, note: `${s.failed} operations failed` };
      const m: Record<string, number> = {
        read_p50: round(s.read.p50),
        read_p99: round(s.read.p99),
        write_p50: round(s.write.p50),
        write_p99: round(s.write.p99),
        read_write_mean: round(s.readWrite.mean),
        read_write_p50: round(s.readWrite.p50),
        read_write_p99: p99,
        get_put_p50: round(s.getPut.p50),
        get_put_p99: round(s.getPut.p99),
        failed: s.failed,
        p99_vs_fastest: round(s.readWrite.p99 / fastestP99),
      };
      const plain = ran.find((x) => x.name === name.split('+')[0]);
      if (!isTarget && plain?.ops) m.read_p50_vs_plain = round(s.read.p50 / plain.ops.read.p50);
      metrics[name] = m;
    }
    if (!isTarget) delete targets[key];
  }
  return { targets, metrics };
}

/** Metrics per conversation size and the history goal: the largest bytes per step with offload over all sizes. */
export function historyOutcome(
  o: StateBenchOptions,
  sizes: readonly HistorySizeResult[] | undefined,
  historyError: string | undefined,
): { targets: Record<string, NotedTarget>; metrics: Record<string, unknown> } {
  const metrics: Record<string, unknown> = {};
  for (const s of sizes ?? []) {
    metrics[`${s.sizeKiB}KiB`] = {
      with_offload_bytes_per_step: s.withOffload.bytesPerStep === undefined ? null : round(s.withOffload.bytesPerStep),
      with_offload_steps: s.withOffload.steps,
      without_offload_bytes_per_step:
        s.withoutOffload.bytesPerStep === undefined ? null : round(s.withoutOffload.bytesPerStep),
      without_offload_steps: s.withoutOffload.ran ? s.withoutOffload.steps : null,
      ...(!s.withoutOffload.ran && { without_offload_skipped: s.withoutOffload.reason }),
      without_with_ratio: s.ratio === undefined ? null : round(s.ratio),
    };
  }
  const failedWith = (sizes ?? []).filter((s) => !s.withOffload.ran);
  const { maxWith } = historyMaxima(sizes ?? [], o.offloadBytes);
  let goal: NotedTarget;
  if (!o.parts.includes('history')) goal = unmeasured(HISTORY_TARGET_BYTES, 'not run (--parts)');
  else if (!sizes) goal = unmeasured(HISTORY_TARGET_BYTES, `not run: ${historyError}`);
  else if (!sizes.length) goal = unmeasured(HISTORY_TARGET_BYTES, 'no conversation sizes (--sizes)');
  else if (failedWith.length) {
    const failures = failedWith.map((s) => `${s.sizeKiB} KiB: ${s.withOffload.reason}`).join('; ');
    goal = unmeasured(HISTORY_TARGET_BYTES, `failed at ${failures}`);
  } else goal = target(round(maxWith), '<=', HISTORY_TARGET_BYTES);
  return { targets: { history_bytes_per_step_with_offload: goal }, metrics };
}

/** The `metrics` and `targets` of the closing line (and result.json) of one run. */
export function stateBenchOutcome(
  o: StateBenchOptions,
  ops: OpsResult | undefined,
  history: HistoryResult | undefined,
  historyError: string | undefined,
): { metrics: Record<string, unknown>; targets: Record<string, NotedTarget> } {
  const state = stateOpsOutcome(o, ops);
  const hist = historyOutcome(o, history?.sizes, historyError);
  const { maxWith, maxAbove } = historyMaxima(history?.sizes ?? [], o.offloadBytes);
  const metrics = {
    ...(ops && { calls_per_backend: o.calls, sessions: o.sessions, state_ms: state.metrics }),
    ...(history && {
      offload_bytes: o.offloadBytes,
      steps: o.steps,
      history_bytes_per_step: hist.metrics,
      history_bytes_per_step_with_offload_max: round(maxWith),
      history_bytes_per_step_with_offload_max_above_threshold: round(maxAbove),
    }),
    seed: o.seed,
  };
  return { metrics, targets: { ...state.targets, ...hist.targets } };
}
