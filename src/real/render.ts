// Text renderings of real-kernel results.

import { formatNumber, hostLine, textTable } from '../experiment/report.js';
import type { MicroResult, RealHostInfo, RealRunResult } from './types.js';

export function realHostLine(host: RealHostInfo, busyThreads: number): string {
  return `${hostLine(host, busyThreads).replace(/simulated CPUs/g, 'threads')}; kernel ${host.sysname} ${host.kernel}`;
}

/** The one-run report of `vrange-lab real ebizzy`. */
export function renderRealRun(result: RealRunResult): string {
  const c = result.config;
  const e = c.ebizzy;
  const lines = [
    `real ebizzy (host kernel): policy ${c.policy}${c.policy === 'vmaflag' ? ' (analogue of vma)' : ''}, ${c.processes} process(es) x ${e.threads} thread(s), ` +
      `${e.chunks} chunks of ${e.chunkSize / 1024} KiB, lg_dirty_mult ${c.lgDirtyMult}, seed ${c.seed}`,
    realHostLine(result.host, c.processes * e.threads),
  ];
  if (result.analogue !== null) lines.push(`note: ${result.analogue}`);
  lines.push(
    '',
    `${formatNumber(result.recordsPerSecond)} records/s (${formatNumber(result.records)} records in ${result.elapsedSeconds.toFixed(2)} s; per thread: ${result.perThread.map((n) => formatNumber(n)).join(', ')})`,
    `arena: ${formatNumber(result.arena.purgeCalls)} purge calls (${formatNumber(result.arena.pagesPurged)} pages), ${formatNumber(result.arena.unmarkCalls)} unmark calls, ${formatNumber(result.arena.runsFromDirty)} runs reused dirty`,
    '',
    '/proc/vmstat (increase over the run, host-wide: other processes count too):',
    textTable(
      ['counter', 'value', 'per record'],
      Object.entries(result.vmstat).map(([name, value]) => [
        name,
        formatNumber(value),
        result.records > 0 ? formatNumber(value / result.records, 2) : '-',
      ]),
    ),
  );
  if (result.vmstatMissing.length > 0)
    lines.push(`not in this kernel's /proc/vmstat: ${result.vmstatMissing.join(', ')}`);
  return lines.join('\n');
}

function ns(value: number): string {
  return value >= 100 ? formatNumber(value) : formatNumber(value, 1);
}

export function renderMicro(result: MicroResult): string {
  const reps = Math.max(...result.measurements.map((m) => m.repetitions));
  return [
    `real micro (host kernel): nanoseconds per operation, median (min-max) of ${reps} repetitions${result.pinned ? '; two-thread cases pinned to two CPUs' : ''}`,
    realHostLine(result.host, 2),
    '',
    textTable(
      ['operation', 'per', 'median ns', 'min-max ns', 'what'],
      result.measurements.map((m) =>
        m.unavailable !== null
          ? [m.name, m.per, '-', '-', `unavailable: ${m.unavailable}`]
          : [m.name, m.per, ns(m.medianNs), `${ns(m.minNs)}-${ns(m.maxNs)}`, m.what],
      ),
    ),
  ].join('\n');
}
