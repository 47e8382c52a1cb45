/**
 * A pool of simulated replicas in one process: the starting ones on consecutive ports (replica i on
 * basePort + i), and, at runtime, replicas added, removed (drained first: no accepted request is lost) and
 * reassigned to another model (drained, then a model-load delay with a cold KV cache). sim/admin.ts serves
 * these over HTTP.
 */
import { readFileSync } from 'node:fs';
import { ZodError } from 'zod';
import { configDefaults } from '../common/config';
import { ErrorCode, NalarError } from '../common/errors';
import type { Clock } from '../common/clock';
import {
  poolProfileSchema,
  replicaProfile,
  type PoolProfile,
  type ReplicaProfile,
  type ReplicaProfileInput,
  type ReplicaSettings,
} from './profile';
import { Replica, type ReplicaState } from './replica';

export interface SimPoolOptions {
  profile: PoolProfile;
  /** @default NALAR_SIM_HOST's default (127.0.0.1) */
  host?: string;
  /** Port of replica 0; 0 lets the OS pick a free port for every replica (tests). */
  basePort: number;
  /** Time source of every replica (engine and outages); tests inject a `ManualClock`. @default realClock */
  clock?: Clock;
}

/** One replica as the admin API lists it. */
export interface ReplicaInfo {
  /** Stable for the pool's life, never reused: replica i of the starting profile is `"i"`, then counting up. */
  id: string;
  name: string;
  model: string;
  state: ReplicaState;
  /** OpenAI base URL (ending in /v1). */
  baseUrl: string;
}

/** Why the pool refused a change: `not_found` (no such id) or `conflict` (the replica is busy changing). */
export class SimPoolError extends Error {
  constructor(
    readonly reason: 'not_found' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'SimPoolError';
  }
}

/** Observer of capacity changes (the admin API's metrics). */
export interface SimPoolObserver {
  onReassigned?(fromModel: string, toModel: string): void;
}

export class SimPool {
  /** Live replicas by id, in the order they were started. */
  private readonly members = new Map<string, Replica>();
  private nextId = 0;
  /** The load under way per replica (after add or reassign), for {@link whenServing}. */
  private readonly loads = new Map<string, Promise<void>>();
  /** Set once by the admin API (sim/admin.ts). */
  observer: SimPoolObserver = {};

  private constructor(
    private readonly options: SimPoolOptions,
    private readonly host: string,
  ) {}

  /** Starts every replica; on failure closes the ones already started. */
  static async start(options: SimPoolOptions): Promise<SimPool> {
    const host = options.host ?? configDefaults.simHost;
    const pool = new SimPool(options, host);
    try {
      for (const profile of options.profile.replicas) await pool.startReplica(profile, false);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  /** The replicas (draining ones included) in start order; index i matches {@link baseUrls}[i]. */
  get replicas(): readonly Replica[] {
    return [...this.members.values()];
  }

  /** OpenAI base URLs (ending in /v1), one per replica. */
  get baseUrls(): string[] {
    return this.replicas.map((r) => this.baseUrlOf(r));
  }

  /** Every replica with its id, model and state. */
  list(): ReplicaInfo[] {
    return [...this.members.keys()].map((id) => this.info(id));
  }

  /** One replica; a {@link SimPoolError} `not_found` for an unknown (or removed) id. */
  info(id: string): ReplicaInfo {
    const r = this.replica(id);
    return { id, name: r.profile.name, model: r.profile.model, state: r.state, baseUrl: this.baseUrlOf(r) };
  }

  /** The replica with this id; a {@link SimPoolError} `not_found` otherwise. */
  replica(id: string): Replica {
    const r = this.members.get(id);
    if (!r) throw new SimPoolError('not_found', `no replica ${id} (replicas: ${[...this.members.keys()].join(', ')})`);
    return r;
  }

  /**
   * Starts a replica of `profile` on a free port (the next port after the pool's last one, or any free port)
   * and returns it at once, `loading` for its `modelLoadMs`; {@link whenServing} waits for the end of the load.
   */
  async add(profile: ReplicaProfile): Promise<ReplicaInfo> {
    return this.info(await this.startReplica(profile, true));
  }

  /**
   * Drains the replica (new requests get 503 `replica_draining`; the ones it holds finish), then closes it
   * and forgets its id. A {@link SimPoolError}: `not_found`, or `conflict` when it is already draining.
   * Validates synchronously, so the caller may answer before the drain ends.
   */
  remove(id: string): Promise<void> {
    const r = this.replica(id);
    if (r.state === 'draining') throw new SimPoolError('conflict', `replica ${id} is already draining`);
    return (async () => {
      await r.drain();
      await r.close();
      this.members.delete(id);
      this.loads.delete(id);
    })();
  }

  /**
   * Moves the replica to `model`: drains it, then loads the model with a cold KV/prefix cache and, when
   * `options.settings` are given, restarts its engine with them (the target deployment's batch size, KV cache,
   * queue bounds…); resolves when it serves. The load lasts `options.modelLoadMs`, else the settings' `modelLoadMs`,
   * else the replica's. A {@link SimPoolError}: `not_found`, or `conflict` unless it is serving. Validates
   * synchronously, so the caller may answer at once.
   */
  reassign(
    id: string,
    model: string,
    options: { modelLoadMs?: number; settings?: ReplicaSettings } = {},
  ): Promise<void> {
    const r = this.replica(id);
    if (r.state !== 'serving') throw new SimPoolError('conflict', `replica ${id} is ${r.state}, not serving`);
    const from = r.profile.model;
    this.observer.onReassigned?.(from, model);
    const { settings } = options;
    const modelLoadMs = options.modelLoadMs ?? settings?.modelLoadMs ?? r.profile.modelLoadMs;
    const done = (async () => {
      await r.drain();
      await r.load(model, modelLoadMs, settings);
    })();
    this.loads.set(id, done);
    return done;
  }

  /**
   * Resolves when the replica's last add or reassign has loaded its model (at once if none is under way); a
   * {@link SimPoolError} `conflict` if it does not serve then (removed meanwhile), `not_found` for an unknown id.
   */
  async whenServing(id: string): Promise<void> {
    const r = this.replica(id);
    await this.loads.get(id);
    if (r.state !== 'serving') throw new SimPoolError('conflict', `replica ${id} is ${r.state}, not serving`);
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
  }

  private baseUrlOf(r: Replica): string {
    return `http://${this.host}:${r.port}/v1`;
  }

  /** Starts replica `nextId` on basePort + its id (or any free port), loading its model first when asked. */
  private async startReplica(profile: ReplicaProfile, loadFirst: boolean): Promise<string> {
    const n = this.nextId++;
    const id = String(n);
    const o = this.options;
    const r = new Replica({ profile, index: n, timeScale: o.profile.timeScale, seed: o.profile.seed, clock: o.clock });
    // Loading before it listens, so no request is served by a replica that has not loaded its model.
    const loaded = loadFirst ? r.load(profile.model, profile.modelLoadMs) : undefined;
    try {
      await r.listen(this.host, o.basePort === 0 ? 0 : o.basePort + n);
    } catch (err) {
      // At start the consecutive ports are the contract; a replica added later takes any free port.
      if (!loadFirst || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        await r.close();
        throw err;
      }
      await r.listen(this.host, 0);
    }
    this.members.set(id, r);
    if (loaded) this.loads.set(id, loaded);
    return id;
  }
}

export interface PoolProfileSettings {
  replicas: number;
  timeScale: number;
  seed: number;
  /** JSON file: an array of replica profiles, or `{ "replicas": [...] }`; wins over `replicas`. */
  profileFile?: string;
}

/** Builds the pool profile from settings; a bad profile file is a NALAR_ERR_CONFIG_INVALID naming the field. */
export function poolProfileFromSettings(s: PoolProfileSettings): PoolProfile {
  let replicas: ReplicaProfileInput[] = Array.from({ length: s.replicas }, (_, i) => ({ name: `replica-${i}` }));
  if (s.profileFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(s.profileFile, 'utf8'));
    } catch (err) {
      throw new NalarError(ErrorCode.CONFIG_INVALID, `NALAR_SIM_PROFILE=${s.profileFile}: ${(err as Error).message}`);
    }
    const list = Array.isArray(raw) ? raw : (raw as { replicas?: unknown })?.replicas;
    if (!Array.isArray(list)) {
      throw new NalarError(
        ErrorCode.CONFIG_INVALID,
        `NALAR_SIM_PROFILE=${s.profileFile}: expected an array of replica profiles or { "replicas": [...] }`,
      );
    }
    replicas = list as ReplicaProfileInput[];
  }
  try {
    return poolProfileSchema.parse({
      timeScale: s.timeScale,
      seed: s.seed,
      replicas: replicas.map((r, i) => replicaProfile({ name: `replica-${i}`, ...r })),
    });
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const why = err.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `invalid simulator profile${s.profileFile ? ` in ${s.profileFile}` : ''}: ${why}`,
    );
  }
}
