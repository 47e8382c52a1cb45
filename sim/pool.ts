/** A pool of simulated replicas on consecutive ports in one process (replica i on basePort + i). */
import { readFileSync } from 'node:fs';
import { ZodError } from 'zod';
import { configDefaults } from '../common/config';
import { ErrorCode, NalarError } from '../common/errors';
import type { Clock } from '../common/clock';
import { poolProfileSchema, replicaProfile, type PoolProfile, type ReplicaProfileInput } from './profile';
import { Replica } from './replica';

export interface SimPoolOptions {
  profile: PoolProfile;
  /** @default NALAR_SIM_HOST's default (127.0.0.1) */
  host?: string;
  /** Port of replica 0; 0 lets the OS pick a free port for every replica (tests). */
  basePort: number;
  /** Time source of every replica (engine and outages); tests inject a `ManualClock`. @default realClock */
  clock?: Clock;
}

export class SimPool {
  private constructor(
    readonly replicas: readonly Replica[],
    private readonly host: string,
  ) {}

  /** Starts every replica; on failure closes the ones already started. */
  static async start(options: SimPoolOptions): Promise<SimPool> {
    const host = options.host ?? configDefaults.simHost;
    const replicas = options.profile.replicas.map(
      (profile, index) =>
        new Replica({
          profile,
          index,
          timeScale: options.profile.timeScale,
          seed: options.profile.seed,
          clock: options.clock,
        }),
    );
    const started: Replica[] = [];
    try {
      for (const [i, r] of replicas.entries()) {
        await r.listen(host, options.basePort === 0 ? 0 : options.basePort + i);
        started.push(r);
      }
    } catch (err) {
      await Promise.all(started.map((r) => r.close()));
      throw err;
    }
    return new SimPool(replicas, host);
  }

  /** OpenAI base URLs (ending in /v1), one per replica. */
  get baseUrls(): string[] {
    return this.replicas.map((r) => `http://${this.host}:${r.port}/v1`);
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.close()));
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
