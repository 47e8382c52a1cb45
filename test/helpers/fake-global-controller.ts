/**
 * A stand-in for the global controller in tests of the local controller's link: a real HTTP server on
 * 127.0.0.1 that records (and zod-checks) reports and serves decisions by long poll, as protocol.ts says.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decisionsPath,
  emptyDecisions,
  report as reportSchema,
  reportsPath,
  type Decisions,
  type Report,
} from '../../control-plane/protocol';

export class FakeGlobalController {
  readonly reports: Report[] = [];
  /** Paths of requests refused for a missing or wrong token. */
  readonly unauthorized: string[] = [];
  private current: Decisions = emptyDecisions;
  private readonly polls = new Set<() => void>();
  private server: http.Server | undefined;

  /** @param token the bearer token it requires */
  constructor(private readonly token: string) {}

  /** Listens on 127.0.0.1 (`port` 0: any free one); returns the port. */
  async listen(port = 0): Promise<number> {
    const server = http.createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return (server.address() as AddressInfo).port;
  }

  /** Stops answering: open connections are closed, waiting polls answered first. */
  async close(): Promise<void> {
    for (const wake of this.polls) wake();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Makes `d` the decisions it serves (and answers waiting long polls). */
  publish(d: Decisions): void {
    this.current = d;
    for (const wake of [...this.polls]) wake();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.headers.authorization !== `Bearer ${this.token}`) {
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
