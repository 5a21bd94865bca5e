// Jobs the memory-management benchmarks (bench/mm.ts) run on worker CPUs (src/workers/cpu_worker.ts).
//
// Every job attaches to a machine the main thread set up, meets the other CPUs of its run at a
// barrier so that they really run at the same time, then loops for a fixed time and reports what it
// counted and how long it took on its own clock. No job sleeps or spins in place of a cost.

import { PAGE_SIZE } from '../layout/layout.js';
import type { Machine } from '../mm/machine.js';
import type { Thread } from '../mm/thread.js';
import { MADV_DONTNEED, VRANGE_NOVOLATILE, VRANGE_VOLATILE } from '../mm/uapi.js';
import { bump, waitAtLeast } from '../workers/control.js';

/** Control words shared by the CPUs of one run. */
export const CONTROL = {
  /** CPUs that reached the start barrier. */
  arrived: 0,
  /** Faulting CPUs still running: the marker stops when it drops to zero. */
  running: 1,
  words: 16,
} as const;

export function controlWords(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CONTROL.words * 4));
}

const BARRIER_TIMEOUT_MS = 30_000;

/** Waits until `count` CPUs arrived (they start within a host wake-up of each other). */
function barrier(control: Int32Array, count: number): void {
  bump(control, CONTROL.arrived);
  if (!waitAtLeast(control, CONTROL.arrived, count, BARRIER_TIMEOUT_MS))
    throw new Error(`barrier: ${Atomics.load(control, CONTROL.arrived)} of ${count} CPUs arrived`);
}

function check(what: string, ret: number, expected = 0): void {
  if (ret !== expected) throw new Error(`${what} returned ${ret}, expected ${expected}`);
}

/** Writes one word into each page of [addr, addr + pages pages), staying in user mode throughout. */
export function touchPages(t: Thread, addr: number, pages: number, value: number): void {
  t.inUser(() => {
    for (let page = 0; page < pages; page++) t.store32(addr + page * PAGE_SIZE, value);
  });
}

export interface LoopResult {
  /** Pages faulted in (one fault each) during the measured loop. */
  faults: number;
  /** Loop rounds completed. */
  rounds: number;
  /** From the start barrier to the end of the last round, on this CPU's clock. */
  elapsedMs: number;
}

export interface FaultLoopArgs {
  pid: number;
  pages: number;
  durationMs: number;
  control: Int32Array;
  /** CPUs meeting at the start barrier. */
  cpus: number;
}

/**
 * Meets the other CPUs at the start barrier, then runs round(0), round(1), ... until durationMs has
 * passed on this CPU's clock. `afterRounds` runs once the rounds end, normally or not (not when the
 * barrier fails).
 */
function timedRounds(a: FaultLoopArgs, round: (round: number) => void, afterRounds?: () => void): LoopResult {
  barrier(a.control, a.cpus);
  const startMs = performance.now();
  const deadline = startMs + a.durationMs;
  let rounds = 0;
  let now = startMs;
  try {
    while (now < deadline) {
      round(rounds);
      rounds++;
      now = performance.now();
    }
  } finally {
    afterRounds?.();
  }
  return { faults: rounds * a.pages, rounds, elapsedMs: now - startMs };
}

/**
 * will-it-scale page_fault1: mmap `pages` pages (the kernel picks the address), write one word per
 * page, munmap; again, until durationMs has passed. Every write is a fault on a fresh page.
 */
export function pageFault1(machine: Machine, cpu: number, a: FaultLoopArgs): LoopResult {
  const t = machine.process(a.pid).thread(cpu);
  const length = a.pages * PAGE_SIZE;
  return timedRounds(a, (round) => {
    const addr = t.mmap(length);
    if (addr < 0) throw new Error(`mmap returned ${addr}`);
    touchPages(t, addr, a.pages, round);
    check('munmap', t.munmap(addr, length));
  });
}

export interface DontneedFaultArgs extends FaultLoopArgs {
  /** This CPU's own region, mapped by the main thread. */
  addr: number;
}

/**
 * Fault loop under mmap_sem read only: touch every page of the CPU's region (a fault each), drop
 * the region with MADV_DONTNEED, again. The marker CPU of the same process runs beside it.
 */
export function dontneedFaultLoop(machine: Machine, cpu: number, a: DontneedFaultArgs): LoopResult {
  const t = machine.process(a.pid).thread(cpu);
  const length = a.pages * PAGE_SIZE;
  return timedRounds(
    a,
    (round) => {
      touchPages(t, a.addr, a.pages, round);
      check('madvise(MADV_DONTNEED)', t.madvise(a.addr, length, MADV_DONTNEED));
    },
    () => {
      // The marker runs until the last faulting CPU is done.
      if (Atomics.sub(a.control, CONTROL.running, 1) === 1) Atomics.notify(a.control, CONTROL.running);
    },
  );
}

export type MarkPolicy = 'vrange' | 'vma';

export interface MarkLoopArgs {
  pid: number;
  policy: MarkPolicy;
  addr: number;
  pages: number;
  control: Int32Array;
  cpus: number;
}

export interface MarkResult {
  /** mark + unmark pairs done. */
  pairs: number;
  /** Unmarks that reported a purge (must be 0: nothing reclaims during the run). */
  purged: number;
  elapsedMs: number;
}

/**
 * Marks the range volatile and not volatile again, in a loop, while any faulting CPU still runs:
 * vrange(VOLATILE) / vrange(NOVOLATILE), or mvolatile / mnovolatile (the vma policy).
 */
export function markLoop(machine: Machine, cpu: number, a: MarkLoopArgs): MarkResult {
  const t = machine.process(a.pid).thread(cpu);
  const length = a.pages * PAGE_SIZE;
  const vrange = a.policy === 'vrange';
  barrier(a.control, a.cpus);
  const startMs = performance.now();
  let pairs = 0;
  let purged = 0;
  while (Atomics.load(a.control, CONTROL.running) > 0) {
    check('mark', vrange ? t.vrange(a.addr, length, VRANGE_VOLATILE) : t.mvolatile(a.addr, length));
    const ret = vrange ? t.vrange(a.addr, length, VRANGE_NOVOLATILE) : t.mnovolatile(a.addr, length);
    if (ret < 0) throw new Error(`unmark returned ${ret}`);
    purged += ret;
    pairs++;
  }
  return { pairs, purged, elapsedMs: performance.now() - startMs };
}
