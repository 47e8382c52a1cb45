import { lineChart, lineChartSpec } from './plot';

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
