import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configDefaults, describeSettings, formatDefault, loadConfig, settings } from './config';
import { ErrorCode, hasErrorCode } from './errors';
import { settingsTable, settingsTableIn } from './settings-table';

const cwd = '/srv/nalar';

function configError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (hasErrorCode(err, ErrorCode.CONFIG_INVALID)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a configuration error');
}

test('defaults bind to loopback and use Temporal ports', () => {
  const config = loadConfig({ env: {}, cwd });
  expect(config.temporalAddress).toBe('127.0.0.1:7233');
  expect(config.devServerUiPort).toBe(8233);
  expect(config.devServer).toBe(true);
  expect(config.taskQueue).toBe('nalar');
  expect(config.shutdownGrace).toBe(10_000);
  expect(config.dataDir).toBe('/srv/nalar/.nalar/data');
  expect(config.temporalBin).toBeUndefined();
});

test('agents call the embedded simulator wherever NALAR_SIM_PORT puts it, unless told otherwise', () => {
  expect(loadConfig({ env: {}, cwd }).llmBaseUrl).toBe('http://127.0.0.1:8100/v1');
  expect(loadConfig({ env: { NALAR_SIM_PORT: '9100' }, cwd }).llmBaseUrl).toBe('http://127.0.0.1:9100/v1');
  const explicit = { NALAR_SIM_PORT: '9100', NALAR_LLM_BASE_URL: 'http://10.1.2.3:8000/v1' };
  expect(loadConfig({ env: explicit, cwd }).llmBaseUrl).toBe('http://10.1.2.3:8000/v1');
});

test('environment variables are parsed into typed values', () => {
  const config = loadConfig({
    env: {
      TEMPORAL_ADDRESS: '127.0.0.1:9000',
      NALAR_DEV_SERVER: 'false',
      NALAR_WORKERS: '3',
      NALAR_SHUTDOWN_GRACE: '2 seconds',
      NALAR_DATA_DIR: '/var/lib/nalar',
    },
    cwd,
  });
  expect(config).toMatchObject({
    temporalAddress: '127.0.0.1:9000',
    devServer: false,
    workers: 3,
    shutdownGrace: 2000,
    dataDir: '/var/lib/nalar',
  });
});

test('precedence is option, then environment, then config file, then default', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-config-'));
  const file = path.join(dir, 'nalar.json');
  writeFileSync(file, JSON.stringify({ taskQueue: 'from-file', workers: 4, logLevel: 'debug' }));
  const env = { NALAR_CONFIG_FILE: file, NALAR_WORKERS: '2', NALAR_TASK_QUEUE: 'from-env' };
  const config = loadConfig({ env, cwd, overrides: { taskQueue: 'from-option' } });
  expect(config.taskQueue).toBe('from-option');
  expect(config.workers).toBe(2);
  expect(config.logLevel).toBe('debug');
  expect(config.readinessTimeout).toBe(60_000);
});

test('one error names every bad variable and its value', () => {
  const err = configError(() =>
    loadConfig({
      env: {
        NALAR_WORKERS: 'many',
        TEMPORAL_ADDRESS: 'localhost',
        NALAR_SHUTDOWN_GRACE: 'soon',
        NALAR_DEV_SERVER: 'y',
      },
      cwd,
    }),
  );
  expect(err.message).toContain('NALAR_WORKERS="many"');
  expect(err.message).toContain('TEMPORAL_ADDRESS="localhost"');
  expect(err.message).toContain("expected 'host:port'");
  expect(err.message).toContain('NALAR_SHUTDOWN_GRACE="soon"');
  expect(err.message).toContain('NALAR_DEV_SERVER="y"');
});

test("the worker scaler's bounds hold the start count", () => {
  expect(loadConfig({ env: {}, cwd })).toMatchObject({ workers: 1, workersMin: 1, workersMax: 4 });
  expect(configError(() => loadConfig({ env: { NALAR_WORKERS: '5' }, cwd })).message).toContain(
    'NALAR_WORKERS=5 is outside NALAR_WORKERS_MIN..NALAR_WORKERS_MAX (1..4)',
  );
  expect(
    configError(() => loadConfig({ env: { NALAR_WORKERS_MIN: '3', NALAR_WORKERS_MAX: '2' }, cwd })).message,
  ).toContain('NALAR_WORKERS_MIN=3 is above NALAR_WORKERS_MAX=2');
  expect(
    loadConfig({ env: { NALAR_WORKERS: '8', NALAR_WORKERS_MAX: '8', NALAR_WORKERS_MIN: '0' }, cwd }),
  ).toMatchObject({
    workers: 8,
    workersMin: 0,
  });
});

test('a config file with an unknown key or bad JSON is rejected with its path', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nalar-config-'));
  const unknownKey = path.join(dir, 'unknown.json');
  writeFileSync(unknownKey, JSON.stringify({ taskQeue: 'typo' }));
  expect(configError(() => loadConfig({ env: { NALAR_CONFIG_FILE: unknownKey }, cwd })).message).toContain(
    'unknown setting(s) taskQeue',
  );
  const badJson = path.join(dir, 'bad.json');
  writeFileSync(badJson, '{ not json');
  expect(configError(() => loadConfig({ env: { NALAR_CONFIG_FILE: badJson }, cwd })).message).toContain(badJson);
});

test('the README configuration table is the one generated from the settings', () => {
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const inReadme = settingsTableIn(readme).split('\n');
  const generated = settingsTable().split('\n');
  const line = generated.findIndex((l, i) => l !== inReadme[i]);
  if (line >= 0 || inReadme.length !== generated.length) {
    const at = line >= 0 ? line : generated.length;
    throw new Error(
      `README.md's configuration table differs from common/config.ts: run \`npm run docs\`.\n` +
        `  first difference, row ${at + 1}:\n  README:    ${inReadme[at] ?? '(none)'}\n  generated: ${generated[at] ?? '(none)'}`,
    );
  }
  expect(generated.length).toBe(Object.keys(settings).length + 2);
});

test('defaults are shown as written: JSON for objects, durations as strings, unset for none', () => {
  expect(formatDefault(settings.agentModels.default)).toBe('{}');
  expect(formatDefault(settings.llmTimeout.default)).toBe('2 minutes');
  expect(formatDefault(settings.temporalBin.default)).toBe('unset');
  const table = settingsTable();
  expect(table).toMatch(/^\| `NALAR_AGENT_MODELS` +\| `\{\}` +\|/m);
  expect(table).toMatch(/^\| `NALAR_TEMPORAL_BIN` +\| unset +\|/m);
});

test('--help lists every setting with its default as the README shows it', () => {
  const help = describeSettings().split('\n');
  expect(help).toHaveLength(Object.keys(settings).length);
  for (const s of Object.values(settings)) {
    const line = help.find((l) => l.trimStart().startsWith(`${s.env} `));
    expect(line).toContain(`${s.doc} (default: ${formatDefault(s.default)})`);
  }
  expect(help.join('\n')).not.toContain('[object Object]');
  expect(help.find((l) => l.trimStart().startsWith('NALAR_AGENT_MODELS '))).toMatch(/\(default: \{\}\)$/);
});

test('configDefaults holds each setting default as written, and loading nothing yields them', () => {
  for (const [name, s] of Object.entries(settings)) {
    expect([name, configDefaults[name as keyof typeof configDefaults]]).toEqual([name, s.default]);
  }
  const config = loadConfig({ env: {}, cwd });
  expect(config.postgresUrl).toBe(configDefaults.postgresUrl);
  expect(config.redisUrl).toBe(configDefaults.redisUrl);
  expect(config.dataDir).toBe(path.resolve(cwd, configDefaults.dataDir));
});

test("TSDoc that restates a setting's default (`@default <VAR>'s default (<value>)`) states the current one", () => {
  const root = path.join(__dirname, '..');
  const byEnv = new Map(Object.values(settings).map((s) => [s.env, formatDefault(s.default)]));
  const sources = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
    .flatMap((d) =>
      readdirSync(path.join(root, d.name), { recursive: true, encoding: 'utf8' }).map((f) => path.join(d.name, f)),
    )
    .filter((f) => f.endsWith('.ts'));
  const stale: string[] = [];
  let restated = 0;
  for (const file of sources) {
    const text = readFileSync(path.join(root, file), 'utf8');
    for (const m of text.matchAll(/@default ([A-Z][A-Z0-9_]+)'s default \(([^)]*)\)/g)) {
      restated++;
      const [, env = '', shown = ''] = m;
      const current = byEnv.get(env);
      if (current === undefined || !(shown === current || shown.startsWith(`${current},`))) {
        stale.push(
          `${file}: ${env}'s default (${shown}); ${env} ${current === undefined ? 'is no setting' : `defaults to ${current}`}`,
        );
      }
    }
  }
  expect(stale).toEqual([]);
  expect(restated).toBeGreaterThanOrEqual(5);
});
