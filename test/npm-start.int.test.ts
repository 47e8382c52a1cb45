/**
 * `npm start` as a user runs it: a child process in its own process group (like a terminal's foreground
 * job), stopped with SIGINT to the whole group (like Ctrl-C). Checks readiness output, that the stack
 * serves workflows, a clean exit 0 with nothing left running, and the failure paths.
 */
import { processAlive } from '../data-plane/supervisor/process-alive';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectNalarClient } from '../client';
import { loadConfig } from '../common/config';
import { embeddedStack } from '../data-plane/supervisor/embedded-stack';
import { freePort } from '../data-plane/supervisor/ports';
import { helloAgentWorkflow } from '../workflows';
import { readSse } from './helpers/gateway-app';
import { waitFor } from './helpers/wait-for';
import { uniqueTaskQueue } from './temporal';

const root = path.resolve(__dirname, '..');

// Each test starts the whole stack (dev server, simulator, a worker that bundles workflows): slow on a
// loaded machine, so a roomy deadline.
jest.setTimeout(180_000);

interface StartedStack {
  child: ChildProcess;
  output: () => string;
  /** Exit code of the npm process, or the signal that ended it. */
  exit: Promise<number | NodeJS.Signals | null>;
  env: NodeJS.ProcessEnv;
}

async function stackEnv(): Promise<NodeJS.ProcessEnv> {
  const bin = process.env.NALAR_TEST_TEMPORAL_BIN;
  if (!bin) throw new Error('NALAR_TEST_TEMPORAL_BIN is not set: run through npm test');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    NALAR_DEV_SERVER_UI_PORT: String(await freePort()),
    NALAR_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'nalar-start-')),
    NALAR_TEMPORAL_BIN: bin,
    NALAR_TASK_QUEUE: uniqueTaskQueue('npm-start'),
    NALAR_SIM_PORT: String(await freePort()),
    NALAR_SIM_REPLICAS: '1',
    // Generous: every process exits on SIGINT; a SIGKILL after the grace would be a failure, not a speed-up.
    NALAR_SHUTDOWN_GRACE: '60 seconds',
    NALAR_METRICS_PORT: String(await freePort()),
    NALAR_CODEC_PORT: String(await freePort()),
    NALAR_GATEWAY_PORT: String(await freePort()),
    NALAR_CONTROLLER_PORT: String(await freePort()),
  };
  // Output goes to a pipe, as with `npm start > log`: no colours unless asked for (Jest may pass FORCE_COLOR on).
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  return env;
}

function startStack(env: NodeJS.ProcessEnv, args: string[] = []): StartedStack {
  const child = spawn('npm', ['start', '--silent', ...(args.length ? ['--', ...args] : [])], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, output: () => out, exit, env };
}

/**
 * Waits until the output matches `re`; fails at once if npm exits first, unless `afterNpmExit` (the stack
 * it started may still be writing after npm itself is gone).
 */
function waitForOutput(stack: StartedStack, re: RegExp, { afterNpmExit = false } = {}): Promise<RegExpMatchArray> {
  return waitFor(
    () => {
      const m = stack.output().match(re);
      const npmExit = stack.child.exitCode ?? stack.child.signalCode;
      if (!m && !afterNpmExit && npmExit !== null) {
        throw new Error(`npm exited (${npmExit}) before its output matched ${re}:\n${stack.output()}`);
      }
      return m;
    },
    { what: () => `output matching ${re}:\n${stack.output()}`, timeoutMs: 120_000, intervalMs: 100 },
  );
}

const alive = processAlive;

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port }, () => s.close(() => resolve(true)));
  });
}

/** Sends SIGINT to the stack's process group, as Ctrl-C in a terminal does. */
function ctrlC(stack: StartedStack): void {
  process.kill(-(stack.child.pid as number), 'SIGINT');
}

function cleanup(stack: StartedStack | undefined): void {
  if (!stack) return;
  try {
    process.kill(-(stack.child.pid as number), 'SIGKILL');
  } catch {
    // already gone
  }
  rmSync(stack.env.NALAR_DATA_DIR as string, { recursive: true, force: true });
}

let stack: StartedStack | undefined;
afterEach(() => {
  cleanup(stack);
  stack = undefined;
});

test('npm start brings the stack up, serves a workflow, and Ctrl-C leaves nothing running', async () => {
  const env = await stackEnv();
  stack = startStack(env);
  await waitForOutput(stack, /Press Ctrl-C to stop/);
  const out = stack.output();
  const grpcPort = Number(env.TEMPORAL_ADDRESS?.split(':')[1]);
  const uiPort = Number(env.NALAR_DEV_SERVER_UI_PORT);
  expect(out).toContain(`Temporal gRPC     ${env.TEMPORAL_ADDRESS} (namespace default)`);
  expect(out).toContain(`Temporal Web UI   http://127.0.0.1:${uiPort}`);
  expect(out).toContain(`worker-1          task queue ${env.NALAR_TASK_QUEUE}`);
  expect(out).toContain(`Model simulator   http://127.0.0.1:${env.NALAR_SIM_PORT}/v1`);
  expect(out).toContain(`Global controller http://127.0.0.1:${env.NALAR_CONTROLLER_PORT}`);
  expect(out).toMatch(/\[temporal\s*\] /); // child output is prefixed
  const pids = [...out.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
  expect(pids).toHaveLength(6); // temporal, codec, sim, controller, worker-1, gateway
  expect(pids.every(alive)).toBe(true);

  const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
  expect(ui.status).toBe(200);
  // The codec server is up, and the Web UI was started pointing at it (its settings API says so).
  const codecUrl = `http://127.0.0.1:${env.NALAR_CODEC_PORT}`;
  expect(out).toContain(`Codec server      ${codecUrl}`);
  expect(await (await fetch(`${codecUrl}/healthz`)).json()).toEqual({ status: 'ok' });
  const uiSettings = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/settings`)).json()) as {
    Codec?: { Endpoint?: string };
  };
  expect(uiSettings.Codec?.Endpoint).toBe(codecUrl);
  const models = await fetch(`http://127.0.0.1:${env.NALAR_SIM_PORT}/v1/models`);
  expect(await models.json()).toMatchObject({ data: [{ id: 'sim-llama-3-8b' }] });
  // The worker serves Prometheus metrics, state sizes included.
  const metricsUrl = `http://127.0.0.1:${env.NALAR_METRICS_PORT}/metrics`;
  expect(out).toContain(`metrics ${metricsUrl}`);
  const metrics = await (await fetch(metricsUrl)).text();
  expect(metrics).toMatch(/^nalar_state_sessions \d+$/m);
  expect(metrics).toMatch(/^nalar_blobs \d+$/m);

  // As a user's program reaches the stack: the client factory, with the stack's settings.
  const client = await connectNalarClient({ config: loadConfig({ env }) });
  try {
    const result = await client.workflow.execute(helloAgentWorkflow, {
      taskQueue: env.NALAR_TASK_QUEUE as string,
      workflowId: `npm-start-${Date.now()}`,
      args: [{ question: 'are you up?' }],
    });
    expect(result.answer).toContain('are you up?');
  } finally {
    await client.connection.close();
  }
  // And over HTTP, through the gateway the stack started (no tokens: loopback, tenant local).
  const gatewayUrl = `http://127.0.0.1:${env.NALAR_GATEWAY_PORT}`;
  expect(out).toContain(`HTTP gateway      ${gatewayUrl}`);
  const started = await fetch(`${gatewayUrl}/v1/workflows/helloAgentWorkflow?timeout=120s`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ question: 'over http?' }),
  });
  expect(started.status).toBe(200);
  expect(await started.json()).toMatchObject({
    status: 'completed',
    result: { answer: expect.stringContaining('over http?') },
  });
  // A streamed session turn: its tokens reach the client only through the workers' run events to the
  // gateway's bus (the URL and token npm start gave both), so this checks that wiring end to end.
  const turn = await fetch(`${gatewayUrl}/v1/sessions/npm-start/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ message: 'Hello there.' }),
  });
  expect(turn.status).toBe(200);
  const events = await readSse(turn);
  const reply = events.at(-1);
  expect(reply?.event).toBe('reply');
  const tokens = events.filter((e) => e.event === 'token').map((e) => (e.data as { text: string }).text);
  expect(tokens.length).toBeGreaterThan(0);
  expect(tokens.join('')).toBe((reply?.data as { reply: string }).reply);

  ctrlC(stack);
  // npm re-raises the SIGINT it got on itself once its script is done (a shell shows 130), so the
  // supervisor's own verdict is read from its last line.
  expect([0, 'SIGINT']).toContain(await stack.exit);
  expect(stack.output()).toMatch(
    /stopped gateway \(exit code 0\)[\s\S]*stopped worker-1 \(exit code 0\)[\s\S]*stopped sim \(exit code 0\)[\s\S]*stopped codec \(exit code 0\)[\s\S]*stopped temporal \(exit code 0\)[\s\S]*\[nalar\] stopped \(exit code 0\)/,
  );
  expect(stack.output().match(/SIGINT received/g)).toHaveLength(1);
  // Stopping is quiet: none of the dev server's "connection refused" shutdown warnings.
  expect(stack.output().match(/connection refused|Failed to poll for task|level=WARN/g)).toBeNull();
  // Not a terminal: no ANSI escape codes from the supervisor, the worker, its SDK logger or the other processes.
  expect(stack.output()).not.toContain('\x1b[');
  expect(pids.filter(alive)).toEqual([]);
  expect(await portFree(grpcPort)).toBe(true);
  expect(await portFree(uiPort)).toBe(true);
  expect(await portFree(Number(env.NALAR_SIM_PORT))).toBe(true);
  expect(await portFree(Number(env.NALAR_METRICS_PORT))).toBe(true);
  expect(await portFree(Number(env.NALAR_CODEC_PORT))).toBe(true);
  expect(await portFree(Number(env.NALAR_GATEWAY_PORT))).toBe(true);
});

test('SIGTERM to npm alone (as a service manager sends it) still stops the whole stack', async () => {
  stack = startStack(await stackEnv());
  await waitForOutput(stack, /Press Ctrl-C to stop/);
  const pids = [...stack.output().matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
  stack.child.kill('SIGTERM');
  await stack.exit;
  // npm dies at once without passing SIGTERM on; the bootstrap notices and stops the stack.
  await waitForOutput(stack, /\[nalar\] stopped \(exit code 0\)/, { afterNpmExit: true });
  await waitFor(() => !pids.some(alive), { what: () => `processes ${pids.filter(alive).join(', ')} to be gone` });
});

test('a taken port stops npm start with an error naming the port and the setting', async () => {
  const env = await stackEnv();
  const blocker = net.createServer();
  const port = Number(env.TEMPORAL_ADDRESS?.split(':')[1]);
  await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port }, resolve));
  try {
    stack = startStack(env);
    await expect(stack.exit).resolves.toBe(1);
    expect(stack.output()).toContain(
      `NALAR_ERR_PORT_IN_USE: port ${port} on 127.0.0.1 (Temporal gRPC) is already in use; change it with TEMPORAL_ADDRESS=127.0.0.1:<port>`,
    );
    expect(stack.output()).not.toContain('starting temporal');
  } finally {
    blocker.close();
  }
});

test('a process that dies is reported, not restarted, and the whole stack stops with exit 1', async () => {
  const env = await stackEnv();
  stack = startStack(env);
  await waitForOutput(stack, /Press Ctrl-C to stop/);
  const [temporalPid, codecPid, simPid, controllerPid, workerPid, gatewayPid] = [
    ...stack.output().matchAll(/\(pid (\d+)\)/g),
  ].map((m) => Number(m[1]));
  process.kill(workerPid as number, 'SIGKILL');
  await expect(stack.exit).resolves.toBe(1);
  expect(stack.output()).toContain('worker-1 exited unexpectedly (signal SIGKILL); stopping the stack');
  expect(alive(temporalPid as number)).toBe(false);
  expect(alive(simPid as number)).toBe(false);
  expect(alive(codecPid as number)).toBe(false);
  expect(alive(gatewayPid as number)).toBe(false);
  expect(alive(controllerPid as number)).toBe(false);
});

test('npm start -- --help documents the stack and every setting', async () => {
  const env = { ...(await stackEnv()), NALAR_WORKERS: '2' };
  stack = startStack(env, ['--help']);
  await expect(stack.exit).resolves.toBe(0);
  expect(stack.output()).toContain('Usage: npm start');
  // Every process the stack would start with these settings, in start order, the simulator included.
  const listed = [...stack.output().matchAll(/^ +\d+\. (\S+) /gm)].map((m) => m[1]);
  const components = embeddedStack({ config: loadConfig({ env }), temporalBin: 'temporal' });
  expect(listed).toEqual(components.map((c) => c.name));
  expect(listed).toEqual(['temporal', 'codec', 'sim', 'controller', 'worker-1', 'worker-2', 'gateway']);
  expect(stack.output()).toMatch(/^ +NALAR_CONTROLLER_PORT .* \(default: 8236\)$/m);
  expect(stack.output()).toMatch(/^ +NALAR_GATEWAY_PORT .* \(default: 8235\)$/m);
  expect(stack.output()).toContain('NALAR_DEV_SERVER_UI_PORT');
  expect(stack.output()).toContain('--codec-endpoint');
  expect(stack.output()).toMatch(/^ +NALAR_CODEC_PORT .* \(default: 8234\)$/m);
  // An object default is shown as the JSON a user would write, not as `[object Object]`.
  expect(stack.output()).toMatch(/^ +NALAR_AGENT_MODELS .* \(default: \{\}\)$/m);
  expect(stack.output()).not.toContain('[object Object]');
});
