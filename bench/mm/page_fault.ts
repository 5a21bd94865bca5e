// 1. Page-fault throughput: will-it-scale page_fault1 at 1, 2 and 4 CPUs, in processes and threads.

import { type Machine, vmstatDelta } from '../../src/index.js';
import { PAGE_SIZE } from '../../src/layout/layout.js';
import type { CpuPool } from '../../src/workers/cpus.js';
import { controlWords, type FaultLoopArgs, type LoopResult } from '../../src/workloads/bench_jobs.js';
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
  type Sizes,
  spread,
  sum,
  type WorkerRig,
} from './common.js';

type FaultMode = 'processes' | 'threads';

interface FaultRow {
  mode: FaultMode;
  cpus: number;
  faultsPerSec: number;
  roundsFaultsPerSec: number[];
  faultsPerSecPerCpu: number;
  pgfault: number;
  faultsCounted: number;
  tlbShootdowns: number;
  locks: Record<string, LockFigures>;
  oversubscribed: boolean;
}

const FAULT_LOCKS = ['mmap_sem-W', 'mmap_sem-R', 'zone_lock'];

async function faultPoint(
  machine: Machine,
  pool: CpuPool,
  mode: FaultMode,
  cpus: number,
  pages: number,
  durationMs: number,
): Promise<FaultRow> {
  const procs = Array.from({ length: mode === 'processes' ? cpus : 1 }, () => machine.createProcess());
  const control = controlWords();
  machine.resetLockStat();
  const before = machine.vmstat();
  const results = await Promise.all(
    Array.from({ length: cpus }, (_, cpu) => {
      const args: FaultLoopArgs = {
        pid: procs[mode === 'processes' ? cpu : 0].pid,
        pages,
        durationMs,
        control,
        cpus,
      };
      return pool.run<LoopResult>(cpu, JOBS, 'pageFault1', args);
    }),
  );
  const delta = vmstatDelta(before, machine.vmstat());
  const locks = lockFigures(machine.lockStat(), FAULT_LOCKS);
  for (const proc of procs) proc.exit();
  machine.detach();
  const faultsPerSec = faultRate(results);
  return {
    mode,
    cpus,
    faultsPerSec,
    roundsFaultsPerSec: [],
    faultsPerSecPerCpu: faultsPerSec / cpus,
    pgfault: delta.pgfault,
    faultsCounted: sum(results.map((r) => r.faults)),
    tlbShootdowns: delta.nr_tlb_remote_flush,
    locks,
    oversubscribed: false,
  };
}

async function pageFaultScaling(rig: WorkerRig, sizes: Sizes, host: HostInfo): Promise<FaultRow[]> {
  const { machine, pool } = rig;
  const pages = sizes.faultPagesPerCpu;
  const modes = ['processes', 'threads'] as const;
  // Warm-up, discarded: every worker runs both modes, so that no measured point pays for the JIT.
  for (const mode of modes) await faultPoint(machine, pool, mode, rig.cpus, pages, sizes.warmupMs);
  const runs = new Map<string, FaultRow[]>();
  for (let round = 0; round < sizes.rounds; round++) {
    for (const mode of modes) {
      for (const cpus of sizes.cpuCounts) {
        const row = await faultPoint(machine, pool, mode, cpus, pages, sizes.pointMs);
        row.oversubscribed = oversubscribed(cpus, host);
        runs.set(`${mode} ${cpus}`, [...(runs.get(`${mode} ${cpus}`) ?? []), row]);
        console.error(
          `  round ${round + 1}: page_fault1 ${mode} ${cpus} CPU(s): ${fmt(row.faultsPerSec)} faults/s`,
        );
      }
    }
  }
  machine.validate();
  return modes.flatMap((mode) => sizes.cpuCounts.map((cpus) => medianRound(runs.get(`${mode} ${cpus}`)!)));
}

function faultMarkdown(rows: FaultRow[], sizes: Sizes, host: HostInfo): string {
  const base = (mode: FaultMode) => rows.find((r) => r.mode === mode && r.cpus === 1)!.faultsPerSec;
  return [
    `## 1. Page-fault throughput (will-it-scale page_fault1, ${(sizes.faultPagesPerCpu * PAGE_SIZE) / MIB} MiB per CPU, ${sizes.pointMs} ms per point)`,
    '',
    'Each CPU loops mmap, a write to every page (one fault each), munmap. "processes": one process per',
    'CPU; "threads": all CPUs in one process, so mmap/munmap (mmap_sem write) stall the other CPUs\' faults',
    `(mmap_sem read). ${sizes.rounds} interleaved round(s); each row is the point's median round (spread: slowest`,
    'and fastest round). lock_stat cells: contentions/acquisitions, total wait. Every write faulted exactly',
    `once: vmstat pgfault equals the writes counted${rows.every((r) => r.pgfault === r.faultsCounted) ? '' : ' — NOT in every row, see the JSON'}.`,
    '',
    table(
      [
        'mode',
        'CPUs',
        'faults/s (all CPUs)',
        'spread',
        'faults/s per CPU',
        'x 1 CPU',
        'TLB shootdowns',
        'mmap_sem-W',
        'mmap_sem-R',
        'zone_lock',
        'note',
      ],
      rows.map((r) => [
        r.mode,
        r.cpus,
        fmt(r.faultsPerSec),
        spread(r.roundsFaultsPerSec),
        fmt(r.faultsPerSecPerCpu),
        (r.faultsPerSec / base(r.mode)).toFixed(2),
        fmt(r.tlbShootdowns),
        lockCell(r.locks['mmap_sem-W']),
        lockCell(r.locks['mmap_sem-R']),
        lockCell(r.locks.zone_lock),
        r.oversubscribed ? `oversubscribed (${host.cores} cores)` : '',
      ]),
    ),
  ].join('\n');
}

export const pageFaultSection: MmSection = {
  order: 1,
  label: '1. page_fault1',
  key: 'pageFault',
  async run({ sizes, host, rig }) {
    const rows = await pageFaultScaling(rig(), sizes, host);
    return { result: rows, markdown: faultMarkdown(rows, sizes, host) };
  },
};
