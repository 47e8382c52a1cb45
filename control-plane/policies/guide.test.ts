/**
 * The "Write a policy" guide shows real policy files (SRTF as the worked example): each snippet placed at a file
 * of this folder that exists must be that file, word for word, so the guide cannot drift from the code. (That
 * every snippet compiles is test/docs-snippets.test.ts's job.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { extractSnippets } from '../../test/helpers/doc-snippets';

const root = path.resolve(__dirname, '../..');
const guide = 'docs/control-plane/write-a-policy.md';

test('the policy files the guide shows are the real files', () => {
  const shown = extractSnippets(guide, readFileSync(path.join(root, guide), 'utf8')).filter((s) =>
    existsSync(path.join(root, s.file)),
  );
  expect(shown.map((s) => s.file)).toEqual(
    expect.arrayContaining(['control-plane/policies/srtf.ts', 'control-plane/policies/attained-service.ts']),
  );
  for (const snippet of shown) {
    // The lines that came from the guide, without the first one (`// <path>.ts`, which says where it lives).
    const code = snippet.code
      .split('\n')
      .filter((_line, i) => snippet.docLines[i] !== undefined)
      .slice(1)
      .join('\n');
    expect({ file: snippet.file, code: `${code}\n` }).toEqual({
      file: snippet.file,
      code: readFileSync(path.join(root, snippet.file), 'utf8'),
    });
  }
});
