/**
 * `npm run bench -- sim`: the simulator under load, in its own process, driven over HTTP from this one.
 *
 * 1. Batching curve: one replica at fixed concurrency levels (closed loop, like vLLM's
 *    benchmark_serving --max-concurrency): throughput, latency, and time per output token as the batch grows.
 * 2. Sustained load: 500 requests in flight at once on a two-replica pool (512 batch slots).
 * For both: the simulator process's own CPU per request (from /proc), and the share of each request's
 * latency that is simulated model time (the rest is HTTP, JSON and scheduling overhead on this machine).
 */
import http from 'node:http';
import os from 'node:os';
import { gzipSync } from 'node:zlib';
import { configDefaults } from '../../common/config';
import type { ManagedProcess } from '../../data-plane/supervisor/managed-process';
import { assertPortsFree, freePort } from '../../data-plane/supervisor/ports';
import { startQuietly } from '../../data-plane/supervisor/start-quietly';
import { simulatorProcess } from '../../data-plane/supervisor/simulator-process';
import { cpuMs } from './process-cpu';
import { closingLine, resultsDir, runInfo, target, writeFile } from './run-info';
import { round, summarize } from './stats';
import { lineChart } from './plot';

export interface SimBenchOptions {
  /** Concurrency levels of the batching curve. */
  levels: number[];
  /** Seconds per curve level. */
  levelSeconds: number;
  /** Time scale of the curve runs. */
  curveTimeScale: number;
  sustainConcurrency: number;
  sustainSeconds: number;
  sustainTimeScale: number;
  seed: number;
}

export const defaultSimBenchOptions: SimBenchOptions = {
  levels: [1, 8, 32, 64, 128, 256, 512],
  levelSeconds: 8,
  curveTimeScale: 0.1,
  sustainConcurrency: 500,
  sustainSeconds: 20,
  // Ten times faster than a real GPU: ten times the request rate of real time, the harder test.
  sustainTimeScale: 0.1,
  seed: 42,
};

interface RequestRecord {
  phase: string;
  concurrency: number;
  status: number;
  /** Client-observed latency, real ms. */
  latencyMs: number;
  /** Simulated model latency converted to real ms (model ms × time scale). */
  modeledMs: number;
  ttftModelMs: number;
  completionTokens: number;
  startedAt: number;
}

interface PhaseResult {
  phase: string;
  concurrency: number;
  timeScale: number;
  replicas: number;
  completed: number;
  failed: number;
  seconds: number;
  throughputRps: number;
  outputTokensPerModelSecond: number;
  latencyMs: ReturnType<typeof summarize>;
  tpotModelMs: number;
  modelTimeShare: number;
  simCpuMsPerRequest: number;
  simCpuCores: number;
  maxInFlight: number;
}

interface SimHandle {
  proc: ManagedProcess;
  ports: number[];
}

async function startSim(replicas: number, timeScale: number, seed: number): Promise<SimHandle> {
  // Consecutive free ports: take one, check the next ones are free too.
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    const component = simulatorProcess({
      host: '127.0.0.1',
      basePort: base,
      replicas,
      env: {
        ...process.env,
        NALAR_SIM_PORT: String(base),
        NALAR_SIM_REPLICAS: String(replicas),
        NALAR_SIM_TIME_SCALE: String(timeScale),
        NALAR_SIM_SEED: String(seed),
        NALAR_LOG_LEVEL: 'warn',
      },
    });
    try {
      await assertPortsFree(component.ports);
    } catch {
      continue;
    }
    const proc = await startQuietly(component, { timeoutMs: 30_000 });
    return { proc, ports: Array.from({ length: replicas }, (_, i) => base + i) };
  }
  throw new Error('no run of consecutive free ports found');
}

/** Runs `concurrency` closed-loop clients for `seconds`, spreading requests round-robin over the ports. */
async function drive(
  phase: string,
  sim: SimHandle,
  concurrency: number,
  seconds: number,
  timeScale: number,
): Promise<{ records: RequestRecord[]; result: PhaseResult }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const records: RequestRecord[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let counter = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const cpuBefore = cpuMs(sim.proc.pid);

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const i = counter++;
      const port = sim.ports[i % sim.ports.length] as number;
      const body = JSON.stringify({
        model: configDefaults.llmModel,
        messages: [{ role: 'user', content: `Request ${i}: summarise the market outlook for sector ${i % 97}.` }],
      });
      const t0 = performance.now();
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/chat/completions',
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => {
            inFlight--;
            const latencyMs = performance.now() - t0;
            let modeledMs = NaN;
            let ttftModelMs = NaN;
            let completionTokens = 0;
            if (res.statusCode === 200) {
              const parsed = JSON.parse(data) as {
                usage: { completion_tokens: number };
                nalar_sim: { total_ms: number; ttft_ms: number };
              };
              modeledMs = parsed.nalar_sim.total_ms * timeScale;
              ttftModelMs = parsed.nalar_sim.ttft_ms;
              completionTokens = parsed.usage.completion_tokens;
            }
            records.push({
              phase,
              concurrency,
              status: res.statusCode ?? 0,
              latencyMs,
              modeledMs,
              ttftModelMs,
              completionTokens,
              startedAt: t0 - started,
            });
            resolve();
          });
        },
      );
      req.on('error', () => {
        inFlight--;
        records.push({
          phase,
          concurrency,
          status: 0,
          latencyMs: performance.now() - t0,
          modeledMs: NaN,
          ttftModelMs: NaN,
          completionTokens: 0,
          startedAt: t0 - started,
        });
        resolve();
      });
      req.end(body);
    });

  const client = async (): Promise<void> => {
    while (performance.now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = cpuMs(sim.proc.pid) - cpuBefore;
  agent.destroy();

  const ok = records.filter((r) => r.status === 200);
  const latency = summarize(ok.map((r) => r.latencyMs));
  const modeled = ok.reduce((a, r) => a + r.modeledMs, 0);
  const measured = ok.reduce((a, r) => a + r.latencyMs, 0);
  const tokens = ok.reduce((a, r) => a + r.completionTokens, 0);
  // Time per output token in model time: (total − ttft) / (tokens − 1), averaged over requests.
  const tpots = ok
    .filter((r) => r.completionTokens > 1)
    .map((r) => (r.modeledMs / timeScale - r.ttftModelMs) / (r.completionTokens - 1));
  return {
    records,
    result: {
      phase,
      concurrency,
      timeScale,
      replicas: sim.ports.length,
      completed: ok.length,
      failed: records.length - ok.length,
      seconds: round(elapsed),
      throughputRps: round(ok.length / elapsed),
      outputTokensPerModelSecond: round(tokens / (elapsed / timeScale)),
      latencyMs: latency,
      tpotModelMs: round(summarize(tpots).mean),
      modelTimeShare: round(measured > 0 ? modeled / measured : NaN),
      simCpuMsPerRequest: round(ok.length ? cpu / ok.length : NaN),
      simCpuCores: round(cpu / 1000 / elapsed),
      maxInFlight,
    },
  };
}

function markdownReport(
  info: ReturnType<typeof runInfo>,
  o: SimBenchOptions,
  curve: PhaseResult[],
  sustain: PhaseResult,
): string {
  const row = (r: PhaseResult) =>
    `| ${r.concurrency} | ${r.completed} | ${r.failed} | ${r.throughputRps} | ${r.outputTokensPerModelSecond} | ${round(r.latencyMs.p50)} | ${round(r.latencyMs.p99)} | ${r.tpotModelMs} | ${r.modelTimeShare} | ${r.simCpuMsPerRequest} | ${r.simCpuCores} |`;
  const header =
    '| concurrency | completed | failed | req/s (real) | output tok/s (model) | p50 ms (real) | p99 ms (real) | TPOT ms (model) | model-time share | sim CPU ms/req | sim CPU cores |\n|---|---|---|---|---|---|---|---|---|---|---|';
  return `# Simulator benchmark

Commit \`${info.commit}\`${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}.
Machine: ${info.machine.cores} cores (${info.machine.cpu}), ${info.machine.memoryGiB} GiB, ${info.machine.platform}, Node ${info.node}.
Seed ${o.seed}; default replica profile (8B model on an A100-class GPU: 12 ms + 0.08 ms × batch per
iteration, 0.08 ms per prefill token, max_num_seqs 256, output lengths lognormal with median 200).
Load generator and simulator share this machine; the simulator runs in its own process.

## Batching curve: one replica, time scale ${o.curveTimeScale}, closed loop, ${o.levelSeconds} s per level

${header}
${curve.map(row).join('\n')}

![throughput](curve-throughput.svg) ![latency](curve-latency.svg)

## Sustained load: ${o.sustainConcurrency} in flight, ${sustain.replicas} replicas, time scale ${o.sustainTimeScale}, ${o.sustainSeconds} s

${header}
${row(sustain)}

Max requests in flight: ${sustain.maxInFlight}. "Model-time share" is simulated model latency (scaled to
real time) over client-observed latency: 1.0 means all of the latency is the simulated GPU's.

Raw per-request records: \`records.jsonl.gz\`; all figures: \`result.json\`.
`;
}

export async function runSimBench(o: SimBenchOptions, log: (line: string) => void): Promise<number> {
  const info = runInfo();
  const dir = resultsDir('sim');
  const allRecords: RequestRecord[] = [];
  const curve: PhaseResult[] = [];

  log(
    `batching curve: 1 replica, time scale ${o.curveTimeScale}, levels ${o.levels.join(', ')}, ${o.levelSeconds} s each`,
  );
  let sim = await startSim(1, o.curveTimeScale, o.seed);
  try {
    for (const c of o.levels) {
      const { records, result } = await drive('curve', sim, c, o.levelSeconds, o.curveTimeScale);
      allRecords.push(...records);
      curve.push(result);
      log(
        `  concurrency ${c}: ${result.throughputRps} req/s, p50 ${round(result.latencyMs.p50)} ms, p99 ${round(result.latencyMs.p99)} ms, ` +
          `TPOT ${result.tpotModelMs} model-ms, model-time share ${result.modelTimeShare}, sim CPU ${result.simCpuMsPerRequest} ms/req, failed ${result.failed}`,
      );
    }
  } finally {
    await sim.proc.stop(5000);
  }

  log(
    `sustained: ${o.sustainConcurrency} in flight, 2 replicas, time scale ${o.sustainTimeScale}, ${o.sustainSeconds} s`,
  );
  sim = await startSim(2, o.sustainTimeScale, o.seed);
  let sustain: PhaseResult;
  try {
    const { records, result } = await drive('sustain', sim, o.sustainConcurrency, o.sustainSeconds, o.sustainTimeScale);
    allRecords.push(...records);
    sustain = result;
    log(
      `  ${result.completed} completed, ${result.failed} failed, ${result.throughputRps} req/s, max in flight ${result.maxInFlight}, ` +
        `p50 ${round(result.latencyMs.p50)} ms, p99 ${round(result.latencyMs.p99)} ms, model-time share ${result.modelTimeShare}, ` +
        `sim CPU ${result.simCpuMsPerRequest} ms/req (${result.simCpuCores} cores)`,
    );
  } finally {
    await sim.proc.stop(5000);
  }

  const throughput = await lineChart(
    [{ name: 'req/s (real)', points: curve.map((r) => ({ x: r.concurrency, y: r.throughputRps })) }],
    {
      title: `One replica: throughput vs concurrency (time scale ${o.curveTimeScale})`,
      xLabel: 'concurrency',
      yLabel: 'requests/s',
      logX: true,
    },
  );
  const latency = await lineChart(
    [
      { name: 'TPOT (model ms)', points: curve.map((r) => ({ x: r.concurrency, y: r.tpotModelMs })) },
      {
        name: 'p50 latency / 100 (real ms)',
        points: curve.map((r) => ({ x: r.concurrency, y: r.latencyMs.p50 / 100 })),
      },
    ],
    { title: 'One replica: time per output token vs concurrency', xLabel: 'concurrency', yLabel: 'ms', logX: true },
  );
  writeFile(dir, 'curve-throughput.svg', throughput);
  writeFile(dir, 'curve-latency.svg', latency);
  writeFile(dir, 'records.jsonl.gz', gzipSync(allRecords.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  const targets = {
    concurrent_requests: target(sustain.maxInFlight, '>=', 500),
    sustained_failed_requests: target(sustain.failed, '<=', 0),
    // "model time still dominating": read strictly, at least 90% of each request's latency is model time.
    model_time_share_at_500: target(sustain.modelTimeShare, '>=', 0.9),
  };
  const metrics = {
    os: `${os.cpus().length} cores`,
    curve: curve.map((r) => ({
      concurrency: r.concurrency,
      rps: r.throughputRps,
      p50_ms: round(r.latencyMs.p50),
      p99_ms: round(r.latencyMs.p99),
      tpot_model_ms: r.tpotModelMs,
      model_time_share: r.modelTimeShare,
      sim_cpu_ms_per_request: r.simCpuMsPerRequest,
    })),
    sustain: {
      in_flight: sustain.maxInFlight,
      completed: sustain.completed,
      failed: sustain.failed,
      rps: sustain.throughputRps,
      p50_ms: round(sustain.latencyMs.p50),
      p99_ms: round(sustain.latencyMs.p99),
      model_time_share: sustain.modelTimeShare,
      sim_cpu_ms_per_request: sustain.simCpuMsPerRequest,
      sim_cpu_cores: sustain.simCpuCores,
    },
  };
  writeFile(dir, 'result.json', JSON.stringify({ info, options: o, curve, sustain, targets }, null, 2) + '\n');
  writeFile(dir, 'report.md', markdownReport(info, o, curve, sustain));
  log(`report: ${dir}/report.md`);
  console.log(closingLine('sim', info.commit, metrics, targets));
  return 0;
}
