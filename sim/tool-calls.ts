/**
 * Seeded tool calls for the simulator: whether a reply calls tools, which functions, and their arguments
 * (JSON valid against each function's `parameters` schema). A pure function of its inputs, like the rest of
 * the simulator's content, so a reply reproduces from the request and the seed.
 */
import { generateJson, type JsonSchema } from './json-from-schema';
import type { Prng } from './prng';
import type { ChatCompletionRequest } from './request-schema';

/** The profile's knobs (`toolCalls` in a replica profile). */
export interface ToolCallKnobs {
  /** With tool_choice 'auto' and no tool result last: the probability that the reply calls tools. */
  autoProbability: number;
  /** With parallel_tool_calls: the most calls in one reply (drawn uniformly from 1..maxParallel). */
  maxParallel: number;
}

/** One planned call: `arguments` is the JSON text the model "decodes". */
export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** Thrown when a function's `parameters` schema cannot be satisfied; the replica answers 400 with `param`. */
export class ToolSchemaError extends Error {
  override readonly name = 'ToolSchemaError';
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

/** A function without `parameters` takes no arguments: `{}` (OpenAI's reading). */
const NO_PARAMETERS: JsonSchema = { type: 'object', properties: {}, additionalProperties: false };
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The calls of a reply, or `undefined` for a text reply. Rules (README "Tool calls"):
 * - no tools, or tool_choice 'none' → text;
 * - a named function → exactly one call of it;
 * - 'required' → at least one call;
 * - 'auto' (the default with tools) → text if the last message is a tool result (the tools answered),
 *   otherwise calls with probability `knobs.autoProbability`;
 * - calls per reply: 1 when `parallel_tool_calls` is false, else uniform in 1..maxParallel; each call's function
 *   is drawn uniformly from `tools` (repeats allowed, as models do for e.g. two cities' weather).
 * @throws ToolSchemaError if a chosen function's parameters schema cannot be satisfied
 */
export function planToolCalls(
  req: ChatCompletionRequest,
  prng: Prng,
  knobs: ToolCallKnobs,
): PlannedToolCall[] | undefined {
  const tools = req.tools ?? [];
  const choice = req.tool_choice ?? 'auto';
  if (tools.length === 0 || choice === 'none') return undefined;
  if (choice === 'auto') {
    if (req.messages[req.messages.length - 1]?.role === 'tool') return undefined;
    if (prng.next() >= knobs.autoProbability) return undefined;
  }
  let names: string[];
  if (typeof choice === 'object') names = [choice.function.name];
  else {
    const count = req.parallel_tool_calls === false ? 1 : prng.int(1, Math.max(1, knobs.maxParallel));
    names = Array.from({ length: count }, () => prng.pick(tools).function.name);
  }
  return names.map((name) => {
    const index = tools.findIndex((t) => t.function.name === name);
    const schema = (tools[index]?.function.parameters as JsonSchema | undefined) ?? NO_PARAMETERS;
    let args: unknown;
    try {
      args = generateJson(schema, prng);
    } catch (err) {
      throw new ToolSchemaError(`tools[${index}].function.parameters: ${(err as Error).message}`, `tools.${index}`);
    }
    let id = 'call_';
    for (let i = 0; i < 24; i++) id += ID_ALPHABET[prng.int(0, ID_ALPHABET.length - 1)] as string;
    return { id, name, arguments: JSON.stringify(args) };
  });
}
