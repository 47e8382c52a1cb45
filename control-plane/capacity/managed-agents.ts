/**
 * Which agents the capacity manager owns, and their bounds. An agent is managed when NALAR_AGENT_MODELS gives
 * it a model of its own (no other agent asks for it): the replicas serving that model are then its capacity,
 * and a replica can move to it by loading that model. Agents on the shared default endpoint are not managed.
 * Bounds are the agents' `minInstances`/`maxInstances` directives, read from the stubs manifest
 * (stubs/generated/manifest.json, written by `npm run stubs`).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ErrorCode, NalarError } from '../../common/errors';
import type { ManagedAgent } from './manager';

/** The stubs manifest's default place. */
export const defaultManifestPath = path.resolve(__dirname, '..', '..', 'stubs', 'generated', 'manifest.json');

const manifestSchema = z.object({
  agents: z.array(
    z.object({
      name: z.string(),
      directives: z.object({ minInstances: z.number().int().nonnegative(), maxInstances: z.number().int().positive() }),
    }),
  ),
});

/** Each agent's `{ minInstances, maxInstances }` from the manifest; NALAR_ERR_CONFIG_INVALID when unreadable. */
export function directiveBounds(manifestPath = defaultManifestPath): Map<string, { min: number; max: number }> {
  let parsed: z.infer<typeof manifestSchema>;
  try {
    parsed = manifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (err) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `cannot read agent directives from ${manifestPath} (run npm run stubs): ${(err as Error).message}`,
    );
  }
  return new Map(
    parsed.agents.map((a) => [a.name, { min: a.directives.minInstances, max: a.directives.maxInstances }]),
  );
}

/**
 * The managed agents of an agent-model binding: those with a `model` no other agent uses, with their
 * directive bounds (an agent the manifest does not know: 1 … unlimited).
 */
export function managedAgentsOf(
  agentModels: Readonly<Record<string, { readonly model?: string | undefined }>>,
  bounds: ReadonlyMap<string, { min: number; max: number }>,
): ManagedAgent[] {
  const users = new Map<string, number>();
  for (const binding of Object.values(agentModels)) {
    if (binding.model !== undefined) users.set(binding.model, (users.get(binding.model) ?? 0) + 1);
  }
  const out: ManagedAgent[] = [];
  for (const [agent, binding] of Object.entries(agentModels)) {
    if (binding.model === undefined || users.get(binding.model) !== 1) continue;
    const b = bounds.get(agent);
    out.push({ agent, model: binding.model, ...(b && { minInstances: b.min, maxInstances: b.max }) });
  }
  return out;
}
