/**
 * Prometheus metrics of one replica, under vLLM's names and label (`model_name`), so the control plane
 * reads the simulator and a real vLLM server the same way. Latencies are in model seconds: what the
 * simulated GPU server would report.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine, EngineObserver, EngineResult, RejectReason } from './engine';

const REJECT_REASONS: readonly RejectReason[] = ['queue_full', 'context_length', 'kv_oom', 'queue_timeout', 'deadline'];

const ttftBuckets = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const tpotBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const e2eBuckets = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920];

/**
 * The `priority` label of a request's scheduling priority: its value from 0 to 9 (Nalar sends 1–5, vLLM's
 * default is 0), `<0` or `>9` beyond, so a client sending arbitrary integers cannot grow the series without bound.
 */
export function priorityLabel(priority: number): string {
  if (priority < 0) return '<0';
  if (priority > 9) return '>9';
  return String(Math.floor(priority));
}

export class ReplicaMetrics implements EngineObserver {
  readonly registry = new Registry();
  private readonly labels: { model_name: string };
  private readonly ttft: Histogram<'model_name'>;
  private readonly tpot: Histogram<'model_name'>;
  private readonly e2e: Histogram<'model_name'>;
  private readonly queueTime: Histogram<'model_name'>;
  private readonly queueTimeByPriority: Histogram<'model_name' | 'priority'>;
  /** Priority labels of every request seen waiting or admitted: their waiting series stay, at 0 when none waits. */
  private readonly seenPriorities = new Set<string>();
  private readonly promptTokens: Counter<'model_name'>;
  private readonly generationTokens: Counter<'model_name'>;
  private readonly success: Counter<'model_name' | 'finished_reason'>;
  /** Requests refused or failed by the simulator, by HTTP status (not a vLLM metric). */
  readonly errors: Counter<'model_name' | 'status'>;
  /** Requests refused or failed for overload, by reason (engine.ts `RejectReason`; not a vLLM metric). */
  readonly rejected: Counter<'model_name' | 'reason'>;

  /**
   * @param engine the replica's engine now (a reassignment may replace it)
   * @param busyMs the replica's busy model ms, cumulative over its engines (default: the engine's own)
   */
  constructor(modelName: string, engine: () => Engine, busyMs: () => number = () => engine().busyMs) {
    this.labels = { model_name: modelName };
    const registers = [this.registry];
    const labelNames = ['model_name'] as const;
    const labels = this.labels;
    const seenPriorities = this.seenPriorities;
    new Gauge({
      name: 'nalar_sim_num_requests_waiting',
      help:
        'Requests waiting to be processed, by scheduling priority (the request field; lower first under ' +
        "--scheduling-policy priority). Not a vLLM metric: vLLM's num_requests_waiting has no priority label.",
      labelNames: ['model_name', 'priority'],
      registers,
      collect() {
        const counts = new Map<string, number>();
        for (const [priority, n] of engine().numWaitingByPriority) {
          const label = priorityLabel(priority);
          counts.set(label, (counts.get(label) ?? 0) + n);
          seenPriorities.add(label);
        }
        for (const priority of seenPriorities) this.set({ ...labels, priority }, counts.get(priority) ?? 0);
      },
    });
    new Gauge({
      name: 'vllm:num_requests_running',
      help: 'Number of requests in model execution batches.',
      labelNames,
      registers,
      collect() {
        this.set(labels, engine().numRunning);
      },
    });
    new Gauge({
      name: 'vllm:num_requests_waiting',
      help: 'Number of requests waiting to be processed.',
      labelNames,
      registers,
      collect() {
        this.set(labels, engine().numWaiting);
      },
    });
    for (const name of ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc']) {
      new Gauge({
        name,
        help: 'KV-cache usage. 1 means 100 percent usage.',
        labelNames,
        registers,
        collect() {
          this.set(labels, engine().kvUsage);
        },
      });
    }
    new Counter({
      name: 'vllm:prefix_cache_queries_total',
      help: 'Prefix cache queries, in terms of number of queried tokens.',
      labelNames,
      registers,
      collect() {
        this.reset();
        this.inc(labels, engine().prefixQueries);
      },
    });
    new Counter({
      name: 'vllm:prefix_cache_hits_total',
      help: 'Prefix cache hits, in terms of number of cached tokens.',
      labelNames,
      registers,
      collect() {
        this.reset();
        this.inc(labels, engine().prefixHits);
      },
    });
    new Counter({
      name: 'nalar_sim_busy_seconds_total',
      help: 'Model seconds the engine had at least one sequence in its batch (for load imbalance; not a vLLM metric).',
      labelNames,
      registers,
      collect() {
        this.reset();
        this.inc(labels, busyMs() / 1000);
      },
    });
    this.ttft = new Histogram({
      name: 'vllm:time_to_first_token_seconds',
      help: 'Histogram of time to first token in seconds.',
      labelNames,
      buckets: ttftBuckets,
      registers,
    });
    this.tpot = new Histogram({
      name: 'vllm:time_per_output_token_seconds',
      help: 'Histogram of time per output token in seconds.',
      labelNames,
      buckets: tpotBuckets,
      registers,
    });
    this.e2e = new Histogram({
      name: 'vllm:e2e_request_latency_seconds',
      help: 'Histogram of end to end request latency in seconds.',
      labelNames,
      buckets: e2eBuckets,
      registers,
    });
    this.queueTime = new Histogram({
      name: 'vllm:request_queue_time_seconds',
      help: 'Histogram of time spent in WAITING phase for request.',
      labelNames,
      buckets: e2eBuckets,
      registers,
    });
    this.queueTimeByPriority = new Histogram({
      name: 'nalar_sim_request_queue_time_seconds',
      help:
        'Histogram of time spent in WAITING phase for request, by scheduling priority (not a vLLM metric: ' +
        'vllm:request_queue_time_seconds without the label).',
      labelNames: ['model_name', 'priority'],
      buckets: e2eBuckets,
      registers,
    });
    this.promptTokens = new Counter({
      name: 'vllm:prompt_tokens_total',
      help: 'Number of prefill tokens processed.',
      labelNames,
      registers,
    });
    this.generationTokens = new Counter({
      name: 'vllm:generation_tokens_total',
      help: 'Number of generation tokens processed.',
      labelNames,
      registers,
    });
    this.success = new Counter({
      name: 'vllm:request_success_total',
      help: 'Count of successfully processed requests.',
      labelNames: ['model_name', 'finished_reason'],
      registers,
    });
    this.errors = new Counter({
      name: 'nalar_sim_request_errors_total',
      help: 'Requests the simulator refused or failed, by HTTP status (429 queue full, injected faults).',
      labelNames: ['model_name', 'status'],
      registers,
    });
    this.rejected = new Counter({
      name: 'nalar_sim_requests_rejected_total',
      help:
        'Requests refused or failed for overload, by reason: queue_full (429), context_length (400), ' +
        'kv_oom (503), queue_timeout (503), deadline (408).',
      labelNames: ['model_name', 'reason'],
      registers,
    });
    // Every reason is exported from the start (at 0), so a dashboard sees the series before the first rejection.
    for (const reason of REJECT_REASONS) this.rejected.inc({ ...labels, reason }, 0);
  }

  /**
   * Restarts every series under a new model name, as a real engine restarted with another model would
   * (counters from 0; the busy-time counter stays cumulative: it follows the replica's busy time).
   */
  restart(modelName: string): void {
    this.registry.resetMetrics();
    this.labels.model_name = modelName;
    for (const reason of REJECT_REASONS) this.rejected.inc({ ...this.labels, reason }, 0);
  }

  /** Counts a request refused or failed for overload (the HTTP status is counted by `countError` too). */
  onRejected(reason: RejectReason): void {
    this.rejected.inc({ ...this.labels, reason });
  }

  onAdmitted(queueMs: number, promptTokens: number, _cachedTokens: number, priority: number): void {
    this.queueTime.observe(this.labels, queueMs / 1000);
    const label = priorityLabel(priority);
    this.seenPriorities.add(label);
    this.queueTimeByPriority.observe({ ...this.labels, priority: label }, queueMs / 1000);
    this.promptTokens.inc(this.labels, promptTokens);
  }

  onFirstToken(ttftMs: number): void {
    this.ttft.observe(this.labels, ttftMs / 1000);
  }

  onFinished(result: EngineResult, outputTokens: number): void {
    this.e2e.observe(this.labels, result.totalMs / 1000);
    if (outputTokens > 1) this.tpot.observe(this.labels, result.tpotMs / 1000);
    this.generationTokens.inc(this.labels, outputTokens);
  }

  /** Counts a finished request by its OpenAI finish_reason ('stop' or 'length'). */
  countSuccess(finishedReason: string): void {
    this.success.inc({ ...this.labels, finished_reason: finishedReason });
  }

  countError(status: number | 'drop' | 'timeout'): void {
    this.errors.inc({ ...this.labels, status: String(status) });
  }
}
