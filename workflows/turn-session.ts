/**
 * The mechanics every multi-turn session workflow shares (the chat session, the analyst sessions): one turn per
 * `message` Update, one at a time in arrival order (each sees every earlier turn), the conversation as a query,
 * an `end` signal, the end after `idleTimeoutMs` without a message, and continue-as-new between turns when
 * history grows long. Only how a turn is answered differs. Uses nothing but `@temporalio/workflow`.
 */
import {
  allHandlersFinished,
  condition,
  setHandler,
  workflowInfo,
  type QueryDefinition,
  type SignalDefinition,
} from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import type { z } from 'zod';
import { shouldContinueAsNew } from '../state/workflow/long-session';
import { parseWorkflowInput } from '../stubs/workflow/input';
import type { ChatTurnRecord } from './inputs';

/** How a session stopped: it ended (signal or idle), or it must continue as new with `turns`. */
export type TurnSessionOutcome =
  { kind: 'ended'; turns: number; reason: 'idle' | 'ended' } | { kind: 'continue-as-new'; turns: ChatTurnRecord[] };

/** The answer to one turn: the exchange to record, and the rest of the update's reply. */
export interface AnsweredTurn<Extra> {
  assistant: string;
  extra: Extra;
}

export interface TurnSessionOptions<Message extends { message: string }, Extra> {
  /** The workflow's name, for validation messages. */
  name: string;
  message: z.ZodType<Message>;
  update: UpdateDefinition<{ turn: number } & Extra, [Message]>;
  turnsQuery: QueryDefinition<ChatTurnRecord[]>;
  endSignal: SignalDefinition<[]>;
  /** Turns carried over from an earlier run. */
  turns?: readonly ChatTurnRecord[];
  idleTimeoutMs: number;
  maxHistoryEvents?: number;
  /**
   * Answers one turn. `ready()` waits for the turns before it and returns the conversation so far: awaiting it
   * inside a cancellation scope makes the wait count against that scope's deadline.
   */
  answer(message: Message, ready: () => Promise<ChatTurnRecord[]>): Promise<AnsweredTurn<Extra>>;
}

/** Serves the session until it ends or must continue as new (the caller continues, with its own input). */
export async function serveTurns<Message extends { message: string }, Extra>(
  o: TurnSessionOptions<Message, Extra>,
): Promise<TurnSessionOutcome> {
  const turns: ChatTurnRecord[] = [...(o.turns ?? [])];
  let ended = false;
  let inFlight = 0;
  // Bumped when a message arrives and when a turn ends: wakes the loop, which restarts the idle timer.
  let changes = 0;
  let queue: Promise<void> = Promise.resolve();
  const limits = o.maxHistoryEvents === undefined ? {} : { maxEvents: o.maxHistoryEvents };

  setHandler(o.turnsQuery, () => turns);
  setHandler(o.endSignal, () => {
    ended = true;
  });
  setHandler(
    o.update,
    async (raw) => {
      const msg = parseWorkflowInput(`${o.name}.message`, o.message, raw);
      inFlight++;
      changes++;
      // One turn at a time: each answer sees every earlier turn.
      const previous = queue;
      let release!: () => void;
      queue = new Promise((resolve) => (release = resolve));
      try {
        const answered = await o.answer(msg, async () => {
          await previous;
          return [...turns];
        });
        turns.push({ user: msg.message, assistant: answered.assistant });
        return { turn: turns.length, ...answered.extra };
      } finally {
        inFlight--;
        changes++;
        release();
      }
    },
    {
      // Runs before the update is accepted: a bad message is refused without touching the history.
      validator: (raw) => {
        if (ended) throw new Error(`session ${workflowInfo().workflowId} is ending`);
        parseWorkflowInput(`${o.name}.message`, o.message, raw);
      },
    },
  );

  for (;;) {
    const seen = changes;
    const woke = await condition(() => ended || changes !== seen, o.idleTimeoutMs);
    if (ended || (!woke && inFlight === 0)) break;
    if (inFlight === 0 && shouldContinueAsNew(limits)) {
      await condition(allHandlersFinished);
      return { kind: 'continue-as-new', turns };
    }
  }
  await condition(allHandlersFinished);
  return { kind: 'ended', turns: turns.length, reason: ended ? 'ended' : 'idle' };
}
