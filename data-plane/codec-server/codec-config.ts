/**
 * Where the codec server listens and whom it answers, from the one configuration. The rule that keeps
 * payloads private: bound to loopback it may run without a token (only this machine reaches it, and other
 * web pages are refused by origin); bound to any other address it must have `NALAR_CODEC_TOKEN`, or it
 * does not start.
 */
import type { NalarConfig } from '../../common/config';
import { ErrorCode, NalarError } from '../../common/errors';
import { isLoopback } from '../../common/loopback';

/** What the codec server needs from the configuration. */
export type CodecSettings = Pick<
  NalarConfig,
  'codecHost' | 'codecPort' | 'codecToken' | 'codecCorsOrigins' | 'devServerUiPort'
>;

/** The resolved listening options of the codec server. */
export interface CodecListenOptions {
  host: string;
  port: number;
  token?: string;
  allowedOrigins: string[];
}

/** Shortest NALAR_CODEC_TOKEN accepted: a guessable token protects nothing. */
export const minTokenLength = 16;

/** True for addresses only this machine can reach. */
export { isLoopback };

/**
 * The Web UI origins the codec answers: NALAR_CODEC_CORS_ORIGINS, else the embedded Web UI under both names
 * a browser may use for it.
 */
export function codecAllowedOrigins(settings: Pick<CodecSettings, 'codecCorsOrigins' | 'devServerUiPort'>): string[] {
  if (settings.codecCorsOrigins) return settings.codecCorsOrigins.split(',');
  return [`http://127.0.0.1:${settings.devServerUiPort}`, `http://localhost:${settings.devServerUiPort}`];
}

/** The URL clients use: `http://<host>:<port>`, with 127.0.0.1 for a wildcard bind. */
export function codecEndpointUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}

/**
 * Listening options from the configuration; throws `NALAR_ERR_CONFIG_INVALID` when the server would be
 * reachable beyond this machine without a token.
 */
export function codecListenOptions(settings: CodecSettings): CodecListenOptions {
  if (!isLoopback(settings.codecHost) && settings.codecToken === undefined) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_CODEC_HOST=${settings.codecHost} exposes decoded payloads beyond this machine: set NALAR_CODEC_TOKEN ` +
        `(at least ${minTokenLength} characters; clients send it as "Authorization: Bearer <token>") or bind to 127.0.0.1`,
    );
  }
  if (settings.codecToken !== undefined && settings.codecToken.length < minTokenLength) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      `NALAR_CODEC_TOKEN is too short (${settings.codecToken.length} characters): use at least ${minTokenLength}, ` +
        'for example `openssl rand -hex 24`',
    );
  }
  return {
    host: settings.codecHost,
    port: settings.codecPort,
    ...(settings.codecToken !== undefined && { token: settings.codecToken }),
    allowedOrigins: codecAllowedOrigins(settings),
  };
}
