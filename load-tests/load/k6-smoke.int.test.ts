/**
 * The smoke profile of every k6 scenario, as `npm run load -- <scenario> --profile smoke` runs it, against one
 * embedded stack started once for this file (the same start as `npm run load` without --target): k6 passes
 * its thresholds, and the report and the raw summary are written. Smoke thresholds check correctness only
 * (no failed request, every check passes); latency bounds are generous, so a slow machine does not fail it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createLogger } from '../../common/log';
import { arrivalScenarios } from './arrivals';
import { loadScenarios } from './options';
import { recordsFile, runLoad } from './run-load';
import { startLoadStack, type LoadStack } from './stack';
import { metricValue, readK6Summary } from './summary';

// Stack start plus a few seconds of k6 per scenario, on a loaded two-core machine.
jest.setTimeout(180_000);

const log = createLogger('k6-smoke', 'warn');
const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-k6-smoke-'));
let stack: LoadStack;

beforeAll(async () => {
  stack = await startLoadStack({ log, logFile: path.join(dir, 'stack.log') });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('there is a scenario per example workflow, one for multi-turn sessions and one per paper workload', () => {
  expect(loadScenarios()).toEqual(['analyst', 'article', 'chat', 'hello', 'pipeline', 'router', 'swe']);
});

test.each(loadScenarios())('the %s scenario passes its smoke run and writes its report', async (scenario) => {
  const out = path.join(dir, scenario);
  let output = '';
  const result = await runLoad(
    { scenario, target: stack.url, profile: 'smoke', out },
    { log, output: (_stream, chunk) => (output += chunk) },
  );
  if (result.exitCode !== 0) throw new Error(`k6 exited with ${result.exitCode}:\n${output.slice(-4000)}`);
  const summary = readK6Summary(path.join(out, 'summary.json'));
  expect(metricValue(summary, 'iterations', 'count')).toBeGreaterThan(0);
  expect(metricValue(summary, 'http_reqs', 'count')).toBeGreaterThan(0);
  // k6's Rate counts `true` as a pass: passes of http_req_failed are failed requests.
  expect(metricValue(summary, 'http_req_failed', 'passes')).toBe(0);
  expect(metricValue(summary, 'checks', 'fails')).toBe(0);
  expect(existsSync(path.join(out, 'report.md'))).toBe(true);
  // The raw samples: one JSON line per sample, so any figure can be recomputed.
  const first =
    gunzipSync(readFileSync(path.join(out, recordsFile)))
      .toString('utf8')
      .split('\n')[0] ?? '';
  expect(JSON.parse(first)).toHaveProperty('type');
  const report = readFileSync(path.join(out, 'report.md'), 'utf8');
  expect(report).toContain(`# k6 load test: ${scenario} (smoke)`);
  expect(report).toMatch(/\| completed iterations \| [1-9]\d* \|/);
  expect(output).toContain('all thresholds met');
  if (arrivalScenarios[scenario]) {
    // A replayed scenario ran one iteration per arrival of the file npm run load wrote.
    const { arrivals } = JSON.parse(readFileSync(path.join(out, 'arrivals.json'), 'utf8')) as { arrivals: unknown[] };
    expect(metricValue(summary, 'iterations', 'count')).toBe(arrivals.length);
  }
});
