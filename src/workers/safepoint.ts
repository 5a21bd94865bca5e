// What the stress CPUs and the workloads they run beside (the pressure process) share: the words of
// the control buffer the controller drives them with, the safe point at which a CPU waits out a
// pause (so the controller can validate the whole machine), and running a CPU's body under the
// deterministic scheduler. It sits below src/workloads and src/stress, which both use it.

import type { Machine } from '../mm/machine.js';
import { DeterministicScheduler } from '../sched/index.js';
import { bump, waitAtLeast } from './control.js';

/** Words of the stress control buffer. */
export const STRESS_CONTROL = {
  ready: 0,
  go: 1,
  stop: 2,
  /** Pause generation requested by the controller, and CPUs that reached it. */
  pause: 3,
  paused: 4,
  resume: 5,
  /** Operations done by all CPUs (progress). */
  ops: 6,
  /** CPUs that finished their fixed operation count. */
  finished: 8,
  /** Per CPU from here: the operation it is running (index in src/stress's OP_NAMES + 1; 0: none). */
  currentOp: 16,
} as const;

/** Waits for a control word to reach atLeast; throws, naming what it waited for, after timeoutMs. */
export function waitWord(
  control: Int32Array,
  word: number,
  atLeast: number,
  timeoutMs: number,
  what: string,
): void {
  if (!waitAtLeast(control, word, atLeast, timeoutMs))
    throw new Error(`stress: timed out waiting for ${what}`);
}

/** A safe point: no lock held, not in user mode. Waits out a pause request. */
export function safePoint(control: Int32Array, served: { generation: number }): void {
  const generation = Atomics.load(control, STRESS_CONTROL.pause);
  if (generation === served.generation) return;
  served.generation = generation;
  bump(control, STRESS_CONTROL.paused);
  waitWord(control, STRESS_CONTROL.resume, generation, 60_000, 'the controller to resume');
}

/** Runs `body` on this CPU under the deterministic scheduler: between enter() and finish(). */
export function scheduled<T>(machine: Machine, cpu: number, body: () => T): T {
  const k = machine.kernel;
  const sched = new DeterministicScheduler(k.dom, k.layout);
  sched.enter(cpu);
  k.dom.hook = sched.hook;
  try {
    return body();
  } finally {
    k.dom.hook = null;
    sched.finish(cpu);
  }
}
