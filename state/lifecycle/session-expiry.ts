/** Lifecycle of session state: sessions idle longer than a TTL (ended conversations) are removed. */
import type { SessionStore } from '../session-store';

/**
 * Drops every session namespace whose last write is older than `ttlMs`; returns the dropped sessions.
 * Run it periodically (the control plane will); a session that writes again is simply recreated.
 */
export async function expireIdleSessions(store: SessionStore, ttlMs: number): Promise<string[]> {
  const idle = await store.idleNamespaces(ttlMs);
  for (const ns of idle) await store.dropNamespace(ns);
  return idle;
}
