/**
 * The one-level (centralised) baseline of the decision part, bench-only: the global controller decides every
 * call itself, from its live view. `POST /bench/v1/route` with `{ "agent", "session" }` runs the routing
 * policies (the default set, fresh instances, so their state between rounds stays the controller's own) over
 * the controller's snapshot for that one call, and answers `{ "replica", "priority" }`: the session's pin after
 * the run (or before it), else the weighted choice the run produced, else the static binding's
 * `routeHash(session) % n`, with the session's priority. The route is added to the real controller app
 * (`buildControllerApp`) only by this benchmark; it is never part of the product's API. Loopback only.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { GlobalController } from '../../../control-plane/global-controller/controller';
import type { InstalledPolicy } from '../../../control-plane/global-controller/policy-config';
import { PrimitivesRecorder } from '../../../control-plane/global-controller/recorder';
import { defaultPriority } from '../../../control-plane/protocol';
import { routeHash } from '../../../common/route-hash';

/** Path of the bench-only route. */
export const oneLevelRoutePath = '/bench/v1/route';

export const oneLevelRequest = z.object({ agent: z.string().min(1), session: z.string().min(1) });
export const oneLevelAnswer = z.object({ replica: z.string(), priority: z.number().int() });
export type OneLevelAnswer = z.infer<typeof oneLevelAnswer>;

/** One call decided centrally: every policy run over the live view, then the call's replica and priority. */
export function decideCentrally(
  controller: GlobalController,
  policies: readonly InstalledPolicy[],
  agent: string,
  session: string,
): OneLevelAnswer | undefined {
  const view = controller.view;
  const replicas = view.agents.get(agent)?.replicas;
  if (!replicas || replicas.length === 0) return undefined;
  let pin = controller.decisions.pins[agent]?.[session];
  let weights: Readonly<Record<string, number>> | undefined = controller.decisions.weights[agent];
  const priorities = controller.decisions.priorities[session];
  let priority = priorities?.[agent] ?? priorities?.['*'];
  for (const installed of policies) {
    const recorder = new PrimitivesRecorder(view);
    installed.policy.decide(view, recorder);
    // Later actions win, as in a round.
    for (const a of recorder.actions) {
      if (a.kind === 'pin' && a.agent === agent && a.session === session) pin = a.replica;
      else if (a.kind === 'weights' && a.agent === agent) weights = a.weights;
      else if (a.kind === 'priority' && a.session === session && (a.agent === agent || a.agent === '*')) {
        priority = a.value;
      }
    }
  }
  const h = routeHash(session);
  let replica = pin;
  if (replica === undefined && weights) {
    let total = 0;
    for (const r of replicas) total += weights[r] ?? 0;
    let point = (h / 2 ** 32) * total;
    for (const r of replicas) {
      point -= weights[r] ?? 0;
      if (point < 0) {
        replica = r;
        break;
      }
    }
  }
  return { replica: replica ?? (replicas[h % replicas.length] as string), priority: priority ?? defaultPriority };
}

/** Adds the bench-only route to a controller app (before it listens). */
export function addOneLevelRoute(
  app: FastifyInstance,
  controller: GlobalController,
  policies: readonly InstalledPolicy[],
): void {
  app.post(oneLevelRoutePath, async (request, reply) => {
    const parsed = oneLevelRequest.safeParse(request.body);
    if (!parsed.success) return reply.status(400).send({ error: parsed.error.message });
    const answer = decideCentrally(controller, policies, parsed.data.agent, parsed.data.session);
    if (!answer) return reply.status(404).send({ error: `no replicas of agent ${parsed.data.agent}` });
    return answer;
  });
}
