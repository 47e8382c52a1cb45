import { summarizeOps, type OpName, type OpRecord } from './ops-summary';

/** Records of `variant`: per call, the ms of range, append, get and put (undefined: the operation failed). */
function records(variant: string, calls: (readonly (number | undefined)[])[]): OpRecord[] {
  const ops: OpName[] = ['range', 'append', 'get', 'put'];
  return calls.flatMap((msOf, call) =>
    ops.map((op, i): OpRecord => {
      const ms = msOf[i];
      return ms === undefined
        ? { part: 'ops', variant, call, session: call % 2, op, ms: 1, ok: false, error: 'timeout' }
        : { part: 'ops', variant, call, session: call % 2, op, ms, ok: true };
    }),
  );
}

test('read + write of a call is the sum of its range and append; get + put likewise', () => {
  const s = summarizeOps(
    records('redis', [
      [1, 2, 0.5, 0.5],
      [3, 4, 1, 2],
    ]),
    'redis',
    2,
  );
  expect(s.readWrite).toMatchObject({ count: 2, mean: 5, p50: 3, p99: 7, max: 7 });
  expect(s.read).toMatchObject({ count: 2, p50: 1, max: 3 });
  expect(s.write).toMatchObject({ count: 2, p50: 2, max: 4 });
  expect(s.getPut).toMatchObject({ count: 2, p50: 1, max: 3 });
  expect(s.failed).toBe(0);
});

test('a failed operation is counted, and its call leaves the per-call figures instead of adding a short time', () => {
  const s = summarizeOps(
    records('postgres', [
      [1, 2, 1, 1],
      [1, undefined, 1, 1],
      [2, 2, undefined, undefined],
    ]),
    'postgres',
    3,
  );
  expect(s.failed).toBe(3);
  expect(s.readWrite).toMatchObject({ count: 2, p99: 4 });
  expect(s.read.count).toBe(3);
  expect(s.getPut.count).toBe(2);
});

test("only the named variant's records count", () => {
  const all = [...records('filesystem', [[1, 1, 1, 1]]), ...records('redis', [[50, 50, 50, 50]])];
  expect(summarizeOps(all, 'filesystem', 1).readWrite.max).toBe(2);
});

test('the plot windows split the measured calls into ten, each with the p99 of its calls', () => {
  const calls = Array.from({ length: 20 }, (_, c) => [c, 0, 0, 0]);
  const s = summarizeOps(records('redis', calls), 'redis', 20);
  expect(s.windows).toEqual(Array.from({ length: 10 }, (_, w) => ({ calls: 2 * (w + 1), p99: 2 * w + 1 })));
});

test('with fewer calls than ten, one window per call; a window without successful calls has p99 NaN', () => {
  const s = summarizeOps(
    records('redis', [
      [1, 1, 1, 1],
      [undefined, 1, 1, 1],
      [3, 3, 1, 1],
    ]),
    'redis',
    3,
  );
  expect(s.windows.map((w) => w.calls)).toEqual([1, 2, 3]);
  expect(s.windows[0]!.p99).toBe(2);
  expect(s.windows[1]!.p99).toBeNaN();
  expect(s.windows[2]!.p99).toBe(6);
});
