/**
 * A multi-turn chat session: a long-running workflow that answers one user message per `message` Update,
 * each through the `chat` agent with the whole conversation so far (kept in workflow state, carried over when
 * the session continues as new). Turns run one at a time, in arrival order. The session ends after
 * `idleTimeoutMs` without a message, or on the `end` signal. The gateway's `POST /v1/sessions/{id}/messages`
 * sends each message with update-with-start, so the first message starts the session.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { chat } from '../stubs/generated';
import { useSession } from '../stubs/workflow';
import { parseWorkflowInput, withInput } from '../stubs/workflow/input';
import { shouldContinueAsNew } from '../state/workflow/long-session';
import { chatMessageInput, chatSessionInput, type ChatMessageInput, type ChatTurnRecord } from './inputs';

export type { ChatMessageInput, ChatSessionInput, ChatTurnRecord } from './inputs';

/** What a `message` update returns. */
export interface ChatSessionReply {
  /** Number of this turn in the session (1 = first). */
  turn: number;
  reply: string;
  /** The future of the agent call that produced the reply (its tokens carry this id on the SSE stream). */
  futureId: string;
}

/** How a session ended. */
export interface ChatSessionResult {
  turns: number;
  reason: 'idle' | 'ended';
}

/** Sends the next user message; answers with the assistant's reply. Rejected (never recorded) when invalid. */
export const messageUpdate = defineUpdate<ChatSessionReply, [ChatMessageInput]>('message');
/** The conversation so far, oldest turn first. */
export const turnsQuery = defineQuery<ChatTurnRecord[]>('turns');
/** Ends the session once the turn in progress (if any) has been answered. */
export const endSignal = defineSignal('end');

export const chatSessionWorkflow = withInput(
  chatSessionInput,
  async function chatSessionWorkflow(input): Promise<ChatSessionResult> {
    useSession(input);
    const turns: ChatTurnRecord[] = [...(input.turns ?? [])];
    let ended = false;
    let inFlight = 0;
    // Bumped when a message arrives and when a turn ends: wakes the loop, which restarts the idle timer.
    let changes = 0;
    let queue: Promise<void> = Promise.resolve();
    const limits = input.maxHistoryEvents === undefined ? {} : { maxEvents: input.maxHistoryEvents };

    setHandler(turnsQuery, () => turns);
    setHandler(endSignal, () => {
      ended = true;
    });
    setHandler(
      messageUpdate,
      async (raw) => {
        const msg = parseWorkflowInput('chatSessionWorkflow.message', chatMessageInput, raw);
        inFlight++;
        changes++;
        // One turn at a time: each reply sees every earlier turn.
        const previous = queue;
        let release!: () => void;
        queue = new Promise((resolve) => (release = resolve));
        try {
          await previous;
          const future = chat.reply({
            turns: [...turns],
            message: msg.message,
            ...(msg.maxTokens !== undefined && { maxTokens: msg.maxTokens }),
          });
          const reply = await future;
          turns.push({ user: msg.message, assistant: reply });
          return { turn: turns.length, reply, futureId: future.id };
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
          parseWorkflowInput('chatSessionWorkflow.message', chatMessageInput, raw);
        },
      },
    );

    for (;;) {
      const seen = changes;
      const woke = await condition(() => ended || changes !== seen, input.idleTimeoutMs);
      if (ended || (!woke && inFlight === 0)) break;
      if (inFlight === 0 && shouldContinueAsNew(limits)) {
        await condition(allHandlersFinished);
        return continueAsNew<typeof chatSessionWorkflow>({ ...input, turns });
      }
    }
    await condition(allHandlersFinished);
    return { turns: turns.length, reason: ended ? 'ended' : 'idle' };
  },
);
