// One ebizzy run: a machine sized from the config, the ebizzy processes set up on the main thread,
// their threads spread over the simulated CPUs, an optional pressure process on a CPU of its own,
// kswapd on its own CPU, and the controller measuring the interval between go and stop.

import { PAGE_SIZE } from '../layout/layout.js';
import type { LockStatRow } from '../locks/index.js';
import { defaultWatermarks } from '../mm/config.js';
import { Machine, type Process } from '../mm/machine.js';
import type { ProcessRef } from '../mm/thread.js';
import { kswapdStop } from '../mm/vmscan.js';
import { vmstatDelta } from '../mm/vmstat.js';
import { CpuPool } from '../workers/cpus.js';
import { busyCpus, hostInfo } from '../workers/host.js';
import {
  CONTROL,
  type EbizzyCpuArgs,
  type EbizzyThreadResult,
  type EbizzyThreadSpec,
  setupEbizzyProcess,
} from '../workloads/ebizzy.js';
import type { PressureArgs, PressureResult } from '../workloads/pressure.js';
import { RunController, type RunSnapshot } from './controller.js';
import type { RunConfig, RunResult } from './types.js';

/** Locks whose lock_stat rows a result keeps. */
export const LOCKS_THAT_MATTER = [
  'mmap_sem-W',
  'mmap_sem-R',
  'vrange_lock',
  'ptl',
  'zone_lock',
  'pcp_lock',
  'vrange_lru_lock',
  'lazyfree_lru_lock',
];

function jobModule(name: string): string {
  const ts = import.meta.url.endsWith('.ts');
  return new URL(`../workloads/${name}.${ts ? 'ts' : 'js'}`, import.meta.url).href;
}

export interface RunHooks {
  /** Called about every progressMs while the run is measured. */
  onProgress?: (snapshot: RunSnapshot) => void;
  progressMs?: number;
  /** Validate the whole machine after the run (a quiescent point). Default true. */
  validate?: boolean;
}

/**
 * Watermarks for a run: Linux's min, and low/high raised (as vm.watermark_scale_factor does) so that
 * the gap between min and low holds one copy buffer per ebizzy thread plus some slack. The pressure
 * process keeps free memory near low, so kswapd keeps reclaiming while every thread can still
 * re-fault its buffer after a purge without running the machine out of memory.
 */
export function experimentWatermarks(config: RunConfig): { min: number; low: number; high: number } {
  const frames = config.memoryMiB * 256;
  const { min } = defaultWatermarks(frames);
  const copyPages = Math.ceil(config.ebizzy.chunkSize / PAGE_SIZE);
  const threads = config.processes * config.ebizzy.threads;
  const low = Math.min(min + threads * copyPages + 128, Math.floor(frames / 4));
  return { min, low, high: Math.min(low + 128, Math.floor(frames / 3)) };
}

export function checkRunConfig(config: RunConfig): void {
  const e = config.ebizzy;
  const positive: [string, number][] = [
    ['chunks (-n)', e.chunks],
    ['chunk size (-s)', e.chunkSize],
    ['threads (-t)', e.threads],
    ['processes', config.processes],
    ['cpus', config.cpus],
    ['memory', config.memoryMiB],
  ];
  for (const [name, value] of positive) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (!(e.seconds > 0)) throw new RangeError(`seconds (-S) must be positive, got ${e.seconds}`);
  if (e.chunkSize % 8 !== 0)
    throw new RangeError(`chunk size (-s) must be a multiple of the 8-byte record, got ${e.chunkSize}`);
  if (!(config.pressureMiB >= 0) || !Number.isInteger(config.pressureMiB)) {
    throw new RangeError(`pressure must be a whole number of MiB >= 0, got ${config.pressureMiB}`);
  }
  if (config.pressureMiB >= config.memoryMiB) {
    throw new RangeError(
      `pressure (${config.pressureMiB} MiB) must be less than memory (${config.memoryMiB} MiB)`,
    );
  }
  if (e.alwaysMmap && e.neverMmap)
    throw new RangeError('-m (always mmap) and -M (never mmap) exclude each other');
}

/** A CPU's error, with what the user can do about an out-of-memory. */
function runFailure(error: unknown, config: RunConfig): Error {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  if (/out of memory/.test(message)) {
    return new Error(
      `${message} — the run needs more memory: raise --memory (${config.memoryMiB} MiB) or lower --pressure (${config.pressureMiB} MiB)`,
    );
  }
  return error instanceof Error ? error : new Error(message);
}

function forkOf(parent: Process): ProcessRef {
  const child = parent.mainThread(0).fork();
  if (typeof child === 'number') throw new Error(`ebizzy set-up: fork failed (${child})`);
  return child;
}

export async function runEbizzy(config: RunConfig, hooks: RunHooks = {}): Promise<RunResult> {
  checkRunConfig(config);
  const pressure = config.pressureMiB > 0;
  const machineCpus = config.cpus + (pressure ? 1 : 0);
  const machine = Machine.create({
    memoryMiB: config.memoryMiB,
    cpus: machineCpus,
    ...(config.tlbEntries !== undefined ? { tlbEntries: config.tlbEntries } : {}),
    // The ebizzy processes, their parent with --fork, the pressure process.
    maxProcesses: config.processes + 2,
    vaMiB: 1024,
    watermarks: experimentWatermarks(config),
    vrangeVariant: config.vrangeVariant,
    arch: config.arch ?? 'wasm',
    ...(config.hw !== undefined ? { hw: config.hw } : {}),
  });
  const kswapdCpu = machineCpus;
  const pressureCpu = config.cpus;
  const totalThreads = config.processes * config.ebizzy.threads;
  const pool = new CpuPool(machine, machineCpus + 1);
  const controller = new RunController(machine, pool, totalThreads);
  try {
    // ebizzy's main threads: chunks allocated and filled before any thread starts.
    const specs: EbizzyThreadSpec[] = [];
    // --fork: one parent fills the chunks and forks the ebizzy processes, which share them.
    const parent = config.fork === true ? machine.createProcess() : null;
    const parentSetup =
      parent === null ? null : setupEbizzyProcess(parent.mainThread(0), config.ebizzy, config.policy);
    for (let p = 0; p < config.processes; p++) {
      const proc = parent === null ? machine.createProcess() : forkOf(parent);
      const setup = parentSetup ?? setupEbizzyProcess(proc.mainThread(0), config.ebizzy, config.policy);
      for (let i = 0; i < config.ebizzy.threads; i++) {
        specs.push({
          pid: proc.pid,
          chunks: setup.chunks,
          seed: (config.seed + specs.length * 0x9e3779b9) >>> 0,
          index: specs.length,
        });
      }
    }
    const hogPid = pressure ? machine.createProcess().pid : -1;
    machine.detach();

    const kswapd = pool.run<number>(kswapdCpu, jobModule('kernel_jobs'), 'kswapd');
    const cpuJobs: Promise<EbizzyThreadResult[]>[] = [];
    for (let cpu = 0; cpu < config.cpus; cpu++) {
      const args: EbizzyCpuArgs = {
        threads: specs.filter((_, i) => i % config.cpus === cpu),
        options: config.ebizzy,
        policy: config.policy,
        lgDirtyMult: config.lgDirtyMult,
        control: controller.control,
      };
      if (args.threads.length > 0)
        cpuJobs.push(pool.run<EbizzyThreadResult[]>(cpu, jobModule('ebizzy'), 'ebizzyCpu', args));
    }
    const pressureArgs: PressureArgs = {
      pid: hogPid,
      mib: config.pressureMiB,
      control: controller.control,
    };
    const hog = pressure
      ? pool.run<PressureResult>(pressureCpu, jobModule('pressure'), 'pressure', pressureArgs)
      : null;

    // A CPU that fails ends the run early; its error is reported once everything has stopped.
    let failed: unknown = null;
    for (const job of [...cpuJobs, ...(hog ? [hog] : []), kswapd]) {
      job.catch((error: unknown) => {
        failed ??= error;
        Atomics.store(controller.control, CONTROL.stop, 1);
      });
    }
    await controller.start(cpuJobs.length + (pressure ? 1 : 0));
    const before = machine.vmstat();
    const progressMs = hooks.progressMs ?? 250;
    const endMs = performance.now() + config.ebizzy.seconds * 1000;
    while (performance.now() < endMs && failed === null) {
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(progressMs, Math.max(0, endMs - performance.now()))),
      );
      if (hooks.onProgress) hooks.onProgress(await controller.snapshot());
    }
    const elapsedSeconds = await controller.stop();
    await Promise.allSettled([...cpuJobs, ...(hog ? [hog] : [])]);
    if (failed !== null) throw runFailure(failed, config);
    const perThreadResults = (await Promise.all(cpuJobs)).flat().sort((a, b) => a.index - b.index);
    const after = machine.vmstat();
    const lockStat = machine.lockStat().filter((row) => LOCKS_THAT_MATTER.includes(row.name));
    kswapdStop(machine.kernel);
    await kswapd;
    await controller.teardown();
    if (hooks.validate ?? true) machine.validate();
    const vmstat = vmstatDelta(before, after);
    const records = perThreadResults.reduce((sum, r) => sum + r.records, 0);
    const host = hostInfo();
    return {
      // The TLB size the machine ran with, whether the config named one or took the default.
      config: { ...config, tlbEntries: machine.config.tlbEntries },
      host,
      oversubscribed: busyCpus(config.cpus, config.pressureMiB) > host.cores,
      records,
      elapsedSeconds,
      recordsPerSecond: records / elapsedSeconds,
      perThread: perThreadResults.map((r) => r.records),
      vmstat,
      lockStat: lockStat as LockStatRow[],
      purgedPages: vmstat.pgvrange_discard + vmstat.pglazyfreed,
    };
  } finally {
    await controller.teardown();
  }
}
