import { poolProfileSchema } from '../../../sim/profile';
import { fixtureWorkload } from '../e2e/fixture-workload';
import { runInfo } from '../run-info';
import { parsePoliciesBenchOptions, policiesSettings, policySets } from './options';
import { policiesReport } from './report';

test('the report states each ratio as the paper does, each set as run, and leaves undefined figures blank', () => {
  const settings = policiesSettings(fixtureWorkload, parsePoliciesBenchOptions([]));
  const md = policiesReport({
    workload: fixtureWorkload,
    settings,
    seeds: [42],
    sets: policySets('load-balance'),
    info: runInfo(),
    temporalVersion: 'test',
    profile: poolProfileSchema.parse(fixtureWorkload.simProfile({ seed: 42, timeScale: 0.01 })),
    runId: 'r',
    seconds: 1,
    segments: [],
    comparison: {
      perRate: [{ rate: 2, srtfMeanJctRatio: 0.976, lptMakespanRatio: NaN }],
      srtfMeanJctRatio: 0.976,
      lptMakespanRatio: 1.058,
    },
    figures: { jct: 'jct.svg', makespan: 'makespan.svg' },
  });
  expect(md).toContain('**0.976** (−2.4%; paper: −2.4%)');
  expect(md).toContain('**1.058** (+5.8%; paper: −5.8%)');
  expect(md).toContain('| 2 | 0.976 | −2.4% | – | – |');
  expect(md).toContain('- `lpt`: `load-balance,lpt`');
});
