// Worker side of the lock lab: one task is one simulated CPU running a lock scenario. The lock
// library's tests and benchmarks drive these scenarios on real threads.

import { LockLab, type LockLabHandle, reapDeadCpu } from '../locks/index.js';
import { type LockScenario, runLockScenario, type ScenarioResult } from './lock_scenarios.js';

export interface LockLabTask {
  handle: LockLabHandle;
  cpu: number;
  scenario: LockScenario;
}

export default function run(task: LockLabTask): ScenarioResult {
  const lab = LockLab.attach(task.handle);
  const cpu = lab.cpu(task.cpu);
  try {
    const result = runLockScenario(lab, cpu, task.scenario);
    cpu.detach();
    return result;
  } catch (error) {
    // The CPU dies with whatever it holds: waiters get an owner-died report, not a hang.
    reapDeadCpu(lab.dom, task.cpu, error instanceof Error ? error.message : String(error));
    throw error;
  }
}
