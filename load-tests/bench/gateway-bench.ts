/**
 * `npm run bench -- gateway`: the HTTP gateway's own overhead. The same one-step workflow is started and
 * awaited through the gateway (`POST /v1/workflows/<name>`, wait mode, over real HTTP on loopback) and
 * through the Temporal client directly, interleaved with alternating order, one at a time (low load), on one
 * dev server and one in-process worker. Overhead = p50 over HTTP - p50 direct.
 */
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { startGateway } from '../../data-plane/gateway/server';
import { withBenchDevServer } from './harness/dev-server';
import { closingLine, resultsDir, runInfo, target, writeFile } from './run-info';
import { round, summarize } from './stats';

/** Options of {@link runGatewayBench}. */
export interface GatewayBenchOptions {
  /** Measured runs per variant. */
  runs: number;
  /** Unmeasured runs per variant first. */
  warmup: number;
}

export const defaultGatewayBenchOptions: GatewayBenchOptions = { runs: 300, warmup: 30 };

type Variant = 'http' | 'direct';

interface RunRecord {
  variant: Variant;
  i: number;
  latencyMs: number;
}

const workflowType = 'oneStepBenchWorkflow';

export async function runGatewayBench(o: GatewayBenchOptions, log: (line: string) => void): Promise<number> {
  const info = runInfo();
  const taskQueue = 'bench-gateway';
  return withBenchDevServer({ log }, async (server) => {
    const client = server.client();
    return server.runWorkers(
      [
        {
          taskQueue,
          workflowsPath: path.join(__dirname, 'workflows', 'one-step.ts'),
          runtime: 'plain',
          activities: { echo: async (text: string) => text },
        },
      ],
      async () => {
        const gateway = await startGateway({
          host: '127.0.0.1',
          port: 0,
          client,
          taskQueue,
          workflows: { [workflowType]: z.object({ text: z.string() }) },
          // The benchmark measures the path, not the limits.
          ratePerSecond: 1e6,
          burst: 1e6,
        });
        log(`gateway at ${gateway.url}`);
        try {
          const runOne = async (variant: Variant, i: number): Promise<RunRecord> => {
            const args = { text: `run ${i}` };
            const t0 = performance.now();
            if (variant === 'direct') {
              const result = await client.workflow.execute(workflowType, {
                taskQueue,
                workflowId: `direct-${i}`,
                args: [args],
              });
              if (result !== args.text) throw new Error(`direct run ${i} answered ${String(result)}`);
            } else {
              const res = await fetch(`${gateway.url}/v1/workflows/${workflowType}?timeout=60s&workflowId=http-${i}`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify(args),
              });
              const body = (await res.json()) as { status?: string; result?: unknown };
              if (res.status !== 200 || body.result !== args.text) {
                throw new Error(`http run ${i} answered ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
              }
            }
            return { variant, i, latencyMs: performance.now() - t0 };
          };
          log(`warm-up: ${o.warmup} runs per variant`);
          for (let i = 0; i < o.warmup; i++) {
            await runOne('direct', -1 - i);
            await runOne('http', -1 - i);
          }
          log(`measuring: ${o.runs} runs per variant, interleaved`);
          const records: RunRecord[] = [];
          for (let i = 0; i < o.runs; i++) {
            const order: Variant[] = i % 2 === 0 ? ['http', 'direct'] : ['direct', 'http'];
            for (const v of order) records.push(await runOne(v, i));
            if ((i + 1) % 100 === 0) log(`  ${i + 1}/${o.runs}`);
          }
          return report(o, info, records, log);
        } finally {
          await gateway.close();
        }
      },
    );
  });
}

function report(
  o: GatewayBenchOptions,
  info: ReturnType<typeof runInfo>,
  records: RunRecord[],
  log: (line: string) => void,
): number {
  const of = (v: Variant) => summarize(records.filter((r) => r.variant === v).map((r) => r.latencyMs));
  const http = of('http');
  const direct = of('direct');
  const ms = (s: typeof http) => ({ mean: round(s.mean), p50: round(s.p50), p95: round(s.p95), p99: round(s.p99) });
  const overheadP50 = round(http.p50 - direct.p50);
  const metrics = {
    runs_per_variant: o.runs,
    http_ms: ms(http),
    direct_ms: ms(direct),
    gateway_overhead_ms_p50: overheadP50,
    gateway_overhead_ms_mean: round(http.mean - direct.mean),
    p50_ratio: round(http.p50 / direct.p50),
  };
  const targets = { gateway_overhead_ms_p50: target(overheadP50, '<=', 5) };
  const dir = resultsDir('gateway');
  writeFile(dir, 'records.jsonl.gz', gzipSync(records.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  writeFile(dir, 'result.json', JSON.stringify({ info, options: o, metrics, targets }, null, 2) + '\n');
  writeFile(
    dir,
    'report.md',
    `# Gateway benchmark: start and await over HTTP vs the Temporal client

Commit \`${info.commit}\`${info.dirty ? ' (with uncommitted changes)' : ''}, ${info.date}; ${info.machine.cores} cores, ${info.machine.memoryGiB} GiB; Temporal dev server (CLI v1.5.1); Node ${info.node}.
Workflow: \`${workflowType}\` (one activity). ${o.runs} runs per variant after ${o.warmup} warm-up runs, one at a time
(low load), interleaved with alternating order; one in-process plain worker; the gateway runs in the benchmark's
process and is called over loopback HTTP (\`POST /v1/workflows/${workflowType}\`, wait mode), the direct variant
uses \`client.workflow.execute\` on the same client.

| variant | mean ms | p50 ms | p95 ms | p99 ms |
|---|---|---|---|---|
| HTTP gateway | ${metrics.http_ms.mean} | ${metrics.http_ms.p50} | ${metrics.http_ms.p95} | ${metrics.http_ms.p99} |
| Temporal client | ${metrics.direct_ms.mean} | ${metrics.direct_ms.p50} | ${metrics.direct_ms.p95} | ${metrics.direct_ms.p99} |

Gateway overhead at p50: **${overheadP50} ms** (target ≤ 5); at the mean ${metrics.gateway_overhead_ms_mean} ms; p50 ratio ${metrics.p50_ratio}.
Raw per-run records: \`records.jsonl.gz\`.
`,
  );
  log(`http p50 ${metrics.http_ms.p50} ms vs direct p50 ${metrics.direct_ms.p50} ms: overhead ${overheadP50} ms`);
  log(`report: ${dir}/report.md`);
  console.log(closingLine('gateway', info.commit, metrics, targets));
  return 0;
}
