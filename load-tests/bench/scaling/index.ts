/**
 * `npm run bench -- scaling`: capacity that follows load (issue 14). On the e2e benchmark's stack (dev server,
 * in-process simulator pool, a global controller in process, worker processes; `withE2eStack` and
 * `playSegment` of e2e/run.ts) with its capacity management (e2e/capacity.ts: the pool's admin API, a SimProvisioner over it and a CapacityManager as the
 * controller's capacity actuator: one managed agent, `writer`, from one replica, under a low → high → low step of
 * offered load, with the policies `load-balance` and `autoscale`. Measures the reaction to the step (detection,
 * decision, actuation), the time to the first replica removed after the fall and the calls lost on the way down;
 * writes load-tests/results/scaling/ and ends with the closing JSON line (targets: `scale_up_reaction_s <= 10`,
 * `calls_lost_on_scale_down <= 0`).
 */
import { gzipSync } from 'node:zlib';
import { configDefaults, durationMs } from '../../../common/config';
import type { CapacityEvent } from '../../../control-plane/capacity/manager';
import { autoscaleParams, isShort, type AutoscaleParams } from '../../../control-plane/policies/autoscale';
import type { InstalledPolicy } from '../../../control-plane/global-controller/policy-config';
import type { Policy, ReplicaView } from '../../../control-plane/policies/api';
import { playSegment, waitFor, withE2eStack, type E2eRunSettings } from '../e2e/run';
import type { RunRecord } from '../e2e/stats';
import { renderSvg } from '../plot';
import { closingLine, resultsDir, runInfo, writeFile } from '../run-info';
import {
  phaseStats,
  reactionOf,
  scalingOutcome,
  timelineOf,
  type PhaseTimes,
  type ProbeRound,
  type ServedCall,
} from './outcome';
import { replicaTemplate, scalingWorkload, stepArrivals, type ScalingOptions } from './options';
import { scalingReport, timelineChartSpec } from './report';

export { parseScalingOptions, scalingUsage, type ScalingOptions } from './options';

/** The managed agent. */
const agent = 'writer';
/** Longest wait after the arrivals for a first removal that has not happened yet. */
const scaleDownGraceMs = 30_000;

/** autoscale's params as installed (its schema's defaults unless the policy list gives params). */
function autoscaleParamsOf(policies: readonly InstalledPolicy[]): AutoscaleParams {
  return autoscaleParams.parse(policies.find((p) => p.name === 'autoscale')?.params ?? {});
}

/**
 * A read-only policy run last in every round: what the snapshot shows of the agent once the other policies
 * decided (serving and loading replicas, calls waiting and in flight, whether autoscale would call it short).
 */
function probe(params: AutoscaleParams, rounds: ProbeRound[]): InstalledPolicy {
  const policy: Policy = {
    name: 'scaling-probe',
    decide(s) {
      const c = s.capacity.get(agent);
      if (!c) return;
      const rs = c.serving.map((id) => s.replicas.get(id)).filter((r): r is ReplicaView => r !== undefined);
      const waiting = rs.reduce((n, r) => n + r.waiting, 0);
      const inFlight = rs.reduce((n, r) => n + r.inFlight, 0);
      rounds.push({
        at: s.now,
        serving: [...c.serving],
        loading: c.loading.length,
        waiting,
        inFlight,
        short: isShort(s, c, params),
      });
    },
  };
  return { name: policy.name, params: undefined, policy };
}

const jsonl = (rows: readonly unknown[]) => gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

/** Runs the benchmark, writes its results and prints the closing line; returns the exit code. */
export async function runScalingBench(o: ScalingOptions, log: (line: string) => void): Promise<number> {
  const info = runInfo();
  const t0 = Date.now();
  const workload = scalingWorkload(o);
  const arrivals = stepArrivals(o);
  const s: E2eRunSettings = {
    rates: [o.lowRate, o.highRate],
    stepSeconds: o.lowSeconds + o.highSeconds + o.afterSeconds,
    seed: o.seed,
    timeScale: o.timeScale,
    variants: ['nalar'],
    drainSeconds: o.drainSeconds,
    workers: o.workers,
    warmup: o.warmup,
    policies: o.policies,
    controlPeriodMs: durationMs(configDefaults.controlPeriod) as number,
  };
  const calls: ServedCall[] = [];
  const rounds: ProbeRound[] = [];
  const events: CapacityEvent[] = [];
  let shortRule = autoscaleParams.parse({});
  let records: RunRecord[] = [];
  let times: PhaseTimes | undefined;
  let stackInfo = { runId: '', temporalVersion: 'unknown', simulator: '', policies: [] as string[] };

  await withE2eStack(
    workload,
    s,
    log,
    async (stack) => {
      const capacity = stack.capacity;
      if (!capacity) throw new Error(`--policies ${o.policies}: the benchmark needs a capacity policy (autoscale)`);
      const manager = capacity.manager;
      // Progress lines of the events come from the stack's capacity (e2e/capacity.ts); here they are kept.
      const unsubscribe = manager.onEvent((e) => events.push(e));
      try {
        shortRule = autoscaleParamsOf(stack.controller.installed);
        stack.controller.setPolicies([...stack.controller.installed, probe(shortRule, rounds)]);
        stackInfo = {
          runId: stack.runId,
          temporalVersion: stack.temporalVersion,
          simulator: `${stack.profile.replicas.length} replica at start (${JSON.stringify(replicaTemplate(o))}, model ${stack.profile.replicas[0]?.model}), time scale ${stack.profile.timeScale}, seed ${stack.profile.seed}; admin API ${capacity.adminUrl}`,
          policies: stack.controller.installed.map((p) => p.name).filter((n) => n !== 'scaling-probe'),
        };
        if (
          !(await waitFor(() => (stack.controller.decisions.replicas[agent]?.length ?? 0) >= o.minInstances, 60_000))
        ) {
          throw new Error(`${agent} has no serving replica in the decisions after 60 s`);
        }
        log(
          `managed: ${agent} on ${stack.controller.decisions.replicas[agent]?.join(', ')}; ${arrivals.length} arrivals: ` +
            `${o.lowRate}/s for ${o.lowSeconds} s, ${o.highRate}/s for ${o.highSeconds} s, ${o.lowRate}/s for ${o.afterSeconds} s`,
        );
        const startedAt = Date.now();
        times = {
          startedAt,
          stepAt: startedAt + o.lowSeconds * 1000,
          fallAt: startedAt + (o.lowSeconds + o.highSeconds) * 1000,
          endAt: startedAt + s.stepSeconds * 1000,
        };
        const played = await playSegment({
          workload,
          s,
          ctx: {
            client: stack.client,
            taskQueue: stack.taskQueue,
            variant: 'nalar',
            timeScale: s.timeScale,
            rate: o.highRate,
            workflowIdPrefix: `scaling-${stack.runId}-`,
          },
          arrivals,
          pool: stack.pool,
          log,
          label: 'step',
        });
        records = played.records;
        const fallAt = times.fallAt;
        const removedAfterFall = () => events.some((e) => e.kind === 'removed' && e.at >= fallAt);
        if (!removedAfterFall()) {
          log(`no replica removed yet; waiting up to ${scaleDownGraceMs / 1000} s more`);
          await waitFor(removedAfterFall, scaleDownGraceMs, 100);
        }
      } finally {
        unsubscribe();
      }
    },
    {
      agentBounds: new Map([[agent, { min: o.minInstances, max: o.maxInstances }]]),
      onReport: (report) => {
        for (const c of report.calls) {
          if (c.agent !== agent) continue;
          calls.push({
            at: c.at,
            replica: c.replica,
            ok: c.ok,
            ...(c.errorCode !== undefined && { errorCode: c.errorCode }),
          });
        }
      },
    },
  );
  if (!times) throw new Error('the step was never played');

  const reaction = reactionOf(times, rounds, events, calls, records);
  const phases = phaseStats(times, records);
  const outcome = scalingOutcome(reaction, phases);
  const timeline = timelineOf(times, rounds, records);
  const seconds = (Date.now() - t0) / 1000;
  const dir = resultsDir('scaling');
  writeFile(dir, 'records.jsonl.gz', jsonl(records));
  writeFile(dir, 'rounds.jsonl.gz', jsonl(rounds.filter((r) => r.at >= times!.startedAt)));
  writeFile(dir, 'calls.jsonl.gz', jsonl(calls));
  const marks = { stepS: o.lowSeconds, fallS: o.lowSeconds + o.highSeconds };
  writeFile(dir, 'timeline.svg', await renderSvg(timelineChartSpec(timeline, marks)));
  writeFile(
    dir,
    'result.json',
    JSON.stringify(
      {
        info: { ...info, temporal: stackInfo.temporalVersion, runId: stackInfo.runId, seconds },
        settings: o,
        simulator: stackInfo.simulator,
        policies: stackInfo.policies,
        upWaiting: shortRule.upWaiting,
        upQueueMs: shortRule.upQueueMs,
        times,
        reaction,
        phases,
        events: events.filter((e) => e.at >= times!.startedAt),
        timeline,
        metrics: outcome.metrics,
        targets: outcome.targets,
      },
      null,
      2,
    ) + '\n',
  );
  writeFile(
    dir,
    'report.md',
    scalingReport({
      info,
      temporalVersion: stackInfo.temporalVersion,
      runId: stackInfo.runId,
      seconds,
      settings: { ...o },
      simulator: stackInfo.simulator,
      policies: stackInfo.policies,
      upWaiting: shortRule.upWaiting,
      upQueueMs: shortRule.upQueueMs,
      times,
      reaction,
      phases,
      events,
      targets: outcome.targets,
    }),
  );
  log(
    `scale-up reaction ${outcome.metrics.scale_up_reaction_s} s (detection ${outcome.metrics.detection_s}, decision ` +
      `${outcome.metrics.decision_s}, actuation ${outcome.metrics.actuation_s}); scale-down ${outcome.metrics.scale_down_s} s; ` +
      `calls lost ${reaction.callsLostOnScaleDown}`,
  );
  log(`report: ${dir}/report.md (${Math.round(seconds)} s)`);
  console.log(closingLine('scaling', info.commit, outcome.metrics, outcome.targets));
  return 0;
}
