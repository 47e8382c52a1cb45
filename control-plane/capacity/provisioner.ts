/**
 * The provisioner: what starts, stops and re-purposes model replicas. One interface, several backends:
 * the simulator pool's admin API (the embedded default, sim-provisioner.ts), and for real deployments a
 * command hook (command-provisioner.ts). The capacity manager (manager.ts) is its only caller: it enforces
 * `minInstances`/`maxInstances`, allows one change per replica at a time, and takes a replica out of routing
 * before it asks for a kill or a reassignment, so the provisioner's drain only has to wait for calls already
 * sent.
 */

/** Where a replica is in its life. */
export type ProvisionedState = 'loading' | 'serving' | 'draining';

/** One replica as a provisioner knows it. */
export interface ProvisionedReplica {
  /** The provisioner's own id (stable for the replica's life; what kill and reassign take). */
  readonly id: string;
  /** Model it serves (or loads). */
  readonly model: string;
  /** OpenAI base URL (ending in /v1): the replica's id in routing decisions and reports. */
  readonly baseUrl: string;
  readonly state: ProvisionedState;
}

/** What {@link Provisioner.provision} starts, and what {@link Provisioner.reassign} moves a replica to. */
export interface ProvisionRequest {
  /** The agent it is for (names it in the backend: `<agent>-<n>`). */
  readonly agent: string;
  /** The model the agent's calls ask for (NALAR_AGENT_MODELS `model`, else NALAR_LLM_MODEL). */
  readonly model: string;
}

export interface Provisioner {
  /** 'sim', 'command', … (logs, metrics, `GET /v1/capacity`). */
  readonly name: string;
  /** Every replica the backend has now. */
  list(): Promise<ProvisionedReplica[]>;
  /** Starts a replica; resolves with it as soon as it exists (usually `loading`). */
  provision(request: ProvisionRequest): Promise<ProvisionedReplica>;
  /** Resolves once the replica serves (its model loaded); rejects if it never will (removed, failed). */
  whenServing(id: string): Promise<void>;
  /** Drains the replica (every request it accepted is answered), then removes it; resolves when it is gone. */
  kill(id: string): Promise<void>;
  /**
   * Drains the replica, then loads `to.model` (a load delay, a cold cache) with `to.agent`'s engine settings (batch
   * size, KV cache, queue bounds: what a replica provisioned for that agent gets), as a real engine restarted for
   * the other deployment would; resolves once it serves `to.model`.
   */
  reassign(id: string, to: ProvisionRequest): Promise<void>;
  /** Releases what the provisioner holds (connections); replicas are left as they are. */
  close?(): Promise<void>;
}
