/**
 * Which endpoint, model and key an agent uses: NALAR_AGENT_MODELS per agent, else the NALAR_LLM_* defaults.
 * An agent with several replicas (`baseUrls`) sends each call to one of them. Plain activities (the baselines)
 * choose by the call's route key (its session): a session stays on the replica it first used, so its prefix
 * cache stays warm. Calls of Nalar futures go through the worker's local controller instead, which chooses the
 * replica by policy and asks for it by id ({@link modelBindingFor}); a replica's id is its base URL.
 * One typed OpenAI client per (endpoint, key), reused across calls.
 */
import OpenAI from 'openai';
import type { NalarConfig } from '../../common/config';
import { routeHash } from '../../common/route-hash';

export interface ModelBinding {
  baseUrl: string;
  model: string;
  /** Environment variable of the key, for error messages (the key itself is never logged). */
  apiKeySource: string;
  /** The endpoint takes vLLM's `priority` request field (NALAR_AGENT_MODELS `priority: true`). */
  acceptsPriority: boolean;
  client: OpenAI;
}

/** The settings a binding is made of. */
export type BindingConfig = Pick<NalarConfig, 'llmBaseUrl' | 'llmApiKey' | 'llmModel' | 'llmTimeout' | 'agentModels'>;

const clients = new Map<string, OpenAI>();

/** The replicas (base URLs) serving `agent`: its `baseUrls`, else its one endpoint. Never empty. */
export function agentReplicas(agent: string, config: BindingConfig): readonly string[] {
  const own = config.agentModels[agent] ?? {};
  return own.baseUrls && own.baseUrls.length > 0 ? own.baseUrls : [own.baseUrl ?? config.llmBaseUrl];
}

/**
 * Resolves an agent's binding by the static placement: `routeHash(routeKey) % n` over its replicas (without a
 * route key, the replicas in turn). The OpenAI client is built with `maxRetries: 0`: Temporal owns retries.
 */
export function modelBinding(
  agent: string,
  config: BindingConfig,
  env: NodeJS.ProcessEnv = process.env,
  routeKey?: string,
): ModelBinding {
  const replicas = agentReplicas(agent, config);
  const index = routeKey === undefined ? nextRoundRobin(agent, replicas.length) : routeHash(routeKey) % replicas.length;
  return modelBindingFor(agent, config, replicas[index] as string, env);
}

/** The binding of `agent` on one replica, named by its base URL (a replica the local controller chose). */
export function modelBindingFor(
  agent: string,
  config: BindingConfig,
  baseUrl: string,
  env: NodeJS.ProcessEnv = process.env,
): ModelBinding {
  const own = config.agentModels[agent] ?? {};
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
