/**
 * The router workload on the vanilla Temporal path (the benchmark's baseline): the same agents, tools and
 * model replicas as router.ts through plain `proxyActivities`, with no futures and no future metadata. A
 * plain activity's session is its workflow, so each request stays on the replica its id hashes to (the
 * static split); the engines serve in arrival order.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type {
  ChatBranchActivities,
  ClassifierActivities,
  CodeRunnerActivities,
  CoderActivities,
} from '../stubs/generated';
import { withInput } from '../stubs/workflow/input';
import { routerInput } from './inputs';
import { replicasOf, withDeadline, type RouterResult } from './router-steps';

type RouterActivities = ClassifierActivities & ChatBranchActivities & CoderActivities & CodeRunnerActivities;

/** The definitions' own settings (activities/agents/router.ts), spelled out as a vanilla workflow would. */
const base: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 3, initialInterval: '500 ms', backoffCoefficient: 2 },
};

/** The activities with the time left before the deadline as their schedule-to-close timeout. */
function activities(deadlineMs: number, options: ActivityOptions = base): RouterActivities {
  return proxyActivities<RouterActivities>({ ...options, scheduleToCloseTimeout: deadlineMs });
}

export const routerBaselineWorkflow = withInput(
  routerInput,
  async function routerBaselineWorkflow(input): Promise<RouterResult> {
    const request = { seed: input.seed, promptTokens: input.promptTokens };
    const route = await withDeadline(input, 'classify', (left) =>
      activities(left, { ...base, startToCloseTimeout: '1 minute' })['classifier.classify']({
        ...request,
        label: input.kind,
      }),
    );
    const branch = { ...request, outputTokens: input.outputTokens };
    if (route.branch === 'chat') {
      const reply = await withDeadline(input, 'chat', (left) => activities(left)['chatBranch.reply'](branch));
      return {
        branch: 'chat',
        replyChars: reply.replyChars,
        criticalPath: { modelMs: route.modelMs + reply.modelMs, toolMs: 0 },
        replicas: replicasOf(route, reply),
      };
    }
    const written = await withDeadline(input, 'write', (left) => activities(left)['coder.write'](branch));
    const ran = await withDeadline(input, 'run', (left) =>
      activities(left, { startToCloseTimeout: '1 minute', retry: base.retry })['codeRunner.run']({
        code: written.code,
        tests: written.tests,
      }),
    );
    return {
      branch: 'coding',
      passed: ran.passed,
      criticalPath: { modelMs: route.modelMs + written.modelMs, toolMs: ran.toolMs },
      replicas: replicasOf(route, written),
    };
  },
);
