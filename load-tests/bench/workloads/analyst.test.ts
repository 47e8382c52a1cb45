import { poolProfileSchema } from '../../../sim/profile';
import { analystAgents, analystParams, analystWorkload, failureCodeOf, planSession } from './analyst';

const timeScale = analystWorkload.defaultTimeScale.value;

test('arrivals are seeded: the same seed gives the same sessions, another seed others', () => {
  const o = { rate: 1, durationMs: 60_000, seed: 7 };
  const a = analystWorkload.arrivals(o);
  expect(analystWorkload.arrivals(o)).toEqual(a);
  expect(analystWorkload.arrivals({ ...o, seed: 8 })).not.toEqual(a);
  // Poisson at 1/s over 60 s: 60 expected; a seeded draw well inside ±50%.
  expect(a.length).toBeGreaterThan(30);
  expect(a.length).toBeLessThan(90);
  expect(new Set(a.map((x) => x.id)).size).toBe(a.length);
  for (const [i, x] of a.entries()) {
    expect(x.kind).toBe('session');
    expect(x.atMs).toBeGreaterThanOrEqual(i === 0 ? 0 : (a[i - 1]?.atMs ?? 0));
    expect(x.atMs).toBeLessThan(o.durationMs);
  }
});

test('sessions follow the documented distributions: turns, think times, a heavy tail of long answers', () => {
  const sessions = Array.from({ length: 2000 }, (_, i) => planSession(42, `s${i}`, timeScale));
  const turns = sessions.flatMap((s) => s.turns);
  for (const s of sessions) {
    expect(s.turns.length).toBeGreaterThanOrEqual(analystParams.turns.min);
    expect(s.turns.length).toBeLessThanOrEqual(analystParams.turns.max);
    expect(s.turns[0]?.thinkMs).toBe(0);
    for (const t of s.turns.slice(1)) {
      expect(t.thinkMs).toBeGreaterThan(0);
      expect(t.thinkMs).toBeLessThanOrEqual(analystParams.thinkModelMs.max * timeScale);
    }
  }
  const long = turns.filter((t) => t.long);
  const share = long.length / turns.length;
  expect(share).toBeGreaterThan(analystParams.longTurnShare * 0.8);
  expect(share).toBeLessThan(analystParams.longTurnShare * 1.2);
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  const shortMedian = median(turns.filter((t) => !t.long).map((t) => t.maxTokens ?? 0));
  const longMedian = median(long.map((t) => t.maxTokens ?? 0));
  expect(longMedian / shortMedian).toBeGreaterThan(4);
  for (const t of turns) expect(t.maxTokens).toBeLessThanOrEqual(analystParams.longAnswerTokens.max);
});

test('every agent has its own replicas, each serving its own model', () => {
  const profile = poolProfileSchema.parse(analystWorkload.simProfile({ seed: 1, timeScale }));
  const replicas = analystWorkload.agentReplicas();
  expect(Object.keys(replicas).sort()).toEqual([...analystAgents].sort());
  expect(replicas.analyst).toHaveLength(analystParams.analyst.replicas);
  const seen = new Set<number>();
  for (const [agent, indexes] of Object.entries(replicas)) {
    for (const i of indexes) {
      expect(seen.has(i)).toBe(false);
      seen.add(i);
      expect(profile.replicas[i]?.model).toBe(`sim-${agent}`);
    }
  }
  expect(seen.size).toBe(profile.replicas.length);
  expect(profile.replicas[replicas.analyst?.[0] ?? -1]?.maxNumSeqs).toBe(analystParams.analyst.maxNumSeqs);
});

test('a failure is named by its innermost typed code', () => {
  const inner = Object.assign(new Error('rate limited'), { type: 'NALAR_ERR_LLM_RATE_LIMITED' });
  const outer = Object.assign(new Error('update failed', { cause: new Error('activity failed', { cause: inner }) }), {
    type: undefined,
  });
  expect(failureCodeOf(outer)).toBe('NALAR_ERR_LLM_RATE_LIMITED');
  expect(failureCodeOf(new TypeError('x'))).toBe('TypeError');
});

test('common random numbers: a higher rate plays the same sessions, closer together', () => {
  const low = analystWorkload.arrivals({ rate: 0.5, durationMs: 60_000, seed: 3 });
  const high = analystWorkload.arrivals({ rate: 1, durationMs: 60_000, seed: 3 });
  expect(high.length).toBeGreaterThan(low.length);
  for (const [i, a] of low.entries()) {
    expect(high[i]?.payload).toEqual(a.payload);
    expect(Math.abs((high[i]?.atMs ?? 0) * 2 - a.atMs)).toBeLessThanOrEqual(2);
  }
});
