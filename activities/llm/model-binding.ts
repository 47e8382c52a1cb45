/**
 * Which endpoint, model and key an agent uses: NALAR_AGENT_MODELS per agent, else the NALAR_LLM_* defaults.
 * An agent with several replicas (`baseUrls`) sends each call to one of them, chosen by the call's route key
 * (its session): a session stays on the replica it first used, so its prefix cache stays warm. That is the
 * static placement of the baselines; the control plane's local controller replaces it with policy.
 * One typed OpenAI client per (endpoint, key), reused across calls.
 */
import OpenAI from 'openai';
import type { NalarConfig } from '../../common/config';

export interface ModelBinding {
  baseUrl: string;
  model: string;
  /** Environment variable of the key, for error messages (the key itself is never logged). */
  apiKeySource: string;
  /** The endpoint takes vLLM's `priority` request field (NALAR_AGENT_MODELS `priority: true`). */
  acceptsPriority: boolean;
  client: OpenAI;
}

const clients = new Map<string, OpenAI>();

/** Resolves an agent's binding. The OpenAI client is built with `maxRetries: 0`: Temporal owns retries. */
export function modelBinding(
  agent: string,
  config: Pick<NalarConfig, 'llmBaseUrl' | 'llmApiKey' | 'llmModel' | 'llmTimeout' | 'agentModels'>,
  env: NodeJS.ProcessEnv = process.env,
  routeKey?: string,
): ModelBinding {
  const own = config.agentModels[agent] ?? {};
  const replicas = own.baseUrls;
  const baseUrl =
    replicas && replicas.length > 0
      ? (replicas[
          routeKey === undefined ? nextRoundRobin(agent, replicas.length) : hash(routeKey) % replicas.length
        ] as string)
      : (own.baseUrl ?? config.llmBaseUrl);
  const apiKeySource = own.apiKeyEnv ?? 'NALAR_LLM_API_KEY';
  // Servers without auth (the simulator, a local vLLM) accept any key; the client insists on one.
  const apiKey = (own.apiKeyEnv ? env[own.apiKeyEnv] : config.llmApiKey) ?? 'no-key';
  const cacheKey = `${baseUrl}\u0000${apiKey}\u0000${config.llmTimeout}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0, timeout: config.llmTimeout });
    clients.set(cacheKey, client);
  }
  return { baseUrl, model: own.model ?? config.llmModel, apiKeySource, acceptsPriority: own.priority ?? false, client };
}

const roundRobin = new Map<string, number>();

/** Calls without a route key take the agent's replicas in turn. */
function nextRoundRobin(agent: string, n: number): number {
  const next = ((roundRobin.get(agent) ?? -1) + 1) % n;
  roundRobin.set(agent, next);
  return next;
}

/** FNV-1a, 32 bits: the same key lands on the same replica in every worker process. */
function hash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
