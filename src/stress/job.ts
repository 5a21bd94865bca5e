// The stress job a worker CPU runs: its stress threads (one per process it serves) take turns doing
// random operations until the controller says stop (or a fixed operation count, for reproducible
// runs); between operations the CPU honours pause requests so the controller can validate the whole
// machine at a quiescent point.

import type { Machine } from '../mm/machine.js';
import { kswapdRun, kswapdStop } from '../mm/vmscan.js';
import { DeterministicScheduler, formatDecision } from '../sched/index.js';
import { bump } from '../workers/control.js';
import { STRESS_CONTROL, safePoint, scheduled, waitWord } from '../workers/safepoint.js';
import { delayInjector } from './delay.js';
import { OP_NAMES, type OpName, StressThread, type StressThreadConfig, type Violation } from './thread.js';

/** Test-only fault injection: a CPU throws inside a critical section after this many operations. */
export interface InjectedFault {
  cpu: number;
  afterOps: number;
}

export interface StressCpuArgs {
  threads: (StressThreadConfig & { pid: number })[];
  control: Int32Array;
  /** Stop after this many operations per thread (0: run until told to stop). */
  opsPerThread: number;
  /** KCSAN-style delays at lock and access points (null: none). */
  delayInjection: { seed: number; chance: number; maxDelayUs: number } | null;
  /** Run under the deterministic scheduler (opsPerThread bounds the run; no pauses). */
  deterministic: boolean;
  /** Scheduling decisions attached to a violation (deterministic mode). */
  decisionsOnViolation: number;
  /** Stress CPUs in the run: the last to finish stops kswapd (a deterministic end). */
  stressCpus: number;
  fault: InjectedFault | null;
}

export interface StressCpuResult {
  cpu: number;
  counts: Record<OpName, number>;
  violations: Violation[];
  oom: number;
}

export function stressCpu(machine: Machine, cpu: number, a: StressCpuArgs): StressCpuResult {
  if (a.deterministic) return scheduledStressCpu(machine, cpu, a);
  const threads = a.threads.map(
    (config) => new StressThread(machine.process(config.pid).thread(cpu), config),
  );
  if (a.delayInjection !== null) {
    const { seed, chance, maxDelayUs } = a.delayInjection;
    machine.kernel.dom.hook = delayInjector(seed + cpu, chance, maxDelayUs);
  }
  const { control } = a;
  const served = { generation: 0 };
  bump(control, STRESS_CONTROL.ready);
  waitWord(control, STRESS_CONTROL.go, 1, 60_000, 'go');
  let done = 0;
  const limit = a.opsPerThread * threads.length;
  while (Atomics.load(control, STRESS_CONTROL.stop) === 0 && (a.opsPerThread === 0 || done < limit)) {
    if (a.fault !== null && a.fault.cpu === cpu && done === a.fault.afterOps)
      injectFault(machine, cpu, threads[0], control);
    step(threads[done % threads.length], control);
    done++;
    if ((done & 15) === 0) Atomics.add(control, STRESS_CONTROL.ops, 16);
    safePoint(control, served);
  }
  bump(control, STRESS_CONTROL.finished);
  // Keep answering pauses until the controller stops everyone (a validation may be under way).
  while (Atomics.load(control, STRESS_CONTROL.stop) === 0) {
    safePoint(control, served);
    Atomics.wait(control, STRESS_CONTROL.stop, 0, 20);
  }
  return summarize(cpu, threads);
}

/** Crashes this CPU while it holds its process's mmap_sem for reading (a fault-injection test). */
function injectFault(machine: Machine, cpu: number, thread: StressThread, control: Int32Array): void {
  const k = machine.kernel;
  const c = machine.cpu(cpu);
  Atomics.store(control, STRESS_CONTROL.currentOp + cpu, OP_NAMES.indexOf('mprotect') + 1);
  k.mmapSems[thread.t.mm].downRead(c.lock);
  throw new Error(
    `injected fault: cpu ${cpu} threw inside a critical section (holding mmap_sem of pid ${thread.t.pid} for reading)`,
  );
}

function step(thread: StressThread, control: Int32Array): void {
  Atomics.store(control, STRESS_CONTROL.currentOp + thread.config.cpu, 1 + OP_NAMES.indexOf(thread.nextOp()));
  thread.step();
  Atomics.store(control, STRESS_CONTROL.currentOp + thread.config.cpu, 0);
}

function summarize(cpu: number, threads: StressThread[]): StressCpuResult {
  const counts = Object.fromEntries(OP_NAMES.map((name) => [name, 0])) as Record<OpName, number>;
  for (const thread of threads) for (const name of OP_NAMES) counts[name] += thread.counts[name];
  return {
    cpu,
    counts,
    violations: threads.flatMap((t) => t.violations),
    oom: threads.reduce((n, t) => n + t.oom, 0),
  };
}

/**
 * A stress CPU under the deterministic scheduler: it runs only while it holds the run token, which
 * passes at every lock acquire/release and access boundary, so the same seed replays the same
 * interleaving. Its threads do a fixed number of operations each; the first violation carries the
 * last scheduling decisions before it.
 */
function scheduledStressCpu(machine: Machine, cpu: number, a: StressCpuArgs): StressCpuResult {
  const sched = new DeterministicScheduler(machine.kernel.dom, machine.kernel.layout);
  const decisions = () => sched.lastDecisions(a.decisionsOnViolation).map(formatDecision);
  const threads = a.threads.map(
    (config) => new StressThread(machine.process(config.pid).thread(cpu), config, decisions),
  );
  return scheduled(machine, cpu, () => {
    try {
      for (let done = 0; done < a.opsPerThread * threads.length; done++)
        step(threads[done % threads.length], a.control);
    } finally {
      Atomics.add(a.control, STRESS_CONTROL.ops, a.opsPerThread * threads.length);
      // The last one out stops kswapd while it still holds the token, so the run ends the same way.
      if (Atomics.add(a.control, STRESS_CONTROL.finished, 1) + 1 === a.stressCpus) kswapdStop(machine.kernel);
    }
    return summarize(cpu, threads);
  });
}

/** kswapd for a stress run (under the scheduler in deterministic mode). */
export function stressKswapd(machine: Machine, cpu: number, a: { deterministic: boolean }): number {
  const run = () => kswapdRun(machine.cpu(cpu));
  if (a.deterministic) scheduled(machine, cpu, run);
  else run();
  return 0;
}
