// 5. Contention: faulting CPUs of one process beside a CPU marking and unmarking a range.

import { type Machine, vmstatDelta } from '../../src/index.js';
import { PAGE_SIZE } from '../../src/layout/layout.js';
import type { CpuPool } from '../../src/workers/cpus.js';
import {
  CONTROL,
  controlWords,
  type DontneedFaultArgs,
  type LoopResult,
  type MarkLoopArgs,
  type MarkPolicy,
  type MarkResult,
  touchPages,
} from '../../src/workloads/bench_jobs.js';
import { type HostInfo, oversubscribed, table } from '../report.js';
import {
  faultRate,
  fmt,
  JOBS,
  type LockFigures,
  lockCell,
  lockFigures,
  MIB,
  type MmSection,
  medianRound,
  note,
  type Sizes,
  spread,
  sum,
  type WorkerRig,
} from './common.js';

/** 'vrange, other process': the control, the marker in a process of its own (no mm shared). */
type MarkerPolicy = MarkPolicy | 'none' | 'vrange, other process';

interface ContentionRow {
  policy: MarkerPolicy;
  faulters: number;
  threads: number;
  faultsPerSec: number;
  roundsFaultsPerSec: number[];
  /** mmap_sem-R wait (only the faulting CPUs wait there) against the faulting CPUs' run time. */
  faulterMmapSemWaitPercent: number;
  shootdowns: number;
  shootdownWaitMs: number;
  markPairsPerSec: number;
  purgedReports: number;
  locks: Record<string, LockFigures>;
  oversubscribed: boolean;
}

const CONTENTION_LOCKS = ['mmap_sem-W', 'mmap_sem-R', 'vrange_lock'];

async function contentionPoint(
  machine: Machine,
  pool: CpuPool,
  policy: MarkerPolicy,
  faulters: number,
  sizes: Sizes,
  durationMs: number,
): Promise<Omit<ContentionRow, 'oversubscribed' | 'roundsFaultsPerSec'>> {
  const proc = machine.createProcess();
  const t = proc.mainThread();
  const length = sizes.contentionPages * PAGE_SIZE;
  const regions = Array.from({ length: faulters }, () => t.mmap(length));
  // The marked range: inside a mapping of its own with a page either side, touched once; in the
  // faulting process, or (the control) in a process of its own.
  const markProc = policy === 'vrange, other process' ? machine.createProcess() : proc;
  const tm = markProc.mainThread();
  const markMap = tm.mmap((sizes.markPages + 2) * PAGE_SIZE);
  if ([...regions, markMap].some((a) => a < 0)) throw new Error('mmap failed');
  touchPages(tm, markMap, sizes.markPages + 2, 1);
  machine.detach();
  const control = controlWords();
  const withMarker = policy !== 'none';
  const cpus = faulters + (withMarker ? 1 : 0);
  Atomics.store(control, CONTROL.running, faulters);
  machine.resetLockStat();
  const before = machine.vmstat();
  const faultJobs = regions.map((addr, cpu) => {
    const args: DontneedFaultArgs = {
      pid: proc.pid,
      addr,
      pages: sizes.contentionPages,
      durationMs,
      control,
      cpus,
    };
    return pool.run<LoopResult>(cpu, JOBS, 'dontneedFaultLoop', args);
  });
  let marker: Promise<MarkResult | null> = Promise.resolve(null);
  if (policy !== 'none') {
    const args: MarkLoopArgs = {
      pid: markProc.pid,
      policy: policy === 'vma' ? 'vma' : 'vrange',
      addr: markMap + PAGE_SIZE,
      pages: sizes.markPages,
      control,
      cpus,
    };
    marker = pool.run<MarkResult>(faulters, JOBS, 'markLoop', args);
  }
  const [results, mark] = await Promise.all([Promise.all(faultJobs), marker]);
  const delta = vmstatDelta(before, machine.vmstat());
  const locks = lockFigures(machine.lockStat(), CONTENTION_LOCKS);
  proc.exit();
  if (markProc !== proc) markProc.exit();
  machine.detach();
  const faulterTimeUs = sum(results.map((r) => r.elapsedMs)) * 1000;
  return {
    policy,
    faulters,
    threads: cpus,
    faultsPerSec: faultRate(results),
    faulterMmapSemWaitPercent: (100 * locks['mmap_sem-R'].waitTotalUs) / faulterTimeUs,
    shootdowns: delta.nr_tlb_remote_flush,
    shootdownWaitMs: delta.tlb_shootdown_wait_us / 1000,
    markPairsPerSec: mark === null ? 0 : (mark.pairs * 1000) / mark.elapsedMs,
    purgedReports: mark === null ? 0 : mark.purged,
    locks,
  };
}

/** The marker policies run beside `faulters` faulting CPUs; the control only where it fits the cores. */
function markerPolicies(faulters: number): MarkerPolicy[] {
  return faulters === 1 ? ['none', 'vrange', 'vrange, other process', 'vma'] : ['none', 'vrange', 'vma'];
}

async function contention(rig: WorkerRig, sizes: Sizes, host: HostInfo): Promise<ContentionRow[]> {
  const { machine, pool } = rig;
  // Warm-up, discarded: every worker runs the fault loop and both marker policies.
  for (const policy of ['vrange', 'vma'] as const)
    await contentionPoint(machine, pool, policy, rig.cpus - 1, sizes, sizes.warmupMs);
  const runs = new Map<string, ContentionRow[]>();
  for (let round = 0; round < sizes.rounds; round++) {
    for (const faulters of sizes.contentionFaulters) {
      for (const policy of markerPolicies(faulters)) {
        const point = await contentionPoint(machine, pool, policy, faulters, sizes, sizes.pointMs);
        const row = { ...point, roundsFaultsPerSec: [], oversubscribed: oversubscribed(point.threads, host) };
        runs.set(`${faulters} ${policy}`, [...(runs.get(`${faulters} ${policy}`) ?? []), row]);
        console.error(
          `  round ${round + 1}: ${faulters} faulting CPU(s) + marker ${policy}: ${fmt(row.faultsPerSec)} faults/s, ${fmt(row.markPairsPerSec)} pairs/s`,
        );
      }
    }
  }
  machine.validate();
  return sizes.contentionFaulters.flatMap((faulters) =>
    markerPolicies(faulters).map((policy) => medianRound(runs.get(`${faulters} ${policy}`)!)),
  );
}

function contentionMarkdown(rows: ContentionRow[], sizes: Sizes, host: HostInfo): string {
  const find = (faulters: number, policy: MarkerPolicy) =>
    rows.find((r) => r.faulters === faulters && r.policy === policy)!;
  const verdicts = sizes.contentionFaulters.map((faulters) => {
    const vr = find(faulters, 'vrange');
    const vma = find(faulters, 'vma');
    const fits = oversubscribed(vma.threads, host)
      ? `${vma.threads} threads, oversubscribed`
      : `${vma.threads} threads, fits the cores`;
    return (
      `${faulters} faulting CPU(s) (${fits}): fault throughput vma/vrange ${(vma.faultsPerSec / vr.faultsPerSec).toFixed(2)}; ` +
      `the faulting CPUs waited on mmap_sem ${vma.faulterMmapSemWaitPercent.toFixed(1)}% of their time beside the vma marker ` +
      `(${fmt(vma.locks['mmap_sem-R'].contentions)} contended down_reads), ${vr.faulterMmapSemWaitPercent.toFixed(1)}% beside the vrange marker ` +
      `(${fmt(vr.locks['mmap_sem-R'].contentions)})`
    );
  });
  const stallSeen = sizes.contentionFaulters.every(
    (f) =>
      find(f, 'vma').locks['mmap_sem-R'].contentions > 0 &&
      find(f, 'vrange').locks['mmap_sem-W'].acquisitions === 0,
  );
  const control = (): string[] => {
    if (!sizes.contentionFaulters.includes(1)) return [];
    const none = find(1, 'none');
    const same = find(1, 'vrange');
    const other = find(1, 'vrange, other process');
    return [
      `- the control, 1 faulting CPU (fits the cores): beside the vrange marker of the same process the faulting CPU kept ${(same.faultsPerSec / none.faultsPerSec).toFixed(2)}x the faults of no marker, with ${fmt(same.locks['mmap_sem-R'].contentions)} contended mmap_sem acquisitions and ${fmt(same.locks.vrange_lock.contentions)} on vrange_lock; beside the same marker in a process of its own, ${(other.faultsPerSec / none.faultsPerSec).toFixed(2)}x. ` +
        `The second is what a busy second CPU costs the faulting one anyway (the host's shared caches and memory bandwidth, the machine's shared words); the ratio of the two, ${(same.faultsPerSec / other.faultsPerSec).toFixed(2)}, is what sharing the mm costs without any lock wait: ` +
        'each vrange call updates the mmap_sem count word that every fault also updates (down_read/up_read), and writes the tree root and range count in the mm record, on the cache line of the VMA count that every fault reads (an inference from the code and the layout; this run does not separate the two).',
    ];
  };
  const vrangeSleeps = sizes.contentionFaulters.every(
    (f) => find(f, 'vrange').locks.vrange_lock.contentions === 0,
  );
  return [
    '## 5. Contention: faulting CPUs of one process beside a marking CPU',
    '',
    `Each faulting CPU writes one word to each page of its own ${(sizes.contentionPages * PAGE_SIZE) / MIB} MiB region (a fault each)`,
    'and drops it with MADV_DONTNEED, again (mmap_sem read only). One more CPU of the same process marks',
    `and unmarks a separate ${sizes.markPages}-page range in a loop: vrange(VOLATILE)/vrange(NOVOLATILE), or`,
    `mvolatile/mnovolatile (vma policy, mmap_sem write); "none" runs no marker; "vrange, other process" is`,
    'a control with the marker in a process of its own. 1 faulting CPU is not asked for: it is the only point',
    `that fits ${host.cores} cores. ${sizes.pointMs} ms per point, ${sizes.rounds} interleaved round(s); each row is the point's median`,
    'round (spread: slowest and fastest round). lock_stat cells: contentions/acquisitions, total wait.',
    '"stalled" is the faulting CPUs\' mmap_sem-R wait against their run time.',
    '',
    table(
      [
        'faulting CPUs',
        'marker',
        'faults/s (all)',
        'spread',
        'x no marker',
        'stalled on mmap_sem',
        'mark pairs/s',
        'mmap_sem-W',
        'mmap_sem-R',
        'vrange_lock',
        'TLB shootdowns (wait)',
        'note',
      ],
      rows.map((r) => [
        r.faulters,
        r.policy,
        fmt(r.faultsPerSec),
        spread(r.roundsFaultsPerSec),
        (r.faultsPerSec / find(r.faulters, 'none').faultsPerSec).toFixed(2),
        `${r.faulterMmapSemWaitPercent.toFixed(1)}%`,
        r.policy === 'none' ? '' : fmt(r.markPairsPerSec),
        lockCell(r.locks['mmap_sem-W']),
        lockCell(r.locks['mmap_sem-R']),
        lockCell(r.locks.vrange_lock),
        `${fmt(r.shootdowns)} (${r.shootdownWaitMs.toFixed(1)} ms)`,
        note(r.threads, host),
      ]),
    ),
    '',
    ...verdicts.map((v) => `- ${v}.`),
    ...control(),
    `- expectation "vma's mark/unmark takes mmap_sem for write and stalls the faulting CPUs; vrange does not": ${
      stallSeen ? 'seen in lock_stat at every CPU count' : 'NOT seen at every CPU count (see the rows)'
    }; the vrange marker took mmap_sem only for read${vrangeSleeps ? ' and never waited for vrange_lock' : ''}.`,
    `- reading the throughput: above ${host.cores} threads the host's cores are shared. A marker that never blocks`,
    '  (vrange) keeps a host core busy that the faulting CPUs then lack; a marker that sleeps in mmap_sem (vma)',
    '  hands its core to them, and the faulting CPUs that it stalls also sleep. So at oversubscribed points',
    '  the fault throughput mixes lock stalls with host CPU share, and the stalled column and lock_stat are',
    '  the measure of the stall; the point that fits the cores compares the throughput cleanly.',
  ].join('\n');
}

export const contentionSection: MmSection = {
  order: 5,
  label: '5. contention',
  key: 'contention',
  async run({ sizes, host, rig }) {
    const rows = await contention(rig(), sizes, host);
    return { result: rows, markdown: contentionMarkdown(rows, sizes, host) };
  },
};
