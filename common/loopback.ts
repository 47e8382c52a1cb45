/** Whether an address is reachable from this machine only: the rule behind every server's "no token" mode. */

/** True for loopback host names and addresses, including IPv4-mapped IPv6 (`::ffff:127.0.0.1`, a peer's address). */
export function isLoopback(host: string): boolean {
  const h = host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
