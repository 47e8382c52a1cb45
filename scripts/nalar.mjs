#!/usr/bin/env node
// The `nalar` command (package bin; `npm run nalar -- <command>` in this repo). Commands:
//   nalar stubs [--check] [--definitions <dir>] [--out <dir>]   generate / check workflow stubs
//   nalar state gc|expire|stats [options]                      blob GC, session expiry, state sizes
//   nalar futures <workflowId> [--run-id <id>] [--json]         every future of a run: state, edges, times
//   nalar stuck [--json]                                        open workflows whose workflow task keeps failing
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const commands = {
  stubs: 'stubs/cli.ts',
  state: 'state/cli/cli.ts',
  futures: 'stubs/inspect/cli.ts',
  stuck: 'data-plane/diagnostics/cli.ts',
};
const [command, ...args] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h' || !(command in commands)) {
  console.log(
    'Usage: nalar <command> [options]\n\nCommands:\n' +
      '  stubs   generate or check (--check) the workflow-side stubs; nalar stubs --help\n' +
      '  state   blob garbage collection, session expiry and state sizes; nalar state --help\n' +
      '  futures every future of a workflow run: state, dependencies, queue and service time; nalar futures --help\n' +
      '  stuck   open workflows whose workflow task keeps failing (a code bug), with the error; nalar stuck --help',
  );
  process.exit(command && command !== '--help' && command !== '-h' ? 2 : 0);
}
// tsx resolved from this package, not from the working directory (the bin may run anywhere).
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, path.join(root, commands[command]), ...args], {
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
