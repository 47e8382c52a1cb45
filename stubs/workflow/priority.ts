/**
 * Priorities a control-plane policy sets on a running workflow. They arrive as the `nalar.setPriority`
 * signal, a recorded call: replay sees every one at the same point of the run, so the workflow schedules
 * the same commands again (DESIGN.md, "Priorities in Temporal"). Later stub calls use them as their
 * Temporal priority key unless the call sets its own. Workflow-side: deterministic, no I/O.
 */
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter, defineSignal, log, setHandler } from '@temporalio/workflow';
import { z } from 'zod';
import { PRIORITY_SIGNAL, type PrioritySignal } from './types';

/** The key that stands for every agent, as in the control plane's decisions. */
const ALL_AGENTS = '*';

/** Temporal's priority-key range (control-plane/protocol.ts `priorityValue`; workflow code cannot import it). */
const priorityKey = z.number().int().min(1).max(5);

const prioritySignalSchema = z.object({
  value: priorityKey.nullable(),
  agent: z.string().min(1).optional(),
});

/** What a run carries over to the run it continues as: agent (or '*') → priority. */
const carriedPrioritiesSchema = z.record(z.string().min(1), priorityKey);

/** agent (or '*') → priority. Module state is per workflow execution (the SDK isolates it). */
const priorities = new Map<string, number>();

/** The signal; its handler is registered for every workflow by the stub runtime's workflow interceptors. */
export const setPrioritySignal = defineSignal<[PrioritySignal]>(PRIORITY_SIGNAL);

/**
 * Applies one signal. An invalid payload is logged and ignored: a signal from outside must never fail the
 * workflow task (that would block the run until the sender is fixed).
 */
export function applyPrioritySignal(payload: unknown): void {
  // jitless, as withInput parses: no code generated with `new Function` inside the sandbox.
  const parsed = prioritySignalSchema.safeParse(payload, { jitless: true });
  if (!parsed.success) {
    log.warn(`ignored an invalid ${PRIORITY_SIGNAL} signal`, { issues: parsed.error.issues.map((i) => i.message) });
    return;
  }
  const agent = parsed.data.agent ?? ALL_AGENTS;
  if (parsed.data.value === null) priorities.delete(agent);
  else priorities.set(agent, parsed.data.value);
}

/**
 * Registers the signal handler and restores the priorities the previous run carried over (the
 * {@link PRIORITIES_HEADER} header of its continue-as-new; an invalid one is logged and ignored). Signals that
 * arrived before the workflow started were buffered by the SDK and are applied now, before the workflow
 * function runs.
 */
export function acceptPrioritySignals(carried: Payload | undefined): void {
  if (carried !== undefined) {
    const parsed = carriedPrioritiesSchema.safeParse(decode(carried), { jitless: true });
    if (parsed.success) for (const [agent, value] of Object.entries(parsed.data)) priorities.set(agent, value);
    else log.warn('ignored invalid priorities carried over by continue-as-new');
  }
  setHandler(setPrioritySignal, applyPrioritySignal, {
    description: 'Sets the priority (1 first … 5) of later agent calls: { value: 1..5 | null, agent?: string }',
  });
}

/** The header's value, or undefined when it does not decode (then it is ignored, never failing the task). */
function decode(payload: Payload): unknown {
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

/** The priority signals set for `agent`'s calls: its own entry, else the one for every agent, else none. */
export function policyPriority(agent: string): number | undefined {
  return priorities.get(agent) ?? priorities.get(ALL_AGENTS);
}

/** Every priority in force (agent or '*' → value), or undefined when none is: what continue-as-new carries. */
export function prioritiesInForce(): Record<string, number> | undefined {
  return priorities.size === 0 ? undefined : Object.fromEntries(priorities);
}
