/** The codec server as a {@link StackComponent}: forked with IPC, ready when it listens. */
import { codecReadyMessage } from '../codec-server/protocol';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { waitForReadyMessage } from './readiness';

const codecMain = require.resolve('../codec-server/main');

export interface CodecServerProcessOptions {
  host: string;
  port: number;
  /** The URL it serves, as the Web UI and CLI are given it. */
  url: string;
  /** Whether it requires NALAR_CODEC_TOKEN (said in the startup output, never the token itself). */
  tokenRequired: boolean;
  env: NodeJS.ProcessEnv;
}

export function codecServerProcess(o: CodecServerProcessOptions): StackComponent {
  const auth = o.tokenRequired ? ' (bearer token: NALAR_CODEC_TOKEN)' : '';
  return {
    name: 'codec',
    description: `codec server at ${o.url}${auth}: the Web UI shows offloaded payloads through it, and so does the CLI with --codec-endpoint`,
    ports: [{ host: o.host, port: o.port, what: 'codec server', setting: 'NALAR_CODEC_PORT' }],
    endpoints: [`Codec server      ${o.url}${auth}: temporal workflow result --codec-endpoint ${o.url} ...`],
    launch(sink: LineSink) {
      return ManagedProcess.start(
        { name: 'codec', command: codecMain, nodeModule: true, env: { ...o.env, NALAR_PROCESS_NAME: 'codec' } },
        sink,
      );
    },
    waitReady(proc, timeoutMs) {
      return waitForReadyMessage(proc, (m) => codecReadyMessage.safeParse(m).success, timeoutMs);
    },
  };
}
