// What the memory-management benchmarks share: run sizes (full and --quick), the job module
// the worker CPUs run, formatting and timing helpers, and the machine with worker CPUs that the
// multi-CPU sections use.

import { Bench, type Fn } from 'tinybench';
import { Machine, type Thread } from '../../src/index.js';
import { PAGE_SIZE } from '../../src/layout/layout.js';
import type { LockStatRow } from '../../src/locks/index.js';
import { CpuPool } from '../../src/workers/cpus.js';
import { type LoopResult, touchPages } from '../../src/workloads/bench_jobs.js';
import { type HostInfo, oversubscribed } from '../report.js';

/** The compiled job module beside the compiled benchmark (dist), or the source one (tsx, vitest). */
export const JOBS = new URL(
  `../../src/workloads/bench_jobs.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
).href;

export const MIB = 2 ** 20;

export interface Sizes {
  /** Pages each CPU maps per page_fault1 round (16 MiB; will-it-scale uses 128 MiB). */
  faultPagesPerCpu: number;
  /** Measured time per multi-CPU point, and the discarded warm-up runs before them. */
  pointMs: number;
  warmupMs: number;
  /** tinybench budgets per task. */
  benchMs: number;
  benchWarmupMs: number;
  /** tinybench's least samples and warm-up iterations per task. */
  benchIterations: number;
  dontneedRanges: number[];
  sweepRanges: number[];
  /** Pages each faulting CPU cycles through in the contention runs. */
  contentionPages: number;
  markPages: number;
  /** Rounds over every multi-CPU point, interleaved, so that a slow spell of the host does not
   *  land on one point only; each point reports its median round and the spread. */
  rounds: number;
  /** CPU counts of the page_fault1 points. */
  cpuCounts: number[];
  /** Faulting CPUs of the contention points (each with one more marking CPU). 1 + 1 is the only
   *  point that fits a 2-core host; 2 and 4 are the ones asked for. */
  contentionFaulters: number[];
}

export const FULL: Sizes = {
  faultPagesPerCpu: 4096,
  pointMs: 1000,
  warmupMs: 300,
  benchMs: 300,
  benchWarmupMs: 100,
  benchIterations: 8,
  dontneedRanges: [1, 8, 128, 2048],
  sweepRanges: [1, 8, 128, 2048, 16384],
  contentionPages: 2048,
  markPages: 16,
  rounds: 3,
  cpuCounts: [1, 2, 4],
  contentionFaulters: [1, 2, 4],
};

export const QUICK: Sizes = {
  faultPagesPerCpu: 256,
  pointMs: 60,
  warmupMs: 30,
  benchMs: 10,
  benchWarmupMs: 5,
  benchIterations: 2,
  dontneedRanges: [1, 128],
  sweepRanges: [1, 128],
  contentionPages: 256,
  markPages: 16,
  rounds: 1,
  // Fewer points too: two worker CPUs start much faster than five (a smoke test, not a measurement).
  cpuCounts: [1, 2],
  contentionFaulters: [1],
};

export interface LockFigures {
  contentions: number;
  acquisitions: number;
  waitTotalUs: number;
  waitMaxUs: number;
}

export function lockFigures(rows: LockStatRow[], names: string[]): Record<string, LockFigures> {
  const out: Record<string, LockFigures> = {};
  for (const name of names) {
    const row = rows.find((r) => r.name === name);
    if (row === undefined) throw new Error(`lock_stat has no row ${name}`);
    out[name] = {
      contentions: row.contentions,
      acquisitions: row.acquisitions,
      waitTotalUs: row.waitTotalUs,
      waitMaxUs: row.waitMaxUs,
    };
  }
  return out;
}

/** "contentions/acquisitions, wait total ms" for a table cell. */
export function lockCell(f: LockFigures): string {
  return `${f.contentions.toLocaleString('en-US')}/${f.acquisitions.toLocaleString('en-US')}, ${(f.waitTotalUs / 1000).toFixed(1)} ms`;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The round with the median fault rate (its lock figures belong to it), with every round's rate. */
export function medianRound<T extends { faultsPerSec: number }>(
  runs: T[],
): T & { roundsFaultsPerSec: number[] } {
  const sorted = [...runs].sort((a, b) => a.faultsPerSec - b.faultsPerSec);
  return {
    ...sorted[Math.floor((sorted.length - 1) / 2)],
    roundsFaultsPerSec: runs.map((r) => r.faultsPerSec),
  };
}

export function spread(rates: number[]): string {
  return rates.length < 2 ? '' : `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}`;
}

/** Faults per second of the loop results, summed over CPUs (each on its own clock). */
export function faultRate(results: LoopResult[]): number {
  return sum(results.map((r) => (r.elapsedMs > 0 ? (r.faults * 1000) / r.elapsedMs : 0)));
}

export function note(threads: number, host: HostInfo): string {
  return oversubscribed(threads, host) ? `oversubscribed (${threads} threads, ${host.cores} cores)` : '';
}

export function newBench(sizes: Sizes): Bench {
  return new Bench({
    time: sizes.benchMs,
    warmupTime: sizes.benchWarmupMs,
    iterations: sizes.benchIterations,
    warmupIterations: sizes.benchIterations,
  });
}

/** A task whose sample is only the part it times itself (the rest prepares the next sample). */
export function partTimed(bench: Bench, name: string, prepare: () => void, timed: () => void): void {
  const fn: Fn = () => {
    const t0 = bench.now();
    prepare();
    const t1 = bench.now();
    timed();
    const t2 = bench.now();
    return { overriddenDuration: t2 - t1, overriddenIterationCost: t2 - t0 };
  };
  bench.add(name, fn);
}

/** One machine and one pool of worker CPUs for the multi-CPU sections (workers start once). */
export interface WorkerRig {
  machine: Machine;
  pool: CpuPool;
  cpus: number;
}

export function workerRig(sizes: Sizes): WorkerRig {
  // The 4-CPU points, and the 4 faulting CPUs + 1 marker; the warm-ups run on every CPU.
  const cpus = Math.max(...sizes.cpuCounts, Math.max(...sizes.contentionFaulters) + 1);
  // Room for every CPU's mapping twice over, so that no run comes near the watermarks.
  const spanMiB = (2 * cpus * Math.max(sizes.faultPagesPerCpu, sizes.contentionPages) * PAGE_SIZE) / MIB;
  const machine = Machine.create({
    memoryMiB: Math.max(32, spanMiB),
    cpus,
    maxProcesses: cpus + 1,
    vaMiB: Math.max(64, spanMiB),
  });
  return { machine, pool: new CpuPool(machine, cpus), cpus };
}

/** A process with one mapping of `pages` pages between two guard pages, all touched. */
export function mappedRange(machine: Machine, pages: number): { t: Thread; base: number } {
  const t = machine.createProcess().mainThread();
  const addr = t.mmap((pages + 2) * PAGE_SIZE);
  if (addr < 0) throw new Error(`mmap returned ${addr}`);
  const base = addr + PAGE_SIZE;
  touchPages(t, addr, pages + 2, 1);
  return { t, base };
}

export function madvise(t: Thread, addr: number, pages: number, advice: number): void {
  const ret = t.madvise(addr, pages * PAGE_SIZE, advice);
  if (ret !== 0) throw new Error(`madvise returned ${ret}`);
}

/** What a section gets: the run's sizes, the host, and the worker CPUs (started on first use). */
export interface MmContext {
  sizes: Sizes;
  host: HostInfo;
  rig(): WorkerRig;
}

/** One benchmark of bench:mm. bench/mm.ts runs the registered ones and assembles the report. */
export interface MmSection {
  /** Its "## n." heading: the report and the JSON list sections in this order. */
  order: number;
  /** Its name in the progress output and the host-load line. */
  label: string;
  /** The key of its result in the JSON file. */
  key: string;
  run(context: MmContext): Promise<{ result: unknown; markdown: string }>;
}
