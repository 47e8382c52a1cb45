/**
 * A throw-away Temporal dev server for test setup and benchmarks: the pinned CLI (provisioned if needed), a
 * free port, a temporary data folder, started quietly (its output shows only if it fails to start).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import type { Logger } from '../../common/log';
import { ensureTool } from '../../common/toolchain';
import type { ManagedProcess } from './managed-process';
import { freePort } from './ports';
import { startQuietly, type StartQuietlyOptions } from './start-quietly';
import { temporalDevServer } from './temporal-dev-server';

export interface ScratchDevServerOptions extends StartQuietlyOptions {
  /** Where toolchain provisioning reports progress. */
  toolchainLog: Logger;
  /** Prefix of the temporary data folder's name. */
  dataDirPrefix: string;
  /** Dynamic config of the dev server. @default devServerDynamicConfig (as `npm start`) */
  dynamicConfig?: readonly string[];
  /** SQLite pragmas of the dev server. @default devServerSqlitePragmas (as `npm start`) */
  sqlitePragmas?: readonly string[];
}

export interface ScratchDevServer {
  proc: ManagedProcess;
  /** `127.0.0.1:<port>` of the frontend gRPC service (namespace `default`). */
  address: string;
  /** The data folder: the caller removes it after stopping `proc`. */
  dataDir: string;
  /** The Temporal CLI binary it runs. */
  bin: string;
}

/** Starts the dev server and waits until it is ready; on failure nothing is left behind. */
export async function startScratchDevServer(o: ScratchDevServerOptions): Promise<ScratchDevServer> {
  const config = loadConfig();
  const bin = await ensureTool('temporal', {
    toolsDir: config.toolsDir,
    explicitPath: config.temporalBin,
    log: o.toolchainLog,
  });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), o.dataDirPrefix));
  try {
    const address = `127.0.0.1:${await freePort()}`;
    const proc = await startQuietly(
      temporalDevServer({
        bin,
        address,
        namespace: 'default',
        dataDir,
        ...(o.dynamicConfig !== undefined && { dynamicConfig: o.dynamicConfig }),
        ...(o.sqlitePragmas !== undefined && { sqlitePragmas: o.sqlitePragmas }),
      }),
      o,
    );
    return { proc, address, dataDir, bin };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
