/**
 * The worker-thread side of the code-run tool, and the messages it exchanges with the activity.
 *
 * Why a thread: `node:vm` runs scripts synchronously on the calling thread, so running agent code on the
 * worker's main thread would stall every other activity and heartbeat of the process for up to the
 * timeout; and promise jobs the code queues run after the script returns, outside the vm timeout, where a
 * `.then(() => { for (;;) {} })` would hang the process for good. (`microtaskMode: 'afterEvaluate'`, made
 * for this, aborts the whole process when such a job times out: nodejs/node#38503.) In a thread, the
 * activity's watchdog can always end the run with `Worker.terminate()`, and a memory limit applies.
 *
 * Why the thread's code is a string: a worker thread loads its code with Node's own loader, outside Jest's
 * transform and without tsx, so a `.ts` file would not load there; a string evaluated with `eval: true`
 * runs the same under Jest, tsx and compiled JavaScript. It is plain CommonJS JavaScript, kept short; its
 * behaviour is covered by `code-run.test.ts`.
 */

/** What the thread is given. */
export interface SandboxData {
  code: string;
  tests: readonly string[];
  timeoutMs: number;
  maxOutputChars: number;
}

/** Outcome of one step: step 0 is the code, step i >= 1 is test i. */
export interface StepOutcome {
  passed: boolean;
  error?: string;
}

/** Messages from the thread to the activity. */
export type SandboxMessage =
  /** Step `step` begins; the activity's watchdog starts timing it. */
  | { type: 'start'; step: number }
  /** Step `step` ended, with what it printed (including its promise jobs). */
  | { type: 'done'; step: number; outcome: StepOutcome; output: string }
  /** No more steps (all ran, or the code failed and tests are not run). */
  | { type: 'finished' };

/**
 * Builds `console` inside the vm context from the context's own objects (a function of this thread put
 * there would hand the code this thread's `Function`, and with it `process`, through `.constructor`), and
 * returns the function that collects what was printed since its last call. Helpers keep references to the
 * built-ins they use, so code replacing `JSON.stringify` changes only how its own values print.
 */
const PRELUDE = String.raw`(() => {
  'use strict';
  const stringify = JSON.stringify;
  const toStringTag = Object.prototype.toString;
  const call = Function.prototype.call;
  const ErrorType = Error;
  const limit = __LIMIT__;
  let lines = [];
  let size = 0;
  let truncated = false;
  const show = (v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'bigint') return String(v) + 'n';
    if (typeof v === 'function') return '[Function: ' + (v.name || '(anonymous)') + ']';
    if (v === null || typeof v !== 'object') return String(v);
    if (v instanceof ErrorType) return String(v.name) + ': ' + String(v.message);
    try {
      const s = stringify(v);
      return s === undefined ? call.call(toStringTag, v) : s;
    } catch {
      return call.call(toStringTag, v);
    }
  };
  const log = (...args) => {
    if (truncated) return;
    let line = '';
    for (let i = 0; i < args.length; i++) line += (i ? ' ' : '') + show(args[i]);
    if (size + line.length > limit) {
      truncated = true;
      line = '... (output truncated at ' + limit + ' characters)';
    }
    size += line.length + 1;
    lines[lines.length] = line;
  };
  Object.defineProperty(globalThis, 'console', {
    value: { log, info: log, warn: log, error: log, debug: log },
    writable: true,
    enumerable: false,
    configurable: true,
  });
  return () => {
    let s = '';
    for (let i = 0; i < lines.length; i++) s += (i ? '\n' : '') + lines[i];
    lines = [];
    return s;
  };
})()`;

/** The thread's program; reads {@link SandboxData} from `workerData`, posts {@link SandboxMessage}s. */
export const SANDBOX_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const { types } = require('node:util');

const { code, tests, timeoutMs, maxOutputChars } = workerData;
const context = vm.createContext(Object.create(null), {
  name: 'runCode',
  codeGeneration: { strings: true, wasm: false },
});
const drain = vm.runInContext(${JSON.stringify(PRELUDE)}.replace('__LIMIT__', String(maxOutputChars)), context);

// A promise the code rejects without handling would end this thread (Node's default); report it instead.
const rejections = [];
process.on('unhandledRejection', (reason) => {
  rejections.push('Unhandled promise rejection: ' + describe(reason));
});

// Reading a thrown value may run a getter of the code's; should it never return, the activity's
// watchdog ends the thread.
function describe(thrown) {
  try {
    if (types.isNativeError(thrown)) return String(thrown.name) + ': ' + String(thrown.message);
    if (typeof thrown === 'bigint') return 'Uncaught ' + String(thrown) + 'n';
    if (typeof thrown === 'string') return 'Uncaught ' + thrown;
    if (thrown !== null && (typeof thrown === 'object' || typeof thrown === 'function')) {
      const json = JSON.stringify(thrown);
      return 'Uncaught ' + (json === undefined ? String(thrown) : json);
    }
    return 'Uncaught ' + String(thrown);
  } catch {
    return 'Uncaught value that cannot be shown';
  }
}

function isTimeout(thrown) {
  if (!types.isNativeError(thrown)) return false;
  const code = Object.getOwnPropertyDescriptor(thrown, 'code');
  return code !== undefined && code.value === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function run(source, filename) {
  let script;
  try {
    script = new vm.Script(source, { filename });
  } catch (err) {
    return { ok: false, error: String(err.name) + ': ' + String(err.message) };
  }
  try {
    return { ok: true, value: script.runInContext(context, { timeout: timeoutMs }) };
  } catch (thrown) {
    return { ok: false, error: isTimeout(thrown) ? 'timed out after ' + timeoutMs + ' ms' : describe(thrown) };
  }
}

function showFalsy(value) {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return String(value) + 'n';
  return String(value);
}

function judge(result) {
  if (!result.ok) return { passed: false, error: result.error };
  if (types.isPromise(result.value)) {
    return { passed: false, error: 'returned a Promise; tests must be synchronous expressions' };
  }
  return result.value ? { passed: true } : { passed: false, error: 'returned ' + showFalsy(result.value) };
}

function takeOutput() {
  const printed = drain();
  const extra = rejections.splice(0).join('\n');
  return printed && extra ? printed + '\n' + extra : printed || extra;
}

async function main() {
  for (let step = 0; step <= tests.length; step++) {
    parentPort.postMessage({ type: 'start', step });
    const result =
      step === 0
        ? run(code, 'code.js')
        : // Parentheses make the test an expression ("{ a: 1 }" is an object, not a block); the newlines
          // keep a trailing line comment from swallowing the closing parenthesis.
          run('(\n' + tests[step - 1] + '\n)', 'test-' + step + '.js');
    // Promise jobs this step queued run now, so what they print, and a job that never ends, belong to it.
    await new Promise((resolve) => setImmediate(resolve));
    const outcome =
      step === 0 ? (result.ok ? { passed: true } : { passed: false, error: result.error }) : judge(result);
    parentPort.postMessage({ type: 'done', step, outcome, output: takeOutput() });
    if (step === 0 && !result.ok) break;
  }
  parentPort.postMessage({ type: 'finished' });
}

main();
`;
