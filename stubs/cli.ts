/** `npm run stubs`: generates the workflow-side stubs (see `npm run stubs -- --help`). */
import { runStubsCommand } from './generator/command';

async function main(): Promise<void> {
  process.exitCode = await runStubsCommand(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    cwd: process.cwd(),
  });
}

main().catch((err: unknown) => {
  console.error('nalar stubs: unexpected failure:', err);
  process.exit(1);
});
