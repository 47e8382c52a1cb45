/**
 * CommandProvisioner running a real executable: test/helpers/provisioner-command.mjs, which speaks the
 * protocol over fake replicas kept in a temporary JSON file, and misbehaves on request.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode } from '../../common/errors';
import { waitFor } from '../../test/helpers/wait-for';
import { CommandProvisioner, type CommandProvisionerOptions } from './command-provisioner';
import { nalarErrorOf } from '../../test/helpers/nalar-error';

const helpers = path.resolve(__dirname, '..', '..', 'test', 'helpers');
const script = path.join(helpers, 'provisioner-command.mjs');

let dir: string;
let stateFile: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-command-provisioner-'));
  stateFile = path.join(dir, 'state.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function provisioner(mode = '', o: Partial<CommandProvisionerOptions> = {}): CommandProvisioner {
  return new CommandProvisioner({
    command: script,
    env: { ...process.env, FAKE_PROVISIONER_STATE: stateFile, FAKE_PROVISIONER_MODE: mode },
    ...o,
  });
}

/** The argv of every call the command received, in order. */
const calls = (): string[][] => (JSON.parse(readFileSync(stateFile, 'utf8')) as { calls: string[][] }).calls;

test('every verb: provision, when-serving, list, reassign, kill', async () => {
  const p = provisioner();
  const added = await p.provision({ agent: 'coder', model: 'sim-coder-7b' });
  expect(added).toEqual({
    id: 'coder-0',
    model: 'sim-coder-7b',
    baseUrl: 'http://127.0.0.1:9000/v1',
    state: 'loading',
  });
  await p.whenServing(added.id);
  await p.provision({ agent: 'planner', model: 'sim-llama-3-8b' });
  expect((await p.list()).map((r) => [r.id, r.model, r.state])).toEqual([
    ['coder-0', 'sim-coder-7b', 'serving'],
    ['planner-1', 'sim-llama-3-8b', 'loading'],
  ]);
  await p.reassign('coder-0', { agent: 'planner', model: 'sim-llama-3-8b' });
  expect((await p.list())[0]?.model).toBe('sim-llama-3-8b');
  await p.kill('planner-1');
  expect((await p.list()).map((r) => r.id)).toEqual(['coder-0']);
  expect(calls()).toEqual([
    ['provision', 'coder', 'sim-coder-7b'],
    ['when-serving', 'coder-0'],
    ['provision', 'planner', 'sim-llama-3-8b'],
    ['list'],
    ['reassign', 'coder-0', 'sim-llama-3-8b', 'planner'],
    ['list'],
    ['kill', 'planner-1'],
    ['list'],
  ]);
});

test('arguments reach the command verbatim: no shell', async () => {
  const p = provisioner();
  const agent = 'coder; touch pwned';
  const model = '$(id) `id` "quoted" \\ *';
  const added = await p.provision({ agent, model });
  expect(added.model).toBe(model);
  expect(calls()).toEqual([['provision', agent, model]]);
});

test('a name on PATH is found; leading arguments go before the verb', async () => {
  const onPath = new CommandProvisioner({
    command: 'node',
    args: [script],
    env: { ...process.env, FAKE_PROVISIONER_STATE: stateFile },
  });
  await onPath.provision({ agent: 'a', model: 'm' });
  const byName = new CommandProvisioner({
    command: 'provisioner-command.mjs',
    env: {
      ...process.env,
      PATH: `${helpers}${path.delimiter}${process.env.PATH ?? ''}`,
      FAKE_PROVISIONER_STATE: stateFile,
    },
  });
  expect((await byName.list()).map((r) => r.id)).toEqual(['a-0']);
});

test('exit 3 is NALAR_ERR_REPLICA_NOT_FOUND and exit 4 NALAR_ERR_CONFLICT, with the stderr', async () => {
  const p = provisioner();
  const missing = await nalarErrorOf(p.kill('nope-7'));
  expect(missing.code).toBe(ErrorCode.REPLICA_NOT_FOUND);
  expect(missing.message).toContain('no replica nope-7');
  const added = await p.provision({ agent: 'coder', model: 'm' });
  const busy = await nalarErrorOf(p.reassign(added.id, { agent: 'planner', model: 'other' }));
  expect(busy.code).toBe(ErrorCode.CONFLICT);
  expect(busy.message).toContain('is loading');
});

test('a non-zero exit is NALAR_ERR_PROVISIONER_FAILED with the tail of its stderr', async () => {
  const err = await nalarErrorOf(provisioner('fail').provision({ agent: 'coder', model: 'm' }));
  expect(err.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(err.message).toContain('`provision coder m` exited 2');
  expect(err.message).toContain('deployments.apps is forbidden');
  expect(err.message.length).toBeLessThan(2500);
  expect(err.details).toMatchObject({ call: 'provision coder m', exitCode: 2 });
});

test('stdout that is not JSON, not the expected shape, or too long is NALAR_ERR_PROVISIONER_FAILED', async () => {
  const notJson = await nalarErrorOf(provisioner('bad-json').provision({ agent: 'coder', model: 'm' }));
  expect(notJson.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(notJson.message).toContain('not JSON');
  expect(notJson.message).toContain('deployment.apps/coder-0 created');
  const wrongShape = await nalarErrorOf(provisioner('wrong-shape').provision({ agent: 'coder', model: 'm' }));
  expect(wrongShape.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(wrongShape.message).toMatch(/id: .*string/);
  const listed = await nalarErrorOf(provisioner('wrong-shape').list());
  expect(listed.message).toContain('replicas');
  const chatty = await nalarErrorOf(provisioner('chatty').list());
  expect(chatty.message).toContain('more than');
  // kill needs no answer at all; any stdout is ignored.
  await provisioner('bad-json').kill('coder-0');
});

test('a call past its time limit is stopped (SIGTERM, then SIGKILL) and is NALAR_ERR_PROVISIONER_FAILED', async () => {
  const slow = await nalarErrorOf(provisioner('hang', { timeoutMs: 500 }).kill('coder-0'));
  expect(slow.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(slow.message).toContain('did not finish within 500 ms');
  const stubborn = await nalarErrorOf(provisioner('hang-hard', { timeoutMs: 500, killGraceMs: 200 }).kill('coder-0'));
  expect(stubborn.message).toContain('did not finish');
  expect(['SIGTERM', 'SIGKILL']).toContain(stubborn.details?.signal);
});

test('close stops the commands under way', async () => {
  const p = provisioner('hang');
  const pending = nalarErrorOf(p.reassign('coder-0', { agent: 'coder', model: 'm' }));
  // The command is running once it has recorded its call.
  await waitFor(
    () => {
      try {
        return calls().length === 1;
      } catch {
        return false;
      }
    },
    { what: 'the command to start' },
  );
  await p.close();
  const err = await pending;
  expect(err.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(err.message).toContain('SIGTERM');
});

test('a command that cannot be run, or a relative path, is a clear error', async () => {
  const missing = new CommandProvisioner({ command: path.join(dir, 'no-such-command') });
  const err = await nalarErrorOf(missing.list());
  expect(err.code).toBe(ErrorCode.PROVISIONER_FAILED);
  expect(err.message).toContain('cannot run NALAR_PROVISIONER_COMMAND');
  expect(err.message).toContain('ENOENT');
  expect(() => new CommandProvisioner({ command: './provision.sh' })).toThrow(/absolute path or a name on PATH/);
});
