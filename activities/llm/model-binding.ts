/**
 * Which endpoint, model and key an agent uses: NALAR_AGENT_MODELS per agent, else the NALAR_LLM_* defaults.
 * One typed OpenAI client per (endpoint, key), reused across calls.
 */
import OpenAI from 'openai';
import type { NalarConfig } from '../../common/config';

export interface ModelBinding {
  baseUrl: string;
  model: string;
  /** Environment variable of the key, for error messages (the key itself is never logged). */
  apiKeySource: string;
  client: OpenAI;
}

const clients = new Map<string, OpenAI>();

/** Resolves an agent's binding. The OpenAI client is built with `maxRetries: 0`: Temporal owns retries. */
export function modelBinding(
  agent: string,
  config: Pick<NalarConfig, 'llmBaseUrl' | 'llmApiKey' | 'llmModel' | 'llmTimeout' | 'agentModels'>,
  env: NodeJS.ProcessEnv = process.env,
): ModelBinding {
  const own = config.agentModels[agent] ?? {};
  const baseUrl = own.baseUrl ?? config.llmBaseUrl;
  const apiKeySource = own.apiKeyEnv ?? 'NALAR_LLM_API_KEY';
  // Servers without auth (the simulator, a local vLLM) accept any key; the client insists on one.
  const apiKey = (own.apiKeyEnv ? env[own.apiKeyEnv] : config.llmApiKey) ?? 'no-key';
  const cacheKey = `${baseUrl}\u0000${apiKey}\u0000${config.llmTimeout}`;
  let client = clients.get(cacheKey);
  if (!client) {
    client = new OpenAI({ baseURL: baseUrl, apiKey, maxRetries: 0, timeout: config.llmTimeout });
    clients.set(cacheKey, client);
  }
  return { baseUrl, model: own.model ?? config.llmModel, apiKeySource, client };
}
