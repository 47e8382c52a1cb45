/**
 * The capacity manager's logic, driven through a real GlobalController's rounds, with an in-memory
 * provisioner whose changes finish when the test says (the real backends are tested over HTTP in
 * sim-provisioner.test.ts and test/capacity.int.test.ts).
 */
import { ManualClock } from '../../common/clock';
import { createLogger } from '../../common/log';
import { GlobalController } from '../global-controller/controller';
import type { Primitives, Snapshot } from '../policies/api';
import type { ReplicaLoad, Report } from '../protocol';
import { CapacityManager, type ManagedAgent } from './manager';
import type { ProvisionedReplica, Provisioner, ProvisionRequest } from './provisioner';

const t0 = 1_700_000_000_000;

interface Deferred {
  resolve(): void;
  reject(err: Error): void;
  promise: Promise<void>;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { resolve, reject, promise };
}

/** Replicas in memory; every load and drain waits for the test to finish it. */
class MemoryProvisioner implements Provisioner {
  readonly name = 'memory';
  readonly replicas = new Map<string, { model: string; state: ProvisionedReplica['state'] }>();
  readonly loads = new Map<string, Deferred>();
  readonly drains = new Map<string, Deferred>();
  readonly calls: string[] = [];
  private next = 0;

  constructor(initial: Record<string, string>) {
    for (const [id, model] of Object.entries(initial)) this.replicas.set(id, { model, state: 'serving' });
  }

  list(): Promise<ProvisionedReplica[]> {
    return Promise.resolve([...this.replicas].map(([id, r]) => ({ id, baseUrl: url(id), ...r })));
  }

  provision(request: ProvisionRequest): Promise<ProvisionedReplica> {
    const id = `new${this.next++}`;
    this.calls.push(`provision ${request.agent} ${request.model}`);
    this.replicas.set(id, { model: request.model, state: 'loading' });
    this.loads.set(id, deferred());
    return Promise.resolve({ id, baseUrl: url(id), model: request.model, state: 'loading' });
  }

  async whenServing(id: string): Promise<void> {
    await this.loads.get(id)?.promise;
    (this.replicas.get(id) as { state: string }).state = 'serving';
  }

  async kill(id: string): Promise<void> {
    this.calls.push(`kill ${id}`);
    const d = deferred();
    this.drains.set(id, d);
    await d.promise;
    this.replicas.delete(id);
  }

  async reassign(id: string, to: ProvisionRequest): Promise<void> {
    this.calls.push(`reassign ${id} ${to.agent} ${to.model}`);
    const d = deferred();
    this.drains.set(id, d);
    await d.promise;
    (this.replicas.get(id) as { model: string }).model = to.model;
  }

  finishLoad(id: string): void {
    (this.loads.get(id) as Deferred).resolve();
  }

  finishDrain(id: string): void {
    (this.drains.get(id) as Deferred).resolve();
  }
}

const url = (id: string) => `http://${id}/v1`;

const agents: ManagedAgent[] = [
  { agent: 'chat', model: 'm-chat', minInstances: 1, maxInstances: 3 },
  { agent: 'coder', model: 'm-coder', minInstances: 1, maxInstances: 3 },
];

/** Lets promise callbacks run. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

async function setup(
  initial: Record<string, string> = { c0: 'm-chat', c1: 'm-chat', k0: 'm-coder' },
  options: { releaseWaitsForCalls?: boolean } = {},
) {
  const clock = new ManualClock();
  let script: ((act: Primitives, s: Snapshot) => void) | undefined;
  const controller = new GlobalController({
    policies: [
      {
        name: 'script',
        params: undefined,
        policy: {
          name: 'script',
          decide: (s, act) => {
            const run = script;
            script = undefined;
            run?.(act, s);
          },
        },
      },
    ],
    periodMs: 250,
    clock,
    epochNow: () => t0 + clock.now(),
    log: createLogger('controller', 'error', () => {}),
  });
  const provisioner = new MemoryProvisioner(initial);
  const manager = await CapacityManager.start({
    provisioner,
    agents,
    view: controller.view,
    clock,
    epochNow: () => t0 + clock.now(),
    releaseTimeoutMs: 10_000,
    ...options,
    log: createLogger('capacity', 'error', () => {}),
  });
  controller.setCapacity(manager);
  let seq = 0;
  /** One round; `act` runs as the policy of that round. */
  const round = async (act?: (p: Primitives, s: Snapshot) => void) => {
    script = act;
    controller.runRound();
    await flush();
  };
  /** A worker's report: the decisions version it installed and its calls in flight per replica. */
  const report = (decisionsVersion: number, inFlight: Record<string, number> = {}, node = 'w1') => {
    const replicas: ReplicaLoad[] = Object.entries(inFlight).map(([replica, n]) => ({
      agent: 'chat',
      replica,
      inFlight: n,
      waiting: 0,
      limit: null,
      capacity: 4,
      healthy: true,
    }));
    const r: Report = {
      node,
      seq: seq++,
      decisionsVersion,
      taskQueues: ['nalar'],
      events: [],
      calls: [],
      waiting: [],
      replicas,
      at: t0 + clock.now(),
    };
    controller.submit(r);
  };
  return { clock, controller, provisioner, manager, round, report };
}

test('replicas are adopted by model, and the decisions list each managed agent’s serving replicas', async () => {
  const { controller, round } = await setup();
  await round();
  expect(controller.decisions.replicas).toEqual({ chat: [url('c0'), url('c1')], coder: [url('k0')] });
  expect(controller.view.capacity.get('coder')).toMatchObject({
    serving: [url('k0')],
    minInstances: 1,
    maxInstances: 3,
  });
});

test('an agent below minInstances at start is provisioned up to it', async () => {
  const { provisioner, controller, round } = await setup({ c0: 'm-chat' });
  expect(provisioner.calls).toEqual(['provision coder m-coder']);
  await round();
  expect(controller.decisions.replicas.coder).toEqual([]);
  provisioner.finishLoad('new0');
  await flush();
  await round();
  expect(controller.decisions.replicas.coder).toEqual([url('new0')]);
});

test('provision: the replica joins routing only once it serves, and maxInstances counts the ones under way', async () => {
  const { provisioner, controller, manager, round } = await setup();
  await round((act) => act.provision('coder'));
  await round((act) => act.provision('coder'));
  // chat has 2 of 3; coder had 1, asked for 2 more: a third ask is refused, not thrown.
  await round((act) => act.provision('coder'));
  expect(provisioner.calls).toEqual(['provision coder m-coder', 'provision coder m-coder']);
  expect(
    manager
      .status()
      .events.filter((e) => e.kind === 'refused')
      .map((e) => e.detail),
  ).toEqual(['provision: coder is at maxInstances 3']);
  expect(controller.view.capacity.get('coder')?.loading).toEqual([url('new0'), url('new1')]);
  expect(controller.decisions.replicas.coder).toEqual([url('k0')]);
  provisioner.finishLoad('new0');
  await flush();
  await round();
  expect(controller.decisions.replicas.coder).toEqual([url('k0'), url('new0')]);
});

test('kill: out of routing at once, drained only when every node has let go of it, then gone', async () => {
  const { provisioner, controller, round, report } = await setup();
  report(0, { [url('c0')]: 1 }, 'w1');
  report(0, {}, 'w2');
  await round((act) => act.kill(url('c0')));
  const without = controller.decisions.version;
  expect(controller.decisions.replicas.chat).toEqual([url('c1')]);
  expect(controller.view.capacity.get('chat')?.draining).toEqual([url('c0')]);
  // w1 took the new decisions but still runs a call on c0; w2 has not taken them yet.
  report(without, { [url('c0')]: 1 }, 'w1');
  await round();
  expect(provisioner.calls).not.toContain('kill c0');
  report(without, {}, 'w1');
  report(without, {}, 'w2');
  await round();
  expect(provisioner.calls).toContain('kill c0');
  provisioner.finishDrain('c0');
  await flush();
  await round();
  expect(controller.view.capacity.get('chat')).toMatchObject({ serving: [url('c1')], draining: [] });
  expect(provisioner.replicas.has('c0')).toBe(false);
});

test('kill and reassign never take an agent below minInstances; a replica already changing is refused', async () => {
  const { provisioner, manager, round } = await setup();
  await round((act) => {
    act.kill(url('k0'));
    act.reassign(url('k0'), 'chat');
  });
  await round((act) => {
    act.kill(url('c0'));
    act.kill(url('c0'));
    act.kill(url('c1'));
  });
  expect(
    manager
      .status()
      .events.filter((e) => e.kind === 'refused')
      .map((e) => e.detail),
  ).toEqual([
    'kill: coder is at minInstances 1',
    'reassign: coder is at minInstances 1',
    `kill: ${url('c0')} is releasing, not serving`,
    'kill: chat is at minInstances 1',
  ]);
  // No worker holds c0 (none reports), so its drain starts at once; nothing else was asked of the backend.
  expect(provisioner.calls).toEqual(['kill c0']);
});

test('reassign: the replica drains from one agent, loads the other’s model, then serves it', async () => {
  const { provisioner, controller, round, report } = await setup();
  await round((act) => act.reassign(url('c1'), 'coder'));
  expect(controller.decisions.replicas).toEqual({ chat: [url('c0')], coder: [url('k0')] });
  expect(controller.view.capacity.get('coder')?.loading).toHaveLength(1);
  report(controller.decisions.version);
  await round();
  expect(provisioner.calls).toEqual(['reassign c1 coder m-coder']);
  provisioner.finishDrain('c1');
  await flush();
  await round();
  expect(controller.decisions.replicas.chat).toEqual([url('c0')]);
  expect([...(controller.decisions.replicas.coder ?? [])].sort()).toEqual([url('c1'), url('k0')]);
  expect(controller.view.capacity.get('coder')).toMatchObject({ loading: [], draining: [] });
});

test('releaseWaitsForCalls false: drained once every node routes without the replica, its calls in flight or not', async () => {
  const { provisioner, controller, round, report } = await setup(undefined, { releaseWaitsForCalls: false });
  report(0, { [url('c0')]: 1 }, 'w1');
  report(0, {}, 'w2');
  await round((act) => act.reassign(url('c0'), 'coder'));
  const without = controller.decisions.version;
  // w1 runs a call on c0 under the new decisions; w2 has not taken them yet: not yet.
  report(without, { [url('c0')]: 1 }, 'w1');
  await round();
  expect(provisioner.calls).toEqual([]);
  // Both route without it: the provisioner drains it now, w1's call still in flight (its drain answers it).
  report(without, { [url('c0')]: 1 }, 'w2');
  await round();
  expect(provisioner.calls).toEqual(['reassign c0 coder m-coder']);
});

test('a node that never lets go is waited for releaseTimeoutMs, then the provisioner drains the replica anyway', async () => {
  const { provisioner, controller, clock, round, report } = await setup();
  report(0, { [url('c0')]: 1 });
  await round((act) => act.kill(url('c0')));
  report(controller.decisions.version, { [url('c0')]: 1 });
  await round();
  expect(provisioner.calls).toEqual([]);
  clock.advance(10_000);
  report(controller.decisions.version, { [url('c0')]: 1 });
  await round();
  expect(provisioner.calls).toEqual(['kill c0']);
});

test('reassignAll restores a split past the bounds, and quiet says when every change is done', async () => {
  const { provisioner, controller, manager, round } = await setup({ c0: 'm-chat', k0: 'm-coder', k1: 'm-coder' });
  expect(manager.quiet).toBe(true);
  manager.reassignAll({ [url('c0')]: 'coder', [url('k0')]: 'chat', [url('k1')]: 'coder' });
  expect(manager.quiet).toBe(false);
  await round();
  expect(provisioner.calls.sort()).toEqual(['reassign c0 coder m-coder', 'reassign k0 chat m-chat']);
  provisioner.finishDrain('c0');
  provisioner.finishDrain('k0');
  await flush();
  await round();
  expect(manager.quiet).toBe(true);
  expect(controller.decisions.replicas.chat).toEqual([url('k0')]);
});
