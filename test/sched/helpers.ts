// Shared set-up for deterministic-scheduler tests: a lock lab with a large trace ring, a pool of CPU
// workers, and one function that runs a scenario on every CPU under a seed and a strategy.

import type { Piscina } from 'piscina';
import { LockLab } from '../../src/locks/index.js';
import {
  DeterministicScheduler,
  type SchedDecision,
  type SchedLimits,
  type SchedStrategy,
} from '../../src/sched/index.js';
import type { LockScenario, ScenarioResult } from '../../src/workers/lock_scenarios.js';
import { createPool } from '../../src/workers/pool.js';
import { LabRunner, TEST_CLASSES } from '../locks/helpers.js';

export const TRACE_ENTRIES = 8192;

export function makeSchedLab(cpus: number): LockLab {
  return LockLab.create({
    cpus,
    classes: TEST_CLASSES,
    locks: ['test_mutex', 'test_spinlock', 'test_rwsem', 'class_a', 'class_b'],
    dataWords: 64,
    // Short hung-task bound: a schedule bug must not cost the suite its timeout.
    options: { hungTaskTimeoutMs: 5_000 },
    schedTraceEntries: TRACE_ENTRIES,
  });
}

export interface SchedRun {
  hash: number;
  steps: number;
  /** Every decision of the run when it fits the ring, else the last TRACE_ENTRIES. */
  decisions: SchedDecision[];
  settled: PromiseSettledResult<ScenarioResult>[];
  elapsedMs: number;
  sched: DeterministicScheduler;
}

/** Runs scenario(cpu) on CPUs 0..cpus-1 of a fresh run of the lab's scheduler. */
export async function runSeeded(
  runner: LabRunner,
  seed: number,
  strategy: SchedStrategy | 'random' | 'pct',
  scenario: (cpu: number) => LockScenario,
  limits: Partial<SchedLimits> = {},
): Promise<SchedRun> {
  const lab = runner.lab;
  const sched = new DeterministicScheduler(lab.dom, lab.layout);
  sched.reset();
  const cpus = lab.dom.cpuCount;
  for (let cpu = 0; cpu < cpus; cpu++) sched.register(cpu);
  const t0 = performance.now();
  const tasks = Array.from({ length: cpus }, (_, cpu) =>
    runner.run(cpu, { kind: 'scheduled', run: scenario(cpu) }),
  );
  // Rejections are collected below; start() failing must not leave them unhandled.
  const settledAll = Promise.allSettled(tasks);
  await sched.start(seed, strategy, limits);
  const settled = await settledAll;
  return {
    hash: sched.traceHash(),
    steps: sched.steps(),
    decisions: sched.lastDecisions(TRACE_ENTRIES),
    settled,
    elapsedMs: performance.now() - t0,
    sched,
  };
}

/** A runner on a fresh lab that shares an existing pool (a deadlocked run leaves its CPUs dead). */
export function freshRunner(cpus: number, pool: Piscina): LabRunner {
  return new LabRunner(makeSchedLab(cpus), pool);
}

export function schedPool(cpus: number): Piscina {
  return createPool('lock_lab_worker', cpus);
}
