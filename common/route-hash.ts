/**
 * The hash that places a session on one of an agent's replicas (`routeHash(session) % n`). Shared by the
 * static binding of plain activities and the local controller's default routing, so that with no policy
 * installed both send a session to the same replica, in every worker process.
 */

/** FNV-1a, 32 bits, of `key` (UTF-16 code units): stable across processes and Node versions. */
export function routeHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
