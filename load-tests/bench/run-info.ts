/** What every benchmark result names: commit, machine, versions, and the closing JSON line. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RunInfo {
  commit: string;
  dirty: boolean;
  date: string;
  machine: { cores: number; memoryGiB: number; cpu: string; platform: string };
  node: string;
}

export function runInfo(): RunInfo {
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git(['rev-parse', 'HEAD']) || 'unknown',
    dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
    date: new Date().toISOString(),
    machine: {
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      platform: `${os.platform()} ${os.release()}`,
    },
    node: process.version,
  };
}

export interface Target {
  value: number;
  target: number;
  op: '<=' | '>=' | '<' | '>';
  met: boolean;
}

/**
 * One goal of a benchmark: `value op goal`. A value that is not a finite number (NaN or a missing figure,
 * an infinity from a division by zero or the max of nothing) is never met, whatever the op: comparisons would
 * otherwise call `null <= 5` or `-Infinity <= 1024` met.
 */
export function target(value: number, op: Target['op'], goal: number): Target {
  const met =
    Number.isFinite(value) &&
    (op === '<=' ? value <= goal : op === '>=' ? value >= goal : op === '<' ? value < goal : value > goal);
  return { value, target: goal, op, met };
}

/** The folder results of one benchmark run go to: load-tests/results/<bench>/ (the latest run). */
export function resultsDir(bench: string): string {
  const dir = path.resolve(__dirname, '..', 'results', bench);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function writeFile(dir: string, name: string, content: string | Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** The exactly-one closing line of every benchmark (see shared BENCHMARKS.md). */
export function closingLine(
  bench: string,
  commit: string,
  metrics: Record<string, unknown>,
  targets: Record<string, Target>,
): string {
  return JSON.stringify({ bench, commit, metrics, targets });
}
