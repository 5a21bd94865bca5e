// Memory-management benchmarks (npm run bench:mm [-- --quick] [--no-write]), measured side by side in one run:
//  1. page-fault throughput (will-it-scale page_fault1) at 1, 2 and 4 CPUs, processes and threads;
//  2. the machine's memory: the SharedArrayBuffer by region, metadata against simulated RAM;
//  3. MADV_DONTNEED and the refault it costs, per call and per page, beside a plain-JS floor;
//  4. cost per call against range size for vrange, mvolatile, MADV_DONTNEED and MADV_FREE;
//  5. faulting CPUs of one process beside a CPU marking and unmarking a range (vrange vs vma).
// Each lives in bench/mm/ and is registered in MM_SECTIONS below. Single-CPU micro-benchmarks run
// on the main thread under tinybench; multi-CPU runs are timed loops on worker CPUs
// (src/workloads/bench_jobs.ts), in interleaved rounds. The run records how busy the host was with
// other work (bench/mm/host_load.ts). --quick shrinks every run and keeps to 1-2 CPUs (a smoke test).

import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { REAL_KERNEL } from '../src/experiment/reference.js';
import { benchCommandLine } from './cli.js';
import { FULL, type MmContext, type MmSection, QUICK, type WorkerRig, workerRig } from './mm/common.js';
import { contentionSection } from './mm/contention.js';
import { dontneedSection } from './mm/dontneed.js';
import { type HostCheck, HostMeter, hostCheckMarkdown, hostParallelism } from './mm/host_load.js';
import { memorySection } from './mm/memory.js';
import { pageFaultSection } from './mm/page_fault.js';
import { rangeSweepSection } from './mm/range_sweep.js';
import { type HostInfo, hostInfo, hostMarkdown, saveResults } from './report.js';

/**
 * The benchmarks, in the order they run: the single-CPU ones first, then the ones on worker CPUs
 * (which start the workers once, on first use). Register a new benchmark here; its `order` places
 * it in the report.
 */
const MM_SECTIONS: readonly MmSection[] = [
  memorySection,
  dontneedSection,
  rangeSweepSection,
  pageFaultSection,
  contentionSection,
];

export interface MmBenchOptions {
  quick: boolean;
}

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
  let rig: WorkerRig | null = null;
  const context: MmContext = {
    sizes,
    host,
    rig: () => {
      rig ??= workerRig(sizes);
      return rig;
    },
  };
  const done: { section: MmSection; result: unknown; markdown: string }[] = [];
  try {
    for (const section of MM_SECTIONS) {
      meter.start(section.label);
      done.push({ section, ...(await section.run(context)) });
    }
  } finally {
    await (rig as WorkerRig | null)?.pool.close();
  }
  meter.end();
  done.sort((a, b) => a.section.order - b.section.order);
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
    ...done.flatMap((d) => ['', d.markdown]),
  ].join('\n');
  const json = {
    host,
    hostCheck,
    quick: options.quick,
    sizes,
    realKernel: REAL_KERNEL.mm,
    ...Object.fromEntries(done.map((d) => [d.section.key, d.result])),
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
