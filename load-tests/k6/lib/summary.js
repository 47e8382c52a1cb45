/**
 * `handleSummary` of every scenario: writes k6's raw summary (`summary.json`) and a readable `report.md` into
 * `__ENV.REPORT_DIR` (default: the working directory), and prints a short text summary. The report has the
 * figures BENCHMARKS.md asks for where k6 has them: completed, failed and dropped iterations, throughput,
 * and mean/p50/p95/p99/max latency, plus every threshold and check.
 */

import { baseUrl } from './gateway.js';
import { runMeta } from './profile.js';

const trendRows = [
  ['iteration (one user action, end to end)', 'iteration_duration'],
  ['HTTP request', 'http_req_duration'],
  ['workflow run (gateway startedAt → closedAt)', 'workflow_duration'],
  ['session turn', 'session_turn_duration'],
];

function ms(v) {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`;
}

function num(v, digits = 0) {
  return v === undefined || v === null ? '–' : Number(v).toFixed(digits);
}

/** The headline figures of a k6 summary object. */
export function figures(data) {
  const m = data.metrics;
  const v = (name, key) => (m[name] ? m[name].values[key] : undefined);
  const seconds = data.state.testRunDurationMs / 1000;
  return {
    durationSeconds: seconds,
    iterations: v('iterations', 'count') || 0,
    iterationsPerSecond: v('iterations', 'rate') || 0,
    dropped: v('dropped_iterations', 'count') || 0,
    requests: v('http_reqs', 'count') || 0,
    requestsPerSecond: v('http_reqs', 'rate') || 0,
    // k6's Rate counts `true` values as passes: for http_req_failed, a pass is a failed request.
    failedRequests: v('http_req_failed', 'passes') || 0,
    checksPassed: v('checks', 'passes') || 0,
    checksFailed: v('checks', 'fails') || 0,
    workflowsCompleted: v('workflows_completed', 'count') || 0,
    errors: v('nalar_errors', 'count') || 0,
  };
}

/** `report.md`: run settings, headline figures, latency table, thresholds. */
export function markdownReport(data, meta) {
  const f = figures(data);
  const m = data.metrics;
  const lines = [
    `# k6 load test: ${meta.scenario} (${meta.profile})`,
    '',
    `- Target: ${meta.target}`,
    `- Profile: ${meta.profile}, ${meta.executor}, rate ${meta.rate}/s, duration ${meta.duration}`,
    `- Ran ${f.durationSeconds.toFixed(1)} s, finished ${new Date().toISOString()}`,
    meta.notes ? `- ${meta.notes}` : '',
    '',
    '## Figures',
    '',
    '| figure | value |',
    '| --- | --- |',
    `| completed iterations | ${f.iterations} |`,
    `| failed HTTP requests | ${f.failedRequests} of ${f.requests} |`,
    `| failed checks | ${f.checksFailed} of ${f.checksPassed + f.checksFailed} |`,
    `| errors by code (\`nalar_errors\`) | ${f.errors} |`,
    `| dropped iterations (no free VU at arrival) | ${f.dropped} |`,
    `| throughput | ${num(f.iterationsPerSecond, 2)} iterations/s, ${num(f.requestsPerSecond, 2)} requests/s |`,
    `| workflows completed | ${f.workflowsCompleted} |`,
    '',
    '## Latency',
    '',
    '| measure | count | mean | p50 | p95 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [label, name] of trendRows) {
    const t = m[name];
    if (!t || !t.values.count) continue;
    const x = t.values;
    lines.push(
      `| ${label} | ${x.count} | ${ms(x.avg)} | ${ms(x.med)} | ${ms(x['p(95)'])} | ${ms(x['p(99)'])} | ${ms(x.max)} |`,
    );
  }
  lines.push('', '## Thresholds', '', '| metric | threshold | met |', '| --- | --- | --- |');
  for (const [name, metric] of Object.entries(m)) {
    for (const [expr, result] of Object.entries(metric.thresholds || {})) {
      lines.push(`| \`${name}\` | \`${expr}\` | ${result.ok ? 'yes' : '**no**'} |`);
    }
  }
  lines.push('', '## Checks', '', '| check | passed | failed |', '| --- | ---: | ---: |');
  for (const c of (data.root_group && data.root_group.checks) || [])
    lines.push(`| ${c.name} | ${c.passes} | ${c.fails} |`);
  lines.push(
    '',
    'Latency is wall-clock time seen by k6 on the same machine. Beside this file: the raw k6 summary',
    '`summary.json` (`metrics.<name>.values`) and, from `npm run load`, every sample as JSON lines in',
    '`records.jsonl.gz`.',
    '',
  );
  return lines.filter((l, i) => l !== '' || lines[i - 1] !== '').join('\n');
}

/** A short plain-text summary for the terminal. */
export function textReport(data, meta) {
  const f = figures(data);
  const t = data.metrics.iteration_duration;
  const failedThresholds = [];
  for (const [name, metric] of Object.entries(data.metrics)) {
    for (const [expr, result] of Object.entries(metric.thresholds || {})) {
      if (!result.ok) failedThresholds.push(`${name} ${expr}`);
    }
  }
  const x = t ? t.values : {};
  return [
    '',
    `${meta.scenario} (${meta.profile}, rate ${meta.rate}/s, ${meta.duration}) against ${meta.target}`,
    `  iterations ${f.iterations} (${num(f.iterationsPerSecond, 2)}/s), dropped ${f.dropped}, ` +
      `failed requests ${f.failedRequests}/${f.requests}, failed checks ${f.checksFailed}`,
    `  iteration latency: mean ${ms(x.avg)}  p50 ${ms(x.med)}  p95 ${ms(x['p(95)'])}  p99 ${ms(x['p(99)'])}  max ${ms(x.max)}`,
    failedThresholds.length ? `  thresholds crossed: ${failedThresholds.join('; ')}` : '  all thresholds met',
    '',
  ].join('\n');
}

/** The `handleSummary` of the scenario set up by `scenarioOptions` (lib/profile.js). */
export function handleSummary(data) {
  const meta = { ...runMeta(), target: baseUrl, notes: __ENV.REPORT_NOTES };
  const dir = (__ENV.REPORT_DIR || '.').replace(/\/+$/, '');
  return {
    stdout: textReport(data, meta),
    [`${dir}/summary.json`]: JSON.stringify(data, null, 2),
    [`${dir}/report.md`]: markdownReport(data, meta),
  };
}
