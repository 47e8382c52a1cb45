/**
 * The link against a small real HTTP server that plays the global controller: it records reports and serves
 * decisions by long poll. The link must keep the last decisions when the server goes away, keep (bounded)
 * telemetry, and reconnect when it comes back.
 */
import { createLogger } from '../../common/log';
import { routeHash } from '../../common/route-hash';
import type { FutureEvent } from '../../stubs/workflow/types';
import { waitFor } from '../../test/helpers/wait-for';
import { FakeGlobalController } from '../../test/helpers/fake-global-controller';
import { emptyDecisions, type Decisions } from '../protocol';
import { GlobalLink } from './global-link';
import { LocalController } from './local-controller';

const A = 'http://a/v1';
const B = 'http://b/v1';
const token = 'link-test-token-0123456789';

const event = (n: number): FutureEvent => ({
  type: 'created',
  futureId: `wf/${n}`,
  workflowId: 'wf',
  runId: 'r',
  at: n,
  meta: {
    id: `wf/${n}`,
    sessionId: 's',
    creator: 'wf',
    activityType: 'analyst.plan',
    dependencies: [],
    consumers: [],
    executor: { taskQueue: 'q' },
    priority: 2,
    fairnessKey: 's',
    state: 'created',
    timestamps: {},
  },
});

/** A session whose static choice is A (hash % 2 = 0), pinned to B by the decisions below. */
const session = (() => {
  for (let i = 0; ; i++) if (routeHash(`s${i}`) % 2 === 0) return `s${i}`;
})();
const pinned = (version: number): Decisions => ({
  ...emptyDecisions,
  version,
  policies: ['test'],
  pins: { analyst: { [session]: B } },
});

const servers: FakeGlobalController[] = [];
let link: GlobalLink | undefined;
afterEach(async () => {
  await link?.stop();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function startLink(port: number, controller: LocalController, lines: string[], maxBuffered = 1000): GlobalLink {
  return new GlobalLink({
    url: `http://127.0.0.1:${port}/`,
    token,
    periodMs: 25,
    node: 'worker-test',
    taskQueues: ['q'],
    controller,
    log: createLogger('link', 'info', (line) => lines.push(line)),
    maxBuffered,
    maxBackoffMs: 100,
    pollWaitMs: 200,
  }).start();
}

test('reports every period with the token, installs decisions, keeps them while the controller is gone, reconnects', async () => {
  const server = new FakeGlobalController(token);
  servers.push(server);
  const port = await server.listen();
  const controller = new LocalController();
  // The controller has seen the agent once, so routeOf can answer for it.
  const lease = await controller.acquire(
    { agent: 'analyst', replicas: [A, B], sessionId: 'other', workflowId: 'wf', promptTokens: 1 },
    new AbortController().signal,
  );
  lease.release({ ok: true });
  const lines: string[] = [];
  server.publish(pinned(1));
  controller.record(event(1));
  link = startLink(port, controller, lines, 3);

  await waitFor(() => controller.decisionsVersion === 1, { what: 'decisions v1 installed' });
  expect(controller.dispatcher.routeOf('analyst', session)).toBe(B);
  const first = await waitFor(() => server.reports.find((r) => r.events.length > 0), {
    what: 'a report with the event',
  });
  expect(first).toMatchObject({ node: 'worker-test', taskQueues: ['q'] });
  expect(first.events[0]).toMatchObject({
    futureId: 'wf/1',
    sessionId: 's',
    activityType: 'analyst.plan',
    priority: 2,
  });
  expect(server.reports.flatMap((r) => r.calls)).toEqual([
    expect.objectContaining({ sessionId: 'other', agent: 'analyst', ok: true }),
  ]);
  await waitFor(() => server.reports.some((r) => r.decisionsVersion === 1), { what: 'a report naming version 1' });
  expect(server.unauthorized).toEqual([]);
  expect(link.state).toBe('up');

  // The controller goes away: the worker keeps its decisions and buffers (boundedly) what it would report.
  await server.close();
  await waitFor(() => link?.state === 'down', { what: 'the link to notice' });
  for (let n = 2; n <= 6; n++) controller.record(event(n));
  expect(controller.decisionsVersion).toBe(1);
  expect(controller.dispatcher.routeOf('analyst', session)).toBe(B);

  // It comes back on the same address, with newer decisions.
  const again = new FakeGlobalController(token);
  servers.push(again);
  await again.listen(port);
  again.publish({ ...pinned(2), pins: {} });
  await waitFor(() => link?.state === 'up' && controller.decisionsVersion === 2, { what: 'reconnect and v2' });
  const delivered = await waitFor(
    () => {
      const ids = again.reports.flatMap((r) => r.events.map((e) => e.futureId));
      return ids.length >= 3 && ids;
    },
    { what: 'the buffered events delivered' },
  );
  // Five events while down, three kept: the newest.
  expect(delivered.slice(0, 3)).toEqual(['wf/4', 'wf/5', 'wf/6']);
  expect(lines.filter((l) => l.includes('link lost'))).toHaveLength(1);
  expect(lines.filter((l) => l.includes('link back'))).toHaveLength(1);
  // Sequence numbers keep increasing across the outage.
  const seqs = [...server.reports, ...again.reports].map((r) => r.seq);
  expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
});

test('stop ends a link whose controller never answered, without waiting for a back-off', async () => {
  const server = new FakeGlobalController(token);
  const port = await server.listen();
  await server.close();
  const lines: string[] = [];
  link = startLink(port, new LocalController(), lines);
  await waitFor(() => link?.state === 'down', { what: 'the link to notice' });
  await link.stop();
  link = undefined;
  expect(lines.filter((l) => l.includes('link lost'))).toHaveLength(1);
});
