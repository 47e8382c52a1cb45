/**
 * The router workload (docs/workloads/router.md), written with stubs and futures: a light classifier picks
 * the chat branch or the coding branch; the coding branch writes a program and runs it with the code-run
 * tool. Each agent has its own model replicas (NALAR_AGENT_MODELS). Its vanilla Temporal twin is
 * router-baseline.ts.
 */
import { chatBranch, classifier, codeRunner, coder } from '../stubs/generated';
import { useSession } from '../stubs/workflow';
import { withInput } from '../stubs/workflow/input';
import { routerInput } from './inputs';
import { replicasOf, withDeadline, type RouterResult } from './router-steps';

export type { RouterInput } from './inputs';
export type { CriticalPath, RouterResult } from './router-steps';

export const routerWorkflow = withInput(routerInput, async function routerWorkflow(input): Promise<RouterResult> {
  useSession(input);
  const request = { seed: input.seed, promptTokens: input.promptTokens };
  const route = await withDeadline(input, 'classify', (deadline) =>
    classifier.classify({ ...request, label: input.kind }, { deadline }),
  );
  const branch = { ...request, outputTokens: input.outputTokens };
  if (route.branch === 'chat') {
    const reply = await withDeadline(input, 'chat', (deadline) => chatBranch.reply(branch, { deadline }));
    return {
      branch: 'chat',
      replyChars: reply.replyChars,
      criticalPath: { modelMs: route.modelMs + reply.modelMs, toolMs: 0 },
      replicas: replicasOf(route, reply),
    };
  }
  const written = await withDeadline(input, 'write', (deadline) => coder.write(branch, { deadline }));
  const ran = await withDeadline(input, 'run', (deadline) =>
    codeRunner.run({ code: written.code, tests: written.tests }, { deadline }),
  );
  return {
    branch: 'coding',
    passed: ran.passed,
    criticalPath: { modelMs: route.modelMs + written.modelMs, toolMs: ran.toolMs },
    replicas: replicasOf(route, written),
  };
});
