// lock_stat: per-class contention and hold statistics, rendered as /proc/lock_stat (version 0.4).
//
// Each CPU adds to its own rows (Linux keeps cpu_lock_stats per CPU too); reading sums them. Wait
// times are measured on every contended acquisition. Hold times are timed on the first acquisition of
// each row on each CPU and on every 2^holdSampleShift-th after it, because reading the clock costs
// more than an uncontended lock pair: holdtime-min/max/avg are over the sampled holds and
// holdtime-total is scaled to all acquisitions.

import { LOCK_STAT } from '../layout/layout.js';
import type { LockDomain } from './domain.js';

export interface LockStatRow {
  /** Class name with the rwsem suffix: "mmap_sem-W", "mmap_sem-R"; plain name otherwise. */
  name: string;
  conBounces: number;
  contentions: number;
  /** Contended acquisitions that had to sleep (the rest were resolved by spinning). */
  sleeps: number;
  waitMinUs: number;
  waitMaxUs: number;
  waitTotalUs: number;
  acqBounces: number;
  acquisitions: number;
  holdSamples: number;
  holdMinUs: number;
  holdMaxUs: number;
  /** Estimated total: mean sampled hold time x acquisitions. */
  holdTotalUs: number;
}

export function readLockStat(dom: LockDomain): LockStatRow[] {
  const rows: LockStatRow[] = [];
  dom.classes.specs.forEach((spec, classId) => {
    const modes = spec.kind === 'rwsem' ? [0, 1] : [0];
    for (const mode of modes) {
      const name = spec.kind === 'rwsem' ? `${spec.name}-${mode === 0 ? 'W' : 'R'}` : spec.name;
      rows.push(sumRow(dom, classId * 2 + mode, name));
    }
  });
  return rows;
}

function sumRow(dom: LockDomain, row: number, name: string): LockStatRow {
  const out: LockStatRow = {
    name,
    conBounces: 0,
    contentions: 0,
    sleeps: 0,
    waitMinUs: 0,
    waitMaxUs: 0,
    waitTotalUs: 0,
    acqBounces: 0,
    acquisitions: 0,
    holdSamples: 0,
    holdMinUs: 0,
    holdMaxUs: 0,
    holdTotalUs: 0,
  };
  let sampledHoldUs = 0;
  for (let cpu = 0; cpu < dom.cpuCount; cpu++) {
    const at = (field: number) => dom.f64[dom.statIndex(cpu, row, field)];
    const contentions = at(LOCK_STAT.contentions);
    out.conBounces += at(LOCK_STAT.conBounces);
    out.sleeps += at(LOCK_STAT.sleeps);
    out.acqBounces += at(LOCK_STAT.acqBounces);
    out.acquisitions += at(LOCK_STAT.acquisitions);
    if (contentions > 0) {
      out.waitMinUs =
        out.contentions === 0 ? at(LOCK_STAT.waitMinUs) : Math.min(out.waitMinUs, at(LOCK_STAT.waitMinUs));
      out.waitMaxUs = Math.max(out.waitMaxUs, at(LOCK_STAT.waitMaxUs));
      out.waitTotalUs += at(LOCK_STAT.waitTotalUs);
      out.contentions += contentions;
    }
    const samples = at(LOCK_STAT.holdSamples);
    if (samples > 0) {
      out.holdMinUs =
        out.holdSamples === 0 ? at(LOCK_STAT.holdMinUs) : Math.min(out.holdMinUs, at(LOCK_STAT.holdMinUs));
      out.holdMaxUs = Math.max(out.holdMaxUs, at(LOCK_STAT.holdMaxUs));
      sampledHoldUs += at(LOCK_STAT.holdTotalUs);
      out.holdSamples += samples;
    }
  }
  out.holdTotalUs = out.holdSamples === 0 ? 0 : (sampledHoldUs / out.holdSamples) * out.acquisitions;
  return out;
}

function time(us: number): string {
  return us.toFixed(2).padStart(14);
}

function count(n: number): string {
  return String(n).padStart(14);
}

/** The /proc/lock_stat text. Classes never acquired are left out, as the kernel does. */
export function renderLockStat(dom: LockDomain): string {
  const columns = [
    'class name',
    'con-bounces',
    'contentions',
    'waittime-min',
    'waittime-max',
    'waittime-total',
    'waittime-avg',
    'acq-bounces',
    'acquisitions',
    'holdtime-min',
    'holdtime-max',
    'holdtime-total',
    'holdtime-avg',
  ];
  const header =
    columns[0].padStart(40) +
    columns
      .slice(1)
      .map((c) => c.padStart(15))
      .join('');
  const rule = '-'.repeat(header.length);
  const shift = dom.options.holdSampleShift;
  const lines = [
    'lock_stat version 0.4',
    `# times in microseconds; holdtime sampled on the first and then 1 in ${2 ** shift} acquisitions per class and cpu, holdtime-total scaled to all`,
    rule,
    header,
    rule,
  ];
  for (const row of readLockStat(dom)) {
    if (row.acquisitions === 0 && row.contentions === 0) continue;
    const waitAvg = row.contentions === 0 ? 0 : row.waitTotalUs / row.contentions;
    const holdAvg = row.holdSamples === 0 ? 0 : row.holdTotalUs / row.acquisitions;
    lines.push('');
    lines.push(
      `${`${row.name}:`.padStart(41)}${count(row.conBounces)} ${count(row.contentions)} ${time(row.waitMinUs)} ${time(row.waitMaxUs)} ${time(row.waitTotalUs)} ${time(waitAvg)} ${count(row.acqBounces)} ${count(row.acquisitions)} ${time(row.holdMinUs)} ${time(row.holdMaxUs)} ${time(row.holdTotalUs)} ${time(holdAvg)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
