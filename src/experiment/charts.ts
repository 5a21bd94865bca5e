// Charts of a sweep: an SVG (vega-lite compiled to vega, rendered headless) and a terminal chart
// (asciichart), records/s against thread count, one line per policy (dashed with pressure).

import asciichart from 'asciichart';
import { View, parse as vegaParse } from 'vega';
import { compile } from 'vega-lite';
import type { RealRunResult } from '../real/types.js';
import { formatNumber } from './report.js';
import type { RunResult } from './types.js';

/** The real kernel's series name of a run: its policy, marked as the real kernel's. */
export function realSeries(r: RealRunResult): string {
  return `${r.config.policy}${r.config.policy === 'vmaflag' ? ' (analogue of vma)' : ''}, real kernel`;
}

export function chartSpec(results: RunResult[], title: string, real: RealRunResult[] = []): object {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    height: 340,
    data: {
      values: results
        .map((r) => ({
          policy: r.config.policy as string,
          threads: r.config.ebizzy.threads,
          pressure: r.config.pressureMiB > 0 ? `pressure ${r.config.pressureMiB} MiB` : 'no pressure',
          recordsPerSecond: Math.round(r.recordsPerSecond),
          oversubscribed: r.oversubscribed ? 'oversubscribed' : 'fits the host',
        }))
        .concat(
          real.map((r) => ({
            policy: realSeries(r),
            threads: r.config.ebizzy.threads,
            pressure: 'no pressure',
            recordsPerSecond: Math.round(r.recordsPerSecond),
            oversubscribed: r.oversubscribed ? 'oversubscribed' : 'fits the host',
          })),
        ),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'threads',
        type: 'quantitative',
        title:
          real.length > 0
            ? 'ebizzy threads (simulated CPUs; real kernel: threads)'
            : 'ebizzy threads (simulated CPUs)',
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

export async function renderSvg(
  results: RunResult[],
  title: string,
  real: RealRunResult[] = [],
): Promise<string> {
  const vega = compile(chartSpec(results, title, real) as never).spec;
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
export function renderAscii(results: RunResult[], color: boolean, real: RealRunResult[] = []): string {
  const threads = [...new Set([...results, ...real].map((r) => r.config.ebizzy.threads))].sort(
    (a, b) => a - b,
  );
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
  // The real kernel's lines beside the model's.
  for (const r of real) {
    const key = realSeries(r);
    if (!bySeries.has(key)) bySeries.set(key, new Map());
    const points = bySeries.get(key)!;
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
