/**
 * Who is calling: bearer tokens map to tenants, and a tenant's run ids live in its own namespace of Temporal
 * workflow ids (`<tenant>:<id>`), so another tenant's id is not found by construction rather than by a check
 * that could be forgotten.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, NalarError } from '../../common/errors';

/** The tenant of every request when no tokens are configured (the gateway then binds to loopback only). */
export const implicitTenant = 'local';

/** Shortest token accepted: a guessable token protects nothing. */
export const minGatewayTokenLength = 16;

/** A tenant name: it prefixes workflow ids and labels limits, so no `:` and nothing exotic. */
export const tenantName = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 . _ -');

/** A run id a client may choose (`workflowId` of a start): URL-safe, so it round-trips in `/v1/runs/<id>`. */
export const publicRunId = z.string().regex(/^[A-Za-z0-9._~:-]{1,200}$/, 'expected 1-200 of A-Z a-z 0-9 . _ ~ : -');

/** Token → tenant, compared in constant time. */
export class TenantTokens {
  private readonly entries: readonly { digest: Buffer; tenant: string }[];

  /** `tokens`: token → tenant. Empty: no authentication, every request is {@link implicitTenant}. */
  constructor(tokens: Readonly<Record<string, string>>) {
    this.entries = Object.entries(tokens).map(([token, tenant]) => ({ digest: digest(token), tenant }));
  }

  /** True when requests must present a token. */
  get required(): boolean {
    return this.entries.length > 0;
  }

  /** The tenants that have tokens. */
  get tenants(): string[] {
    return [...new Set(this.entries.map((e) => e.tenant))];
  }

  /**
   * The tenant of an `Authorization` header value; throws `NALAR_ERR_UNAUTHORIZED` (401) when tokens are
   * configured and the header is missing or names none of them. Every configured token is compared, so the
   * time taken does not tell which one nearly matched.
   */
  tenantOf(authorization: string | undefined): string {
    if (!this.required) return implicitTenant;
    const presented = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    if (presented === undefined) {
      throw new NalarError(ErrorCode.UNAUTHORIZED, 'this gateway requires Authorization: Bearer <token>');
    }
    const d = digest(presented);
    let found: string | undefined;
    for (const e of this.entries) if (timingSafeEqual(d, e.digest) && found === undefined) found = e.tenant;
    if (found === undefined)
      throw new NalarError(ErrorCode.UNAUTHORIZED, 'the bearer token is not one this gateway knows');
    return found;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/**
 * Parses NALAR_GATEWAY_TOKENS (`{"<token>": "<tenant>"}`); throws `NALAR_ERR_CONFIG_INVALID` with a message
 * that never contains a token.
 */
export function parseGatewayTokens(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      'NALAR_GATEWAY_TOKENS is not JSON: expected {"<token>": "<tenant>", ...}',
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    throw new NalarError(
      ErrorCode.CONFIG_INVALID,
      'NALAR_GATEWAY_TOKENS: expected a non-empty object {"<token>": "<tenant>", ...}',
    );
  }
  const tokens: Record<string, string> = {};
  Object.entries(parsed).forEach(([token, tenant], i) => {
    // Entries are named by position: the key is the secret.
    if (token.length < minGatewayTokenLength || /\s/.test(token)) {
      throw new NalarError(
        ErrorCode.CONFIG_INVALID,
        `NALAR_GATEWAY_TOKENS: token #${i + 1} is shorter than ${minGatewayTokenLength} characters or has spaces (e.g. \`openssl rand -hex 24\`)`,
      );
    }
    const name = tenantName.safeParse(tenant);
    if (!name.success) {
      throw new NalarError(
        ErrorCode.CONFIG_INVALID,
        `NALAR_GATEWAY_TOKENS: the tenant of token #${i + 1} is not a tenant name (${name.error.issues[0]?.message})`,
      );
    }
    tokens[token] = name.data;
  });
  return tokens;
}

/** The Temporal workflow id of `tenant`'s public run id. */
export function workflowIdOf(tenant: string, id: string): string {
  return `${tenant}:${id}`;
}

/** The public id of a workflow id, or undefined when it is not `tenant`'s (tenant names have no `:`). */
export function publicIdOf(tenant: string, workflowId: string): string | undefined {
  const prefix = `${tenant}:`;
  return workflowId.startsWith(prefix) ? workflowId.slice(prefix.length) : undefined;
}
