import { colorEnabled, colorEnv } from './color';

const tty = { isTTY: true };
const pipe = { isTTY: false };

test('a terminal gets colours, a pipe or file does not', () => {
  expect(colorEnabled(tty, {})).toBe(true);
  expect(colorEnabled(pipe, {})).toBe(false);
  expect(colorEnabled({}, {})).toBe(false);
});

test('NO_COLOR turns colours off on a terminal; an empty NO_COLOR does not', () => {
  expect(colorEnabled(tty, { NO_COLOR: '1' })).toBe(false);
  expect(colorEnabled(tty, { NO_COLOR: '' })).toBe(true);
});

test('FORCE_COLOR wins over the stream and NO_COLOR, as in Node', () => {
  expect(colorEnabled(pipe, { FORCE_COLOR: '1' })).toBe(true);
  expect(colorEnabled(pipe, { FORCE_COLOR: '' })).toBe(true);
  expect(colorEnabled(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
  expect(colorEnabled(tty, { FORCE_COLOR: '0' })).toBe(false);
  expect(colorEnabled(tty, { FORCE_COLOR: 'false' })).toBe(false);
});

test('a child given colorEnv decides as its parent did, whatever its own stream is', () => {
  for (const color of [true, false]) expect(colorEnabled(pipe, colorEnv(color))).toBe(color);
});
