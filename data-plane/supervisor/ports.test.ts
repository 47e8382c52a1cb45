import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { ErrorCode, hasErrorCode } from '../../common/errors';
import { assertPortsFree, freePort, freePortRange } from './ports';

test('a taken port is named together with the setting that moves it', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const port = (server.address() as net.AddressInfo).port;
  const free = await freePort();
  try {
    const err = await assertPortsFree([
      { host: '127.0.0.1', port: free, what: 'free one', setting: 'X' },
      { host: '127.0.0.1', port, what: 'Temporal gRPC', setting: 'TEMPORAL_ADDRESS=127.0.0.1:<port>' },
    ]).catch((e: unknown) => e);
    expect(hasErrorCode(err, ErrorCode.PORT_IN_USE)).toBe(true);
    expect((err as Error).message).toBe(
      `port ${port} on 127.0.0.1 (Temporal gRPC) is already in use; change it with TEMPORAL_ADDRESS=127.0.0.1:<port>`,
    );
  } finally {
    server.close();
  }
});

test('free ports pass', async () => {
  const port = await freePort();
  await expect(assertPortsFree([{ host: '127.0.0.1', port, what: 'x', setting: 'y' }])).resolves.toBeUndefined();
});

test('free ports lie below the ephemeral range, where no process binding port 0 can take them first', async () => {
  const range = '/proc/sys/net/ipv4/ip_local_port_range';
  const ephemeralStart = existsSync(range) ? Number(readFileSync(range, 'utf8').trim().split(/\s+/)[0]) : 32_768;
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) {
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(ephemeralStart);
  }
});

test('a free port range is a run of consecutive ports that are all free (a simulator pool listens on them)', async () => {
  const first = await freePortRange(3);
  const claims = [0, 1, 2].map((i) => ({ host: '127.0.0.1', port: first + i, what: `replica ${i}`, setting: 'x' }));
  await expect(assertPortsFree(claims)).resolves.toBeUndefined();
});
