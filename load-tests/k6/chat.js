/**
 * `chat`: multi-turn sessions. Each iteration is one conversation: three turns through
 * `POST /v1/sessions/:id/messages` (the first starts the session), then `DELETE /v1/sessions/:id`.
 * Full profiles: 1 conversation/s by default, p95 of each request under 5 s, p95 of a turn under 5 s.
 */
import { endSession, sessionTurn, uniqueId } from './lib/gateway.js';
import { scenarioOptions } from './lib/profile.js';
import { handleSummary } from './lib/summary.js';

export const options = scenarioOptions('chat', 'chat', {
  rate: 1,
  p95Ms: 5000,
  iterationSeconds: 8,
  extraThresholds: { session_turn_duration: ['p(95)<5000'] },
});

const turns = ['My name is Ada.', 'What is my name?', 'Summarise our conversation in one sentence.'];

export function chat() {
  const id = uniqueId('chat');
  for (const message of turns) {
    const turn = sessionTurn(id, message);
    if (!turn || typeof turn.reply !== 'string') break;
  }
  endSession(id);
}

export { handleSummary };
