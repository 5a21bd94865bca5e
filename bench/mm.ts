// Memory-management benchmarks (npm run bench:mm [-- --quick] [--no-write]), measured side by side in one run:
//  1. page-fault throughput (will-it-scale page_fault1) at 1, 2 and 4 CPUs, processes and threads;
//  2. the machine's memory: the SharedArrayBuffer by region, metadata against simulated RAM;
//  3. MADV_DONTNEED and the refault it costs, per call and per page, beside a plain-JS floor;
//  4. cost per call against range size for vrange, mvolatile, MADV_DONTNEED and MADV_FREE;
//  5. faulting CPUs of one process beside a CPU marking and unmarking a range (vrange vs vma);
//  6. the byte primitives (src/arch) against their floor (bench/mm/arch.ts).
// Single-CPU micro-benchmarks run on the main thread under tinybench; multi-CPU runs are timed
// loops on worker CPUs (src/workloads/bench_jobs.ts), in interleaved rounds. The run records how
// busy the host was with other work. --quick shrinks every run and keeps to 1-2 CPUs (a smoke test).

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Bench, type Fn } from 'tinybench';
import {
  MADV_DONTNEED,
  MADV_FREE,
  Machine,
  type Thread,
  VRANGE_NOVOLATILE,
  VRANGE_VOLATILE,
  vmstatDelta,
} from '../src/index.js';
import { PAGE, PAGE_SIZE } from '../src/layout/layout.js';
import type { LockStatRow } from '../src/locks/index.js';
import { CpuPool } from '../src/workers/cpus.js';
import {
  CONTROL,
  controlWords,
  type DontneedFaultArgs,
  type FaultLoopArgs,
  type LoopResult,
  type MarkLoopArgs,
  type MarkPolicy,
  type MarkResult,
  touchPages,
} from '../src/workloads/bench_jobs.js';
import { benchCommandLine } from './cli.js';
import { archMarkdown, runArchBench } from './mm/arch.js';
import {
  type HostInfo,
  hostInfo,
  hostMarkdown,
  medianMs,
  oversubscribed,
  saveResults,
  table,
} from './report.js';

/** The compiled job module beside the compiled benchmark (dist), or the source one (tsx, vitest). */
const JOBS = new URL(
  `../src/workloads/bench_jobs.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
).href;

const MIB = 2 ** 20;

export interface MmBenchOptions {
  quick: boolean;
}

interface Sizes {
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

const FULL: Sizes = {
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

const QUICK: Sizes = {
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

/** Real-kernel figures measured on this machine (given with the task), for comparison only. */
const REAL_KERNEL = {
  dontneedCallUs: [0.7, 0.85],
  dontneedPageNs: [65, 78],
  refaultPageUs: [0.7, 1.3],
};

// ---------------------------------------------------------------------------------------------
// Shared helpers.

interface LockFigures {
  contentions: number;
  acquisitions: number;
  waitTotalUs: number;
  waitMaxUs: number;
}

function lockFigures(rows: LockStatRow[], names: string[]): Record<string, LockFigures> {
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
function lockCell(f: LockFigures): string {
  return `${f.contentions.toLocaleString('en-US')}/${f.acquisitions.toLocaleString('en-US')}, ${(f.waitTotalUs / 1000).toFixed(1)} ms`;
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The round with the median fault rate (its lock figures belong to it), with every round's rate. */
function medianRound<T extends { faultsPerSec: number }>(runs: T[]): T & { roundsFaultsPerSec: number[] } {
  const sorted = [...runs].sort((a, b) => a.faultsPerSec - b.faultsPerSec);
  return {
    ...sorted[Math.floor((sorted.length - 1) / 2)],
    roundsFaultsPerSec: runs.map((r) => r.faultsPerSec),
  };
}

function spread(rates: number[]): string {
  return rates.length < 2 ? '' : `${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}`;
}

/** Faults per second of the loop results, summed over CPUs (each on its own clock). */
function faultRate(results: LoopResult[]): number {
  return sum(results.map((r) => (r.elapsedMs > 0 ? (r.faults * 1000) / r.elapsedMs : 0)));
}

function note(threads: number, host: HostInfo): string {
  return oversubscribed(threads, host) ? `oversubscribed (${threads} threads, ${host.cores} cores)` : '';
}

function newBench(sizes: Sizes): Bench {
  return new Bench({
    time: sizes.benchMs,
    warmupTime: sizes.benchWarmupMs,
    iterations: sizes.benchIterations,
    warmupIterations: sizes.benchIterations,
  });
}

/** A task whose sample is only the part it times itself (the rest prepares the next sample). */
function partTimed(bench: Bench, name: string, prepare: () => void, timed: () => void): void {
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

// ---------------------------------------------------------------------------------------------
// The host: is it quiet? Other work on it takes cores from the simulated CPUs.

/** Plain JS compute for ms milliseconds in a worker thread; posts the rounds it did. */
const SPIN_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const a = new Float64Array(1024);
const start = performance.now();
let rounds = 0;
while (performance.now() - start < workerData) {
  for (let i = 0; i < 1024; i++) a[i] = a[i] * 0.5 + i;
  rounds++;
}
parentPort.postMessage(rounds);
`;

function computeRounds(threads: number, ms: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(SPIN_SOURCE, { eval: true, workerData: ms });
          worker.once('message', (rounds: number) => {
            resolve(rounds);
            void worker.terminate();
          });
          worker.once('error', reject);
        }),
    ),
  );
}

/** All processes' CPU time on the host, in core-seconds (Linux /proc/stat, USER_HZ 100); null elsewhere. */
function hostBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq ...
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / 100;
  } catch {
    return null;
  }
}

/** This process's CPU time, every thread, in seconds. */
function ownBusySeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

interface SectionLoad {
  section: string;
  wallSeconds: number;
  /** Cores kept busy outside this process during the section, on average: other processes, kernel
   *  threads, interrupts (null: not measurable). */
  otherCores: number | null;
}

/** Times the sections of a run and what else the host ran meanwhile. */
class HostMeter {
  readonly sections: SectionLoad[] = [];
  private name = '';
  private wallMs = performance.now();
  private host = hostBusySeconds();
  private own = ownBusySeconds();

  start(section: string): void {
    this.end();
    this.name = section;
    console.error(`${section}...`);
  }

  end(): void {
    const wallMs = performance.now();
    const host = hostBusySeconds();
    const own = ownBusySeconds();
    if (this.name !== '') {
      const wallSeconds = (wallMs - this.wallMs) / 1000;
      const otherCores =
        host === null || this.host === null
          ? null
          : Math.max(0, host - this.host - (own - this.own)) / wallSeconds;
      this.sections.push({ section: this.name, wallSeconds, otherCores });
      console.error(
        `  ${wallSeconds.toFixed(1)} s${otherCores === null ? '' : `, ${otherCores.toFixed(2)} cores busy outside this process`}`,
      );
    }
    this.name = '';
    this.wallMs = wallMs;
    this.host = host;
    this.own = own;
  }
}

interface HostCheck {
  loadAverage1mStart: number;
  loadAverage1mEnd: number;
  sections: SectionLoad[];
  /** Compute of `cores` threads at once against one thread alone: `cores` on an idle host. */
  parallelSpeedup: number;
}

/** How much parallel compute the host gives right now: one thread, then one per core, twice. */
async function hostParallelism(cores: number, ms: number): Promise<number> {
  let one = 0;
  let all = 0;
  for (let round = 0; round < 2; round++) {
    one += sum(await computeRounds(1, ms));
    all += sum(await computeRounds(cores, ms));
  }
  return all / one;
}

/** Work outside this process above this many cores makes a section's figures suspect. */
const BUSY_HOST_CORES = 0.3;

function hostCheckMarkdown(h: HostCheck, cores: number): string {
  const quiet = h.parallelSpeedup >= 0.85 * cores;
  const busy = h.sections.filter((x) => x.otherCores !== null && x.otherCores > BUSY_HOST_CORES);
  const loads = h.sections
    .map(
      (x) =>
        `${x.section} ${x.wallSeconds.toFixed(0)} s${x.otherCores === null ? '' : ` (${x.otherCores.toFixed(2)})`}`,
    )
    .join(', ');
  return [
    `- host check: 1-minute load average ${h.loadAverage1mStart.toFixed(2)} at the start, ${h.loadAverage1mEnd.toFixed(2)} at the end; ${cores} threads of plain JS compute delivered ${h.parallelSpeedup.toFixed(2)}x one thread at the start (${cores}.00 on an idle ${cores}-core host)${
      quiet ? '' : ': the host was busy with other work'
    }`,
    `- sections, wall time (cores kept busy outside this process meanwhile — other processes, kernel threads, interrupts — from /proc/stat): ${loads}${
      busy.length === 0
        ? ''
        : `. Work outside this process took more than ${BUSY_HOST_CORES} cores during ${busy.map((x) => x.section).join(', ')}: those figures may be depressed by it`
    }`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 1. Page-fault throughput (page_fault1).

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

// ---------------------------------------------------------------------------------------------
// 2. Memory: the SharedArrayBuffer of the default machine by region.

interface MemoryReport {
  memoryMiB: number;
  bufferBytes: number;
  regions: { name: string; bytes: number; percentOfRam: number }[];
  paddingBytes: number;
  framesBytes: number;
  pageTableBytes: number;
  structPageBytes: number;
  structPageBytesPerFrame: number;
  /** Everything but frames, ptes and ptls (struct page included), against simulated RAM. */
  metadataPercent: number;
  /** The same without struct page. */
  metadataWithoutStructPagePercent: number;
  metadataUnder1Percent: boolean;
  structPageAtMost32: boolean;
}

function memoryFootprint(): MemoryReport {
  const machine = Machine.create();
  const layout = machine.kernel.layout;
  const ramBytes = machine.config.memoryMiB * MIB;
  const regions = Object.values(layout)
    .filter((r): r is { name: string; byteOffset: number; byteLength: number } => typeof r === 'object')
    .map((r) => ({ name: r.name, bytes: r.byteLength, percentOfRam: (100 * r.byteLength) / ramBytes }))
    .sort((a, b) => b.bytes - a.bytes);
  const bytes = (name: string) => regions.find((r) => r.name === name)!.bytes;
  const framesBytes = bytes('frames');
  const pageTableBytes = bytes('ptes') + bytes('ptls');
  const structPageBytes = bytes('pages');
  const metadataBytes = layout.byteLength - framesBytes - pageTableBytes;
  const metadataPercent = (100 * metadataBytes) / ramBytes;
  return {
    memoryMiB: machine.config.memoryMiB,
    bufferBytes: layout.byteLength,
    regions,
    paddingBytes: layout.byteLength - sum(regions.map((r) => r.bytes)),
    framesBytes,
    pageTableBytes,
    structPageBytes,
    structPageBytesPerFrame: PAGE.STRIDE * 4,
    metadataPercent,
    metadataWithoutStructPagePercent: (100 * (metadataBytes - structPageBytes)) / ramBytes,
    metadataUnder1Percent: metadataPercent < 1,
    structPageAtMost32: PAGE.STRIDE * 4 <= 32,
  };
}

function memoryMarkdown(m: MemoryReport): string {
  const large = m.regions.filter((r) => !['frames', 'ptes', 'ptls'].includes(r.name)).slice(0, 4);
  const verdict = m.metadataUnder1Percent
    ? `met: ${m.metadataPercent.toFixed(2)}% < 1%`
    : `NOT met: ${m.metadataPercent.toFixed(2)}% of simulated RAM; the largest parts are ${large
        .map((r) => `${r.name} ${fmt(r.bytes / 1024)} KiB (${r.percentOfRam.toFixed(2)}%)`)
        .join(', ')}. Without struct page the rest is ${m.metadataWithoutStructPagePercent.toFixed(2)}%`;
  return [
    `## 2. Memory: SharedArrayBuffer of the default machine (Machine.create(): ${m.memoryMiB} MiB)`,
    '',
    `Buffer: ${fmt(m.bufferBytes)} bytes (${(m.bufferBytes / MIB).toFixed(2)} MiB), alignment padding ${fmt(m.paddingBytes)} bytes.`,
    '',
    table(
      ['region', 'bytes', '% of simulated RAM'],
      m.regions.map((r) => [r.name, fmt(r.bytes), r.percentOfRam.toFixed(3)]),
    ),
    '',
    `- metadata beyond frames and page tables (ptes, ptls), struct page and padding included, under 1% of RAM: ${verdict}.`,
    `- struct page <= 32 bytes per frame: ${m.structPageAtMost32 ? 'met' : 'NOT met'} (${m.structPageBytesPerFrame} bytes).`,
    `- page tables (ptes + ptls): ${(m.pageTableBytes / MIB).toFixed(2)} MiB = ${((100 * m.pageTableBytes) / (m.memoryMiB * MIB)).toFixed(1)}% of RAM: flat, sized for every process slot's whole VA (maxProcesses x vaMiB), not for what is mapped.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 3. MADV_DONTNEED and refault, per call and per page.

interface DontneedRow {
  pages: number;
  callsPerSample: number;
  madviseUsPerCall: number;
  madviseNsPerPage: number;
  refaultUsPerCall: number;
  refaultNsPerPage: number;
}

interface DontneedReport {
  rows: DontneedRow[];
  floorNsPerPage: number;
  /** Uint8Array.set(zero page) of 4 KiB on a SharedArrayBuffer: how arch js zeroes a frame. */
  sharedSetNsPerPage: number;
  /** Uint8Array.fill(0) of 4 KiB on a SharedArrayBuffer: what that avoids. */
  sharedFillNsPerPage: number;
  refaultTargetNsPerPage: number;
  refaultTargetMet: boolean;
}

/** A process with one mapping of `pages` pages between two guard pages, all touched. */
function mappedRange(machine: Machine, pages: number): { t: Thread; base: number } {
  const t = machine.createProcess().mainThread();
  const addr = t.mmap((pages + 2) * PAGE_SIZE);
  if (addr < 0) throw new Error(`mmap returned ${addr}`);
  const base = addr + PAGE_SIZE;
  touchPages(t, addr, pages + 2, 1);
  return { t, base };
}

function madvise(t: Thread, addr: number, pages: number, advice: number): void {
  const ret = t.madvise(addr, pages * PAGE_SIZE, advice);
  if (ret !== 0) throw new Error(`madvise returned ${ret}`);
}

async function dontneedCost(sizes: Sizes): Promise<DontneedReport> {
  const span = Math.max(...sizes.dontneedRanges);
  const machine = Machine.create({ memoryMiB: 64, cpus: 1, maxProcesses: 2, vaMiB: 64 });
  const { t, base } = mappedRange(machine, span);
  const bench = newBench(sizes);
  // The floor: what any page's worth of work costs in plain JS on this host.
  const zero = new Uint8Array(span * PAGE_SIZE);
  const src = new Uint8Array(span * PAGE_SIZE).fill(7);
  const dst = new Uint8Array(span * PAGE_SIZE);
  bench.add('floor', () => {
    for (let off = 0; off < span * PAGE_SIZE; off += PAGE_SIZE) {
      zero.fill(0, off, off + PAGE_SIZE);
      dst.set(src.subarray(off, off + PAGE_SIZE), off);
    }
  });
  // Zeroing 4 KiB of shared memory as the frames are: arch js copies a zero page (set);
  // fill is what it avoids (V8's fill takes a slow path on a SharedArrayBuffer).
  const shared = new Uint8Array(new SharedArrayBuffer(span * PAGE_SIZE));
  const zeroPage = new Uint8Array(PAGE_SIZE);
  bench.add('shared set', () => {
    for (let off = 0; off < span * PAGE_SIZE; off += PAGE_SIZE) shared.set(zeroPage, off);
  });
  bench.add('shared fill', () => {
    for (let off = 0; off < span * PAGE_SIZE; off += PAGE_SIZE) shared.fill(0, off, off + PAGE_SIZE);
  });
  for (const pages of sizes.dontneedRanges) {
    const calls = span / pages;
    partTimed(
      bench,
      `madvise ${pages}`,
      () => touchPages(t, base, span, 1),
      () => {
        for (let c = 0; c < calls; c++) madvise(t, base + c * pages * PAGE_SIZE, pages, MADV_DONTNEED);
      },
    );
    // The refault of every range: one user-mode stretch writing one word per page.
    partTimed(
      bench,
      `refault ${pages}`,
      () => madvise(t, base, span, MADV_DONTNEED),
      () => touchPages(t, base, span, 2),
    );
  }
  await bench.run();
  machine.detach();
  machine.validate();
  const floorNsPerPage = (medianMs(bench, 'floor') * 1e6) / span;
  const sharedFillNsPerPage = (medianMs(bench, 'shared fill') * 1e6) / span;
  const sharedSetNsPerPage = (medianMs(bench, 'shared set') * 1e6) / span;
  const rows = sizes.dontneedRanges.map((pages): DontneedRow => {
    const calls = span / pages;
    const madviseMs = medianMs(bench, `madvise ${pages}`);
    const refaultMs = medianMs(bench, `refault ${pages}`);
    return {
      pages,
      callsPerSample: calls,
      madviseUsPerCall: (madviseMs * 1000) / calls,
      madviseNsPerPage: (madviseMs * 1e6) / span,
      refaultUsPerCall: (refaultMs * 1000) / calls,
      refaultNsPerPage: (refaultMs * 1e6) / span,
    };
  });
  const refaultTargetNsPerPage = 2 * REAL_KERNEL.refaultPageUs[1] * 1000;
  return {
    rows,
    floorNsPerPage,
    sharedFillNsPerPage,
    sharedSetNsPerPage,
    refaultTargetNsPerPage,
    refaultTargetMet: rows.every((r) => r.refaultNsPerPage <= refaultTargetNsPerPage),
  };
}

function dontneedMarkdown(d: DontneedReport): string {
  const [cLo, cHi] = REAL_KERNEL.dontneedCallUs;
  const [pLo, pHi] = REAL_KERNEL.dontneedPageNs;
  const [rLo, rHi] = REAL_KERNEL.refaultPageUs;
  const worst = Math.max(...d.rows.map((r) => r.refaultNsPerPage));
  return [
    '## 3. MADV_DONTNEED + refault, single CPU (tinybench medians)',
    '',
    'Each sample covers the same 2048 touched pages: (a) MADV_DONTNEED over them in calls of the given',
    'range, timed alone (the refault that prepares the next sample is not timed); (b) the refault of',
    'all of them, one written word per page in one stretch of user mode (fault, allocation, zero-fill).',
    '',
    table(
      [
        'range (pages)',
        'madvise µs/call',
        'madvise ns/page',
        'real kernel madvise µs/call (est.)',
        'refault µs/range',
        'refault ns/page',
        'refault x floor',
      ],
      d.rows.map((r) => [
        r.pages,
        r.madviseUsPerCall.toFixed(2),
        r.madviseNsPerPage.toFixed(0),
        `${(cLo + (r.pages * pLo) / 1000).toFixed(2)}–${(cHi + (r.pages * pHi) / 1000).toFixed(2)}`,
        r.refaultUsPerCall.toFixed(2),
        r.refaultNsPerPage.toFixed(0),
        (r.refaultNsPerPage / d.floorNsPerPage).toFixed(1),
      ]),
    ),
    '',
    `- floor (same run): plain JS 4 KiB zero-fill + 4 KiB copy on a Uint8Array: ${d.floorNsPerPage.toFixed(0)} ns per page.`,
    `- same run, on a SharedArrayBuffer-backed Uint8Array as the frames are: set() of a 4 KiB zero page (how the fault path zeroes a frame with arch js; the default, arch wasm, uses clear_page: section 6) ${d.sharedSetNsPerPage.toFixed(0)} ns per page; fill(0) of 4 KiB ${d.sharedFillNsPerPage.toFixed(0)} ns (V8's slow path for shared memory, which arch js avoids).`,
    `- real kernel, measured on this machine (given, not measured by this benchmark): DONTNEED ${cLo}–${cHi} µs per call + ${pLo}–${pHi} ns per page; refault (fault + allocate + zero) ${rLo}–${rHi} µs per page.`,
    `- target: simulated refault per page within 2x of the real kernel's (<= ${fmt(d.refaultTargetNsPerPage)} ns against its upper figure; <= ${fmt(2 * rLo * 1000)} ns against its lower): ${
      d.refaultTargetMet ? 'met' : 'NOT met'
    } (worst ${worst.toFixed(0)} ns per page = ${(worst / (rHi * 1000)).toFixed(2)}x the upper and ${(worst / (rLo * 1000)).toFixed(2)}x the lower real figure).`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 4. Cost per call against range size.

type SweepOp =
  | 'vrange pair'
  | 'mvolatile pair'
  | 'DONTNEED + refault'
  | 'MADV_FREE + rewrite'
  | typeof FLOOR_OP;
/** No simulator: zeroing the range's pages (set() of a zero page) in a shared buffer as big as the
 *  frames it cycles through — what the host's caches make of the range's size. */
const FLOOR_OP = 'floor: zero 4 KiB per page';
const SWEEP_OPS: SweepOp[] = [
  'vrange pair',
  'mvolatile pair',
  'DONTNEED + refault',
  'MADV_FREE + rewrite',
  FLOOR_OP,
];

interface SweepRow {
  op: SweepOp;
  pages: number;
  usPerCall: number;
  nsPerPage: number;
}

interface SweepReport {
  rows: SweepRow[];
  vrangeFlatRatio: number;
  vrangeMaxUs: number;
  vrangeTargetMet: boolean;
  dontneedNsPerPage: number[];
  dontneedLinear: boolean;
  /** The floor's ns per page over the same sizes (128 pages and more). */
  floorNsPerPage: number[];
}

/** Calls per tinybench sample: enough that a sample is well above the clock's resolution. */
function callsPerSample(op: SweepOp, pages: number): number {
  if (op === 'vrange pair' || op === 'mvolatile pair') return 200;
  return Math.max(1, Math.floor(2048 / pages));
}

function sweepCall(
  op: SweepOp,
  t: Thread,
  base: number,
  pages: number,
  span: number,
  floor: Uint8Array,
): () => void {
  const length = pages * PAGE_SIZE;
  // Calls that touch the pages work on the next `pages` pages of the span each time, round robin, so
  // that every range size sweeps the same footprint and meets the same cache state: reusing the
  // first pages ran the small sizes cache-hot (DONTNEED + refault at 128 pages then measured 556 ns
  // per page against 934 at 16384). The pairs, which touch no page, keep to one range.
  let next = 0;
  const rotate = (): number => {
    const at = next;
    next = (next + pages) % span;
    return at;
  };
  switch (op) {
    case FLOOR_OP: {
      const zeroPage = new Uint8Array(PAGE_SIZE);
      return () => {
        const start = rotate() * PAGE_SIZE;
        for (let off = start; off < start + length; off += PAGE_SIZE) floor.set(zeroPage, off);
      };
    }
    case 'vrange pair':
      return () => {
        if (t.vrange(base, length, VRANGE_VOLATILE) !== 0) throw new Error('vrange(VOLATILE) failed');
        if (t.vrange(base, length, VRANGE_NOVOLATILE) !== 0) throw new Error('vrange(NOVOLATILE) failed');
      };
    case 'mvolatile pair':
      return () => {
        if (t.mvolatile(base, length) !== 0) throw new Error('mvolatile failed');
        if (t.mnovolatile(base, length) !== 0) throw new Error('mnovolatile failed');
      };
    case 'DONTNEED + refault':
      return () => {
        const at = base + rotate() * PAGE_SIZE;
        madvise(t, at, pages, MADV_DONTNEED);
        touchPages(t, at, pages, 3);
      };
    case 'MADV_FREE + rewrite':
      return () => {
        const at = base + rotate() * PAGE_SIZE;
        madvise(t, at, pages, MADV_FREE);
        touchPages(t, at, pages, 4);
      };
  }
}

async function rangeSweep(sizes: Sizes): Promise<SweepReport> {
  const span = Math.max(...sizes.sweepRanges);
  const machine = Machine.create({
    memoryMiB: Math.max(64, (2 * span * PAGE_SIZE) / MIB),
    cpus: 1,
    maxProcesses: 2,
    vaMiB: Math.max(64, (2 * span * PAGE_SIZE) / MIB),
  });
  // Every range starts one page into a mapping that goes on past it: mvolatile splits at both ends.
  const { t, base } = mappedRange(machine, span);
  const bench = newBench(sizes);
  const floor = new Uint8Array(new SharedArrayBuffer(span * PAGE_SIZE));
  // MADV_FREE after the others: the pages it leaves on the lazyfree LRU would make later zaps dearer.
  for (const op of SWEEP_OPS) {
    for (const pages of sizes.sweepRanges) {
      const call = sweepCall(op, t, base, pages, span, floor);
      const n = callsPerSample(op, pages);
      bench.add(`${op} ${pages}`, () => {
        for (let i = 0; i < n; i++) call();
      });
    }
  }
  await bench.run();
  machine.detach();
  machine.validate();
  const rows = SWEEP_OPS.flatMap((op) =>
    sizes.sweepRanges.map((pages): SweepRow => {
      const perCallMs = medianMs(bench, `${op} ${pages}`) / callsPerSample(op, pages);
      return { op, pages, usPerCall: perCallMs * 1000, nsPerPage: (perCallMs * 1e6) / pages };
    }),
  );
  const vrange = rows.filter((r) => r.op === 'vrange pair').map((r) => r.usPerCall);
  const vrangeFlatRatio = Math.max(...vrange) / Math.min(...vrange);
  const vrangeMaxUs = Math.max(...vrange);
  // Linear: for ranges of 128 pages and more the cost per page stays within 1.5x.
  const dontneedNsPerPage = rows
    .filter((r) => r.op === 'DONTNEED + refault' && r.pages >= 128)
    .map((r) => r.nsPerPage);
  const floorNsPerPage = rows.filter((r) => r.op === FLOOR_OP && r.pages >= 128).map((r) => r.nsPerPage);
  return {
    floorNsPerPage,
    rows,
    vrangeFlatRatio,
    vrangeMaxUs,
    vrangeTargetMet: vrangeFlatRatio <= 1.5 && vrangeMaxUs < 2,
    dontneedNsPerPage,
    dontneedLinear:
      dontneedNsPerPage.length >= 2 && Math.max(...dontneedNsPerPage) / Math.min(...dontneedNsPerPage) <= 1.5,
  };
}

function sweepMarkdown(s: SweepReport, sizes: Sizes): string {
  const cell = (op: SweepOp, pages: number) => {
    const r = s.rows.find((x) => x.op === op && x.pages === pages)!;
    return `${r.usPerCall < 10 ? r.usPerCall.toFixed(2) : fmt(r.usPerCall, 1)} (${r.nsPerPage < 10 ? r.nsPerPage.toFixed(2) : fmt(r.nsPerPage)})`;
  };
  return [
    '## 4. Cost per call against range size (single CPU, no memory pressure, pages touched first)',
    '',
    'µs per call (ns per page in brackets), tinybench medians. A pair is mark + unmark. Every range',
    'starts one page into a larger mapping. DONTNEED + refault and MADV_FREE + rewrite include the',
    'write of one word per page after the madvise. The floor row runs no simulator: set() of a 4 KiB zero',
    'page for each page of the range, in a shared buffer (the fault path zeroes frames the same way).',
    `The rows that touch pages take the next range of the ${sizes.sweepRanges.at(-1)}-page span on every call, round`,
    'robin, so that every size sweeps the same footprint; the pairs repeat one range.',
    '',
    table(
      ['operation', ...sizes.sweepRanges.map((p) => `${p} pages`)],
      SWEEP_OPS.map((op) => [op, ...sizes.sweepRanges.map((p) => cell(op, p))]),
    ),
    '',
    `- target: vrange pair flat in range size (within 1.5x from ${sizes.sweepRanges[0]} to ${sizes.sweepRanges.at(-1)} pages) and under 2 µs: ${
      s.vrangeTargetMet ? 'met' : 'NOT met'
    } (max/min ${s.vrangeFlatRatio.toFixed(2)}, worst ${s.vrangeMaxUs.toFixed(2)} µs).`,
    `- target: DONTNEED + refault growing linearly (ns per page within 1.5x for ranges of 128 pages and more: ${s.dontneedNsPerPage
      .map((n) => n.toFixed(0))
      .join(
        ', ',
      )}): ${s.dontneedLinear ? 'met' : 'NOT met'}. Over the same sizes the floor row, which runs no simulator, goes ${s.floorNsPerPage
      .map((n) => n.toFixed(0))
      .join(', ')} ns per page over the same footprint.`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// 5. Contention: faulting CPUs of one process beside a CPU marking and unmarking a range.

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

/** One machine and one pool of worker CPUs for the multi-CPU sections (workers start once). */
interface WorkerRig {
  machine: Machine;
  pool: CpuPool;
  cpus: number;
}

function workerRig(sizes: Sizes): WorkerRig {
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

// ---------------------------------------------------------------------------------------------

export interface MmBenchResult {
  json: Record<string, unknown>;
  markdown: string;
}

export async function runMmBench(
  options: MmBenchOptions,
  host: HostInfo = hostInfo(),
): Promise<MmBenchResult> {
  const sizes = options.quick ? QUICK : FULL;
  const started = performance.now();
  const loadAverage1mStart = os.loadavg()[0];
  const meter = new HostMeter();
  meter.start('host check');
  const parallelSpeedup = await hostParallelism(host.cores, sizes.warmupMs);
  meter.start('2. memory');
  const memory = memoryFootprint();
  meter.start('3. dontneed');
  const dontneed = await dontneedCost(sizes);
  meter.start('4. range sweep');
  const sweep = await rangeSweep(sizes);
  meter.start('6. byte primitives');
  const arch = runArchBench(options);
  meter.start('1. page_fault1');
  const rig = workerRig(sizes);
  let faults: FaultRow[];
  let contended: ContentionRow[];
  try {
    faults = await pageFaultScaling(rig, sizes, host);
    meter.start('5. contention');
    contended = await contention(rig, sizes, host);
  } finally {
    await rig.pool.close();
  }
  meter.end();
  const hostCheck: HostCheck = {
    loadAverage1mStart,
    loadAverage1mEnd: os.loadavg()[0],
    sections: meter.sections,
    parallelSpeedup,
  };
  const runSeconds = (performance.now() - started) / 1000;
  const markdown = [
    `# Memory-management benchmarks${options.quick ? ' (--quick: shrunk runs, smoke test only)' : ''}`,
    '',
    hostMarkdown(host),
    `- run time: ${runSeconds.toFixed(0)} s; CPU counts above the host's ${host.cores} cores are oversubscribed and measure that, not scaling`,
    hostCheckMarkdown(hostCheck, host.cores),
    '',
    faultMarkdown(faults, sizes, host),
    '',
    memoryMarkdown(memory),
    '',
    dontneedMarkdown(dontneed),
    '',
    sweepMarkdown(sweep, sizes),
    '',
    contentionMarkdown(contended, sizes, host),
    '',
    archMarkdown(arch),
  ].join('\n');
  const json = {
    host,
    hostCheck,
    quick: options.quick,
    sizes,
    realKernel: REAL_KERNEL,
    pageFault: faults,
    memory,
    dontneed,
    rangeSweep: sweep,
    contention: contended,
    arch,
    runSeconds,
  };
  return { json, markdown };
}

interface MmOptions {
  quick: boolean;
  write: boolean;
}

async function main({ quick, write }: MmOptions): Promise<void> {
  const host = hostInfo();
  const { json, markdown } = await runMmBench({ quick }, host);
  console.log(markdown);
  if (quick) {
    console.error('--quick: results not written (a smoke run is not a measurement)');
    return;
  }
  saveResults(write, `mm-${host.cores}core`, json, markdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { options } = benchCommandLine<MmOptions>(
    'bench:mm',
    "Memory-management benchmarks: page-fault scaling, the machine's memory by region, MADV_DONTNEED and its refault, cost per call against range size, faulting CPUs beside a marking CPU. Writes bench/results/mm-<cores>core.{md,json}.",
    (command) =>
      command.option(
        '--quick',
        'shrink every run and keep to 1-2 CPUs (a smoke test; writes nothing)',
        false,
      ),
  );
  await main(options);
}
