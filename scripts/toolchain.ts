/** `npm run toolchain`: provisions the pinned external tools (Temporal CLI, k6) and prints their paths. */
import { loadConfig } from '../common/config';
import { isNalarError } from '../common/errors';
import { createLogger } from '../common/log';
import { ensureTool, pinnedTools, type ToolName } from '../common/toolchain';

const usage = `Usage: npm run toolchain [-- <tool>...] [--help]

Finds or builds the pinned tools and prints each one's path. Tools: ${Object.keys(pinnedTools).join(', ')}
(default: all). A usable binary on PATH or in NALAR_TOOLS_DIR/bin is reused; otherwise it is built with
'go install <module>@<version>' into NALAR_TOOLS_DIR/bin.`;

/** Provisions `names` (all when empty) and returns their paths. */
export async function provisionTools(names: readonly ToolName[] = []): Promise<Record<string, string>> {
  const config = loadConfig();
  const log = createLogger('toolchain', config.logLevel);
  const wanted = names.length ? names : (Object.keys(pinnedTools) as ToolName[]);
  const explicit: Record<ToolName, string | undefined> = { temporal: config.temporalBin, k6: config.k6Bin };
  const paths: Record<string, string> = {};
  for (const name of wanted) {
    paths[name] = await ensureTool(name, { toolsDir: config.toolsDir, explicitPath: explicit[name], log });
  }
  return paths;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(usage);
    return;
  }
  const unknown = args.filter((a) => !(a in pinnedTools));
  if (unknown.length) throw new Error(`unknown tool(s) ${unknown.join(', ')}\n\n${usage}`);
  for (const [name, bin] of Object.entries(await provisionTools(args as ToolName[]))) console.log(`${name}: ${bin}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`nalar: ${isNalarError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    process.exit(1);
  });
}
