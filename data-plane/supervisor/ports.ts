/** Port checks done before anything starts, so a clash names the port and the setting that moves it. */
import { readFileSync } from 'node:fs';
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

/** Where {@link freePort} starts looking: below it lie well-known ports. */
const FREE_PORT_MIN = 10_000;

/**
 * First port of the kernel's ephemeral range (Linux: `ip_local_port_range`), from which the OS hands out
 * ports for `listen(0)` and outgoing connections; Linux's default where it cannot be read.
 */
function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 0) return first;
  } catch {
    // not Linux: use its default
  }
  return 32_768;
}

/**
 * A port that is free right now on `host`, drawn at random below the kernel's ephemeral range. A port
 * the OS picked (`listen(0)`) would lie in that range, where any process that binds port 0 or connects out
 * can take it before our component listens on it: the dev server, started first, takes several such ports
 * for its internal services. When the range leaves no room below it, the OS picks.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const end = ephemeralRangeStart();
  for (let attempt = 0; end - FREE_PORT_MIN >= 1000 && attempt < 100; attempt++) {
    const port = FREE_PORT_MIN + Math.floor(Math.random() * (end - FREE_PORT_MIN));
    if (await canListen(host, port)) return port;
  }
  return osPickedPort(host);
}

function osPickedPort(host: string): Promise<number> {
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

/**
 * `count` consecutive ports that are all free right now on `host` (a simulator pool listens on `port`,
 * `port + 1`, …), drawn like {@link freePort}.
 */
export async function freePortRange(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const first = await freePort(host);
    let free = first + count <= 65_536;
    for (let p = first + 1; free && p < first + count; p++) free = await canListen(host, p);
    if (free) return first;
  }
  throw new Error(`no ${count} consecutive free ports on ${host}`);
}
