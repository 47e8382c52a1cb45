/**
 * `npm run dev`: the embedded stack of `npm start`, plus a watcher that restarts the worker processes (not
 * the dev server or the simulator) when workflow, agent or other worker code changes. Changes are debounced;
 * a change to agent or tool definitions regenerates the stubs first (the logic of `npm run stubs`); a worker
 * that does not start (a syntax error, a bad import) is reported and started again on the next change,
 * while the rest of the stack keeps running.
 */
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { realClock, type Clock, type Timer } from '../../common/clock';
import { isNalarError } from '../../common/errors';
import type { Logger } from '../../common/log';
import { generateStubs } from '../../stubs/generator/generate';
import type { StackComponent } from './component';

/** Folders (relative to the repository root) whose code worker processes load. */
export const watchedFolders = [
  'workflows',
  'activities',
  'stubs',
  'state',
  'control-plane',
  'common',
  'data-plane/worker',
] as const;

/** Where `nalar stubs` reads definitions and writes stubs (its defaults). */
const definitionsDir = 'activities/agents';
const generatedDir = 'stubs/generated';

/** Whether a changed file (repo-relative, posix) is code a worker loads; tests and generated stubs are not. */
export function isWatchedFile(file: string): boolean {
  if (!/\.(ts|mts|cts|js|mjs|cjs|json)$/.test(file) || /\.test\.[cm]?[jt]s$/.test(file)) return false;
  if (file.split('/').some((part) => part === 'node_modules' || part.startsWith('.'))) return false;
  // Generated stubs follow the definitions; a change of theirs comes with (or from) a definition change.
  return !file.startsWith(`${generatedDir}/`);
}

/** What {@link DevMode} restarts: the processes that load user code. */
export const restartsOnChange = (component: StackComponent): boolean => component.runsUserCode === true;

export interface DevModeOptions {
  /** Repository root: the watched folders and the stub generator's paths are relative to it. */
  root: string;
  /** Restarts the worker processes; rejects when one does not start (see `Supervisor.restart`). */
  restartWorkers: () => Promise<void>;
  log: Logger;
  /** Quiet time after the last change before the workers restart (editors write files in bursts). @default 200 */
  debounceMs?: number;
  /** @default realClock */
  clock?: Clock;
}

/** Watches worker code and restarts the workers on changes; one restart at a time, bursts coalesced. */
export class DevMode {
  private readonly watchers: FSWatcher[] = [];
  private readonly changed = new Set<string>();
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: DevModeOptions) {}

  /** Starts watching every folder of {@link watchedFolders} that exists. */
  start(): void {
    for (const folder of watchedFolders) {
      const dir = path.join(this.options.root, folder);
      try {
        const watcher = watch(dir, { recursive: true }, (_event, name) => {
          if (name) this.fileChanged(path.posix.join(folder, name.toString().split(path.sep).join('/')));
        });
        watcher.on('error', (err) => this.options.log.warn(`stopped watching ${folder}: ${err.message}`));
        this.watchers.push(watcher);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.options.log.info(`watching ${watchedFolders.join(', ')}; workers restart when their code changes`);
  }

  /** Records a change of `file` (repo-relative, posix); the restart runs once changes pause. */
  fileChanged(file: string): void {
    if (this.closed || !isWatchedFile(file)) return;
    this.changed.add(file);
    this.timer?.cancel();
    this.timer = (this.options.clock ?? realClock).setTimer(() => this.flush(), this.options.debounceMs ?? 200);
  }

  /** Stops watching; a restart in progress finishes (the supervisor's stop takes care of its processes). */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    for (const w of this.watchers) w.close();
  }

  /** Resolves once no restart is running (tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private flush(): void {
    // A restart in progress picks the new changes up when it ends.
    if (this.running || this.closed || this.changed.size === 0) return;
    const files = [...this.changed].sort();
    this.changed.clear();
    this.running = this.reload(files).finally(() => {
      this.running = undefined;
      this.flush();
    });
  }

  private async reload(files: string[]): Promise<void> {
    const { log } = this.options;
    const shown = files.slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '');
    log.info(`changed: ${shown}`);
    if (files.some((f) => f.startsWith(`${definitionsDir}/`)) && !(await this.regenerateStubs())) return;
    log.info('restarting workers');
    try {
      await this.options.restartWorkers();
      log.info('workers restarted with the changed code');
    } catch (err) {
      const message = isNalarError(err) ? `${err.code}: ${err.message}` : String(err);
      log.error(`workers did not start (${message}); fix the code: they start again on the next change`);
    }
  }

  /** Regenerates the stubs like `npm run stubs`; false (and the problem printed) when definitions are invalid. */
  async regenerateStubs(): Promise<boolean> {
    const { log } = this.options;
    try {
      const result = await generateStubs({ repoRoot: this.options.root });
      const touched = result.files.filter((f) => f.status === 'written' || f.status === 'deleted');
      log.info(
        `stubs regenerated (npm run stubs): ${
          touched.length ? touched.map((f) => `${f.status} ${f.file}`).join(', ') : 'already up to date'
        }`,
      );
      return true;
    } catch (err) {
      if (!isNalarError(err)) throw err;
      log.error(`nalar stubs: ${err.code}: ${err.message}\nworkers keep the old code until the definitions are fixed`);
      return false;
    }
  }
}
