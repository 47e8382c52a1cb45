/**
 * Charts of the benchmark reports: vega-lite specs, rendered to SVG with vega's headless SVG renderer (no
 * node-canvas: without it vega estimates text widths, which is enough for a report a person reads).
 */
import type { TopLevelSpec } from 'vega-lite';

/** One line of a chart. */
export interface Series {
  name: string;
  points: readonly { x: number; y: number }[];
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Logarithmic x axis (base 2) with a tick at every x of the data, for concurrency sweeps. @default false */
  logX?: boolean;
  /** Width of the plot area, px. @default 520 */
  width?: number;
  /** Height of the plot area, px. @default 300 */
  height?: number;
}

/**
 * The vega-lite spec of a line chart with a point on every value: one colour per series, named in a legend
 * in the order given, axes titled with the labels.
 */
export function lineChartSpec(series: readonly Series[], o: LineChartOptions): TopLevelSpec {
  const values = series.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const xs = [...new Set(values.map((v) => v.x))].sort((a, b) => a - b);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? 520,
    height: o.height ?? 300,
    background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: o.xLabel,
        ...(o.logX && { scale: { type: 'log', base: 2 }, axis: { values: xs } }),
      },
      y: { field: 'y', type: 'quantitative', title: o.yLabel },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: series.map((s) => s.name),
        legend: { orient: 'right', labelLimit: 320 },
      },
    },
  };
}

/** Renders a vega-lite spec to a standalone SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Both ship only as ES modules, vega's with a top-level await: they load with import(), not require().
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A line chart as SVG: {@link lineChartSpec} rendered with {@link renderSvg}. */
export function lineChart(series: readonly Series[], o: LineChartOptions): Promise<string> {
  return renderSvg(lineChartSpec(series, o));
}

/** One bar of a {@link barWhiskerChartSpec}: a series' mean at one x, with its percentiles. */
export interface BarWhiskerPoint {
  /** The group on the x axis (e.g. the offered rate). */
  x: number;
  /** The series (one bar per series in each group, e.g. the variant). */
  series: string;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface BarWhiskerChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Order of the series in every group and in the legend. @default the order of first appearance */
  seriesOrder?: readonly string[];
  /** Width of one group (all its bars), px. @default 90 */
  groupWidth?: number;
  /** Height of the plot area, px. @default 300 */
  height?: number;
}

/** The percentiles a {@link barWhiskerChartSpec} marks on every bar, in order. */
export const whiskerPercentiles = ['p50', 'p95', 'p99'] as const;

/**
 * The vega-lite spec of the paper's Figure 9 shape: per x, one bar per series for the mean (coloured by
 * series, side by side), a whisker from p50 to p99, and a point on it for each of p50, p95 and p99 (one shape
 * per percentile, named in a legend). Points with a non-finite mean are left out (nothing to draw).
 */
export function barWhiskerChartSpec(points: readonly BarWhiskerPoint[], o: BarWhiskerChartOptions): TopLevelSpec {
  const drawn = points.filter((p) => Number.isFinite(p.mean));
  const order = o.seriesOrder ? [...o.seriesOrder] : [...new Set(drawn.map((p) => p.series))];
  const values = drawn.map((p) => ({ ...p }));
  const xs = [...new Set(drawn.map((p) => p.x))].sort((a, b) => a - b);
  const x = { field: 'x', type: 'ordinal' as const, title: o.xLabel, sort: xs, axis: { labelAngle: 0 } };
  const xOffset = { field: 'series', type: 'nominal' as const, sort: order };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: { step: o.groupWidth ?? 90 },
    height: o.height ?? 300,
    background: 'white',
    data: { values },
    encoding: { x, xOffset },
    layer: [
      {
        mark: { type: 'bar' },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: o.yLabel },
          color: { field: 'series', type: 'nominal', title: 'mean', sort: order, legend: { orient: 'right' } },
        },
      },
      {
        mark: { type: 'rule', color: 'black' },
        encoding: { y: { field: 'p50', type: 'quantitative' }, y2: { field: 'p99' } },
      },
      {
        transform: [{ fold: [...whiskerPercentiles], as: ['percentile', 'value'] }],
        mark: { type: 'point', filled: true, color: 'black', size: 30 },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          shape: {
            field: 'percentile',
            type: 'nominal',
            title: null,
            sort: [...whiskerPercentiles],
            legend: { orient: 'right' },
          },
        },
      },
    ],
  };
}
