import { seededWords } from './seeded-text';

const vocabulary = ['alpha', 'beta', 'gamma', 'delta'];

test('the same key gives the same words, a longer text starts with the shorter one', () => {
  const long = seededWords('session-1', 100, vocabulary);
  expect(seededWords('session-1', 100, vocabulary)).toBe(long);
  expect(long.startsWith(seededWords('session-1', 40, vocabulary) + ' ')).toBe(true);
  expect(long.split(' ')).toHaveLength(100);
  expect(new Set(long.split(' '))).toEqual(new Set(vocabulary));
});

test('two keys give different text, so their requests share no cached prefix', () => {
  expect(seededWords('session-1', 32, vocabulary)).not.toBe(seededWords('session-2', 32, vocabulary));
});

test('zero tokens is empty; an empty vocabulary is a programming error', () => {
  expect(seededWords('k', 0, vocabulary)).toBe('');
  expect(() => seededWords('k', 3, [])).toThrow(/vocabulary is empty/);
});
