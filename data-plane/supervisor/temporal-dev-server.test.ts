import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  devServerArgs,
  devServerDynamicConfig,
  devServerHistoryQueueConfig,
  devServerSqlitePragmas,
} from './temporal-dev-server';

const options = { bin: 'temporal', address: '127.0.0.1:7233', namespace: 'default', dataDir: '/data' };

test('binds gRPC and Web UI to the configured host and keeps state in the data folder', () => {
  const args = devServerArgs({ ...options, uiPort: 8233 });
  expect(args.slice(0, 6)).toEqual(['server', 'start-dev', '--ip', '127.0.0.1', '--port', '7233']);
  expect(args.join(' ')).toContain('--db-filename /data/temporal.db --ui-ip 127.0.0.1 --ui-port 8233');
  expect(args).not.toContain('--headless');
});

test('points the Web UI at the codec server when one is given', () => {
  const args = devServerArgs({ ...options, uiPort: 8233, uiCodecEndpoint: 'http://127.0.0.1:8234' });
  expect(args.join(' ')).toContain('--ui-codec-endpoint http://127.0.0.1:8234');
  expect(devServerArgs({ ...options, uiPort: 8233 })).not.toContain('--ui-codec-endpoint');
  // Headless there is no UI to point anywhere (the flag would be ignored).
  expect(devServerArgs({ ...options, uiCodecEndpoint: 'http://127.0.0.1:8234' })).not.toContain('--ui-codec-endpoint');
});

test('runs headless without a UI port and creates a non-default namespace', () => {
  const args = devServerArgs({ ...options, namespace: 'agents' });
  expect(args).toContain('--headless');
  expect(args.join(' ')).toContain('--namespace agents');
});

test('always turns on priority and fairness', () => {
  const args = devServerArgs(options).join(' ');
  for (const kv of devServerDynamicConfig) expect(args).toContain(`--dynamic-config-value ${kv}`);
  expect(devServerDynamicConfig).toEqual(
    expect.arrayContaining(['matching.useNewMatcher=true', 'matching.enableFairness=true']),
  );
});

test("takes the history queue readers' per-step floor off: dispatch and timer limits, timers not pushed 1 s out", () => {
  const args = devServerArgs(options);
  const values = args.flatMap((a, i) => (args[i - 1] === '--dynamic-config-value' ? [a] : []));
  const value = (key: string) => values.find((kv) => kv.startsWith(`${key}=`))?.slice(key.length + 1);
  // Temporal's default is 20 loads a second per shard, and the dev server has one shard.
  expect(Number(value('history.transferProcessorMaxPollRPS'))).toBeGreaterThanOrEqual(1000);
  expect(Number(value('history.timerProcessorMaxPollRPS'))).toBeGreaterThanOrEqual(1000);
  // A JSON string (the CLI parses every value as JSON): Temporal's default is 1 s.
  expect(value('history.timerProcessorMaxTimeShift')).toBe('"10ms"');
  expect(devServerDynamicConfig).toEqual(expect.arrayContaining([...devServerHistoryQueueConfig]));
});

test('keeps SQLite in WAL mode, synced at checkpoints rather than at every commit', () => {
  const args = devServerArgs(options).join(' ');
  expect(args).toContain('--sqlite-pragma journal_mode=wal');
  expect(args).toContain('--sqlite-pragma synchronous=normal');
  expect(devServerArgs({ ...options, sqlitePragmas: [] })).not.toContain('--sqlite-pragma');
});

test('a benchmark can start it with other dynamic config (Temporal defaults for a before/after comparison)', () => {
  const args = devServerArgs({ ...options, dynamicConfig: ['matching.enableFairness=true'] }).join(' ');
  expect(args).toContain('--dynamic-config-value matching.enableFairness=true');
  expect(args).not.toContain('history.transferProcessorMaxPollRPS');
});

test('docker-compose.yml starts the dev server with the same dynamic config', () => {
  const compose = readFileSync(path.resolve(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
  for (const kv of devServerDynamicConfig) expect(compose).toContain(`--dynamic-config-value=${kv}`);
  for (const p of devServerSqlitePragmas) expect(compose).toContain(`--sqlite-pragma=${p}`);
});

test('docker-compose.yml runs the codec server and points the Web UI at it, as npm start does', () => {
  const root = path.resolve(__dirname, '..', '..');
  const compose = readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
  expect(compose).toContain('--ui-codec-endpoint=http://127.0.0.1:8234');
  expect(compose).toMatch(/^ {2}codec:\n(?: {4}.*\n|\n)*? {4}command: .*data-plane\/codec-server\/main\.ts/m);
  expect(existsSync(path.join(root, 'data-plane', 'codec-server', 'main.ts'))).toBe(true);
  // It binds loopback (host network) rather than 0.0.0.0 without a token, which the codec server refuses.
  expect(compose).toContain('NALAR_CODEC_HOST: 127.0.0.1');
});
