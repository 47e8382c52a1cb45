/**
 * Where the generator reads and writes by default. Its own module (no TypeScript compiler, no Prettier), so a
 * worker can find the folders at start without loading the generator.
 */
import path from 'node:path';

/** The repository this generator belongs to; relative paths in `GenerateOptions` resolve against it. */
export const defaultRepoRoot = path.resolve(__dirname, '..', '..');

/** Folder of definition files, relative to the repo root. */
export const defaultDefinitionsDir = 'activities/agents';

/** Output folder of the generated stubs, relative to the repo root. */
export const defaultOutDir = 'stubs/generated';
