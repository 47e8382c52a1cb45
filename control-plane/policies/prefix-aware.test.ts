import { prefixAware } from './prefix-aware';
import { runPolicy, SnapshotBuilder } from './testing';

describe('prefix-aware', () => {
  test('a session goes to the replica that holds its prefix; one with no holder is left to load balancing', () => {
    const snapshot = new SnapshotBuilder()
      .replica('c1', { agent: 'chat', capacity: 4, residentPrefixes: ['sys-a'] })
      .replica('c2', { agent: 'chat', capacity: 4, residentPrefixes: ['sys-b'] })
      .session('s1', { prefixHash: 'sys-b' })
      .session('s2', { prefixHash: 'sys-z' })
      .session('s3')
      .build();
    const act = runPolicy(prefixAware.create({}), snapshot);
    expect(act.replicaOf('s1', 'chat')).toBe('c2');
    expect(act.replicaOf('s2', 'chat')).toBeUndefined();
    expect(act.replicaOf('s3', 'chat')).toBeUndefined();
  });

  test('an overloaded or unhealthy holder is skipped for another holder, or for load balancing', () => {
    const snapshot = new SnapshotBuilder()
      .replica('full', { agent: 'chat', capacity: 2, inFlight: 2, waiting: 1, residentPrefixes: ['p'] })
      .replica('down', { agent: 'chat', capacity: 2, healthy: false, residentPrefixes: ['p', 'q'] })
      .replica('ok', { agent: 'chat', capacity: 2, inFlight: 1, residentPrefixes: ['p'] })
      .session('s1', { prefixHash: 'p' })
      .session('s2', { prefixHash: 'q' })
      .build();
    const act = runPolicy(prefixAware.create({}), snapshot);
    expect(act.replicaOf('s1', 'chat')).toBe('ok');
    expect(act.replicaOf('s2', 'chat')).toBeUndefined();
  });

  test('maxUtilization: how full a holder may be and still get its sessions (waiting for its cache can pay)', () => {
    const snapshot = new SnapshotBuilder()
      .replica('holder', { agent: 'chat', capacity: 2, inFlight: 2, residentPrefixes: ['p'] })
      .replica('other', { agent: 'chat', capacity: 2 })
      .session('s1', { prefixHash: 'p' })
      .build();
    expect(runPolicy(prefixAware.create({}), snapshot).replicaOf('s1', 'chat')).toBeUndefined();
    const lenient = runPolicy(prefixAware.create({ maxUtilization: 1.5 }), snapshot);
    expect(lenient.replicaOf('s1', 'chat')).toBe('holder');
  });

  test('the replica that served the session itself wins over one holding only the shared prefix', () => {
    const snapshot = new SnapshotBuilder()
      .replica('mine', { agent: 'chat', capacity: 4, inFlight: 2, residentSessions: ['s1'], residentPrefixes: ['p'] })
      .replica('shared', { agent: 'chat', capacity: 4, residentPrefixes: ['p'] })
      .replica('coder', { agent: 'coder', capacity: 4, residentPrefixes: ['p'] })
      .session('s1', { prefixHash: 'p' })
      .session('s2', { prefixHash: 'p' })
      .build();
    const act = runPolicy(prefixAware.create({}), snapshot);
    expect(act.replicaOf('s1', 'chat')).toBe('mine');
    expect(act.replicaOf('s2', 'chat')).toBe('shared'); // among prefix holders, the least loaded
    expect(act.replicaOf('s1', 'coder')).toBe('coder'); // and per agent
  });

  test('bad params are CONFIG_INVALID naming the field', () => {
    expect(() => prefixAware.create({ maxUtilization: -1 })).toThrow(/policy 'prefix-aware': params\.maxUtilization/);
  });
});
