/** The software-engineering bench workload's pure parts: arrivals, simulator profile, replica split, codes. */
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { poolProfileSchema } from '../../../sim/profile';
import { sweArrivals, sweFailureCode, sweModels, sweWorkload, type SweJobPayload } from './swe';

test('arrivals are seeded, open loop at about the rate, and job i is the same job at every rate', () => {
  const a = sweArrivals({ rate: 1, durationMs: 600_000, seed: 42 });
  expect(sweArrivals({ rate: 1, durationMs: 600_000, seed: 42 })).toEqual(a);
  expect(sweArrivals({ rate: 1, durationMs: 600_000, seed: 43 })).not.toEqual(a);
  expect(Math.abs(a.length / 600 - 1)).toBeLessThan(0.1);
  for (const [i, x] of a.entries()) {
    expect(x).toMatchObject({ id: `job-${i}`, kind: 'job' });
    expect(x.atMs).toBeLessThan(600_000);
    if (i > 0) expect(x.atMs).toBeGreaterThanOrEqual(a[i - 1]?.atMs ?? 0);
  }
  const faster = sweArrivals({ rate: 3, durationMs: 600_000, seed: 42 });
  expect(faster.slice(0, 10).map((x) => x.payload)).toEqual(a.slice(0, 10).map((x) => x.payload));
  const payload = a[0]?.payload as SweJobPayload;
  expect(payload.task.length).toBeGreaterThan(0);
  expect(Number.isInteger(payload.seed)).toBe(true);
});

test('each agent has its own replicas, as many as every other agent, serving its own model', () => {
  const profile = poolProfileSchema.parse(sweWorkload.simProfile({ seed: 1, timeScale: 0.75 }));
  const split = sweWorkload.agentReplicas();
  expect(Object.keys(split).sort()).toEqual(['developer', 'planner', 'tester']);
  const used = Object.values(split).flat();
  expect(new Set(used).size).toBe(profile.replicas.length);
  for (const [agent, indexes] of Object.entries(split)) {
    for (const i of indexes) expect(profile.replicas[i]?.model).toBe(sweModels[agent as keyof typeof sweModels]);
  }
  // The same share for every agent (the static split capacity moves away from), and room for a whole set.
  expect(new Set(Object.values(split).map((r) => r.length))).toEqual(new Set([4]));
  expect(profile.replicas.every((r) => r.maxNumSeqs === 2 && r.maxWaiting >= 512)).toBe(true);
  expect(sweWorkload.defaultRates[0]).toBeLessThan(sweWorkload.defaultRates.at(-1) ?? 0);
});

test('a failed job is recorded with its Nalar code, else UNKNOWN', () => {
  const failure = ApplicationFailure.create({ type: 'NALAR_ERR_DEADLINE_EXCEEDED', message: 'late' });
  const err = new WorkflowFailedError('failed', failure, 'NON_RETRYABLE_FAILURE');
  expect(sweFailureCode(err)).toBe('NALAR_ERR_DEADLINE_EXCEEDED');
  expect(sweFailureCode(new Error('boom'))).toBe('UNKNOWN');
});
