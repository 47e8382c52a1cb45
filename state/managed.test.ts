import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ManagedList, ManagedMap } from './managed';
import { createFileSessionStore, SessionStoreError } from './session-store';

async function storeOptions(sessionId = 'session-1') {
  const store = createFileSessionStore(mkdtempSync(path.join(os.tmpdir(), 'nalar-managed-')));
  await store.waitUntilReady();
  return { store, sessionId };
}

async function storeError(p: Promise<unknown>): Promise<SessionStoreError> {
  const err = await p.then(
    () => {
      throw new Error('expected a state error');
    },
    (e: unknown) => e,
  );
  expect(SessionStoreError.is(err)).toBe(true);
  return err as SessionStoreError;
}

test('a map of JSON values with versions and keys, scoped to the session', async () => {
  const options = await storeOptions();
  const memory = new ManagedMap<{ topic: string }>('memory', options);
  expect(await memory.set('last', { topic: 'rates' })).toBe(1);
  expect(await memory.set('first', { topic: 'fx' })).toBe(1);
  expect(await memory.get('last')).toEqual({ topic: 'rates' });
  expect(await memory.keys()).toEqual(['first', 'last']);
  expect(await new ManagedMap('memory', { ...options, sessionId: 'other' }).keys()).toEqual([]);
  expect(await memory.delete('first')).toBe(true);
  expect(await memory.keys()).toEqual(['last']);
});

test('two writers of one key: compare-and-set gives the second a typed conflict', async () => {
  const options = await storeOptions();
  const map = new ManagedMap<number>('counter', options);
  const v1 = await map.set('n', 1);
  await map.set('n', 2, { expectedVersion: v1 });
  const err = await storeError(map.set('n', 3, { expectedVersion: v1 }));
  expect(err.code).toBe('NALAR_ERR_STATE_CONFLICT');
  expect(await map.get('n')).toBe(2);
});

test('a list appends and reads ranges', async () => {
  const options = await storeOptions();
  const turns = new ManagedList<string>('turns', options);
  for (const t of ['a', 'b', 'c']) await turns.append(t);
  expect(await turns.length()).toBe(3);
  expect(await turns.range(1)).toEqual(['b', 'c']);
});

test('no session, an unserialisable value or an oversized key is a clear error, never silent loss', async () => {
  const { store } = await storeOptions();
  expect((await storeError(new ManagedList('turns', { store }).append('x'))).message).toContain('no session id');
  const map = new ManagedMap<unknown>('memory', { store, sessionId: 's' });
  expect((await storeError(map.set('big', BigInt(1)))).message).toContain('cannot be serialised');
  expect((await storeError(map.set('fn', () => 1))).message).toContain('cannot be serialised');
  expect((await storeError(map.set('k'.repeat(600), 1))).code).toBe('NALAR_ERR_STATE_INVALID');
});

/** One attempt of activity `wf/1` of workflow run `run-1`, unless `info` says otherwise. */
function attempt(info: Partial<Info> = {}): MockActivityEnvironment {
  return new MockActivityEnvironment({
    activityId: 'wf/1',
    workflowExecution: { workflowId: 'wf', runId: 'run-1' },
    ...info,
  });
}

test('in an activity, a retry of the same run applies its writes once; another run writes anew', async () => {
  const options = await storeOptions();
  const turns = new ManagedList<string>('turns', options);
  const memory = new ManagedMap<string>('memory', options);
  const work = async (turn: string) => [await turns.append(turn), await memory.set('last', turn)];
  expect(await attempt({ attempt: 1 }).run(work, 'a')).toEqual([1, 1]);
  expect(await attempt({ attempt: 2 }).run(work, 'a')).toEqual([1, 1]);
  // Continue-as-new or a reused workflow id: same workflow and activity ids, another run id.
  const nextRun = { workflowExecution: { workflowId: 'wf', runId: 'run-2' } };
  expect(await attempt(nextRun).run(work, 'b')).toEqual([2, 2]);
  expect(await turns.range()).toEqual(['a', 'b']);
  expect(await memory.getVersioned('last')).toEqual({ value: 'b', version: 2 });
});

test('an activity started by a client, not a workflow, is told apart by its activity run id', async () => {
  const options = await storeOptions();
  const turns = new ManagedList<string>('turns', options);
  const standalone = (activityRunId: string) =>
    attempt({ workflowExecution: undefined, inWorkflow: false, activityId: 'import', activityRunId });
  expect(await standalone('activity-run-1').run(() => turns.append('a'))).toBe(1);
  expect(await standalone('activity-run-1').run(() => turns.append('a'))).toBe(1);
  expect(await standalone('activity-run-2').run(() => turns.append('b'))).toBe(2);
});

test('a workflow id of the longest length Temporal allows still gets a valid idempotency key', async () => {
  const options = await storeOptions();
  const id = 'w'.repeat(1000);
  const long = attempt({ activityId: `${id}/1`, workflowExecution: { workflowId: id, runId: 'run-1' } });
  expect(await long.run(() => new ManagedList<string>('turns', options).append('a'))).toBe(1);
});

test('a retry that writes another key than the first attempt did is applied; the same key is not', async () => {
  const options = await storeOptions();
  const memory = new ManagedMap<number>('memory', options);
  await attempt({ attempt: 1 }).run(() => memory.set('x', 1));
  await attempt({ attempt: 2 }).run(async () => [await memory.set('y', 2), await memory.set('x', 3)]);
  expect(await memory.get('y')).toBe(2);
  expect(await memory.get('x')).toBe(1); // the first attempt's write of x stands; the retry's is its replay
});

test('a compare-and-set loop that met a conflict in its first attempt is applied once by the retry', async () => {
  const options = await storeOptions();
  const counter = new ManagedMap<number>('counter', options);
  await counter.set('n', 0);
  const increment = async (interfere?: () => Promise<unknown>): Promise<number> => {
    for (;;) {
      const current = (await counter.getVersioned('n'))!;
      await interfere?.();
      interfere = undefined;
      try {
        return await counter.set('n', current.value + 1, { expectedVersion: current.version });
      } catch (err) {
        if (!SessionStoreError.hasCode(err, 'NALAR_ERR_STATE_CONFLICT')) throw err;
      }
    }
  };
  // Another writer changes n between the first attempt's read and its write: one conflict, then success.
  const otherWriter = () => options.store.put(options.sessionId, 'map:counter:n', '10');
  await attempt({ attempt: 1 }).run(increment, otherWriter);
  await attempt({ attempt: 2 }).run(increment);
  expect(await counter.get('n')).toBe(11);
});
