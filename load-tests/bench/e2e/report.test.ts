import { poolProfileSchema } from '../../../sim/profile';
import type { RunInfo } from '../run-info';
import { fixtureWorkload } from './fixture-workload';
import { e2eOutcome } from './outcome';
import { e2eSettings } from '.';
import { parseE2eBenchOptions } from './options';
import { e2eReport } from './report';
import { summarizeSegment } from './stats';

const info: RunInfo = {
  commit: 'abc123',
  dirty: false,
  date: '2026-11-29T00:00:00.000Z',
  machine: { cores: 2, memoryGiB: 8, cpu: 'test cpu', platform: 'linux' },
  node: 'v20',
};

test('the report names the run, has a row per segment, per-kind and per-agent tables, capacity and overhead', () => {
  const agentReplicas = { chat: [0], coding: [1, 2] };
  const seg = (rate: number, variant: 'nalar' | 'baseline', latency: number) =>
    summarizeSegment({
      rate,
      variant,
      arrivals: 2,
      stepSeconds: 1,
      records: [
        { id: 'a0', kind: 'chat', sentAt: 0, latencyMs: latency, ok: true },
        { id: 'a1', kind: 'coding', sentAt: 0, latencyMs: latency, ok: false, errorCode: 'TIMEOUT' },
      ],
      busyMs: [10, 30, 10],
      agentReplicas,
      wallSeconds: 1,
    });
  const segments = [seg(1, 'nalar', 100), seg(1, 'baseline', 120), seg(2, 'baseline', 400), seg(2, 'nalar', 150)];
  const outcome = e2eOutcome('fixture', ['nalar', 'baseline'], segments, []);
  const report = (name: string) =>
    e2eReport({
      workload: { ...fixtureWorkload, name, agentReplicas: () => agentReplicas },
      // The fixture's rates and time scale; the rest from the command line, as a run gets them.
      settings: e2eSettings(
        fixtureWorkload,
        parseE2eBenchOptions(['--step-seconds', '1', '--seed', '7', '--drain-seconds', '5', '--warmup', '0',
          '--policies', 'hol-migration', '--control-period', '100']), // prettier-ignore
      ),
      info,
      temporalVersion: 'temporal version 1.2.3',
      profile: poolProfileSchema.parse(fixtureWorkload.simProfile({ seed: 7, timeScale: 0.01 })),
      runId: 'r1',
      seconds: 10,
      segments,
      outcome,
      figure: 'figure9.svg',
    });
  const md = report('fixture');
  expect(md).toContain('commit abc123');
  expect(md).toContain('Temporal: temporal version 1.2.3');
  expect(md).toContain('seed 7; time scale 0.01');
  expect(md).toContain('policy set: hol-migration every 100 ms');
  expect(md).toContain('![Mean latency per rate and variant, with p50, p95 and p99](figure9.svg)');
  expect(md).toContain('| 2 | baseline | 2 | 2 | 1 | 1 (TIMEOUT 1) | 1 | 400 |');
  expect(md).toContain('### Per request kind');
  expect(md).toContain('| 1 | nalar | coding | 1 | 0 | 1 | – |');
  // coding: 30 / 20 over its two replicas; chat has one replica: 1.
  expect(md).toContain('| rate/s | variant | chat | coding |');
  expect(md).toContain('| 1 | nalar | 1 | 1.5 |');
  // Every segment fails half its requests: no rate meets the bound.
  expect(md).toContain('- nalar: below the grid');
  expect(md).toContain('**–** (target ≤ 0.1: not met)');
  // Completion times of job sets are the software-engineering workload's measure, reported for it alone.
  expect(md).not.toContain('## Completion time of the job sets');
  const swe = report('swe');
  expect(swe).toContain('## Completion time of the job sets');
  // Rate 2: baseline and Nalar both 1 s; imbalance 30 / (50 / 3) = 1.8 each; no critical path, so no bound.
  expect(swe).toContain('| 2 | 1 | 1 | – | – | 1.8 |');
});
