import { hasErrorCode, ErrorCode } from '../../common/errors';
import {
  codeRunOptions,
  configureCodeRun,
  resetCodeRunOptions,
  runCode,
  setCodeRunSleep,
  simulatedLatencyMs,
  type RunCodeInput,
} from './code-run';
import { waitFor } from '../../test/helpers/wait-for';
import { expectInvalidInput } from './test-helpers';

const savedTimeScale = process.env.NALAR_TOOL_TIME_SCALE;

beforeEach(() => {
  delete process.env.NALAR_TOOL_TIME_SCALE;
  resetCodeRunOptions();
  // Unit tests check behaviour, not the simulated latency; the latency tests turn it back on.
  configureCodeRun({ timeScale: 0 });
});

afterAll(() => {
  resetCodeRunOptions();
  if (savedTimeScale === undefined) delete process.env.NALAR_TOOL_TIME_SCALE;
  else process.env.NALAR_TOOL_TIME_SCALE = savedTimeScale;
});

const add = 'function add(a, b) { return a + b; }';

describe('runCode', () => {
  test('passes when the code runs and every test is truthy', async () => {
    const result = await runCode({ code: add, tests: ['add(1, 2) === 3', 'add("a", "b") === "ab"'] });
    expect(result).toEqual({
      passed: true,
      results: [
        { test: 'add(1, 2) === 3', passed: true },
        { test: 'add("a", "b") === "ab"', passed: true },
      ],
      output: '',
      durationMs: expect.any(Number),
    });
    expect(result.error).toBeUndefined();
  });

  test('a falsy test fails and says what it returned', async () => {
    const result = await runCode({ code: add, tests: ['add(1, 2) === 3', 'add(1, 1) === 3', 'add(0, 0)', '""'] });
    expect(result.passed).toBe(false);
    expect(result.results.map((r) => [r.passed, r.error])).toEqual([
      [true, undefined],
      [false, 'returned false'],
      [false, 'returned 0'],
      [false, 'returned ""'],
    ]);
  });

  test('code without tests passes when it runs', async () => {
    expect(await runCode({ code: 'const x = 1;' })).toMatchObject({ passed: true, results: [] });
  });

  test('a thrown error is captured in the result, in the code or in a test', async () => {
    const inTest = await runCode({
      code: `${add}\nfunction fail() { throw new RangeError('bad range'); }`,
      tests: ['fail()', 'missing()', 'add(2, 2) === 4'],
    });
    expect(inTest.passed).toBe(false);
    expect(inTest.results.map((r) => r.error)).toEqual([
      'RangeError: bad range',
      'ReferenceError: missing is not defined',
      undefined,
    ]);

    const inCode = await runCode({ code: 'throw new Error("boom")', tests: ['true'] });
    expect(inCode).toMatchObject({
      passed: false,
      error: 'Error: boom',
      results: [{ test: 'true', passed: false, error: 'not run: the code failed (Error: boom)' }],
    });
    expect((await runCode({ code: 'throw "plain string"' })).error).toBe('Uncaught plain string');
    expect((await runCode({ code: 'throw { code: 42 }' })).error).toBe('Uncaught {"code":42}');
  });

  test('a syntax error is a failed result', async () => {
    const result = await runCode({ code: 'function (', tests: ['true'] });
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(/^SyntaxError: /);
    const badTest = await runCode({ code: add, tests: ['add(1,'] });
    expect(badTest.results[0]?.error).toMatch(/^SyntaxError: /);
  });

  test('an infinite loop times out within the limit, in the code or in a test', async () => {
    const result = await runCode({ code: 'while (true) {}', tests: ['true'], timeoutMs: 100 });
    expect(result).toMatchObject({ passed: false, error: 'timed out after 100 ms' });
    // The loop ran its whole limit before it was stopped (a slow machine can only make this longer).
    expect(result.durationMs).toBeGreaterThanOrEqual(90);

    const inTest = await runCode({ code: add, tests: ['(() => { for (;;) {} })()', 'add(1, 1) === 2'], timeoutMs: 50 });
    expect(inTest.results).toEqual([
      { test: '(() => { for (;;) {} })()', passed: false, error: 'timed out after 50 ms' },
      { test: 'add(1, 1) === 2', passed: true },
    ]);
  });

  test('a promise job that never ends is stopped too, and later tests are not run', async () => {
    const result = await runCode({
      code: `${add}\nfunction spin() { Promise.resolve().then(() => { for (;;) {} }); return true; }`,
      tests: ['add(1, 1) === 2', 'spin()', 'add(2, 2) === 4'],
      timeoutMs: 100,
    });
    expect(result.results).toEqual([
      { test: 'add(1, 1) === 2', passed: true },
      { test: 'spin()', passed: false, error: 'timed out after 100 ms' },
      { test: 'add(2, 2) === 4', passed: false, error: 'not run: test 2 timed out after 100 ms' },
    ]);
    const inCode = await runCode({
      code: 'Promise.resolve().then(() => { for (;;) {} })',
      tests: ['true'],
      timeoutMs: 100,
    });
    expect(inCode).toMatchObject({ passed: false, error: 'timed out after 100 ms' });
    expect(inCode.results[0]?.error).toBe('not run: the code failed (timed out after 100 ms)');
  });

  test('promise jobs of a step run before the next step', async () => {
    const result = await runCode({
      code: 'let done = false; (async () => { await null; console.log("job ran"); done = true; })();',
      tests: ['done'],
    });
    expect(result).toMatchObject({ passed: true, output: 'job ran' });
  });

  test('an unhandled promise rejection is reported in the output, not a crash', async () => {
    const result = await runCode({ code: 'Promise.reject(new Error("lost")); console.log("after")', tests: ['true'] });
    expect(result.passed).toBe(true);
    expect(result.output).toBe('after\nUnhandled promise rejection: Error: lost');
  });

  test('running out of memory is a failed result', async () => {
    const result = await runCode({
      code: 'const keep = []; for (;;) keep.push(new Array(100000).fill(1.5));',
      tests: ['true'],
      timeoutMs: 10_000,
    });
    expect(result.passed).toBe(false);
    expect(result.error).toMatch(/^ran out of memory/);
  });

  test('the calling thread stays responsive while code runs', async () => {
    // Code that never ends by itself: were it run on this thread, no timer here could fire before its limit.
    let finished = false;
    const run = runCode({ code: 'while (true) {}', timeoutMs: 3000 });
    const finish = () => void (finished = true);
    run.then(finish, finish);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      await waitFor(() => ticks >= 5 || finished, { what: 'five ticks of a timer on the calling thread' });
      expect(finished).toBe(false);
    } finally {
      clearInterval(ticker);
    }
    expect((await run).error).toBe('timed out after 3000 ms');
  });

  test('a test that returns a Promise fails: tests are synchronous', async () => {
    const result = await runCode({ code: 'async function f() { return true; }', tests: ['f()'] });
    expect(result.results[0]).toEqual({ test: 'f()', passed: false, error: expect.stringMatching(/Promise/) });
  });

  test('has no access to require, process or the host through prototypes', async () => {
    const result = await runCode({
      code: 'console.log("x")',
      tests: [
        'typeof require === "undefined"',
        'typeof process === "undefined"',
        'typeof setTimeout === "undefined"',
        'typeof module === "undefined" && typeof globalThis.global === "undefined"',
        'console.log.constructor.constructor("return typeof process")() === "undefined"',
        'console.constructor.constructor("return this")().process === undefined',
      ],
    });
    expect(result.results.filter((r) => !r.passed)).toEqual([]);
    const direct = await runCode({ code: 'require("node:fs")' });
    expect(direct.error).toBe('ReferenceError: require is not defined');
    expect((await runCode({ code: 'process.exit(1)' })).error).toBe('ReferenceError: process is not defined');
  });

  test('every call gets a fresh context', async () => {
    await runCode({ code: 'globalThis.leak = 1; var alsoLeak = 2;' });
    const result = await runCode({
      code: '',
      tests: ['typeof leak === "undefined" && typeof alsoLeak === "undefined"'],
    });
    expect(result.passed).toBe(true);
  });

  test('top-level declarations of the code are visible to the tests', async () => {
    const result = await runCode({
      code: 'let a = 1; const b = 2; class Box { constructor(v) { this.v = v; } } var c = 3;',
      tests: ['a + b + c === 6', 'new Box(5).v === 5', '{ ok: true }.ok // a trailing comment'],
    });
    expect(result.results.filter((r) => !r.passed)).toEqual([]);
  });

  test('captures console output, one line per call', async () => {
    const result = await runCode({
      code: 'console.log("hello", 42, { a: [1, 2] }); console.error("oops"); console.log(null, undefined, 5n, () => 1)',
      tests: ['console.log("from a test") === undefined'],
    });
    expect(result.output).toBe('hello 42 {"a":[1,2]}\noops\nnull undefined 5n [Function: (anonymous)]\nfrom a test');
  });

  test('output is capped', async () => {
    const result = await runCode({ code: 'for (let i = 0; i < 10000; i++) console.log("x".repeat(100))' });
    expect(result.output.length).toBeLessThan(70 * 1024);
    expect(result.output).toMatch(/output truncated at 65536 characters\)$/);
  });

  test('a hostile thrown value cannot hang the worker', async () => {
    const result = await runCode({ code: 'throw { toJSON() { for (;;) {} } }', timeoutMs: 100 });
    expect(result.error).toBe('timed out after 100 ms');
    const unprintable = await runCode({ code: 'throw { toJSON() { throw 1; }, toString() { throw 2; } }' });
    expect(unprintable.error).toBe('Uncaught value that cannot be shown');
  });

  test('rejects invalid input with NALAR_ERR_INVALID_INPUT naming the field', async () => {
    const run = (input: unknown): Promise<unknown> => runCode(input as RunCodeInput);
    await expectInvalidInput(run({}), 'code', 'is required');
    await expectInvalidInput(run({ code: 1 }), 'code', 'must be a string');
    await expectInvalidInput(run({ code: 'x'.repeat(100_001) }), 'code');
    await expectInvalidInput(run({ code: '', tests: 'true' }), 'tests');
    await expectInvalidInput(run({ code: '', tests: ['true', ' '] }), 'tests[1]', 'must not be empty');
    await expectInvalidInput(run({ code: '', tests: Array.from({ length: 51 }, () => 'true') }), 'tests');
    await expectInvalidInput(run({ code: '', timeoutMs: 0 }), 'timeoutMs');
    await expectInvalidInput(run({ code: '', timeoutMs: 10_001 }), 'timeoutMs', 'at most 10000');
    await expectInvalidInput(run({ code: '', timeout: 5 }), 'timeout');
  });
});

describe('simulated test-suite latency', () => {
  const options = { latencyMedianMs: 200, latencySigma: 0.5, timeScale: 1 };

  test('the defaults are median 200 ms, sigma 0.5, time scale 1', () => {
    resetCodeRunOptions();
    expect(codeRunOptions()).toEqual(options);
  });

  test('the same code always takes the same time; other code takes another', () => {
    expect(simulatedLatencyMs(add, options)).toBe(simulatedLatencyMs(add, options));
    expect(simulatedLatencyMs(add, options)).not.toBe(simulatedLatencyMs(`${add} `, options));
  });

  test('is lognormal around the median', () => {
    const samples = Array.from({ length: 2000 }, (_, i) => simulatedLatencyMs(`code ${i}`, options)).sort(
      (a, b) => a - b,
    );
    const median = samples[1000] ?? 0;
    expect(median).toBeGreaterThan(180);
    expect(median).toBeLessThan(220);
    const logs = samples.map((s) => Math.log(s));
    const mean = logs.reduce((a, b) => a + b, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / logs.length);
    expect(sd).toBeGreaterThan(0.45);
    expect(sd).toBeLessThan(0.55);
    expect(simulatedLatencyMs(add, { ...options, latencySigma: 0 })).toBeCloseTo(200, 9);
    expect(simulatedLatencyMs(add, { ...options, timeScale: 0.5 })).toBeCloseTo(
      simulatedLatencyMs(add, options) / 2,
      9,
    );
  });

  /** Records the waits runCode asks for instead of waiting. */
  function recordSleeps(): number[] {
    const sleeps: number[] = [];
    setCodeRunSleep(async (ms) => void sleeps.push(ms));
    return sleeps;
  }

  test('runCode waits the simulated latency of its code, the same on every run', async () => {
    configureCodeRun({ timeScale: 0.25 });
    const expected = simulatedLatencyMs(add);
    expect(expected).toBeGreaterThan(10);
    const sleeps = recordSleeps();
    await runCode({ code: add });
    await runCode({ code: add });
    expect(sleeps).toEqual([expected, expected]);
  });

  test('the simulated latency is part of the reported duration', async () => {
    configureCodeRun({ timeScale: 0.25 });
    const expected = simulatedLatencyMs(add);
    // A real timer: the call cannot end sooner (a slow machine only makes it later).
    expect((await runCode({ code: add })).durationMs).toBeGreaterThanOrEqual(Math.floor(expected) - 1);
  });

  test('time scale 0 turns the latency off', async () => {
    configureCodeRun({ timeScale: 0, latencyMedianMs: 10_000 });
    const sleeps = recordSleeps();
    const result = await runCode({ code: add, tests: ['add(1, 1) === 2'] });
    expect(result.passed).toBe(true);
    expect(sleeps).toEqual([]);
  });

  test('NALAR_TOOL_TIME_SCALE sets the default time scale; configureCodeRun wins', () => {
    resetCodeRunOptions();
    process.env.NALAR_TOOL_TIME_SCALE = '0.1';
    expect(codeRunOptions().timeScale).toBe(0.1);
    expect(configureCodeRun({ timeScale: 2 }).timeScale).toBe(2);
    resetCodeRunOptions();
    process.env.NALAR_TOOL_TIME_SCALE = 'fast';
    let err: unknown;
    try {
      codeRunOptions();
    } catch (e) {
      err = e;
    }
    expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
    expect((err as Error).message).toContain('NALAR_TOOL_TIME_SCALE');
  });

  test('configureCodeRun rejects bad values and keeps the others', () => {
    configureCodeRun({ latencyMedianMs: 50 });
    expect(() => configureCodeRun({ latencySigma: -1 })).toThrow(/latencySigma/);
    expect(() => configureCodeRun({ timeScale: Number.NaN })).toThrow(/timeScale/);
    expect(codeRunOptions()).toEqual({ latencyMedianMs: 50, latencySigma: 0.5, timeScale: 0 });
  });
});
