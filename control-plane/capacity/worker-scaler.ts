/**
 * The worker scaler: how many worker processes poll a task queue. Default backend: the supervisor of
 * `npm start`, which adds worker processes and stops them gracefully (a stopped worker finishes the tasks it
 * holds); for Kubernetes, KEDA asks the global controller's external scaler instead (keda/), and the
 * scaler's desired counts are what it answers.
 */

/** The worker processes of one task queue. */
export interface WorkerPoolStatus {
  readonly taskQueue: string;
  /** Running now (starting ones included). */
  readonly current: number;
  /** Last asked for. */
  readonly desired: number;
  readonly min: number;
  readonly max: number;
}

export interface WorkerScaler {
  /** 'supervisor', 'keda', … */
  readonly name: string;
  /** Every task queue it scales. */
  status(): WorkerPoolStatus[];
  /**
   * Asks for `n` workers on `taskQueue`, clamped to [min, max]; resolves when the request is taken (starting and
   * draining go on after). Unknown task queue: rejects with NALAR_ERR_INVALID_INPUT.
   */
  scale(taskQueue: string, n: number): Promise<void>;
}
