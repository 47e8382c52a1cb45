import path from 'node:path';
import { createFixture, type Fixture } from './fixtures';
import { defaultRepoRoot } from './generate';
import { hasErrorCode, ErrorCode } from '../../common/errors';
import { defineTool, type Definition } from '../define';
import { discoverDefinitions, type DefinitionInfo, type Diagnostic, type DiscoveryResult } from './discover';

let fx: Fixture;
let rel: string;

beforeEach(() => {
  fx = createFixture();
  rel = `${path.relative(defaultRepoRoot, fx.defs).split(path.sep).join('/')}`;
});
afterEach(() => fx.remove());

/** Problems as printed: `file:line:col: message`, file relative to the fixture's `defs/`. */
function problems(): string[] {
  const { diagnostics } = discoverDefinitions({ repoRoot: defaultRepoRoot, definitionsDir: fx.defs });
  return diagnostics.map((d: Diagnostic) => `${d.file.replace(`${rel}/`, '')}:${d.line}:${d.col}: ${d.message}`);
}

const oneMethod = `methods: { async a(): Promise<number> { return 1; } }`;

describe('discoverDefinitions', () => {
  it('reports duplicate names across two files with both locations', () => {
    fx.write(
      'a.ts',
      `import { defineTool } from 'DEFINE';\nexport const a = defineTool({ name: 'same', ${oneMethod} });\n`,
    );
    fx.write(
      'b.ts',
      `import { defineAgent } from 'DEFINE';\n\nexport const b = defineAgent({ name: 'same', ${oneMethod} });\n`,
    );
    expect(problems()).toEqual([
      `b.ts:3:18: duplicate name \`same\`: agent at ${rel}/b.ts:3:18 and tool at ${rel}/a.ts:2:18`,
    ]);
  });

  it('reports unknown directives, listing the known ones', () => {
    fx.write(
      'a.ts',
      `import { defineTool } from 'DEFINE';
export const a = defineTool({
  name: 'a',
  directives: { batchable: true, gpu: 2 } as never,
  ${oneMethod},
});
`,
    );
    expect(problems()).toEqual([
      'a.ts:4:15: tool `a`: unknown directive(s) gpu; known: stateful, batchable, preemptable, minInstances, maxInstances, resources',
    ]);
  });

  it('reports a non-literal name, duration and directive', () => {
    fx.write(
      'a.ts',
      `import { defineTool } from 'DEFINE';
const name = 'a';
const max = 3;
export const a = defineTool({ name, ${oneMethod} });
export const b = defineTool({ name: name, ${oneMethod} });
export const c = defineTool({ name: 'c', startToCloseTimeout: \`\${max} seconds\`, directives: { maxInstances: max }, ${oneMethod} });
`,
    );
    expect(problems()).toEqual([
      'a.ts:4:31: tool: `name` must be written as `name: <literal>`',
      'a.ts:5:37: tool: name must be a literal, not `name` (definitions are read without running them)',
      'a.ts:6:63: tool `c`: startToCloseTimeout must be a literal, not ``${max} seconds`` (definitions are read without running them)',
      'a.ts:6:109: tool `c`: directives.maxInstances must be a literal, not `max` (definitions are read without running them)',
    ]);
  });

  it('reports every method that cannot cross the wire, together, with the type path', () => {
    fx.write(
      'a.ts',
      `import { defineAgent } from 'DEFINE';
export const bad = defineAgent({
  name: 'bad',
  methods: {
    async takesMap(m: Map<string, number>): Promise<number> { return m.size; },
    async returnsDate(): Promise<{ at: Date[] }> { return { at: [] }; },
    async takesCallback(input: { text: string; onDone?: (x: string) => void }): Promise<string> { return input.text; },
    async fine(input: { tree: Tree; when: string }): Promise<Tree | null> { return input.tree; },
  },
});
interface Tree { value: string; children: Tree[] }
`,
    );
    expect(problems()).toEqual([
      'a.ts:5:11: agent `bad`, method `takesMap`: `input` has type `Map<string, number>`, which cannot cross the wire: a Map does not survive JSON (use plain objects, arrays, strings)',
      'a.ts:6:11: agent `bad`, method `returnsDate`: `output.at[]` has type `Date`, which cannot cross the wire: a Date does not survive JSON (use plain objects, arrays, strings)',
      'a.ts:7:11: agent `bad`, method `takesCallback`: `input.onDone` has type `(x: string) => void`, which cannot cross the wire: functions are not JSON-serialisable',
    ]);
  });

  it('reports bigint, symbol, undefined-only, Set, class instances, extra parameters and non-promises', () => {
    fx.write(
      'a.ts',
      `import { defineTool } from 'DEFINE';
class Point { x = 0; }
export const t = defineTool({
  name: 't',
  methods: {
    async odd(x: { n: bigint; s: symbol; u: undefined; tags: Set<string> }): Promise<Point> { return new Point(); },
    // @ts-expect-error -- AgentMethod takes one argument; the generator says so too
    async two(a: string, b: string): Promise<string> { return a + b; },
    // @ts-expect-error -- likewise, AgentMethod returns a promise
    sync: ((x: string) => x) as unknown as (x: string) => string,
  },
});
`,
    );
    expect(problems()).toEqual([
      'a.ts:6:11: tool `t`, method `odd`: `input.n` has type `bigint`, which cannot cross the wire: bigint has no JSON form',
      'a.ts:6:11: tool `t`, method `odd`: `input.s` has type `symbol`, which cannot cross the wire: symbols have no JSON form',
      'a.ts:6:11: tool `t`, method `odd`: `input.u` has type `undefined`, which cannot cross the wire: a value that is always undefined is dropped by JSON',
      'a.ts:6:11: tool `t`, method `odd`: `input.tags` has type `Set<string>`, which cannot cross the wire: a Set does not survive JSON (use plain objects, arrays, strings)',
      'a.ts:6:11: tool `t`, method `odd`: `output` has type `Point`, which cannot cross the wire: a class instance loses its prototype in JSON (use a plain object type)',
      'a.ts:8:11: tool `t`, method `two`: takes 2 parameters; a method takes one JSON argument (or none)',
      'a.ts:10:5: tool `t`, method `sync`: must return a Promise (declare it `async`)',
    ]);
  });

  it('requires the definition to be an exported const and resolves defineTool by symbol, not by name', () => {
    fx.write(
      'a.ts',
      `import { defineTool } from 'DEFINE';
import { defineTool as dt } from 'DEFINE';
const hidden = dt({ name: 'hidden', ${oneMethod} });
export const shown = hidden;
/** Not the real one: ignored. */
function defineAgent(o: { name: string }): string { return o.name; }
export const local = defineAgent({ name: 'local' });
export const real = defineTool({ name: 'real', ${oneMethod} });
`,
    );
    const { definitions, diagnostics } = discoverDefinitions({ repoRoot: defaultRepoRoot, definitionsDir: fx.defs });
    expect(diagnostics.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      '3:16: the result of defineTool(...) must be assigned to an exported top-level const',
    ]);
    expect(definitions.map((d) => [d.name, d.exportName])).toEqual([['real', 'real']]);
  });

  it('reports type errors of definition files with the generator errors', () => {
    fx.write(
      'a.ts',
      `import { defineTool } from 'DEFINE';\nexport const a = defineTool({ name: 'a', ${oneMethod} });\nconst n: number = 'x';\n`,
    );
    expect(problems()).toEqual(["a.ts:3:7: TS2322: Type 'string' is not assignable to type 'number'."]);
  });
});

describe('definition settings, checked with the schema defineTool uses', () => {
  const cases: Record<string, unknown>[] = [
    {},
    { directives: { stateful: true } },
    {
      taskQueue: 'llm',
      startToCloseTimeout: '30 seconds',
      heartbeatTimeout: 5000,
      retry: { maximumAttempts: 3 },
      directives: { batchable: true, maxInstances: 4 },
    },
    { directives: { minInstances: 0, resources: { cpus: 2, gpus: 1 } } },
    { directives: { minInstances: 9 } },
    { directives: { stateful: null, minInstances: null } },
    { directives: { maxInstances: 2.5 } },
    { directives: { resources: { tpus: 1 } } },
    { startToCloseTimeout: 'soon' },
    { taskQueue: '' },
  ];
  let own: Fixture;
  let found: DiscoveryResult;

  // One compiler run for both tests (each run type-checks the fixture: seconds on a busy machine).
  beforeAll(() => {
    own = createFixture();
    // One definition per line, each setting cast so that only the checks under test can reject it.
    const lines = cases.map((c, i) => {
      const settings = Object.entries(c).map(([k, v]) => `${k}: ${JSON.stringify(v)} as never, `);
      return `export const c${i} = defineTool({ name: 'c${i}', ${settings.join('')}${oneMethod} });`;
    });
    own.write('cases.ts', `import { defineTool } from 'DEFINE';\n${lines.join('\n')}\n`);
    own.write(
      'bad.ts',
      `import { defineTool } from 'DEFINE';
export const bad = defineTool({
  name: 'bad',
  startToCloseTimeout: 'soon',
  directives: { minInstances: -1, stateful: 'yes', resources: { gpus: 1, tpus: 2 } } as never,
  ${oneMethod},
});
`,
    );
    found = discoverDefinitions({ repoRoot: defaultRepoRoot, definitionsDir: own.defs });
  });
  afterAll(() => own.remove());

  it('accepts and rejects what defineTool does and fills in the same defaults, for the same input', () => {
    const settingsOf = (d: DefinitionInfo | Definition) => ({
      taskQueue: d.taskQueue,
      startToCloseTimeout: d.startToCloseTimeout,
      heartbeatTimeout: d.heartbeatTimeout,
      retry: d.retry,
      directives: d.directives,
    });
    const methods = { a: async () => 1 };
    cases.forEach((c, i) => {
      const read = found.definitions.find((d) => d.name === `c${i}`);
      let runtime: ReturnType<typeof settingsOf> | 'rejected';
      try {
        runtime = settingsOf(defineTool({ name: `c${i}`, methods, ...c } as never));
      } catch (err) {
        if (!hasErrorCode(err, ErrorCode.DEFINITION_INVALID)) throw err;
        runtime = 'rejected';
      }
      // Both accept with the same result, or both reject (the generator saying why, on the definition's line).
      expect([c, read ? settingsOf(read) : 'rejected']).toEqual([c, runtime]);
      const onItsLine = found.diagnostics.filter((d) => d.file.endsWith('/cases.ts') && d.line === i + 2);
      if (!read) expect(onItsLine).not.toEqual([]);
    });
    expect(found.definitions.map((d) => d.name)).toEqual(['c0', 'c1', 'c2', 'c3']);
  });

  it('says which setting is wrong and why, at its place in the file', () => {
    const bad = found.diagnostics.filter((d) => d.file.endsWith('/bad.ts'));
    expect(bad.map((d) => `${d.line}:${d.col}: ${d.message}`)).toEqual([
      "4:24: tool `bad`: startToCloseTimeout must be a duration such as '30 seconds' or a number of milliseconds",
      '5:15: tool `bad`: directives.stateful must be true or false',
      '5:15: tool `bad`: directives.minInstances must be an integer >= 0',
      '5:15: tool `bad`: unknown resource(s) tpus; known: gpus, cpus, memoryGiB',
    ]);
  });
});
