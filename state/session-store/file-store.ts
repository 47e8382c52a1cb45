/**
 * Filesystem backend (the embedded default): one folder per namespace holding one `state.json` document.
 *
 * Why one document: the opId record, the data and the last-write time must change together, and a single
 * `rename` is the only atomic multi-field update a filesystem offers. Every write takes the namespace's
 * `mkdir` lock, reads the document, applies the change and replaces the file (temp file + fsync + rename),
 * so several processes on one machine may share the folder. Readers need no lock: rename is atomic.
 * The cost is that a write rewrites the whole namespace, which suits per-session state, not bulk data.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { conflictError, unavailableError } from './errors';
import { withFileLock } from './file-lock';
import {
  type CommonStoreOptions,
  encodeOpRecord,
  type NamespaceOwner,
  type NamespaceStamp,
  type SessionStore,
  type StoredValue,
  type StoreStats,
  type WriteOptions,
} from './interface';
import {
  decodeOpRecord,
  sliceBounds,
  sortKeys,
  validateAge,
  validateEpoch,
  validateName,
  validateRange,
  validateValue,
  validateWriteOptions,
} from './validation';

/** Options of {@link createFileSessionStore}. */
export interface FileSessionStoreOptions extends CommonStoreOptions {
  /** A lock older than this whose holder pid is dead may be broken. @default 30_000 */
  staleLockMs?: number;
  /** How long a write waits for a namespace lock before failing as unavailable. @default 60_000 */
  lockTimeoutMs?: number;
}

/** In memory: Maps, because keys such as `__proto__` must not touch an object's prototype. */
interface NamespaceState {
  ns: string;
  lastWrite: number;
  writes: number;
  kv: Map<string, StoredValue>;
  lists: Map<string, string[]>;
  ops: Map<string, string>;
  owner?: NamespaceOwner;
}

/** On disk. */
interface StateDocument {
  ns: string;
  lastWrite: number;
  /** Absent in documents written before change counting existed. */
  writes?: number;
  kv: [string, string, number][];
  lists: [string, string[]][];
  ops: [string, string][];
  owner?: NamespaceOwner;
}

/** Folder name of a namespace: a readable escaped prefix plus a hash, so no name can traverse paths or collide. */
export function namespaceFolder(ns: string): string {
  const readable = ns.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 32);
  return `${readable}-${createHash('sha256').update(ns, 'utf8').digest('hex').slice(0, 32)}`;
}

function toState(doc: StateDocument): NamespaceState {
  return {
    ns: doc.ns,
    lastWrite: doc.lastWrite,
    writes: doc.writes ?? 0,
    kv: new Map(doc.kv.map(([k, value, version]) => [k, { value, version }])),
    lists: new Map(doc.lists),
    ops: new Map(doc.ops),
    ...(doc.owner ? { owner: doc.owner } : {}),
  };
}

function toDocument(s: NamespaceState): StateDocument {
  return {
    ns: s.ns,
    lastWrite: s.lastWrite,
    writes: s.writes,
    kv: [...s.kv].map(([k, v]) => [k, v.value, v.version]),
    lists: [...s.lists],
    ops: [...s.ops],
    ...(s.owner ? { owner: s.owner } : {}),
  };
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
  // Make the rename itself durable; some platforms cannot fsync a directory, which only costs durability.
  try {
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    /* best effort */
  }
}

/** What a mutation returns: the call's result and whether the document changed. */
interface Mutation<T> {
  result: T;
  changed: boolean;
}

class FileSessionStore implements SessionStore {
  readonly backend = 'filesystem' as const;
  private readonly nsRoot: string;
  private readonly lockRoot: string;
  private readonly now: () => number;

  constructor(
    private readonly dir: string,
    private readonly options: FileSessionStoreOptions,
  ) {
    this.nsRoot = path.join(dir, 'ns');
    this.lockRoot = path.join(dir, 'locks');
    this.now = options.now ?? Date.now;
  }

  async waitUntilReady(): Promise<void> {
    try {
      await mkdir(this.nsRoot, { recursive: true });
      await mkdir(this.lockRoot, { recursive: true });
    } catch (err) {
      throw unavailableError('filesystem', `cannot create folders under ${this.dir}`, err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  private stateFile(ns: string): string {
    return path.join(this.nsRoot, namespaceFolder(ns), 'state.json');
  }

  private async read(ns: string): Promise<NamespaceState> {
    try {
      return toState(JSON.parse(await readFile(this.stateFile(ns), 'utf8')) as StateDocument);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return { ns, lastWrite: 0, writes: 0, kv: new Map(), lists: new Map(), ops: new Map() };
      }
      throw err;
    }
  }

  private lock<T>(ns: string, fn: () => Promise<T>): Promise<T> {
    return withFileLock(path.join(this.lockRoot, `${namespaceFolder(ns)}.lock`), fn, {
      staleMs: this.options.staleLockMs,
      timeoutMs: this.options.lockTimeoutMs,
    });
  }

  private mutate<T>(
    ns: string,
    fn: (state: NamespaceState) => Mutation<T>,
    onApplied?: (writes: number) => void,
  ): Promise<T> {
    return this.lock(ns, async () => {
      const state = await this.read(ns);
      const { result, changed } = fn(state);
      if (changed) {
        state.lastWrite = this.now();
        state.writes += 1;
        const file = this.stateFile(ns);
        await mkdir(path.dirname(file), { recursive: true });
        await writeAtomically(file, JSON.stringify(toDocument(state)));
        onApplied?.(state.writes);
      }
      return result;
    });
  }

  async get(ns: string, key: string): Promise<StoredValue | undefined> {
    validateName('namespace', ns);
    validateName('key', key);
    const found = (await this.read(ns)).kv.get(key);
    return found ? { ...found } : undefined;
  }

  async put(ns: string, key: string, value: string, options?: WriteOptions): Promise<number> {
    validateName('namespace', ns);
    validateName('key', key);
    validateValue(value);
    validateWriteOptions(options);
    const { expectedVersion, opId } = options ?? {};
    return this.mutate(
      ns,
      (s) => {
        const recorded = opId === undefined ? undefined : s.ops.get(opId);
        if (recorded !== undefined) return { result: decodeOpRecord(recorded, 'put', opId!), changed: false };
        const current = s.kv.get(key)?.version ?? 0;
        if (expectedVersion !== undefined && expectedVersion !== current) {
          throw conflictError(`put ${ns}/${key}`, expectedVersion, current);
        }
        const version = current + 1;
        s.kv.set(key, { value, version });
        if (opId !== undefined) s.ops.set(opId, encodeOpRecord('put', version));
        return { result: version, changed: true };
      },
      options?.onApplied,
    );
  }

  async delete(ns: string, key: string, options?: WriteOptions): Promise<boolean> {
    validateName('namespace', ns);
    validateName('key', key);
    validateWriteOptions(options);
    const { expectedVersion, opId } = options ?? {};
    return this.mutate(
      ns,
      (s) => {
        const recorded = opId === undefined ? undefined : s.ops.get(opId);
        if (recorded !== undefined) return { result: decodeOpRecord(recorded, 'delete', opId!), changed: false };
        const current = s.kv.get(key)?.version ?? 0;
        if (expectedVersion !== undefined && expectedVersion !== current) {
          throw conflictError(`delete ${ns}/${key}`, expectedVersion, current);
        }
        const deleted = s.kv.delete(key);
        if (opId !== undefined) s.ops.set(opId, encodeOpRecord('delete', deleted));
        return { result: deleted, changed: deleted || opId !== undefined };
      },
      options?.onApplied,
    );
  }

  async keys(ns: string): Promise<string[]> {
    validateName('namespace', ns);
    return sortKeys([...(await this.read(ns)).kv.keys()]);
  }

  async append(
    ns: string,
    list: string,
    value: string,
    options?: Pick<WriteOptions, 'opId' | 'onApplied'>,
  ): Promise<number> {
    validateName('namespace', ns);
    validateName('list', list);
    validateValue(value);
    validateWriteOptions(options);
    const opId = options?.opId;
    return this.mutate(
      ns,
      (s) => {
        const recorded = opId === undefined ? undefined : s.ops.get(opId);
        if (recorded !== undefined) return { result: decodeOpRecord(recorded, 'append', opId!), changed: false };
        const items = s.lists.get(list) ?? [];
        items.push(value);
        s.lists.set(list, items);
        if (opId !== undefined) s.ops.set(opId, encodeOpRecord('append', items.length));
        return { result: items.length, changed: true };
      },
      options?.onApplied,
    );
  }

  async range(ns: string, list: string, start: number, end?: number): Promise<string[]> {
    validateName('namespace', ns);
    validateName('list', list);
    validateRange(start, end);
    const items = (await this.read(ns)).lists.get(list) ?? [];
    const { from, to } = sliceBounds(items.length, start, end);
    return items.slice(from, to);
  }

  async length(ns: string, list: string): Promise<number> {
    validateName('namespace', ns);
    validateName('list', list);
    return (await this.read(ns)).lists.get(list)?.length ?? 0;
  }

  async listNames(ns: string): Promise<string[]> {
    validateName('namespace', ns);
    return sortKeys([...(await this.read(ns)).lists].filter(([, items]) => items.length > 0).map(([name]) => name));
  }

  async dropNamespace(ns: string): Promise<void> {
    validateName('namespace', ns);
    return this.lock(ns, () => rm(path.dirname(this.stateFile(ns)), { recursive: true, force: true }));
  }

  async idleNamespaces(olderThanMs: number): Promise<string[]> {
    validateAge(olderThanMs);
    const cutoff = this.now() - olderThanMs;
    const folders = await this.namespaceFolders();
    const idle: string[] = [];
    for (const folder of folders) {
      let doc: StateDocument;
      try {
        doc = JSON.parse(await readFile(path.join(this.nsRoot, folder, 'state.json'), 'utf8')) as StateDocument;
      } catch (err) {
        // Dropped meanwhile, or a folder whose first write is still in flight.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (doc.lastWrite < cutoff) idle.push(doc.ns);
    }
    return sortKeys(idle);
  }

  async getOwner(ns: string): Promise<NamespaceOwner | undefined> {
    validateName('namespace', ns);
    const owner = (await this.read(ns)).owner;
    return owner ? { ...owner } : undefined;
  }

  async setOwner(ns: string, owner: string, expectedEpoch: number): Promise<number> {
    validateName('namespace', ns);
    validateName('owner', owner);
    validateEpoch(expectedEpoch);
    return this.mutate(ns, (s) => {
      const current = s.owner?.epoch ?? 0;
      if (current !== expectedEpoch) throw conflictError(`setOwner ${ns}`, expectedEpoch, current);
      s.owner = { owner, epoch: current + 1 };
      return { result: current + 1, changed: true };
    });
  }

  async stamp(ns: string): Promise<NamespaceStamp> {
    validateName('namespace', ns);
    const state = await this.read(ns);
    return { ...(state.owner ? { owner: { ...state.owner } } : {}), writes: state.writes };
  }

  async stats(): Promise<StoreStats> {
    let namespaces = 0;
    let bytes = 0;
    for (const folder of await this.namespaceFolders()) {
      try {
        bytes += (await stat(path.join(this.nsRoot, folder, 'state.json'))).size;
        namespaces += 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return { namespaces, bytes };
  }

  private namespaceFolders(): Promise<string[]> {
    return readdir(this.nsRoot).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
  }
}

/**
 * A session store in the folder `dir` (created by `waitUntilReady`). Safe for several processes on one
 * machine; not for network filesystems whose `mkdir`/`rename` are not atomic.
 */
export function createFileSessionStore(dir: string, options: FileSessionStoreOptions = {}): SessionStore {
  return new FileSessionStore(path.resolve(dir), options);
}
