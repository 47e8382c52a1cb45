/** Port checks done before anything starts, so a clash names the port and the setting that moves it. */
import net from 'node:net';
import { ErrorCode, NalarError } from '../../common/errors';

/** A port a component will listen on, and how a user changes it. */
export interface PortClaim {
  host: string;
  port: number;
  /** What listens there, e.g. 'Temporal gRPC'. */
  what: string;
  /** The setting that changes it, e.g. 'TEMPORAL_ADDRESS=127.0.0.1:<port>'. */
  setting: string;
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws a {@link NalarError} `NALAR_ERR_PORT_IN_USE` listing every claimed port that is taken. */
export async function assertPortsFree(claims: readonly PortClaim[]): Promise<void> {
  const taken: string[] = [];
  for (const c of claims) {
    if (!(await canListen(c.host, c.port))) {
      taken.push(`port ${c.port} on ${c.host} (${c.what}) is already in use; change it with ${c.setting}`);
    }
  }
  if (taken.length) throw new NalarError(ErrorCode.PORT_IN_USE, taken.join('\n'));
}

/** A port that is free right now on `host` (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
