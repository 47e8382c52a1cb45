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
