/** `npm run load -- <scenario> [options]`: thin entry of {@link runLoad} (`--help` lists scenarios and options). */
import path from 'node:path';
import { isNalarError } from '../../common/errors';
import { createLogger } from '../../common/log';
import { loadUsage, parseLoadArgs } from './options';
import { k6ThresholdsCrossed, recordsFile, runLoad } from './run-load';

async function main(): Promise<number> {
  const options = parseLoadArgs(process.argv.slice(2));
  if (!options) {
    console.log(loadUsage());
    return 0;
  }
  const log = createLogger('load', 'info');
  const abort = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!abort.signal.aborted) log.info(`${signal} received; stopping k6, then the stack`);
      abort.abort();
    });
  }
  const result = await runLoad(options, { log, signal: abort.signal });
  const relative = result.report && path.relative(process.cwd(), result.report);
  const where = relative && !relative.startsWith('..') ? relative : result.report;
  if (where) {
    const dir = path.dirname(where);
    console.log(`\nReport: ${where} (raw: ${path.join(dir, 'summary.json')}, ${path.join(dir, recordsFile)})`);
  } else console.error(`\nnalar: k6 wrote no report into ${result.reportDir} (exit ${result.exitCode})`);
  if (result.exitCode === k6ThresholdsCrossed)
    console.error('nalar: thresholds were crossed (see the report); exit 99');
  else if (result.exitCode !== 0) console.error(`nalar: k6 exited with ${result.exitCode}`);
  return result.exitCode !== 0 ? result.exitCode : where ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`nalar: ${isNalarError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    process.exit(1);
  },
);
