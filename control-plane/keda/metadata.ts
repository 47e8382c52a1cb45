/**
 * The trigger metadata a ScaledObject gives the Nalar KEDA scaler, checked with zod (KEDA sends every value as
 * a string), and the metric it names. deploy/kubernetes/scaled-object.yaml uses exactly these keys (a test
 * keeps the two equal).
 */
import { z } from 'zod';

/** Demand one worker handles when the metadata does not say: the HPA aims at demand / this workers. */
export const defaultTargetPerWorker = 10;

/** Keys KEDA itself adds to the metadata it forwards (connection settings of the trigger); ignored here. */
export const kedaConnectionKeys = ['scalerAddress', 'enableTLS', 'unsafeSsl'] as const;

/**
 * The metadata key that carries NALAR_CONTROL_TOKEN: KEDA sends no gRPC credentials of its own, but it
 * resolves a `...FromEnv` key from the scaled workload's container environment and forwards the value.
 */
export const tokenKey = 'tokenFromEnv';

const positiveNumber = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?$/, 'expected a positive number such as "10"')
  .transform(Number)
  .refine((n) => n > 0, 'expected a number above 0');

const taskQueueRequired = 'is required: the Temporal task queue the scaled workers poll';

/** The metadata keys the scaler reads, with their meaning. */
export const scalerMetadataSchema = z
  .object({
    /** Temporal task queue whose workers are scaled (required). */
    taskQueue: z.string({ error: taskQueueRequired }).min(1, taskQueueRequired),
    /** Demand one worker handles. @default {@link defaultTargetPerWorker} */
    targetPerWorker: positiveNumber.optional(),
    /** Count only this agent's calls waiting and in flight (the task queue's backlog still counts whole). */
    agent: z.string().min(1).optional(),
    [tokenKey]: z.string().optional(),
    // KEDA's own keys (kedaConnectionKeys), forwarded with the rest.
    scalerAddress: z.string().optional(),
    enableTLS: z.string().optional(),
    unsafeSsl: z.string().optional(),
  })
  .strict();

/** Every key the scaler accepts (its own and KEDA's). */
export const acceptedMetadataKeys: readonly string[] = Object.keys(scalerMetadataSchema.shape);

/** Checked trigger metadata. */
export interface ScalerMetadata {
  readonly taskQueue: string;
  readonly targetPerWorker: number;
  readonly agent?: string;
  /** The presented NALAR_CONTROL_TOKEN, when the trigger forwards one. */
  readonly token?: string;
}

/** The metadata checked, or one message naming every bad key (never echoing the token). */
export function parseScalerMetadata(
  raw: Readonly<Record<string, string>> | undefined,
): { ok: true; value: ScalerMetadata } | { ok: false; message: string } {
  const parsed = scalerMetadataSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown key(s) ${i.keys.join(', ')}`;
      return `${i.path.join('.') || 'metadata'}: ${i.message}`;
    });
    return {
      ok: false,
      message: `invalid Nalar scaler metadata: ${problems.join('; ')} (accepted keys: ${acceptedMetadataKeys.join(', ')})`,
    };
  }
  const d = parsed.data;
  return {
    ok: true,
    value: {
      taskQueue: d.taskQueue,
      targetPerWorker: d.targetPerWorker ?? defaultTargetPerWorker,
      ...(d.agent !== undefined && { agent: d.agent }),
      ...(d[tokenKey] !== undefined && { token: d[tokenKey] }),
    },
  };
}

/**
 * The metric's name: `nalar-<taskQueue>`, or `nalar-<taskQueue>-<agent>` for one agent, lowercased with
 * anything but letters, digits, '.' and '-' as '-' (Kubernetes metric names). KEDA prefixes it per trigger.
 */
export function metricName(m: Pick<ScalerMetadata, 'taskQueue' | 'agent'>): string {
  const name = m.agent === undefined ? `nalar-${m.taskQueue}` : `nalar-${m.taskQueue}-${m.agent}`;
  return name.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
}
