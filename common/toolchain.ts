/**
 * Provisioning of the external tools Nalar runs: the Temporal CLI (with its dev server) and k6.
 *
 * Order of preference for each tool: an explicit path from config, the binary on PATH when its version
 * matches, a cached build in `<toolsDir>/bin` made from the pinned version, and last a fresh
 * `go install <module>@<version>` into that folder. Idempotent: a second call finds the cache.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ErrorCode, NalarError } from './errors';
import type { Logger } from './log';

/** A tool built from a pinned Go module version. */
export interface PinnedTool {
  readonly name: string;
  readonly module: string;
  readonly version: string;
  readonly versionArgs: readonly string[];
  /** Matches the version output of an acceptable binary (also one not built by us). */
  readonly accepts: RegExp;
  /** What the tool is for, in error messages. */
  readonly purpose: string;
}

/**
 * The pinned tools. Temporal CLI v1.5.1 is the newest tag that builds with `go install` (newer tags use
 * replace directives); it embeds Temporal server 1.29, which has task-queue priority and fairness.
 * A `go install` build reports its CLI version as 0.0.0-DEV, so the server version is what is checked.
 */
export const pinnedTools = {
  temporal: {
    name: 'temporal',
    module: 'github.com/temporalio/cli/cmd/temporal',
    version: 'v1.5.1',
    versionArgs: ['--version'],
    accepts: /\(Server 1\.29\.\d+/,
    purpose: 'the Temporal dev server',
  },
  k6: {
    name: 'k6',
    module: 'go.k6.io/k6',
    version: 'v1.8.1',
    versionArgs: ['version'],
    accepts: /\bk6 v1\.8\.1\b/,
    purpose: 'the k6 load tests',
  },
} as const satisfies Record<string, PinnedTool>;

export type ToolName = keyof typeof pinnedTools;

export interface EnsureToolOptions {
  /** Folder of the cache; binaries go to `<toolsDir>/bin`. */
  toolsDir: string;
  /** A binary path that wins over everything (NALAR_TEMPORAL_BIN / NALAR_K6_BIN). */
  explicitPath?: string;
  log: Logger;
  /** @default process.env.PATH */
  searchPath?: string;
  /** Go command used to build. @default 'go' */
  goCommand?: string;
}

function versionOutput(bin: string, tool: PinnedTool): string | undefined {
  const res = spawnSync(bin, [...tool.versionArgs], { encoding: 'utf8', timeout: 30_000 });
  if (res.error || res.status !== 0) return undefined;
  return `${res.stdout}${res.stderr}`.trim();
}

function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function pinOf(tool: PinnedTool): string {
  return `${tool.module}@${tool.version}`;
}

function goAvailable(goCommand: string): boolean {
  const res = spawnSync(goCommand, ['version'], { encoding: 'utf8' });
  return !res.error && res.status === 0;
}

async function goInstall(tool: PinnedTool, binDir: string, goCommand: string, log: Logger): Promise<void> {
  const started = Date.now();
  log.info(`building ${tool.name} ${tool.version} with go install (the first build takes minutes on 2 cores)`);
  const child = spawn(goCommand, ['install', pinOf(tool)], {
    env: { ...process.env, GOBIN: binDir, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      log.debug(`go: ${line}`);
    });
  }
  const ticker = setInterval(() => {
    log.info(`still building ${tool.name} (${Math.round((Date.now() - started) / 1000)}s)`);
  }, 30_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearInterval(ticker));
  if (code !== 0) {
    throw new NalarError(
      ErrorCode.TOOL_BUILD_FAILED,
      `go install ${pinOf(tool)} failed (exit ${code}):\n${output.slice(-20).join('\n')}`,
    );
  }
  log.info(`built ${tool.name} ${tool.version} in ${Math.round((Date.now() - started) / 1000)}s`);
}

/** Returns the path of a usable binary for `name`, building it when nothing usable exists. */
export async function ensureTool(name: ToolName, options: EnsureToolOptions): Promise<string> {
  const tool: PinnedTool = pinnedTools[name];
  const { log } = options;

  if (options.explicitPath) {
    if (!versionOutput(options.explicitPath, tool)) {
      throw new NalarError(
        ErrorCode.TOOL_MISSING,
        `${options.explicitPath} (set for ${tool.name}) does not run '${tool.name} ${tool.versionArgs.join(' ')}'`,
      );
    }
    return options.explicitPath;
  }

  const onPath = findOnPath(tool.name, options.searchPath ?? process.env.PATH ?? '');
  if (onPath) {
    const out = versionOutput(onPath, tool);
    if (out && tool.accepts.test(out)) return onPath;
    log.debug(`ignoring ${onPath}: its version does not match ${tool.accepts}`, { version: out });
  }

  const binDir = path.join(options.toolsDir, 'bin');
  const cached = path.join(binDir, tool.name);
  const pinFile = `${cached}.pin`;
  const pinMatches = existsSync(pinFile) && readFileSync(pinFile, 'utf8').trim() === pinOf(tool);
  if (existsSync(cached) && pinMatches && versionOutput(cached, tool)) return cached;

  const goCommand = options.goCommand ?? 'go';
  if (!goAvailable(goCommand)) {
    throw new NalarError(
      ErrorCode.TOOL_MISSING,
      `${tool.name} is needed for ${tool.purpose}, and neither a matching binary nor Go was found.\n` +
        `Install Go 1.24 or newer (https://go.dev/dl/) and run again, or build it yourself:\n` +
        `  GOBIN=${binDir} go install ${pinOf(tool)}\n` +
        `or point ${name === 'temporal' ? 'NALAR_TEMPORAL_BIN' : 'NALAR_K6_BIN'} at an existing binary.`,
    );
  }
  mkdirSync(binDir, { recursive: true });
  await goInstall(tool, binDir, goCommand, log);
  const out = versionOutput(cached, tool);
  if (!out) {
    throw new NalarError(ErrorCode.TOOL_BUILD_FAILED, `${cached} was built but does not run`);
  }
  writeFileSync(pinFile, pinOf(tool) + '\n');
  return cached;
}
