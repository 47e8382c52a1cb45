/** The router bench workload's pure parts: arrivals from the trace, the trace file setting, the profile's split. */
import path from 'node:path';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { poolProfileSchema } from '../../../sim/profile';
import { routerInput } from '../../../workflows/inputs';
import {
  routerErrorCode,
  routerTrace,
  routerTraceEnv,
  routerTraceFiles,
  routerWorkload,
  type RouterPayload,
} from './router';

const fixtures = path.join(__dirname, '..', '..', 'traffic', 'fixtures');

test('arrivals follow the seeded trace: same seed same arrivals, the rate scales them, payloads are valid inputs', () => {
  const a = routerWorkload.arrivals({ rate: 4, durationMs: 30_000, seed: 7 });
  expect(routerWorkload.arrivals({ rate: 4, durationMs: 30_000, seed: 7 })).toEqual(a);
  expect(routerWorkload.arrivals({ rate: 4, durationMs: 30_000, seed: 8 })).not.toEqual(a);
  expect(a).toHaveLength(120); // the synthesizer's count is exact: 4/s × 30 s
  expect(routerWorkload.arrivals({ rate: 8, durationMs: 30_000, seed: 7 })).toHaveLength(240);
  expect(new Set(a.map((x) => x.id)).size).toBe(a.length);
  for (const x of a) {
    expect(x.atMs).toBeGreaterThanOrEqual(0);
    expect(x.atMs).toBeLessThan(30_000);
    const p = x.payload as RouterPayload;
    expect(x.kind).toBe(p.kind);
    // What run() sends must pass the workflow's own input schema.
    expect(routerInput.safeParse({ ...p, deadlineMs: 20_000 }).success).toBe(true);
  }
  // The mix shifts: the first half is mostly chat, the second mostly coding (95% each by default).
  const share = (xs: typeof a, kind: string) => xs.filter((x) => x.kind === kind).length / xs.length;
  expect(
    share(
      a.filter((x) => x.atMs < 15_000),
      'chat',
    ),
  ).toBeGreaterThanOrEqual(0.9);
  expect(
    share(
      a.filter((x) => x.atMs >= 15_000),
      'coding',
    ),
  ).toBeGreaterThanOrEqual(0.9);
  // Prompt seeds differ per request (no shared prefix beyond the system prompt).
  expect(new Set(a.map((x) => (x.payload as RouterPayload).seed)).size).toBe(a.length);
});

test(`${routerTraceEnv} plays real trace files instead, rescaled to the rate`, () => {
  const env = {
    [routerTraceEnv]: `${path.join(fixtures, 'conv-sample.csv')}=chat,${path.join(fixtures, 'code-sample.csv')}=coding`,
  };
  expect(routerTraceFiles(env)?.map((f) => f.kind)).toEqual(['chat', 'coding']);
  const trace = routerTrace({ rate: 5, durationMs: 20_000, seed: 1 }, env);
  expect(new Set(trace.map((r) => r.kind))).toEqual(new Set(['chat', 'coding']));
  expect(trace.every((r) => r.atMs < 20_000)).toBe(true);
  // Rescaled to about the requested rate (the files repeat when shorter than the step).
  expect(trace.length / 20).toBeGreaterThan(2.5);
  expect(trace.length / 20).toBeLessThan(7.5);
  expect(routerTraceFiles({})).toBeUndefined();
  expect(() => routerTraceFiles({ [routerTraceEnv]: 'trace.csv=code' })).toThrow(
    `${routerTraceEnv}: "trace.csv=code" is not <file.csv>=chat or <file.csv>=coding`,
  );
});

test('each agent has its own replicas, whose model names the agent', () => {
  const profile = poolProfileSchema.parse(routerWorkload.simProfile({ seed: 1, timeScale: 1 }));
  const split = routerWorkload.agentReplicas();
  expect(Object.keys(split).sort()).toEqual(['chatBranch', 'classifier', 'coder']);
  const used = Object.values(split).flat();
  expect(new Set(used).size).toBe(used.length); // no replica shared between agents
  expect([...used].sort()).toEqual(profile.replicas.map((_, i) => i));
  for (const [agent, indexes] of Object.entries(split)) {
    const models = new Set(indexes.map((i) => profile.replicas[i]?.model));
    expect(models.size).toBe(1);
    expect([...models][0]).toMatch(/^router-/);
    expect(agent).toBeTruthy();
  }
  // Every request of the trace fits a branch replica's context and KV cache (the trace caps both).
  for (const r of profile.replicas.slice(1)) {
    expect(r.maxModelLen).toBeGreaterThanOrEqual(8192);
    expect(r.kvCacheTokens).toBeGreaterThanOrEqual(8192);
  }
});

test('a failed request is recorded with the code along its cause chain', () => {
  const cause = ApplicationFailure.create({ type: 'NALAR_ERR_DEADLINE_EXCEEDED', message: 'late', nonRetryable: true });
  expect(routerErrorCode(new WorkflowFailedError('failed', cause, 'NON_RETRYABLE_FAILURE'))).toBe(
    'NALAR_ERR_DEADLINE_EXCEEDED',
  );
  expect(routerErrorCode(new Error('boom'))).toBe('Error');
});
