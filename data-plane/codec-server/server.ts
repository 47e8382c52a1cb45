/** Listening side of the codec server: {@link buildCodecApp} on a host and port. */
import type { AddressInfo } from 'node:net';
import { listenOrExplain } from '../../common/child-process';
import { buildCodecApp, type CodecAppOptions } from './app';
import { codecEndpointUrl } from './codec-config';

/** A listening codec server. */
export interface CodecServer {
  /** The endpoint to give the Web UI (`--ui-codec-endpoint`) and the CLI (`--codec-endpoint`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Options of {@link startCodecServer}. */
export interface StartCodecServerOptions extends CodecAppOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
}

/** Starts the codec server; rejects with `NALAR_ERR_PORT_IN_USE` when the port is taken. */
export async function startCodecServer(options: StartCodecServerOptions): Promise<CodecServer> {
  const app = buildCodecApp(options);
  await listenOrExplain(app, {
    host: options.host,
    port: options.port,
    what: 'codec server',
    setting: 'NALAR_CODEC_PORT',
  });
  const { port } = app.server.address() as AddressInfo;
  return { url: codecEndpointUrl(options.host, port), close: () => app.close() };
}
