/** `nalar stuck`: open workflows whose workflow task keeps failing; see `nalar stuck --help`. */
import { runStuckCommand } from './command';

async function main(): Promise<void> {
  process.exitCode = await runStuckCommand(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}

main().catch((err: unknown) => {
  console.error('nalar stuck: unexpected failure:', err);
  process.exit(1);
});
