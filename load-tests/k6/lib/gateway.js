/**
 * The gateway client of the k6 scenarios: plain k6 (no npm packages). Base URL from `__ENV.TARGET` (default
 * the gateway of `npm start`, http://127.0.0.1:8235) and an optional bearer token from `__ENV.TOKEN`. Every
 * call checks the status code and the absence of an error body, counts refusals by their `NALAR_ERR_…` code
 * (`nalar_errors{code}`), and records the workflow's own end-to-end time where the answer has it.
 */
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';

/** The gateway's base URL, without a trailing slash. */
export const baseUrl = (__ENV.TARGET || 'http://127.0.0.1:8235').replace(/\/+$/, '');

/** Workflow runs from start to close as the gateway reports them (`closedAt - startedAt`), in ms. */
export const workflowDuration = new Trend('workflow_duration', true);
/** One session turn from request to reply, in ms (the whole HTTP call: the update waits for the reply). */
export const turnDuration = new Trend('session_turn_duration', true);
/** Workflows that ended `completed`. */
export const workflowsCompleted = new Counter('workflows_completed');
/** Refusals and failed runs, tagged with their error `code` (a `NALAR_ERR_…` code or the HTTP status). */
export const nalarErrors = new Counter('nalar_errors');

/** Request headers; `json` adds the content type (only with a body: Fastify refuses an empty JSON body). */
function headers(json = false) {
  const h = json ? { 'content-type': 'application/json' } : {};
  if (__ENV.TOKEN) h.authorization = `Bearer ${__ENV.TOKEN}`;
  return h;
}

function jsonOf(res) {
  try {
    return res.json();
  } catch {
    return undefined;
  }
}

/** Error codes this VU has already printed: each is said once, not once per request. */
const reported = {};

/** Counts an error answer by its code, printing the first of each code with its message; returns the body. */
function noteErrors(res, name) {
  const body = jsonOf(res);
  const error = body && body.error;
  if (res.status < 400 && !error) return body;
  const code = (error && error.code) || (res.status === 0 ? `NO_ANSWER (${res.error})` : `HTTP_${res.status}`);
  nalarErrors.add(1, { code, name });
  if (!reported[code]) {
    reported[code] = true;
    console.warn(`${name}: ${res.status} ${code}${error && error.message ? `: ${error.message}` : ''}`);
  }
  return body;
}

/**
 * Records a run's outcome: completed, or its error code (a run still running after a wait is neither). Its
 * start-to-close time when the answer has the timestamps (`GET /v1/runs/:id` does; a wait-mode answer does
 * not, and there the HTTP request's own duration is the end-to-end time).
 */
function noteRun(run, name) {
  if (!run || !run.status || run.status === 'running') return;
  if (run.status === 'completed') workflowsCompleted.add(1, { name });
  else nalarErrors.add(1, { code: (run.error && run.error.code) || run.status, name });
  if (run.startedAt && run.closedAt)
    workflowDuration.add(Date.parse(run.closedAt) - Date.parse(run.startedAt), { name });
}

/**
 * Starts `workflow` with `input` and waits for its result in the same request (wait mode, `?timeout=`
 * seconds, default 60). Passes when the answer is 200 with a completed run.
 */
export function runWorkflowWait(workflow, input, timeoutSeconds = 60) {
  const name = `POST /v1/workflows/${workflow}`;
  const res = http.post(`${baseUrl}/v1/workflows/${workflow}?timeout=${timeoutSeconds}s`, JSON.stringify(input), {
    headers: headers(true),
    tags: { name },
    timeout: `${timeoutSeconds + 30}s`,
  });
  const run = noteErrors(res, name);
  noteRun(run, workflow);
  check(res, {
    'start (wait): status 200': (r) => r.status === 200,
    'start (wait): run completed': () => !!run && run.status === 'completed',
  });
  return run;
}

/**
 * Starts `workflow` in async mode (202 at once), then polls `GET /v1/runs/:id` every `pollSeconds` until the
 * run closes or `deadlineSeconds` pass. Passes when the start is a 202 and the run ends completed.
 */
export function runWorkflowAsync(workflow, input, pollSeconds = 0.2, deadlineSeconds = 120) {
  const name = `POST /v1/workflows/${workflow}?mode=async`;
  const res = http.post(`${baseUrl}/v1/workflows/${workflow}?mode=async`, JSON.stringify(input), {
    headers: headers(true),
    tags: { name },
  });
  const started = noteErrors(res, name);
  const accepted = check(res, { 'start (async): status 202': (r) => r.status === 202 });
  if (!accepted || !started || !started.links) return undefined;
  const deadline = Date.now() + deadlineSeconds * 1000;
  let run = started;
  while (run && run.status === 'running' && Date.now() < deadline) {
    sleep(pollSeconds);
    const poll = http.get(`${baseUrl}${started.links.self}`, {
      headers: headers(),
      tags: { name: 'GET /v1/runs/:id' },
    });
    run = noteErrors(poll, 'GET /v1/runs/:id');
    check(poll, { 'poll: status 200': (r) => r.status === 200 });
  }
  noteRun(run, workflow);
  check(run, { 'async run completed': (r) => !!r && r.status === 'completed' });
  return run;
}

/**
 * Sends one user message to session `id` (the first one starts it). Passes on 200 with a non-empty reply.
 * `extra` adds body fields (e.g. an analyst turn's `maxTokens`, `reportTokens`); `workflow` picks the session
 * workflow (`?workflow=analyst`; default: the chat session).
 */
export function sessionTurn(id, message, extra = {}, workflow = undefined) {
  const name = 'POST /v1/sessions/:id/messages';
  const query = workflow ? `?workflow=${encodeURIComponent(workflow)}` : '';
  const url = `${baseUrl}/v1/sessions/${encodeURIComponent(id)}/messages${query}`;
  const res = http.post(url, JSON.stringify({ ...extra, message }), {
    headers: headers(true),
    tags: { name },
    timeout: '120s',
  });
  const body = noteErrors(res, name);
  turnDuration.add(res.timings.duration);
  check(res, {
    'session turn: status 200': (r) => r.status === 200,
    'session turn: reply': () => !!body && typeof body.reply === 'string' && body.reply.length > 0,
  });
  return body;
}

/** Ends session `id` (202). */
export function endSession(id) {
  const name = 'DELETE /v1/sessions/:id';
  const res = http.del(`${baseUrl}/v1/sessions/${encodeURIComponent(id)}`, null, {
    headers: headers(),
    tags: { name },
  });
  noteErrors(res, name);
  check(res, { 'end session: status 202': (r) => r.status === 202 });
}

/** A run or session id unique across VUs, iterations and runs of the test. */
export function uniqueId(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${__VU}-${__ITER}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
