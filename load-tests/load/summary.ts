/**
 * The part of k6's `summary.json` (its handleSummary data, written by load-tests/k6/lib/summary.js) that
 * programs read: counters, rates and trends by metric name. Parsed with zod, because it is a file another
 * program wrote.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const metric = z.object({
  type: z.enum(['counter', 'gauge', 'rate', 'trend']),
  values: z.record(z.string(), z.number()),
  thresholds: z.record(z.string(), z.object({ ok: z.boolean() })).optional(),
});

/** A k6 summary: `state.testRunDurationMs` and every metric's values (`metrics.iterations.values.count`). */
export const k6Summary = z.object({
  state: z.object({ testRunDurationMs: z.number() }),
  metrics: z.record(z.string(), metric),
});
export type K6Summary = z.infer<typeof k6Summary>;

/** Reads and validates a `summary.json`. */
export function readK6Summary(file: string): K6Summary {
  return k6Summary.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** One value of a metric, or 0 when k6 recorded none (a counter never incremented is absent). */
export function metricValue(summary: K6Summary, name: string, key: string): number {
  return summary.metrics[name]?.values[key] ?? 0;
}
