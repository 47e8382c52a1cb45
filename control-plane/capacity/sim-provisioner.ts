/**
 * The simulator's provisioner: replicas of the simulator pool, started, drained, removed and reassigned
 * through its admin HTTP API (sim/README.md "Admin API"). The default backend when the stack runs the
 * embedded simulator (NALAR_PROVISIONER=sim).
 *
 * - `list` — `GET /admin/replicas`.
 * - `provision` — `POST /admin/replicas` with a replica profile `{ ...template(agent), name: '<agent>-<n>', model }`:
 *   201 with the replica `loading`.
 * - `whenServing` — polls `GET /admin/replicas/:id` until it is `serving` (a poll survives a restarted admin
 *   API or a proxy that cuts idle connections, where one long request would not); a replica that leaves the list
 *   rejects with NALAR_ERR_REPLICA_NOT_FOUND.
 * - `kill` — `DELETE /admin/replicas/:id?wait=true`; `reassign` — `POST /admin/replicas/:id/reassign?wait=true`
 *   with `{ model, settings: template(agent) }` (without `name`, `model`, `faults`): the replica serves with the
 *   target agent's engine settings, as one provisioned for it would. Both answer only once the drain (and the
 *   load) is done, so they get the long time limit, not the short one.
 *
 * HTTP goes through `node:http` rather than `fetch`: undici's fetch gives up on response headers after 5
 * minutes whatever its caller's signal says, and a drain may take longer. Every answer is parsed with zod.
 * Failures are NalarErrors carrying the status and the admin API's own code and message in `details`: 401/403
 * NALAR_ERR_UNAUTHORIZED, 404 NALAR_ERR_REPLICA_NOT_FOUND, 409 NALAR_ERR_CONFLICT, anything else (unreachable,
 * timed out, 5xx, an unexpected answer) NALAR_ERR_PROVISIONER_FAILED. The token is sent, never logged nor put in
 * an error.
 */
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { configDefaults, durationMs } from '../../common/config';
import { ErrorCode, errorMessage, NalarError } from '../../common/errors';
import type { ProvisionedReplica, ProvisionRequest, Provisioner } from './provisioner';

/** Time limit of a call that answers at once (list, provision, one poll). */
const REQUEST_TIMEOUT_MS = 10_000;
/** Pause between two polls of {@link SimProvisioner.whenServing}. */
const POLL_INTERVAL_MS = 200;

/** Options of {@link SimProvisioner}. */
export interface SimProvisionerOptions {
  /** Base URL of the simulator's admin API (`http://127.0.0.1:<NALAR_SIM_ADMIN_PORT>`, the ready message's `adminUrl`). */
  adminUrl: string;
  /**
   * Bearer token of the admin API (NALAR_SIM_ADMIN_TOKEN). Sent on every call, never logged.
   * @default undefined: none (the admin API then accepts changes from this machine only)
   */
  token?: string;
  /**
   * The replica profile fields (sim/profile.ts: `speed`, `maxNumSeqs`, `modelLoadMs`, `drainTimeoutMs`, …) of a
   * replica started for `agent`; `name` and `model` are set by the provisioner and win.
   * @default none: the simulator's default profile
   */
  template?: (agent: string) => Record<string, unknown>;
  /** Time limit of a call that answers at once (list, provision, one poll). @default 10000 */
  requestTimeoutMs?: number;
  /**
   * Time limit of a call that waits for a change: `kill` and `reassign` (a drain, then a load), and the whole of
   * `whenServing`. @default NALAR_PROVISIONER_TIMEOUT's default (10 minutes)
   */
  waitTimeoutMs?: number;
  /** Pause between two polls of `whenServing`. @default 200 */
  pollIntervalMs?: number;
}

const replicaState = z.enum(['loading', 'serving', 'draining']);
const adminReplica = z.object({
  id: z.string().min(1),
  name: z.string(),
  model: z.string().min(1),
  state: replicaState,
  baseUrl: z.string().min(1),
});
type AdminReplica = z.infer<typeof adminReplica>;
const adminList = z.object({ replicas: z.array(adminReplica) });
const adminRemoved = z.object({ id: z.string(), removed: z.literal(true) });
const adminError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

interface HttpAnswer {
  status: number;
  text: string;
}

function toProvisioned(r: AdminReplica): ProvisionedReplica {
  return { id: r.id, model: r.model, baseUrl: r.baseUrl, state: r.state };
}

/** One replica the provisioner has been asked about, by id, as a path segment. */
const replicaPath = (id: string) => `/admin/replicas/${encodeURIComponent(id)}`;

/** A {@link Provisioner} over the simulator pool's admin API. */
export class SimProvisioner implements Provisioner {
  readonly name = 'sim';
  private readonly adminUrl: URL;
  private readonly requestTimeoutMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;
  /** The next `<n>` of `<agent>-<n>` per agent, so two concurrent provisions get different names. */
  private readonly nextIndex = new Map<string, number>();
  /** Aborted by {@link close}: ends the calls and polls under way. */
  private readonly closing = new AbortController();

  constructor(private readonly options: SimProvisionerOptions) {
    try {
      this.adminUrl = new URL(options.adminUrl);
    } catch {
      throw new NalarError(ErrorCode.CONFIG_INVALID, `sim provisioner: adminUrl ${options.adminUrl} is not a URL`);
    }
    if (this.adminUrl.protocol !== 'http:' && this.adminUrl.protocol !== 'https:') {
      throw new NalarError(ErrorCode.CONFIG_INVALID, `sim provisioner: adminUrl ${options.adminUrl} is not http(s)`);
    }
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    this.waitTimeoutMs = options.waitTimeoutMs ?? (durationMs(configDefaults.provisionerTimeout) as number);
    this.pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS;
  }

  async list(): Promise<ProvisionedReplica[]> {
    const answer = await this.call('list replicas', 'GET', '/admin/replicas', adminList);
    return answer.replicas.map(toProvisioned);
  }

  async provision(request: ProvisionRequest): Promise<ProvisionedReplica> {
    const listed = await this.call('list replicas', 'GET', '/admin/replicas', adminList);
    const name = this.nameFor(
      request.agent,
      listed.replicas.map((r) => r.name),
    );
    const profile = { ...this.options.template?.(request.agent), name, model: request.model };
    const added = await this.call(`start replica ${name}`, 'POST', '/admin/replicas', adminReplica, { body: profile });
    return toProvisioned(added);
  }

  async whenServing(id: string): Promise<void> {
    const deadline = performance.now() + this.waitTimeoutMs;
    for (;;) {
      const r = await this.call(`wait for replica ${id} to serve`, 'GET', replicaPath(id), adminReplica, {
        notFound: `replica ${id} is gone (removed before it served)`,
      });
      if (r.state === 'serving') return;
      // Loading, or draining before a reassignment loads: it may still serve. Removed, it leaves the list (404).
      if (performance.now() + this.pollIntervalMs > deadline) {
        throw new NalarError(
          ErrorCode.PROVISIONER_FAILED,
          `sim provisioner: replica ${id} still ${r.state} after ${this.waitTimeoutMs} ms (NALAR_PROVISIONER_TIMEOUT)`,
          { details: { op: 'whenServing', id, state: r.state } },
        );
      }
      await this.pause();
    }
  }

  async kill(id: string): Promise<void> {
    await this.call(`remove replica ${id}`, 'DELETE', `${replicaPath(id)}?wait=true`, adminRemoved, { long: true });
  }

  async reassign(id: string, to: ProvisionRequest): Promise<void> {
    const model = to.model;
    const template = this.options.template?.(to.agent);
    const settings = template && { ...template };
    // The replica keeps its name; its faults belong to the simulated machine, not to the deployment (the admin
    // API refuses them as settings).
    for (const field of ['name', 'model', 'faults']) delete settings?.[field];
    const r = await this.call(
      `reassign replica ${id} to ${model} (agent ${to.agent})`,
      'POST',
      `${replicaPath(id)}/reassign?wait=true`,
      adminReplica,
      {
        body: { model, ...(settings !== undefined && { settings }) },
        long: true,
      },
    );
    if (r.state !== 'serving' || r.model !== model) {
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `sim provisioner: replica ${id} is ${r.state} with ${r.model} after its reassignment to ${model}`,
        { details: { op: 'reassign', id, state: r.state, model: r.model } },
      );
    }
  }

  /** Ends the calls and polls under way (they reject); replicas are left as they are. */
  async close(): Promise<void> {
    this.closing.abort();
  }

  /** `<agent>-<n>`: n one past the highest listed for the agent and past every name this provisioner gave. */
  private nameFor(agent: string, listedNames: string[]): string {
    const pattern = new RegExp(`^${agent.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
    let n = this.nextIndex.get(agent) ?? 0;
    for (const name of listedNames) {
      const m = pattern.exec(name);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    this.nextIndex.set(agent, n + 1);
    return `${agent}-${n}`;
  }

  private pause(): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.closing.signal;
      if (signal.aborted) return reject(this.closedError());
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.closedError());
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, this.pollIntervalMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private closedError(): NalarError {
    return new NalarError(ErrorCode.PROVISIONER_FAILED, 'sim provisioner: closed while a call was under way');
  }

  /** One admin API call: the answer parsed with `schema`, or a NalarError (see the file's doc). */
  private async call<S extends z.ZodType>(
    what: string,
    method: string,
    path: string,
    schema: S,
    o: { body?: unknown; long?: boolean; notFound?: string } = {},
  ): Promise<z.output<S>> {
    const url = new URL(path, this.adminUrl);
    const timeoutMs = o.long ? this.waitTimeoutMs : this.requestTimeoutMs;
    const op = { op: what, method, path };
    let answer: HttpAnswer;
    try {
      answer = await this.send(url, method, o.body, timeoutMs);
    } catch (err) {
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `sim provisioner: cannot ${what}: the simulator admin API at ${this.adminUrl.origin}: ${errorMessage(err)}`,
        { cause: err, details: op },
      );
    }
    let json: unknown;
    try {
      json = answer.text === '' ? undefined : JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
    if (answer.status >= 200 && answer.status < 300) {
      const parsed = schema.safeParse(json);
      if (parsed.success) return parsed.data as z.output<S>;
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      throw new NalarError(
        ErrorCode.PROVISIONER_FAILED,
        `sim provisioner: cannot ${what}: unexpected answer (${answer.status}) from the simulator admin API: ${why}`,
        { details: { ...op, status: answer.status } },
      );
    }
    const error = adminError.safeParse(json);
    const adminCode = error.success ? error.data.error.code : undefined;
    const adminMessage = error.success ? error.data.error.message : answer.text.slice(0, 500);
    const details = { ...op, status: answer.status, ...(adminCode !== undefined && { adminCode }), adminMessage };
    const said = `${answer.status}${adminCode ? ` ${adminCode}` : ''}: ${adminMessage}`;
    switch (answer.status) {
      case 401:
      case 403:
        throw new NalarError(
          ErrorCode.UNAUTHORIZED,
          `sim provisioner: cannot ${what}: the simulator admin API refused it (${said}); set NALAR_SIM_ADMIN_TOKEN to the simulator's token`,
          { details },
        );
      case 404:
        throw new NalarError(
          ErrorCode.REPLICA_NOT_FOUND,
          `sim provisioner: ${o.notFound ?? `cannot ${what}`} (${said})`,
          {
            details,
          },
        );
      case 409:
        throw new NalarError(ErrorCode.CONFLICT, `sim provisioner: cannot ${what} now (${said})`, { details });
      default:
        throw new NalarError(ErrorCode.PROVISIONER_FAILED, `sim provisioner: cannot ${what} (${said})`, { details });
    }
  }

  /** The raw exchange: status and body text, or a rejection for a connection failure or the time limit. */
  private send(url: URL, method: string, body: unknown, timeoutMs: number): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeoutMs)]);
      const req = transport.request(url, { method, headers, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (err) => {
        if (this.closing.signal.aborted) reject(new Error('the provisioner was closed'));
        else if (signal.aborted) reject(new Error(`did not answer within ${timeoutMs} ms`));
        else reject(err);
      });
      req.end(payload);
    });
  }
}
