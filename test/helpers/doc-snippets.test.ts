import { extractSnippets } from './doc-snippets';

const doc = [
  '# Guide', // 1
  '', // 2
  '```sh', // 3
  '```ts', // 4: inside a sh block, not a snippet
  '```', // 5
  '', // 6
  '<!-- snippet-prelude: declare const a: number; -->', // 7
  '', // 8
  '```ts run', // 9
  '// examples/client.ts', // 10
  'console.log(a);', // 11
  '```', // 12
  '', // 13
  '<!-- snippet-prelude:', // 14
  'declare const b: string;', // 15
  '-->', // 16
  '```typescript body', // 17
  'import {', // 18
  '  x,', // 19
  "} from './x';", // 20
  'await x(b);', // 21
  '```', // 22
  '```ts', // 23
  'const c = 1;', // 24
  '```', // 25
].join('\n');

test('finds ts and typescript fences, not ones inside other blocks, with their attributes and files', () => {
  const snippets = extractSnippets('docs/guide.md', doc);
  expect(snippets.map((s) => [s.line, s.file, s.run])).toEqual([
    [10, 'examples/client.ts', true],
    [18, 'examples/doc-snippet-docs-guide-md-18.ts', false],
    [24, 'examples/doc-snippet-docs-guide-md-24.ts', false],
  ]);
});

test('each snippet gets its own prelude only, and a body keeps its imports at the top', () => {
  const [first, second, third] = extractSnippets('docs/guide.md', doc);
  expect(first?.code).toContain('declare const a: number;');
  expect(second?.code).not.toContain('declare const a');
  expect(second?.code).toBe(
    [
      'import {',
      '  x,',
      "} from './x';",
      'declare const b: string;',
      'export async function documentedSnippet(): Promise<void> {',
      'await x(b);',
      '}',
      'export {};',
      '',
    ].join('\n'),
  );
  // Lines map back to the Markdown; added lines map to nothing.
  expect(second?.docLines).toEqual([18, 19, 20, undefined, undefined, 21, undefined, undefined]);
  expect(third?.code).toBe('const c = 1;\nexport {};\n');
});

test('an unknown attribute or an unclosed fence is an error naming the line', () => {
  expect(() => extractSnippets('README.md', '```ts runn\nx\n```')).toThrow(
    "README.md:1: unknown snippet attribute 'runn'",
  );
  expect(() => extractSnippets('README.md', 'a\n```ts\nx')).toThrow('README.md:2: the code fence is never closed');
});
