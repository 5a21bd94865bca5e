// Shared set-up for lock tests: a lock lab, a pool of CPU workers, and a task runner that reaps
// CPUs whose worker dies.

import type { Piscina } from 'piscina';
import { type LockClassSpec, LockLab, type LockOptions } from '../../src/locks/index.js';
import { runOnCpu } from '../../src/workers/cpu_task.js';
import type { LockLabTask } from '../../src/workers/lock_lab_worker.js';
import type { LockScenario, ScenarioResult } from '../../src/workers/lock_scenarios.js';
import { createPool } from '../../src/workers/pool.js';

export const TEST_CLASSES: LockClassSpec[] = [
  { name: 'test_mutex', kind: 'mutex' },
  { name: 'test_spinlock', kind: 'spinlock' },
  { name: 'test_rwsem', kind: 'rwsem' },
  { name: 'class_a', kind: 'mutex' },
  { name: 'class_b', kind: 'mutex' },
];

/** Lock indices in every test lab. */
export const MUTEX = 0;
export const SPIN = 1;
export const RWSEM = 2;
export const LOCK_A = 3;
export const LOCK_B = 4;

export function makeLab(cpus: number, options: Partial<LockOptions> = {}): LockLab {
  return LockLab.create({
    cpus,
    classes: TEST_CLASSES,
    locks: ['test_mutex', 'test_spinlock', 'test_rwsem', 'class_a', 'class_b'],
    dataWords: 64,
    options,
  });
}

export class LabRunner {
  constructor(
    readonly lab: LockLab,
    readonly pool: Piscina,
  ) {}

  static create(cpus: number, options: Partial<LockOptions> = {}): LabRunner {
    return new LabRunner(makeLab(cpus, options), createPool('lock_lab_worker', cpus));
  }

  run(cpu: number, scenario: LockScenario): Promise<ScenarioResult> {
    const task: LockLabTask = { handle: this.lab.handle, cpu, scenario };
    return runOnCpu<ScenarioResult>(this.pool, this.lab.dom, cpu, task);
  }

  /** Waits (bounded) on the main thread until data[word] >= value. */
  async waitData(word: number, value: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Atomics.load(this.lab.data, word) < value) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for data[${word}] >= ${value}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  release(word: number): void {
    Atomics.store(this.lab.data, word, 1);
    Atomics.notify(this.lab.data, word);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
