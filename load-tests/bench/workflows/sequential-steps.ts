/**
 * The workflow of the step-overhead part of `npm run bench -- futures`: `steps` sequential agent steps,
 * each a stub call that does almost nothing (`textTools.countWords` of a short text), awaited before the
 * next one starts, as a chain of dependent agent calls is. With `timerMs`, every step is a durable timer of
 * that length instead (think times, deadlines), which goes through the history service's timer queue.
 * Bundled only by the benchmark's own in-process Nalar worker.
 */
import { sleep } from '@temporalio/workflow';
import { textTools } from '../../../stubs/generated';

export interface SequentialStepsInput {
  steps: number;
  /** Each step sleeps this long (a Temporal timer) instead of calling the stub. @default stub calls */
  timerMs?: number;
}

/** Runs the steps one after the other; returns how many ran. */
export async function sequentialStepsBenchWorkflow(input: SequentialStepsInput): Promise<{ steps: number }> {
  let text = 'one step of the benchmark';
  for (let i = 0; i < input.steps; i++) {
    if (input.timerMs !== undefined) await sleep(input.timerMs);
    else text = `${await textTools.countWords({ text })} words`;
  }
  return { steps: input.steps };
}
