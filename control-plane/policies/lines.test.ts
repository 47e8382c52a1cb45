import { builtInPolicies } from './index';
import {
  countCodeLines,
  defaultPolicies,
  defaultPoliciesLineBudget,
  defaultPoliciesLines,
  policyLineBudgets,
  policyLines,
} from './lines';

describe('countCodeLines', () => {
  test('blank lines and comments (line, block, TSDoc) do not count; code lines do', () => {
    const source = [
      '/**',
      ' * A TSDoc block.',
      ' */',
      "import { z } from 'zod';",
      '',
      '// a line comment',
      'const a = 1; // trailing comment: still a code line',
      '/* a block */ const b = 2;',
      'const c = /* inline */ 3;',
      '   ',
      '/* a block',
      '   over lines */',
      'export {};',
    ].join('\n');
    expect(countCodeLines(source)).toBe(5);
  });

  test('comment markers inside strings and template literals are code; a template spans lines', () => {
    const source = [
      "const url = 'http://example.com'; ",
      'const s = "/* not a comment */";',
      'const t = `first',
      '// inside the template',
      'last`;',
      "const escaped = 'it\\'s // still code';",
    ].join('\n');
    expect(countCodeLines(source)).toBe(6);
  });

  test('a file without a final newline counts its last line', () => {
    expect(countCodeLines('a();\nb();')).toBe(2);
    expect(countCodeLines('a();\nb();\n')).toBe(2);
    expect(countCodeLines('')).toBe(0);
  });
});

describe('line budgets of the built-in policies', () => {
  test('every registered policy has its file at control-plane/policies/<name>.ts', () => {
    for (const name of Object.keys(builtInPolicies)) expect(policyLines(name)).toBeGreaterThan(3);
  });

  test('srtf, lpt and attained-service stay within 15 lines each; capacity-reassign 40, autoscale 60', () => {
    expect(policyLineBudgets).toEqual({
      srtf: 15,
      lpt: 15,
      'attained-service': 15,
      'capacity-reassign': 40,
      autoscale: 60,
    });
    const over = Object.entries(policyLineBudgets)
      .map(([name, budget]) => ({ name, budget, lines: policyLines(name) }))
      .filter((p) => p.lines > p.budget);
    expect(over).toEqual([]);
  });

  test('the three default policies stay within 100 lines together', () => {
    expect(defaultPolicies).toEqual(['load-balance', 'hol-migration', 'high-priority']);
    expect(defaultPoliciesLines()).toBeLessThanOrEqual(defaultPoliciesLineBudget);
  });
});
