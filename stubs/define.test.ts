import { ErrorCode, hasErrorCode } from '../common/errors';
import { activitiesOf, defineAgent, defineTool, type AgentOptions, type AgentMethod } from './define';

function definitionError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (hasErrorCode(err, ErrorCode.DEFINITION_INVALID)) return err.message;
    throw err;
  }
  throw new Error('expected a definition error');
}

const methods = {
  async run(input: { x: number }) {
    return input.x;
  },
};

test('a definition gets documented defaults and its methods become <name>.<method> activities', () => {
  const tool = defineTool({ name: 'calc', methods });
  expect(tool.directives).toEqual({
    stateful: false,
    batchable: false,
    preemptable: false,
    minInstances: 1,
    maxInstances: 8,
  });
  expect(tool.startToCloseTimeout).toBe('2 minutes');
  expect(tool.kind).toBe('tool');
  expect(Object.keys(activitiesOf([tool]))).toEqual(['calc.run']);
  const agent = defineAgent({
    name: 'planner',
    methods,
    model: { model: 'gpt-4o-mini' },
    directives: { stateful: true },
  });
  expect(agent.kind).toBe('agent');
  expect(agent.directives.stateful).toBe(true);
});

test('errors name the agent and every bad field at once', () => {
  const message = definitionError(() =>
    defineAgent({
      name: 'planner',
      methods: { ...methods, 'bad name': async () => 1, notAFunction: 42 as unknown as AgentMethod },
      directives: { stateful: 'yes', minInstances: 5, maxInstances: 2, gpu: 1 } as unknown as AgentOptions<
        typeof methods
      >['directives'],
    }),
  );
  expect(message).toContain('invalid agent planner');
  expect(message).toContain(
    'unknown directive(s) gpu; known: stateful, batchable, preemptable, minInstances, maxInstances, resources',
  );
  expect(message).toContain('methods.bad name: method names must be identifiers');
  expect(message).toContain('methods.notAFunction: must be a function');
});

test('bad names, empty method sets and inconsistent instance bounds are rejected', () => {
  expect(definitionError(() => defineTool({ name: '9lives', methods }))).toContain('name: must start with a letter');
  expect(definitionError(() => defineTool({ name: 'empty', methods: {} }))).toContain(
    'methods: must hold at least one method',
  );
  expect(
    definitionError(() => defineTool({ name: 'bounds', methods, directives: { minInstances: 3, maxInstances: 2 } })),
  ).toContain('directives.minInstances: must be at most maxInstances');
});

test('two definitions with the same name cannot be registered together', () => {
  const a = defineTool({ name: 'same', methods });
  const b = defineTool({ name: 'same', methods });
  expect(definitionError(() => activitiesOf([a, b]))).toContain('duplicate agent or tool name: same');
});
