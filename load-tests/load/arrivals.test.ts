/** The arrivals file `npm run load` writes for a replayed scenario: the benchmark's arrivals, seeded. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sweArrivals } from '../bench/workloads/swe';
import { durationSeconds, loadArrivalsSeed, writeScenarioArrivals } from './arrivals';

let out: string;
beforeEach(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'nalar-arrivals-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

test('durations read as k6 reads them', () => {
  expect([durationSeconds('90s'), durationSeconds('2m'), durationSeconds('1h'), durationSeconds('5')]).toEqual([
    90, 120, 3600, 5,
  ]);
  expect(() => durationSeconds('soon')).toThrow('duration soon is not like 30s, 2m');
});

test('swe writes the benchmark arrivals of the run’s rate and duration', () => {
  const file = writeScenarioArrivals({ scenario: 'swe', profile: 'constant', rate: 2, duration: '30s', out });
  expect(file).toBe(path.join(out, 'arrivals.json'));
  const written = JSON.parse(readFileSync(file as string, 'utf8')) as unknown;
  const arrivals = sweArrivals({ rate: 2, durationMs: 30_000, seed: loadArrivalsSeed });
  expect(arrivals.length).toBeGreaterThan(30);
  expect(written).toEqual({ rate: 2, durationMs: 30_000, seed: loadArrivalsSeed, arrivals });
});

test('a smoke run always has an arrival; other scenarios get no file', () => {
  const file = writeScenarioArrivals({ scenario: 'swe', profile: 'smoke', rate: 0.01, out });
  const { arrivals } = JSON.parse(readFileSync(file as string, 'utf8')) as { arrivals: { atMs: number }[] };
  expect(arrivals).toHaveLength(1);
  expect(arrivals[0]?.atMs).toBe(0);
  expect(writeScenarioArrivals({ scenario: 'hello', profile: 'smoke', out })).toBeUndefined();
});
