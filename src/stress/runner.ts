// vrange-lab stress: CPUs running random operation mixes checked online against shadow models,
// with a pressure process forcing purges, kswapd reclaiming, and the whole-machine validator run
// at intervals with every CPU paused at a safe point and once more at the end.

import type { HwConfig } from '../hw/profile.js';
import { KSWAPD } from '../layout/layout.js';
import { defaultWatermarks, type Mutations } from '../mm/config.js';
import { Machine } from '../mm/machine.js';
import { MAP_FIXED } from '../mm/uapi.js';
import { ValidationError } from '../mm/validate.js';
import { kswapdStop } from '../mm/vmscan.js';
import type { Vmstat } from '../mm/vmstat.js';
import { DeterministicScheduler } from '../sched/index.js';
import { CpuPool } from '../workers/cpus.js';
import { busyCpus, type HostInfo, hostInfo } from '../workers/host.js';
import { STRESS_CONTROL } from '../workers/safepoint.js';
import type { PressureResult } from '../workloads/pressure.js';
import type { StressCpuArgs, StressCpuResult } from './job.js';
import { OP_NAMES, type OpName, type StressPolicy, type Violation } from './thread.js';

export interface StressConfig {
  policy: StressPolicy;
  cpus: number;
  processes: number;
  /** Wall-clock duration (0 when opsPerThread bounds the run). */
  seconds: number;
  /** Operations per thread (0: run for `seconds`). */
  opsPerThread: number;
  seed: number;
  memoryMiB: number;
  /**
   * Entries of each CPU's TLB; absent: the machine's default (2048). A small TLB evicts on every
   * few pages, so walks and refills run all the time; a large one keeps stale entries longest.
   */
  tlbEntries?: number;
  pressureMiB: number;
  /** Pause and validate the whole machine this often (0: only at the end). */
  validateEveryMs: number;
  delayInjection: boolean;
  mutations: Partial<Mutations>;
  /**
   * Run every CPU (stress threads, the pressure process, kswapd) under the deterministic scheduler:
   * the same seed gives the same interleaving and trace hash. Needs opsPerThread.
   */
  deterministic: boolean;
  strategy: 'random' | 'pct';
  /** Scheduling decisions shown before a violation (deterministic mode). */
  replayDecisions: number;
  /**
   * Test-only fault injection on CPU 0: 'throw' (its code throws while it holds mmap_sem) or
   * 'terminate' (its worker thread is terminated mid-run). The run must stop with a report.
   */
  injectFault: 'throw' | 'terminate' | null;
  /** Hardware events charged (src/hw); absent: none. They widen the windows the races live in. */
  hw?: HwConfig;
}

export interface StressReport {
  config: StressConfig;
  host: HostInfo;
  oversubscribed: boolean;
  elapsedSeconds: number;
  ops: Record<OpName, number>;
  totalOps: number;
  opsPerSecond: number;
  violations: Violation[];
  /** Validator runs, and the problems they found (each with the seed). */
  validations: number;
  validationErrors: string[];
  lockdep: string[];
  /** Accesses that found no memory under pressure (not violations). */
  oom: number;
  /** A CPU crashed (kernel assertion, use-after-free, hung task...): its report. */
  crash: string | null;
  /** vmstat over the run (purges, shootdowns, faults: how hard the kernel paths were exercised). */
  vmstat: Vmstat | null;
  /** Deterministic mode: the schedule's trace hash and length (equal for equal seeds and code). */
  traceHash: string | null;
  schedulingSteps: number;
  /** What the pressure process did (null without pressure). */
  pressure: PressureResult | null;
  passed: boolean;
}

const WINDOW_BASE = 0x1000000;
const WINDOW_PAGES = 1024;
const SHARED_ADDR = 0x800000;
const SHARED_PAGES = 16;

function jobModule(path: string): string {
  const ts = import.meta.url.endsWith('.ts');
  return new URL(`${path}.${ts ? 'ts' : 'js'}`, import.meta.url).href;
}

/**
 * Linux's min watermark, and low raised 1 MiB above it: the pressure process holds free memory at
 * low, which leaves the threads under test that much to fault pages in between reclaim passes.
 */
function stressWatermarks(memoryMiB: number): { min: number; low: number; high: number } {
  const frames = memoryMiB * 256;
  const { min } = defaultWatermarks(frames);
  const low = Math.min(min + 256, Math.floor(frames / 4));
  return { min, low, high: Math.min(low + 128, Math.floor(frames / 3)) };
}

/** A distinct seed per (process, cpu) derived from the run's seed. */
function threadSeed(seed: number, process: number, cpu: number): number {
  let x = (seed ^ Math.imul(process + 1, 0x9e3779b1) ^ Math.imul(cpu + 1, 0x85ebca6b)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  return (x ^ (x >>> 15)) >>> 0 || 1;
}

export async function runStress(
  config: StressConfig,
  onProgress?: (ops: number, elapsedS: number) => void,
): Promise<StressReport> {
  if (!Number.isInteger(config.cpus) || config.cpus < 1)
    throw new RangeError('stress: --cpus must be a positive integer');
  if (!Number.isInteger(config.processes) || config.processes < 1)
    throw new RangeError('stress: --processes must be a positive integer');
  if (config.seconds <= 0 && config.opsPerThread <= 0)
    throw new RangeError('stress: give --seconds or --ops');
  const pressure = config.pressureMiB > 0;
  const machineCpus = config.cpus + (pressure ? 1 : 0);
  const machine = Machine.create({
    memoryMiB: config.memoryMiB,
    cpus: machineCpus,
    ...(config.tlbEntries !== undefined ? { tlbEntries: config.tlbEntries } : {}),
    // Each stress thread (a process on a CPU) may have a forked child alive.
    maxProcesses: config.processes * (config.cpus + 1) + 2,
    vaMiB: 256,
    debug: true,
    mutations: config.mutations,
    watermarks: stressWatermarks(config.memoryMiB),
    ...(config.hw !== undefined ? { hw: config.hw } : {}),
  });
  const k = machine.kernel;
  const pool = new CpuPool(machine, machineCpus + 1);
  const control = new Int32Array(new SharedArrayBuffer(256));
  const host = hostInfo();
  const report: StressReport = {
    // The TLB size the machine ran with, whether the config named one or took the default.
    config: { ...config, tlbEntries: machine.config.tlbEntries },
    host,
    oversubscribed: busyCpus(config.cpus, config.pressureMiB) > host.cores,
    elapsedSeconds: 0,
    ops: Object.fromEntries(OP_NAMES.map((n) => [n, 0])) as Record<OpName, number>,
    totalOps: 0,
    opsPerSecond: 0,
    violations: [],
    validations: 0,
    validationErrors: [],
    lockdep: [],
    oom: 0,
    crash: null,
    vmstat: null,
    traceHash: null,
    schedulingSteps: 0,
    pressure: null,
    passed: false,
  };
  if (config.deterministic && config.opsPerThread <= 0)
    throw new RangeError('stress: --deterministic needs --ops (a run of fixed length)');
  const sched = config.deterministic ? new DeterministicScheduler(k.dom, k.layout) : null;
  let kswapd: Promise<unknown> = Promise.resolve();
  let kswapdFailure: unknown = null;
  const startKswapd = () => {
    Atomics.store(k.i32, k.kswapdWord(KSWAPD.stop), 0);
    kswapd = pool.run(machineCpus, jobModule('./job'), 'stressKswapd', {
      deterministic: config.deterministic,
    });
    kswapd.catch((error: unknown) => {
      kswapdFailure ??= error;
    });
  };
  const stopKswapd = async () => {
    kswapdStop(k);
    await kswapd.catch(() => undefined);
  };
  try {
    // Each process: a shared zero region its threads race first-touch faults on.
    const pids: number[] = [];
    for (let p = 0; p < config.processes; p++) {
      const proc = machine.createProcess();
      const ret = proc.mainThread(0).mmap(SHARED_PAGES * 4096, { addr: SHARED_ADDR, flags: MAP_FIXED });
      if (ret !== SHARED_ADDR) throw new Error(`stress: could not map the shared region (${ret})`);
      pids.push(proc.pid);
    }
    const hogPid = pressure ? machine.createProcess().pid : -1;
    machine.detach();
    if (sched !== null) {
      for (let cpu = 0; cpu <= machineCpus; cpu++)
        if (cpu < config.cpus || cpu === machineCpus || pressure) sched.register(cpu);
    }
    startKswapd();
    let failure: unknown = null;
    /** Every CPU that crashed, in the order their failures arrived (one dead CPU takes others along). */
    const failures: string[] = [];
    const jobs: Promise<StressCpuResult>[] = [];
    // Terminating CPU 0's worker thread aborts its task: piscina ends the thread mid-operation.
    const terminator = new AbortController();
    for (let cpu = 0; cpu < config.cpus; cpu++) {
      const args: StressCpuArgs = {
        threads: pids.map((pid, p) => ({
          pid,
          policy: config.policy,
          seed: threadSeed(config.seed, p, cpu),
          cpu,
          windowBase: WINDOW_BASE + cpu * WINDOW_PAGES * 4096,
          windowPages: WINDOW_PAGES,
          sharedAddr: SHARED_ADDR,
          sharedPages: SHARED_PAGES,
          valueBase: (p % 8) * 32,
        })),
        control,
        opsPerThread: config.opsPerThread,
        delayInjection:
          config.delayInjection && !config.deterministic
            ? { seed: config.seed, chance: 0.05, maxDelayUs: 100 }
            : null,
        deterministic: config.deterministic,
        decisionsOnViolation: config.replayDecisions,
        stressCpus: config.cpus,
        fault: config.injectFault === 'throw' ? { cpu: 0, afterOps: 200 } : null,
      };
      const signal = cpu === 0 && config.injectFault === 'terminate' ? terminator.signal : undefined;
      jobs.push(pool.run<StressCpuResult>(cpu, jobModule('./job'), 'stressCpu', args, signal));
    }
    const hog = pressure
      ? pool.run<PressureResult>(config.cpus, jobModule('../workloads/pressure'), 'pressure', {
          pid: hogPid,
          mib: config.pressureMiB,
          control,
          pausable: !config.deterministic,
          churn: config.deterministic,
          pollMs: 1,
          scheduled: config.deterministic,
          stopWhenFinished: config.deterministic ? config.cpus : undefined,
          // A fixed-length run has fewer rounds to build pressure in: hold free memory just above min.
          targetFree: config.deterministic ? machine.config.watermarks.min + 96 : undefined,
        })
      : null;
    for (const job of [...jobs, ...(hog ? [hog] : [])]) {
      job.catch((error: unknown) => {
        failure ??= error;
        failures.push(error instanceof Error ? error.message : String(error));
        Atomics.store(control, STRESS_CONTROL.stop, 1);
        Atomics.notify(control, STRESS_CONTROL.stop);
      });
    }
    const pausable = config.cpus + (pressure ? 1 : 0);
    if (sched !== null) {
      // Every registered CPU enters, then the scheduler hands out the first token.
      await sched.start(config.seed, config.strategy);
    } else {
      await waitFor(
        () => Atomics.load(control, STRESS_CONTROL.ready) >= pausable || failure !== null,
        120_000,
        'the CPUs to start',
      );
    }
    const start = performance.now();
    Atomics.store(control, STRESS_CONTROL.go, 1);
    Atomics.notify(control, STRESS_CONTROL.go);
    let nextValidation =
      start + (config.validateEveryMs && sched === null ? config.validateEveryMs : Number.POSITIVE_INFINITY);
    let generation = 0;
    const finished = () =>
      failure !== null ||
      (config.opsPerThread > 0
        ? Atomics.load(control, STRESS_CONTROL.finished) >= config.cpus
        : performance.now() - start >= config.seconds * 1000);
    while (!finished()) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (
        config.injectFault === 'terminate' &&
        !terminator.signal.aborted &&
        performance.now() - start > 1000
      ) {
        terminator.abort(new Error('injected fault: cpu 0 terminated mid-run'));
      }
      onProgress?.(Atomics.load(control, STRESS_CONTROL.ops), (performance.now() - start) / 1000);
      if (performance.now() >= nextValidation && !finished()) {
        generation++;
        Atomics.store(control, STRESS_CONTROL.paused, 0);
        Atomics.store(control, STRESS_CONTROL.pause, generation);
        await waitFor(
          () => Atomics.load(control, STRESS_CONTROL.paused) >= pausable || failure !== null,
          60_000,
          'the CPUs to pause',
        );
        await stopKswapd();
        if (failure === null) validate(machine, report);
        startKswapd();
        Atomics.store(control, STRESS_CONTROL.resume, generation);
        Atomics.notify(control, STRESS_CONTROL.resume);
        nextValidation = performance.now() + config.validateEveryMs;
      }
    }
    report.elapsedSeconds = (performance.now() - start) / 1000;
    Atomics.store(control, STRESS_CONTROL.resume, generation);
    Atomics.store(control, STRESS_CONTROL.stop, 1);
    Atomics.notify(control, STRESS_CONTROL.stop);
    const settled = await Promise.allSettled([...jobs, ...(hog ? [hog] : [])]);
    await stopKswapd();
    for (const s of settled) {
      if (s.status !== 'fulfilled' || !('counts' in (s.value as object))) continue;
      const result = s.value as StressCpuResult;
      for (const name of OP_NAMES) report.ops[name] += result.counts[name];
      report.violations.push(...result.violations);
      report.oom += result.oom;
    }
    if (hog !== null) report.pressure = await hog.catch(() => null);
    failure ??= kswapdFailure;
    if (failure !== null) {
      const running = Array.from(
        { length: config.cpus },
        (_, cpu) =>
          `cpu ${cpu}: ${opName(Atomics.load(control, STRESS_CONTROL.currentOp + cpu)) ?? 'between operations'}`,
      );
      if (failures.length === 0) failures.push(failure instanceof Error ? failure.message : String(failure));
      report.crash = `${failures.join('\n')}\nwhen the run stopped: ${running.join('; ')}`;
    } else validate(machine, report);
    report.lockdep = machine.lockdepReports();
    report.vmstat = machine.vmstat();
    if (sched !== null) {
      report.traceHash = (sched.traceHash() >>> 0).toString(16).padStart(8, '0');
      report.schedulingSteps = sched.steps();
    }
  } finally {
    await stopKswapd();
    await pool.close();
  }
  report.totalOps = Object.values(report.ops).reduce((a, b) => a + b, 0);
  report.opsPerSecond = report.elapsedSeconds > 0 ? report.totalOps / report.elapsedSeconds : 0;
  report.passed =
    report.violations.length === 0 &&
    report.validationErrors.length === 0 &&
    report.lockdep.length === 0 &&
    report.crash === null;
  return report;
}

function opName(code: number): string | null {
  return code > 0 ? OP_NAMES[code - 1] : null;
}

function validate(machine: Machine, report: StressReport): void {
  report.validations++;
  try {
    machine.validate();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    report.validationErrors.push(
      ...error.problems
        .slice(0, 10)
        .map((p) => `validation ${report.validations} (seed ${report.config.seed}): ${p}`),
    );
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`stress: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
