import { GlobalController } from '../../../control-plane/global-controller/controller';
import { report as reportSchema, type Report } from '../../../control-plane/protocol';
import { createLogger } from '../../../common/log';
import { SyntheticCluster } from './synthetic-cluster';

const parse = (text: string): Report => reportSchema.parse(JSON.parse(text));

function cluster(futures = 5000, nodes = 8, seed = 7) {
  return new SyntheticCluster({ futures, nodes, seed, churnShare: 0.03, waitingShare: 0.01 });
}

test('the build reports are valid reports that bring in every future once, in workflows of 8-16 futures', () => {
  const c = cluster();
  const reports = [...c.buildReports()].map(parse);
  expect(reports.map((r) => r.node)).toEqual(Array.from({ length: 8 }, (_, i) => `node-${i}`));
  const events = reports.flatMap((r) => r.events);
  const ids = new Set(events.map((e) => e.futureId));
  expect(ids.size).toBe(events.length);
  expect(events.length).toBe(c.size);
  expect(c.size).toBeGreaterThanOrEqual(5000);
  expect(c.size).toBeLessThan(5000 + 16);
  const byWorkflow = new Map<string, typeof events>();
  for (const e of events) byWorkflow.set(e.workflowId, [...(byWorkflow.get(e.workflowId) ?? []), e]);
  for (const [id, list] of byWorkflow) {
    expect(list.length).toBeGreaterThanOrEqual(8);
    expect(list.length).toBeLessThanOrEqual(16);
    // Dependencies are earlier futures of the same workflow; nothing is finished at build time.
    for (const e of list) for (const dep of e.dependencies) expect(dep.startsWith(`${id}/`)).toBe(true);
    expect(list.some((e) => e.type !== 'completed')).toBe(true);
  }
  // Multi-turn sessions and some waiting calls and a load for every replica of every agent on every node.
  const sessions = new Set(events.map((e) => e.sessionId));
  expect(sessions.size).toBeLessThan(byWorkflow.size);
  expect(reports.flatMap((r) => r.waiting).length).toBeGreaterThan(20);
  for (const r of reports) expect(r.replicas).toHaveLength(4 * 8);
});

test('the same seed gives the same reports; another seed another graph', () => {
  const a = [...cluster().buildReports(), ...cluster().churnReports()];
  const b = [...cluster().buildReports(), ...cluster().churnReports()];
  expect(a).toEqual(b);
  expect([...cluster(5000, 8, 8).buildReports()]).not.toEqual([...cluster().buildReports()]);
});

test('a churn round reports events for a few % of the futures, a finished call per completion, and keeps the graph size', () => {
  const c = cluster(20_000, 16);
  const view = new GlobalController({
    policies: [],
    periodMs: c.periodMs,
    retentionMs: 2 * c.periodMs,
    epochNow: () => c.now,
    log: createLogger('controller', 'error'),
  });
  for (const text of c.buildReports()) view.submit(parse(text));
  view.runRound();
  const built = view.view.futures.size;
  expect(built).toBe(c.size);
  for (let round = 0; round < 20; round++) {
    const reports = c.churnReports().map(parse);
    const events = reports.flatMap((r) => r.events);
    const completed = events.filter((e) => e.type === 'completed');
    expect(events.length).toBeGreaterThan(0.015 * c.size);
    expect(events.length).toBeLessThan(0.06 * c.size);
    expect(reports.flatMap((r) => r.calls).map((call) => call.futureId)).toEqual(completed.map((e) => e.futureId));
    for (const r of reports) view.submit(r);
    view.runRound();
  }
  // Finished workflows are replaced by new ones, and evicted after their retention: the view stays near its size.
  expect(c.size).toBe(built);
  expect(view.view.futures.size).toBeGreaterThan(built * 0.95);
  expect(view.view.futures.size).toBeLessThan(built * 1.15);
  expect(view.view.workflows.size).toBeGreaterThan(1000);
});
