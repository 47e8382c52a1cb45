/**
 * Extracts the TypeScript snippets of the README and the guides, so a test can type-check and run them
 * (test/docs-snippets.test.ts). What a snippet may say about itself:
 *
 * - **Where it lives.** A first line `// <path>.ts` (as in `// workflows/write-article.ts`) places the
 *   snippet at that path of the repo: it is type-checked as if it were that file, replacing the real one.
 *   Without it, a snippet is a user script in `examples/` (see examples/README.md), so `../workflows`
 *   and `../common/config` resolve as they do for a user's own scripts.
 * - **Info-string attributes** after the language: `run` — a client script that is also executed against
 *   the test stack (a real dev server, a worker on a fresh task queue, the simulator) and must exit 0;
 *   `body` — a fragment of a function body (say, agent code with `await`): its `import` lines stay at the
 *   top and the rest is type-checked inside an `async` function.
 * - **A hidden prelude.** An HTML comment right before the fence, `<!-- snippet-prelude: ... -->`, holds
 *   code put before the snippet that readers need not see (`declare const plan: string;`).
 *
 * Only ```ts and ```typescript fences are snippets; ```sh and others are left alone.
 */

/** One snippet and where it came from. */
export interface DocSnippet {
  /** Markdown file, repo-relative (e.g. `docs/first-agent-workflow.md`). */
  doc: string;
  /** 1-based line of the snippet's first code line in `doc`. */
  line: number;
  /** Repo-relative path the snippet is checked as. */
  file: string;
  /** Executed against the test stack (`run` attribute). */
  run: boolean;
  /** The code to compile, prelude and wrapping included. */
  code: string;
  /** For each line of `code` (0-based), the 1-based line of `doc` it came from; undefined for added lines. */
  docLines: (number | undefined)[];
}

const fence = /^```(ts|typescript)((?:[ \t]+[\w-]+)*)[ \t]*$/;
// The last comment before the fence: its text may not contain `-->`, so it cannot reach back to an earlier one.
const preludeComment = /<!--\s*snippet-prelude:((?:(?!-->)[\s\S])*)-->\s*$/;
const knownAttributes = new Set(['run', 'body']);

/** Every TypeScript snippet of `markdown` (the text of `doc`); throws on an unknown attribute or unclosed fence. */
export function extractSnippets(doc: string, markdown: string): DocSnippet[] {
  const lines = markdown.split('\n');
  const snippets: DocSnippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = fence.exec(lines[i] ?? '');
    if (!open) {
      // Skip other fenced blocks whole, so a ```ts inside a ```md example is not taken for a snippet.
      if (/^```/.test(lines[i] ?? '')) while (++i < lines.length && !/^```\s*$/.test(lines[i] ?? ''));
      continue;
    }
    const attributes = (open[2] ?? '').trim().split(/\s+/).filter(Boolean);
    for (const a of attributes) {
      if (!knownAttributes.has(a))
        throw new Error(`${doc}:${i + 1}: unknown snippet attribute '${a}' (known: run, body)`);
    }
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? '')) end++;
    if (end >= lines.length) throw new Error(`${doc}:${i + 1}: the code fence is never closed`);
    const body = lines.slice(start, end);
    const before = lines.slice(0, i).join('\n');
    const prelude = preludeComment.exec(before)?.[1]?.trim().split('\n') ?? [];
    const placed = /^\/\/\s*([\w./-]+\.ts)\s*$/.exec(body[0] ?? '')?.[1];
    snippets.push({
      doc,
      line: start + 1,
      file: placed ?? `examples/doc-snippet-${doc.replace(/[^\w]+/g, '-')}-${start + 1}.ts`,
      run: attributes.includes('run'),
      ...assemble(body, start + 1, prelude, attributes.includes('body')),
    });
    i = end;
  }
  return snippets;
}

/** Joins prelude and snippet (wrapped when it is a function body), with the line map. */
function assemble(
  body: string[],
  firstLine: number,
  prelude: string[],
  wrap: boolean,
): Pick<DocSnippet, 'code' | 'docLines'> {
  const out: string[] = [];
  const docLines: (number | undefined)[] = [];
  const add = (line: string, docLine: number | undefined): void => {
    out.push(line);
    docLines.push(docLine);
  };
  const numbered = body.map((text, k) => ({ text, docLine: firstLine + k }));
  // An import statement may span lines: it ends at the line with `from '...'` (or a bare `import '...'`).
  const imports: typeof numbered = [];
  if (wrap) {
    let inImport = false;
    for (const l of numbered) {
      if (inImport || /^import\s/.test(l.text)) {
        imports.push(l);
        inImport = !/from\s+['"][^'"]+['"];?\s*$|^import\s+['"][^'"]+['"];?\s*$/.test(l.text);
      }
    }
  }
  for (const l of imports) add(l.text, l.docLine);
  for (const p of prelude) add(p, undefined);
  if (wrap) add('export async function documentedSnippet(): Promise<void> {', undefined);
  for (const l of numbered) if (!imports.includes(l)) add(l.text, l.docLine);
  if (wrap) add('}', undefined);
  // A script with no import or export would be a global script to TypeScript; keep every snippet a module.
  add('export {};', undefined);
  return { code: out.join('\n') + '\n', docLines };
}
