/**
 * A multi-turn chat session: a long-running workflow that answers one user message per `message` Update,
 * each through the `chat` agent with the whole conversation so far (kept in workflow state, carried over when
 * the session continues as new). Turns run one at a time, in arrival order. The session ends after
 * `idleTimeoutMs` without a message, or on the `end` signal. The gateway's `POST /v1/sessions/{id}/messages`
 * sends each message with update-with-start, so the first message starts the session.
 */
import { continueAsNew, defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { chat } from '../stubs/generated';
import { useSession } from '../stubs/workflow';
import { withInput } from '../stubs/workflow/input';
import { chatMessageInput, chatSessionInput, type ChatMessageInput, type ChatTurnRecord } from './inputs';
import { serveTurns } from './turn-session';

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
    const outcome = await serveTurns({
      name: 'chatSessionWorkflow',
      message: chatMessageInput,
      update: messageUpdate,
      turnsQuery,
      endSignal,
      turns: input.turns ?? [],
      idleTimeoutMs: input.idleTimeoutMs,
      ...(input.maxHistoryEvents !== undefined && { maxHistoryEvents: input.maxHistoryEvents }),
      async answer(msg, ready) {
        const history = await ready();
        const future = chat.reply({
          turns: history,
          message: msg.message,
          ...(msg.maxTokens !== undefined && { maxTokens: msg.maxTokens }),
        });
        const reply = await future;
        return { assistant: reply, extra: { reply, futureId: future.id } };
      },
    });
    if (outcome.kind === 'continue-as-new') {
      return continueAsNew<typeof chatSessionWorkflow>({ ...input, turns: outcome.turns });
    }
    return { turns: outcome.turns, reason: outcome.reason };
  },
);
