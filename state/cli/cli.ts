/** `nalar state`: managed-state maintenance (blob GC, session expiry, sizes); see `nalar state --help`. */
import { runStateCommand } from './command';

async function main(): Promise<void> {
  process.exitCode = await runStateCommand(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
  });
}

main().catch((err: unknown) => {
  console.error('nalar state: unexpected failure:', err);
  process.exit(1);
});
