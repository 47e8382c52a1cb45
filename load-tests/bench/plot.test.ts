import { barWhiskerChartSpec, lineChart, lineChartSpec, renderSvg } from './plot';

const series = [
  {
    name: 'filesystem',
    points: [
      { x: 200, y: 1.5 },
      { x: 400, y: 2.5 },
    ],
  },
  {
    name: 'redis+cache',
    points: [
      { x: 200, y: 0.5 },
      { x: 400, y: 0.75 },
    ],
  },
];

/** The text of every <text> element of an SVG document, entities decoded. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'),
  );
}

test('a rendered line chart is an SVG document with its title, axis titles and one legend entry per series', async () => {
  const svg = await lineChart(series, {
    title: 'Read + write per agent call',
    xLabel: 'measured calls',
    yLabel: 'p99 ms',
  });
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  const t = texts(svg);
  expect(t).toEqual(
    expect.arrayContaining(['Read + write per agent call', 'measured calls', 'p99 ms', 'filesystem', 'redis+cache']),
  );
  // One line per series.
  expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(series.length);
});

test('a logarithmic x axis has a tick at every x of the data, and the legend keeps the order given', async () => {
  const sweep = [
    { name: 'TPOT (model ms)', points: [1, 8, 32, 512].map((x) => ({ x, y: 12 + x / 100 })) },
    { name: 'p50 latency / 100 (real ms)', points: [1, 8, 32, 512].map((x) => ({ x, y: 2 })) },
  ];
  const spec = lineChartSpec(sweep, { title: 'curve', xLabel: 'concurrency', yLabel: 'ms', logX: true });
  expect(spec).toMatchObject({
    encoding: {
      x: { scale: { type: 'log', base: 2 }, axis: { values: [1, 8, 32, 512] } },
      color: { sort: ['TPOT (model ms)', 'p50 latency / 100 (real ms)'] },
    },
  });
  const t = texts(await lineChart(sweep, { title: 'curve', xLabel: 'concurrency', yLabel: 'ms', logX: true }));
  expect(t).toEqual(expect.arrayContaining(['1', '8', '32', '512', 'concurrency']));
  expect(t.indexOf('TPOT (model ms)')).toBeLessThan(t.indexOf('p50 latency / 100 (real ms)'));
});

test('the Figure 9 spec: per rate one mean bar per variant, a p50–p99 whisker and a point per percentile', async () => {
  const points = [
    { x: 4, series: 'nalar', mean: 120, p50: 100, p95: 200, p99: 260 },
    { x: 1, series: 'baseline', mean: 90, p50: 80, p95: 150, p99: 180 },
    { x: 1, series: 'nalar', mean: 85, p50: 75, p95: 140, p99: 170 },
    { x: 4, series: 'baseline', mean: NaN, p50: NaN, p95: NaN, p99: NaN },
  ];
  const spec = barWhiskerChartSpec(points, {
    title: 'analyst',
    xLabel: 'rate (req/s)',
    yLabel: 'latency (ms)',
    seriesOrder: ['nalar', 'baseline'],
  });
  expect(spec).toMatchObject({
    encoding: {
      x: { field: 'x', type: 'ordinal', sort: [1, 4] },
      xOffset: { field: 'series', sort: ['nalar', 'baseline'] },
    },
    layer: [
      { mark: { type: 'bar' }, encoding: { y: { field: 'mean' }, color: { sort: ['nalar', 'baseline'] } } },
      { mark: { type: 'rule' }, encoding: { y: { field: 'p50' }, y2: { field: 'p99' } } },
      {
        transform: [{ fold: ['p50', 'p95', 'p99'], as: ['percentile', 'value'] }],
        encoding: { y: { field: 'value' }, shape: { field: 'percentile' } },
      },
    ],
  });
  // The point without a mean (nothing completed) is not drawn.
  expect((spec as { data: { values: unknown[] } }).data.values).toHaveLength(3);
  const svg = await renderSvg(spec);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.match(/aria-roledescription="bar"/g)).toHaveLength(3);
  expect(texts(svg)).toEqual(expect.arrayContaining(['analyst', 'rate (req/s)', 'latency (ms)', 'nalar', 'p95']));
});
