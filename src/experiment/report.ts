// Text, CSV and JSON renderings of results.

import { describeHwConfig } from '../hw/profile.js';
import type { LockStatRow } from '../locks/index.js';
import type { Vmstat } from '../mm/vmstat.js';
import { busyCpus } from '../workers/host.js';
import type { HostInfo, RunResult } from './types.js';

/** The vmstat counters a run report shows. */
export const REPORTED_VMSTAT: (keyof Vmstat)[] = [
  'pgfault',
  'pgzero',
  'pgfree',
  'madvise_dontneed',
  'pglazyfree',
  'pglazyfreed',
  'vrange_volatile',
  'vrange_novolatile',
  'vrange_purged_reported',
  'mvolatile',
  'mnovolatile',
  'pgvrange_scan',
  'pgvrange_discard',
  'pgdiscard_direct',
  'pgdiscard_kswapd',
  'nr_tlb_remote_flush',
  'tlb_shootdown_wait_us',
  'allocstall',
  'kswapd_wakeup',
  'oom_kill',
];

export function formatNumber(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** count per second, formatted; a zero interval counts as a nanosecond. */
export function formatRate(count: number, seconds: number): string {
  return formatNumber(count / Math.max(seconds, 1e-9));
}

export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The host and its load: simulatedCpus kept busy (see busyCpus) on its cores, oversubscribed when more. */
export function hostLine(host: HostInfo, simulatedCpus: number): string {
  const note =
    simulatedCpus > host.cores
      ? `oversubscribed: ${simulatedCpus} busy simulated CPUs on ${host.cores} host cores measure contention for cores, not scaling`
      : `${simulatedCpus} busy simulated CPUs on ${host.cores} host cores`;
  return `host: ${host.cores} cores (${host.cpuModel}), node ${host.node}, ${host.platform}; ${note}`;
}

function lockRows(rows: LockStatRow[]): string {
  const shown = rows.filter((r) => r.acquisitions > 0);
  if (shown.length === 0) return '';
  return textTable(
    ['lock', 'acquisitions', 'contentions', 'con-bounces', 'wait-total ms', 'wait-max us', 'hold-avg us'],
    shown.map((r) => [
      r.name,
      formatNumber(r.acquisitions),
      formatNumber(r.contentions),
      formatNumber(r.conBounces),
      formatNumber(r.waitTotalUs / 1000, 1),
      formatNumber(r.waitMaxUs, 1),
      formatNumber(r.acquisitions > 0 ? r.holdTotalUs / r.acquisitions : 0, 2),
    ]),
  );
}

/** The one-run report of `vrange-lab ebizzy`. */
/** Said only when a run used v7's vrange rules (absent in results from before the option). */
export function variantNote(variant: RunResult['config']['vrangeVariant'] | undefined): string {
  return variant === 'v7' ? ', vrange rules v7' : '';
}

/** The TLB size, where the run recorded it (results from before --tlb-entries had 64 entries). */
export function tlbNote(entries: number | undefined): string {
  return entries === undefined ? '' : `, ${entries}-entry TLBs`;
}

export function renderRun(result: RunResult): string {
  const c = result.config;
  const e = c.ebizzy;
  const lines = [
    `ebizzy: policy ${c.policy}, ${c.processes} process(es)${c.fork === true ? ' forked from one parent' : ''} x ${e.threads} thread(s) on ${c.cpus} simulated CPU(s), ` +
      `${e.chunks} chunks of ${e.chunkSize / 1024} KiB, ${c.memoryMiB} MiB memory${tlbNote(c.tlbEntries)}, pressure ${c.pressureMiB} MiB, lg_dirty_mult ${c.lgDirtyMult}, seed ${c.seed}${variantNote(c.vrangeVariant)}`,
    hostLine(result.host, busyCpus(c.cpus, c.pressureMiB)),
    describeHwConfig(c.hw),
    '',
    `${formatNumber(result.recordsPerSecond)} records/s (${formatNumber(result.records)} records in ${result.elapsedSeconds.toFixed(2)} s; per thread: ${result.perThread.map((n) => formatNumber(n)).join(', ')})`,
    `purged by reclaim: ${formatNumber(result.purgedPages)} pages`,
    '',
    'vmstat (increase over the run):',
    textTable(
      ['counter', 'value', 'per record'],
      REPORTED_VMSTAT.map((name) => [
        name,
        formatNumber(result.vmstat[name]),
        result.records > 0 ? formatNumber(result.vmstat[name] / result.records, 2) : '-',
      ]),
    ),
  ];
  const locks = lockRows(result.lockStat);
  if (locks !== '') lines.push('', 'lock_stat (over the run):', locks);
  return lines.join('\n');
}

export const CSV_COLUMNS = [
  'policy',
  'threads',
  'processes',
  'cpus',
  'pressure_mib',
  'memory_mib',
  'seconds',
  'records',
  'records_per_s',
  'pgfault',
  'purged_pages',
  'tlb_shootdowns',
  'mmap_sem_w_contentions',
  'mmap_sem_r_contentions',
  'vrange_lock_contentions',
  'zone_lock_contentions',
  'host_cores',
  'oversubscribed',
  'seed',
] as const;

/** Contentions of one lock over the run (0 when the lock is not in the result). */
export function contentions(result: RunResult, name: string): number {
  return result.lockStat.find((r) => r.name === name)?.contentions ?? 0;
}

export function csvRow(result: RunResult): (string | number)[] {
  const c = result.config;
  return [
    c.policy,
    c.ebizzy.threads,
    c.processes,
    c.cpus,
    c.pressureMiB,
    c.memoryMiB,
    Number(result.elapsedSeconds.toFixed(3)),
    result.records,
    Number(result.recordsPerSecond.toFixed(1)),
    result.vmstat.pgfault,
    result.purgedPages,
    result.vmstat.nr_tlb_remote_flush,
    contentions(result, 'mmap_sem-W'),
    contentions(result, 'mmap_sem-R'),
    contentions(result, 'vrange_lock'),
    contentions(result, 'zone_lock'),
    result.host.cores,
    result.oversubscribed ? 1 : 0,
    c.seed,
  ];
}

export function toCsv(results: RunResult[]): string {
  return `${[CSV_COLUMNS.join(','), ...results.map((r) => csvRow(r).join(','))].join('\n')}\n`;
}
