/** `npm run docs`: rewrites the generated parts of README.md (the configuration table) from the code. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withSettingsTable } from '../common/settings-table';

const readmePath = path.resolve(__dirname, '..', 'README.md');

function main(): void {
  const before = readFileSync(readmePath, 'utf8');
  const after = withSettingsTable(before);
  if (after === before) {
    console.log('README.md: the configuration table is up to date');
    return;
  }
  writeFileSync(readmePath, after);
  console.log('README.md: rewrote the configuration table from common/config.ts');
}

try {
  main();
} catch (err) {
  console.error(`nalar docs: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
