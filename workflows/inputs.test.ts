/**
 * Every workflow of workflows/index.ts declares its input schema once, in workflows/inputs.ts: the workflow
 * validates with the very object a gateway imports, and the registry lists exactly the registered workflows.
 */
import * as workflows from './index';
import { workflowInputs } from './inputs';

test('workflowInputs lists exactly the workflows of the barrel, each validating with that same schema', () => {
  const registered = Object.entries(workflows).filter(([, value]) => typeof value === 'function');
  expect(registered.map(([name]) => name).sort()).toEqual(Object.keys(workflowInputs).sort());
  for (const [name, workflow] of registered) {
    // A client that starts a workflow by function sends its name as the workflow type.
    expect(workflow.name).toBe(name);
    expect((workflow as { inputSchema?: unknown }).inputSchema).toBe(
      workflowInputs[name as keyof typeof workflowInputs],
    );
  }
});

test('a schema names the bad field the way a workflow failure and a 400 answer do', () => {
  const result = workflowInputs.helloAgentWorkflow.safeParse({ question: '  ' });
  expect(result.success).toBe(false);
  expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['question', 'must not be blank']]);
  expect(workflowInputs.writeArticleWorkflow.safeParse({ topics: [] }).success).toBe(false);
  expect(workflowInputs.textPipelineWorkflow.safeParse({ sentences: ['a'], sessionId: 's' }).success).toBe(true);
});
