/**
 * Part 3, policy propagation: a real global controller server (startControllerServer, its own loop every
 * period, the default policies) and `links` emulated nodes, each a real LocalController with a real GlobalLink
 * (reports every period, decisions by HTTP long poll on loopback). A trial records, on node 0, the creation of a
 * future in a new `vip-` session: the high-priority policy gives that session priority 1 at the next round,
 * which is a new decisions version. Propagation time is from the moment node 0's link sends the report holding
 * that event (the POST leaves) to the moment the last of the links has installed decisions with the
 * session's priority. It includes the wait for the controller's next round (up to one period), the round and
 * the fan-out of the long polls.
 */
import { startControllerServer } from '../../../control-plane/global-controller/server';
import { GlobalController } from '../../../control-plane/global-controller/controller';
import { GlobalLink } from '../../../control-plane/local-controller/global-link';
import { LocalController } from '../../../control-plane/local-controller/local-controller';
import type { Decisions } from '../../../control-plane/protocol';
import { createLogger } from '../../../common/log';
import type { FutureEvent } from '../../../stubs/workflow/types';
import { summarize, type LatencySummary } from '../stats';
import { benchPolicies } from './loop';

/** What the propagation part found. */
export interface PropagationResult {
  links: number;
  periodMs: number;
  trials: number;
  /** ms from the triggering report's POST to the last link's install, per trial. */
  perTrialMs: number[];
  summary: LatencySummary;
  /** Trials in which some link did not install within the deadline. */
  timedOut: number;
}

/** A local controller that notes when it first installed decisions giving `session` a priority. */
class WatchedLocalController extends LocalController {
  private readonly seen = new Map<string, number>();
  private readonly watched = new Set<string>();

  watch(session: string): void {
    this.watched.add(session);
  }

  installedAt(session: string): number | undefined {
    return this.seen.get(session);
  }

  override install(decisions: Decisions): boolean {
    const installed = super.install(decisions);
    if (installed) {
      const now = performance.now();
      for (const session of this.watched) {
        if (!this.seen.has(session) && decisions.priorities[session] !== undefined) this.seen.set(session, now);
      }
    }
    return installed;
  }
}

function createdEvent(session: string, at: number): FutureEvent {
  const id = `${session}-wf/0`;
  return {
    type: 'created',
    futureId: id,
    workflowId: `${session}-wf`,
    runId: 'bench',
    at,
    meta: {
      id,
      sessionId: session,
      creator: `${session}-wf`,
      activityType: 'planner.run',
      dependencies: [],
      consumers: [],
      executor: { taskQueue: 'nalar' },
      fairnessKey: session,
      state: 'created',
      timestamps: { created: at },
    },
  };
}

/** Resolves once `done()` holds, polling every `stepMs`; false when `deadlineMs` passes first. */
async function until(done: () => boolean, deadlineMs: number, stepMs = 1): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (!done()) {
    if (performance.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return true;
}

/** Runs the propagation trials; see the module comment. */
export async function measurePropagation(
  o: { links: number; trials: number; periodMs: number },
  log: (line: string) => void,
): Promise<PropagationResult> {
  const quiet = createLogger('controller', 'error');
  const controller = new GlobalController({ policies: benchPolicies(), periodMs: o.periodMs, log: quiet });
  const server = await startControllerServer({ controller, host: '127.0.0.1', port: 0, log: quiet });
  const locals = Array.from({ length: o.links }, () => new WatchedLocalController());
  /** When node 0's link sent the report holding each trial's event. */
  const sentAt = new Map<string, number>();
  let pending: string | undefined;
  const watchingFetch: typeof fetch = (input, init) => {
    if (pending !== undefined && typeof init?.body === 'string' && init.body.includes(pending)) {
      if (!sentAt.has(pending)) sentAt.set(pending, performance.now());
    }
    return fetch(input, init);
  };
  const links = locals.map((controllerOfNode, i) =>
    new GlobalLink({
      url: server.url,
      periodMs: o.periodMs,
      node: `bench-node-${i}`,
      taskQueues: ['nalar'],
      controller: controllerOfNode,
      log: quiet,
      ...(i === 0 && { fetch: watchingFetch }),
    }).start(),
  );
  const perTrialMs: number[] = [];
  let timedOut = 0;
  const deadlineMs = 20 * o.periodMs + 5000;
  try {
    const connected = await until(() => locals.every((l) => l.decisionsVersion > 0), deadlineMs, 5);
    if (!connected) throw new Error(`the ${o.links} links did not all install a first decisions version in time`);
    for (let trial = 0; trial < o.trials; trial++) {
      const session = `vip-propagation-${trial}`;
      for (const l of locals) l.watch(session);
      pending = session;
      locals[0]!.record(createdEvent(session, Date.now()));
      const ok = await until(() => locals.every((l) => l.installedAt(session) !== undefined), deadlineMs);
      const sent = sentAt.get(session);
      if (!ok || sent === undefined) {
        timedOut++;
        log(`propagation trial ${trial}: not every link installed the change within ${deadlineMs} ms`);
        continue;
      }
      const last = Math.max(...locals.map((l) => l.installedAt(session)!));
      perTrialMs.push(last - sent);
    }
  } finally {
    await Promise.all(links.map((l) => l.stop()));
    await server.close();
  }
  return {
    links: o.links,
    periodMs: o.periodMs,
    trials: o.trials,
    perTrialMs,
    summary: summarize(perTrialMs),
    timedOut,
  };
}
