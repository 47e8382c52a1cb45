/**
 * The one Temporal dev server harness of the benchmarks: starts the dev server quietly on a free port with a
 * temporary data folder, hands out clients (with a data converter when asked), Nalar worker processes and
 * in-process workers on a `bundleNalarWorkflows` bundle, and closes all of it when the benchmark ends, also
 * when it fails.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, IllegalStateError, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createLogger } from '../../../common/log';
import type { ManagedProcess } from '../../../data-plane/supervisor/managed-process';
import { startQuietly } from '../../../data-plane/supervisor/start-quietly';
import { workerProcess } from '../../../data-plane/supervisor/worker-process';
import { bundleNalarWorkflows, type NalarWorkflowBundle } from '../../../data-plane/worker/bundle';
import { createNalarWorker } from '../../../data-plane/worker/worker';
import { assertWorkflowSide } from '../../../scripts/lint/workflow-side';
import { startScratchDevServer } from '../../../data-plane/supervisor/scratch-dev-server';

export interface BenchDevServerOptions {
  /** Progress lines, and the last lines of output of a process that fails to start. */
  log: (line: string) => void;
  /** How long the dev server and each worker process may take to become ready. @default 90000 */
  readyTimeoutMs?: number;
  /**
   * `key=value` dynamic config of the dev server, for a benchmark that compares settings.
   * @default devServerDynamicConfig (as `npm start`, the tests and docker-compose.yml)
   */
  dynamicConfig?: readonly string[];
  /** SQLite pragmas of the dev server. @default devServerSqlitePragmas (as `npm start`) */
  sqlitePragmas?: readonly string[];
}

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/** An in-process worker of {@link BenchDevServer.runWorkers}. */
export interface BenchWorkerOptions {
  taskQueue: string;
  /** The workflow code to bundle with `bundleNalarWorkflows`; must be workflow-side (it is asserted). */
  workflowsPath: string;
  /**
   * `'nalar'`: the worker `npm start` runs (`createNalarWorker`: the future runtime's interceptors and sink,
   * the repo's agent methods and the framework's activities). `'plain'`: a plain Temporal `Worker.create`
   * with only `activities`, so what is measured is Temporal and the data converter alone.
   * @default 'nalar'
   */
  runtime?: 'nalar' | 'plain';
  /** The worker's activities (with `'nalar'`, in place of activities/index.ts). @default none ('plain'), activities/index.ts ('nalar') */
  activities?: Activities;
  /** Payload conversion of the worker (use the same converter for its clients). @default Temporal's */
  dataConverter?: DataConverter;
}

/** A Nalar worker process of {@link BenchDevServer.startWorkerProcess}. */
export interface BenchWorkerProcessOptions {
  taskQueue: string;
  /** Variables added to this process's environment for the worker. @default none */
  env?: NodeJS.ProcessEnv;
}

/** What a benchmark gets from {@link withBenchDevServer}: everything it opens here is closed for it. */
export interface BenchDevServer {
  /** `host:port` of the frontend gRPC service. */
  readonly address: string;
  /** @default 'default' */
  readonly namespace: string;
  /** The dev server's data folder (removed at the end). */
  readonly dataDir: string;
  /** What `temporal --version` printed, for reports; 'unknown' when it printed nothing. */
  readonly temporalVersion: string;
  /** A client on the harness's connection, converting payloads with `dataConverter` when one is given. */
  client(dataConverter?: DataConverter): Client;
  /**
   * Starts a Nalar worker process (the worker of `npm start`) on `taskQueue`, ready when it returns; it runs
   * in its own process, so its CPU time can be read apart from the benchmark's.
   */
  startWorkerProcess(options: BenchWorkerProcessOptions): Promise<ManagedProcess>;
  /** Creates in-process workers, runs `fn` while all of them poll, and shuts them down (also when `fn` fails). */
  runWorkers<T>(workers: readonly BenchWorkerOptions[], fn: () => Promise<T>): Promise<T>;
}

const defaultReadyTimeoutMs = 90_000;
/** Grace a process gets to stop after SIGINT before SIGKILL. */
const stopGraceMs = 10_000;

function temporalVersionOf(bin: string): string {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim() || 'unknown';
  } catch {
    return 'unknown'; // information for the report; the run does not depend on it
  }
}

/**
 * Keeps Core's own warnings (such as the 512 KB payload warning of every run without offload) out of the
 * benchmark's output. A process has one runtime: one installed before (a test's, an earlier run's) stays.
 */
function installQuietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err;
  }
}

/**
 * Runs `run` against a fresh dev server (headless, namespace `default`, SQLite in a temporary folder) and
 * then stops every worker and process it started, closes every connection and removes the folder, whether
 * `run` succeeded or not. Its result or error is passed on.
 */
export async function withBenchDevServer<T>(
  options: BenchDevServerOptions,
  run: (server: BenchDevServer) => Promise<T>,
): Promise<T> {
  const { log } = options;
  const readyTimeoutMs = options.readyTimeoutMs ?? defaultReadyTimeoutMs;
  const namespace = 'default';
  log('starting the Temporal dev server');
  const devServer = await startScratchDevServer({
    toolchainLog: createLogger('toolchain', 'warn'),
    dataDirPrefix: 'nalar-bench-temporal-',
    timeoutMs: readyTimeoutMs,
    onFailure: log,
    ...(options.dynamicConfig !== undefined && { dynamicConfig: options.dynamicConfig }),
    ...(options.sqlitePragmas !== undefined && { sqlitePragmas: options.sqlitePragmas }),
  });
  const { address, dataDir } = devServer;
  const temporalVersion = temporalVersionOf(devServer.bin);
  log(`Temporal dev server (${temporalVersion}) at ${address}`);
  const procs: ManagedProcess[] = [devServer.proc];
  let connection: Connection | undefined;
  let nativeConnection: Promise<NativeConnection> | undefined;
  const bundles = new Map<string, Promise<NalarWorkflowBundle>>();
  try {
    const conn = await Connection.connect({ address });
    connection = conn;

    const bundleOf = (workflowsPath: string): Promise<NalarWorkflowBundle> => {
      const file = path.resolve(workflowsPath);
      let bundle = bundles.get(file);
      if (!bundle) {
        assertWorkflowSide(file);
        bundle = bundleNalarWorkflows(file);
        bundles.set(file, bundle);
      }
      return bundle;
    };
    const createWorker = async (nc: NativeConnection, o: BenchWorkerOptions): Promise<Worker> => {
      const workflowBundle = await bundleOf(o.workflowsPath);
      const converter = o.dataConverter !== undefined && { dataConverter: o.dataConverter };
      if ((o.runtime ?? 'nalar') === 'nalar') {
        return createNalarWorker({
          connection: nc,
          namespace,
          taskQueue: o.taskQueue,
          workflowBundle,
          ...(o.activities !== undefined && { activities: o.activities }),
          ...converter,
        });
      }
      return Worker.create({
        connection: nc,
        namespace,
        taskQueue: o.taskQueue,
        workflowBundle,
        activities: o.activities ?? {},
        ...converter,
      });
    };

    const server: BenchDevServer = {
      address,
      namespace,
      dataDir,
      temporalVersion,
      client: (dataConverter) =>
        new Client({ connection: conn, namespace, ...(dataConverter !== undefined && { dataConverter }) }),
      async startWorkerProcess(o) {
        const component = workerProcess({
          index: procs.length,
          taskQueue: o.taskQueue,
          metricsPort: 0,
          runsStateJanitor: false,
          env: {
            ...process.env,
            TEMPORAL_ADDRESS: address,
            TEMPORAL_NAMESPACE: namespace,
            NALAR_TASK_QUEUE: o.taskQueue,
            NALAR_LOG_LEVEL: 'warn',
            ...o.env,
          },
        });
        const proc = await startQuietly(component, { timeoutMs: readyTimeoutMs, onFailure: log });
        procs.push(proc);
        return proc;
      },
      async runWorkers<T>(specs: readonly BenchWorkerOptions[], fn: () => Promise<T>): Promise<T> {
        if (!nativeConnection) {
          installQuietRuntime();
          nativeConnection = NativeConnection.connect({ address });
        }
        const nc = await nativeConnection;
        const workers: Worker[] = [];
        try {
          for (const spec of specs) workers.push(await createWorker(nc, spec));
        } catch (err) {
          // A created worker holds on to the native connection until it has run: run each and stop it at once.
          await Promise.all(workers.map((w) => w.runUntil(Promise.resolve()))).catch(() => undefined);
          throw err;
        }
        const runFrom = (i: number): Promise<T> =>
          i === workers.length ? fn() : workers[i]!.runUntil(() => runFrom(i + 1));
        return runFrom(0);
      },
    };
    return await run(server);
  } finally {
    await nativeConnection?.then((nc) => nc.close()).catch(() => undefined);
    await connection?.close().catch(() => undefined);
    // Worker processes first, the dev server last.
    for (const p of procs.reverse()) await p.stop(stopGraceMs);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
