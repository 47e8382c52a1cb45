/** `npx tsx load-tests/traffic/main.ts [options]`: thin entry of the trace CLI (`--help` lists the options). */
import { writeFileSync } from 'node:fs';
import { isNalarError } from '../../common/errors';
import { formatAzureCsv } from './azure-trace';
import { formatSummary, parseTraceArgs, summarizeTrace, traceOf, traceUsage } from './cli';

async function main(): Promise<number> {
  const options = parseTraceArgs(process.argv.slice(2));
  if (!options) {
    console.log(traceUsage());
    return 0;
  }
  const trace = traceOf(options);
  // A real trace is summarised by halves as well: its mix is whatever the files hold.
  console.log(formatSummary(summarizeTrace(trace, options.durationS * 1000, options.phases)));
  if (options.csv) {
    writeFileSync(options.csv, formatAzureCsv(trace));
    console.log(`\nWrote ${trace.length} requests to ${options.csv}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`nalar: ${isNalarError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    process.exit(1);
  },
);
