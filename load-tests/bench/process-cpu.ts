/** CPU time of another process, from /proc (Linux): benchmarks measure the process under test, not themselves. */
import { readFileSync } from 'node:fs';

const clockTicksPerSecond = 100; // Linux USER_HZ

/** User + system CPU milliseconds used so far by process `pid`. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond) * 1000;
}
