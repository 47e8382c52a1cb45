/**
 * Deterministic content for the LLM serving simulator: request seeds, a seeded PRNG, a BPE-like
 * pseudo-tokenizer, prose of an exact token length, and JSON values that satisfy a JSON Schema.
 *
 * Everything here is a pure function of its inputs (no clock, no Math.random, no I/O), so any simulated
 * response can be reproduced from its seed, and the simulator's token accounting (usage, streaming chunks)
 * agrees with what a client would count by re-splitting the text.
 */

export { Prng, seedFrom } from './prng';
export { countTokens, pieces } from './tokens';
export { generateProse } from './prose';
export { generateJson, UnsupportedSchemaError, type JsonSchema } from './json-from-schema';
