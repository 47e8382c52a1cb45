/** Shared by every module that defines Prometheus metrics (prom-client's default registry). */
import { register } from 'prom-client';

/**
 * The metric registered under `name`, or a new one from `create`. Jest and hot reload may load a module
 * twice, and prom-client refuses to register a name twice.
 */
export function getOrCreateMetric<T>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}
