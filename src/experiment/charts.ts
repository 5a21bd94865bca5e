// Charts of a sweep: an SVG (vega-lite compiled to vega, rendered headless) and a terminal chart
// (asciichart), records/s against thread count, one line per policy (dashed with pressure).

import asciichart from 'asciichart';
import { View, parse as vegaParse } from 'vega';
import { compile } from 'vega-lite';
import { formatNumber } from './report.js';
import type { RunResult } from './types.js';

export function chartSpec(results: RunResult[], title: string): object {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    height: 340,
    data: {
      values: results.map((r) => ({
        policy: r.config.policy,
        threads: r.config.ebizzy.threads,
        pressure: r.config.pressureMiB > 0 ? `pressure ${r.config.pressureMiB} MiB` : 'no pressure',
        recordsPerSecond: Math.round(r.recordsPerSecond),
        oversubscribed: r.oversubscribed ? 'oversubscribed' : 'fits the host',
      })),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'threads',
        type: 'quantitative',
        title: 'ebizzy threads (simulated CPUs)',
        scale: { type: 'log', base: 2 },
      },
      y: { field: 'recordsPerSecond', type: 'quantitative', title: 'records/s' },
      color: { field: 'policy', type: 'nominal' },
      strokeDash: { field: 'pressure', type: 'nominal' },
      shape: { field: 'oversubscribed', type: 'nominal' },
      tooltip: [
        { field: 'policy' },
        { field: 'threads' },
        { field: 'recordsPerSecond' },
        { field: 'pressure' },
      ],
    },
  };
}

export async function renderSvg(results: RunResult[], title: string): Promise<string> {
  const vega = compile(chartSpec(results, title) as never).spec;
  const view = new View(vegaParse(vega), { renderer: 'none' });
  return view.toSVG();
}

const COLORS = [
  asciichart.blue,
  asciichart.red,
  asciichart.green,
  asciichart.magenta,
  asciichart.cyan,
  asciichart.yellow,
];

/** A terminal chart: one series per (policy, pressure), x = the sweep's thread counts in order. */
export function renderAscii(results: RunResult[], color: boolean): string {
  const threads = [...new Set(results.map((r) => r.config.ebizzy.threads))].sort((a, b) => a - b);
  // Series key -> thread count -> records/s of the first result of that point, in first-seen order.
  const bySeries = new Map<string, Map<number, number>>();
  for (const r of results) {
    const key = `${r.config.policy}${r.config.pressureMiB > 0 ? `+p${r.config.pressureMiB}` : ''}`;
    let points = bySeries.get(key);
    if (points === undefined) {
      points = new Map();
      bySeries.set(key, points);
    }
    if (!points.has(r.config.ebizzy.threads)) points.set(r.config.ebizzy.threads, r.recordsPerSecond);
  }
  const keys = [...bySeries.keys()];
  const series = [...bySeries.values()].map((points) =>
    threads.map((t) => (points.has(t) ? (points.get(t) as number) : Number.NaN)),
  );
  // asciichart draws one column per value: stretch each thread count over a few columns.
  const width = 8;
  const stretched = series.map((s) => s.flatMap((v) => Array<number>(width).fill(v)));
  const plot = asciichart.plot(stretched, {
    height: 12,
    colors: color ? COLORS.slice(0, keys.length) : undefined,
    format: (x: number) => formatNumber(x).padStart(10),
  });
  const axis = `${' '.repeat(12)}${threads.map((t) => String(t).padEnd(width)).join('')} threads`;
  const legend = keys
    .map((key, i) => `${color ? COLORS[i % COLORS.length] : ''}${key}${color ? asciichart.reset : ''}`)
    .join('  ');
  return `${plot}\n${axis}\n${legend}`;
}
