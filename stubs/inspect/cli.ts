/** `nalar futures <workflowId>`: every future of a workflow run (see `nalar futures --help`). */
import { runFuturesCommand } from './command';

async function main(): Promise<void> {
  process.exitCode = await runFuturesCommand(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}

main().catch((err: unknown) => {
  console.error('nalar futures: unexpected failure:', err);
  process.exit(1);
});
