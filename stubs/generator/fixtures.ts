/** Test helper: a throwaway folder of definition files inside the repo (so they resolve `stubs/define`). */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { defaultRepoRoot } from './generate';

/** A fixture folder: `defs/` for definitions, `out/` for generated files. */
export interface Fixture {
  root: string;
  defs: string;
  out: string;
  /** Writes `defs/<name>`; `DEFINE` in the text is replaced by the import path of stubs/define. */
  write(name: string, text: string): string;
  remove(): void;
}

/** Creates `.nalar/stub-fixtures/<random>/` (git- and jest-ignored); call `remove()` after the test. */
export function createFixture(): Fixture {
  const root = path.join(defaultRepoRoot, '.nalar', 'stub-fixtures', randomUUID());
  const defs = path.join(root, 'defs');
  const out = path.join(root, 'out');
  fs.mkdirSync(defs, { recursive: true });
  const define = path
    .relative(defs, path.join(defaultRepoRoot, 'stubs', 'define'))
    .split(path.sep)
    .join('/');
  return {
    root,
    defs,
    out,
    write(name, text) {
      const file = path.join(defs, name);
      fs.writeFileSync(file, text.replaceAll('DEFINE', define));
      return file;
    },
    remove() {
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
