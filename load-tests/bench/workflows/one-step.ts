/**
 * The workflow of `npm run bench -- gateway`: one activity call, so what the benchmark compares (a start and
 * wait over HTTP vs through the Temporal client) is dominated by the path in front of the workflow.
 */
import { proxyActivities } from '@temporalio/workflow';

/** Activities of the gateway benchmark. */
export interface OneStepActivities {
  /** Returns its input. */
  echo(text: string): Promise<string>;
}

const { echo } = proxyActivities<OneStepActivities>({ startToCloseTimeout: '1 minute' });

/** One step: echoes `input.text`. */
export async function oneStepBenchWorkflow(input: { text: string }): Promise<string> {
  return echo(input.text);
}
