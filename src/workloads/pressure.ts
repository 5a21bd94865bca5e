// Background memory pressure: a process that maps a share of memory, touches all of it, and keeps
// touching it — dropping and re-faulting a slice at a time — so that allocations keep reclaim busy
// and reclaim must purge other processes' volatile (or lazily freed) pages.

import type { Machine } from '../mm/machine.js';
import { OutOfMemoryError } from '../mm/signals.js';
import { MADV_DONTNEED } from '../mm/uapi.js';
import { CONTROL } from './ebizzy.js';

const PAGE = 4096;

export interface PressureArgs {
  pid: number;
  mib: number;
  control: Int32Array;
  /** Slices the region is cycled in (1/slices of it dropped and re-faulted per round). */
  slices: number;
}

export interface PressureResult {
  pagesTouched: number;
  rounds: number;
  /** Touches that found no memory (nothing left to reclaim at that moment). */
  oom: number;
}

function touch(
  machine: Machine,
  cpu: number,
  pid: number,
  addr: number,
  pages: number,
  value: number,
): boolean {
  const t = machine.process(pid).thread(cpu);
  try {
    t.inUser(() => {
      for (let page = 0; page < pages; page++) t.store32(addr + page * PAGE, value);
    });
    return true;
  } catch (error) {
    if (error instanceof OutOfMemoryError) return false;
    throw error;
  }
}

/** Job: touch everything, say ready, then cycle slices until the controller says stop. */
export function pressure(machine: Machine, cpu: number, a: PressureArgs): PressureResult {
  const t = machine.process(a.pid).thread(cpu);
  const pages = Math.floor((a.mib * 1024 * 1024) / PAGE);
  const addr = t.mmap(pages * PAGE);
  if (addr < 0) throw new Error(`pressure: mmap of ${a.mib} MiB failed (${addr})`);
  const result: PressureResult = { pagesTouched: 0, rounds: 0, oom: 0 };
  if (touch(machine, cpu, a.pid, addr, pages, 1)) result.pagesTouched += pages;
  else result.oom++;
  Atomics.add(a.control, CONTROL.ready, 1);
  Atomics.notify(a.control, CONTROL.ready);
  const slice = Math.max(1, Math.floor(pages / a.slices));
  while (Atomics.load(a.control, CONTROL.stop) === 0) {
    const first = (result.rounds % a.slices) * slice;
    const count = Math.min(slice, pages - first);
    t.madvise(addr + first * PAGE, count * PAGE, MADV_DONTNEED);
    if (touch(machine, cpu, a.pid, addr + first * PAGE, count, result.rounds)) result.pagesTouched += count;
    else result.oom++;
    result.rounds++;
  }
  return result;
}
