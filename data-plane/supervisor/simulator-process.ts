/** The model simulator pool as a {@link StackComponent}: forked with IPC, ready when every replica listens. */
import { simReadyMessage, type SimReadyMessage } from '../../sim/protocol';
import type { StackComponent } from './component';
import { ManagedProcess, type LineSink } from './managed-process';
import { waitForReadyMessage } from './readiness';

const simMain = require.resolve('../../sim/main');

export interface SimulatorProcessOptions {
  host: string;
  basePort: number;
  replicas: number;
  env: NodeJS.ProcessEnv;
  /** Called with its ready message (its replicas' base URLs and the admin API's URL). */
  onReady?: (ready: SimReadyMessage) => void;
}

export function simulatorProcess(o: SimulatorProcessOptions): StackComponent {
  const ports = Array.from({ length: o.replicas }, (_, i) => o.basePort + i);
  return {
    name: 'sim',
    description: `OpenAI-compatible model simulator, ${o.replicas} replica${o.replicas === 1 ? '' : 's'} at ${ports
      .map((p) => `http://${o.host}:${p}/v1`)
      .join(', ')}`,
    ports: ports.map((port, i) => ({
      host: o.host,
      port,
      what: `model simulator replica ${i}`,
      setting: 'NALAR_SIM_PORT (replica i uses NALAR_SIM_PORT + i)',
    })),
    endpoints: [`Model simulator   ${ports.map((p) => `http://${o.host}:${p}/v1`).join(' ')}`],
    launch(sink: LineSink) {
      return ManagedProcess.start(
        { name: 'sim', command: simMain, nodeModule: true, env: { ...o.env, NALAR_PROCESS_NAME: 'sim' } },
        sink,
      );
    },
    waitReady(proc, timeoutMs) {
      return waitForReadyMessage(
        proc,
        (m) => {
          const ready = simReadyMessage.safeParse(m);
          if (ready.success) o.onReady?.(ready.data);
          return ready.success;
        },
        timeoutMs,
      );
    },
  };
}
