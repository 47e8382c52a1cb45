/**
 * The link against a small real HTTP server that plays the global controller: it records reports and serves
 * decisions by long poll. The link must keep the last decisions when the server goes away, keep (bounded)
 * telemetry, and reconnect when it comes back.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../common/log';
import { routeHash } from '../../common/route-hash';
import type { FutureEvent } from '../../stubs/workflow/types';
import { waitFor } from '../../test/helpers/wait-for';
import {
  decisionsPath,
  emptyDecisions,
  report as reportSchema,
  reportsPath,
  type Decisions,
  type Report,
} from '../protocol';
import { GlobalLink } from './global-link';
import { LocalController } from './local-controller';

const A = 'http://a/v1';
const B = 'http://b/v1';
const token = 'link-test-token-0123456789';

/** A stand-in global controller: records reports, answers decision long polls. */
class FakeGlobalController {
  readonly reports: Report[] = [];
  readonly unauthorized: string[] = [];
  private current: Decisions = emptyDecisions;
  private readonly polls = new Set<() => void>();
  private server: http.Server | undefined;

  async listen(port = 0): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const wake of this.polls) wake();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  publish(d: Decisions): void {
    this.current = d;
    for (const wake of [...this.polls]) wake();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.headers.authorization !== `Bearer ${token}`) {
      this.unauthorized.push(req.url ?? '');
      res.writeHead(401).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === reportsPath) {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.reports.push(reportSchema.parse(JSON.parse(body)));
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ decisionsVersion: 0 }));
      });
      return;
    }
    if (req.method === 'GET' && url.pathname === decisionsPath) {
      const after = Number(url.searchParams.get('after'));
      const answer = () => {
        this.polls.delete(answer);
        clearTimeout(timer);
        if (res.writableEnded) return;
        if (this.current.version > after) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.current));
        } else res.writeHead(204).end();
      };
      const timer = setTimeout(answer, Number(url.searchParams.get('waitMs')));
      if (this.current.version > after) answer();
      else this.polls.add(answer);
      return;
    }
    res.writeHead(404).end();
  }
}

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
  const server = new FakeGlobalController();
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
  const again = new FakeGlobalController();
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
  const server = new FakeGlobalController();
  const port = await server.listen();
  await server.close();
  const lines: string[] = [];
  link = startLink(port, new LocalController(), lines);
  await waitFor(() => link?.state === 'down', { what: 'the link to notice' });
  await link.stop();
  link = undefined;
  expect(lines.filter((l) => l.includes('link lost'))).toHaveLength(1);
});
