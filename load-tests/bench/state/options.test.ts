import { defaultStateBenchOptions, parseStateBenchOptions, stateBenchUsage } from './options';

test('no flags: the defaults, every part and all six store variants', () => {
  expect(parseStateBenchOptions([])).toEqual(defaultStateBenchOptions);
  expect(defaultStateBenchOptions.parts).toEqual(['ops', 'history']);
  expect(defaultStateBenchOptions.backends).toEqual([
    'filesystem',
    'redis',
    'postgres',
    'filesystem+cache',
    'redis+cache',
    'postgres+cache',
  ]);
});

test('every flag of --help sets its option', () => {
  const o = parseStateBenchOptions(
    ['--backends', 'redis,postgres+cache', '--calls', '200', '--warmup', '0', '--sessions', '7', '--seed', '1']
      .concat(['--steps', '10', '--sizes', '10,1024', '--offload-bytes', '2048', '--parts', 'history'])
      .concat(['--schedule', 'interleaved', '--redis-url', 'redis://r', '--postgres-url', 'postgres://p']),
  );
  expect(o).toEqual({
    backends: ['redis', 'postgres+cache'],
    calls: 200,
    warmup: 0,
    sessions: 7,
    seed: 1,
    steps: 10,
    sizesKiB: [10, 1024],
    offloadBytes: 2048,
    parts: ['history'],
    schedule: 'interleaved',
    redisUrl: 'redis://r',
    postgresUrl: 'postgres://p',
  });
  for (const flag of ['--backends', '--calls', '--steps', '--sizes', '--parts', '--schedule', '--offload-bytes']) {
    expect(stateBenchUsage).toContain(flag);
  }
});

test.each([
  [['--backends', 'mysql'], "unknown backend 'mysql'"],
  [['--calls', '0'], '--calls needs a whole number >= 1'],
  [['--sizes', '10,x'], '--sizes: x is not a positive whole number'],
  [['--parts', 'ops,load'], "unknown part 'load'"],
  [['--schedule', 'random'], 'neither sequential nor interleaved'],
  [['--steps'], '--steps needs a value'],
  [['--verbose', '1'], 'unknown option --verbose'],
])('%j is refused: %s', (args, message) => {
  expect(() => parseStateBenchOptions(args)).toThrow(message);
});
