// KCSAN-style delay injection: at lock acquire/release and access boundaries, a CPU sometimes
// stops for a few microseconds, so that on real threads the windows between a check and its use
// stay open long enough for another CPU to land in them. It models no cost; it widens race windows.

import { type SchedHook, SchedPoint } from '../locks/index.js';
import { xorshift32 } from '../sched/index.js';

/** A hook delaying a point with probability `chance`, for up to `maxDelayUs`. */
export function delayInjector(seed: number, chance: number, maxDelayUs: number): SchedHook {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = xorshift32(state) >>> 0;
    return state / 0x100000000;
  };
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  return (_cpu, point) => {
    if (point === SchedPoint.wait) return false;
    if (next() < chance) Atomics.wait(sleeper, 0, 0, (next() * maxDelayUs) / 1000);
    return false;
  };
}
