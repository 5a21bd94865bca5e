// Background memory pressure: a process that grows until free memory is down to the low watermark
// and holds it there — re-faulting a slice of its memory every round, shrinking when memory runs
// out, growing back when it frees up — like a balloon. kswapd then stays busy and allocations keep
// dipping into reclaim, which must purge other processes' volatile (or lazily freed) pages, while
// nothing here drives the machine out of memory on purpose. It watches free memory the way a user
// process would, through a /proc/meminfo-style read (machine.freePages()).

import { PAGE_SIZE } from '../layout/layout.js';
import type { Machine } from '../mm/machine.js';
import { OutOfMemoryError } from '../mm/signals.js';
import { MADV_DONTNEED } from '../mm/uapi.js';
import { bump } from '../workers/control.js';
import { STRESS_CONTROL, safePoint, scheduled } from '../workers/safepoint.js';
import { CONTROL } from './ebizzy.js';

/** Pages grown, shrunk or re-faulted per round (256 KiB). */
const SLICE_PAGES = 64;

export interface PressureArgs {
  pid: number;
  /** The most the process may hold. */
  mib: number;
  control: Int32Array;
  /** Honour the stress controller's pause requests between rounds. */
  pausable?: boolean;
  /**
   * Re-fault a slice every round while holding (default true). Without it the process only grows
   * and shrinks, and between rounds it waits `pollMs` — a quieter load that leaves the CPUs to the
   * threads under test (the stress command's choice).
   */
  churn?: boolean;
  pollMs?: number;
  /** Under the deterministic scheduler (stress --deterministic). */
  scheduled?: boolean;
  /** Stop once this many CPUs counted themselves finished (a deterministic end), not on `stop`. */
  stopWhenFinished?: number;
  /** Free pages to hold the machine at (default: the low watermark). */
  targetFree?: number;
}

export interface PressureResult {
  /** Resident pages at the end, and the most it held. */
  residentPages: number;
  peakPages: number;
  rounds: number;
  pagesFaulted: number;
  /** Touches that found no memory (it shrank after each). */
  oom: number;
}

/** Job: grow to the target, say ready, then hold the pressure until the controller says stop. */
export function pressure(machine: Machine, cpu: number, a: PressureArgs): PressureResult {
  return a.scheduled
    ? scheduled(machine, cpu, () => holdPressure(machine, cpu, a))
    : holdPressure(machine, cpu, a);
}

function holdPressure(machine: Machine, cpu: number, a: PressureArgs): PressureResult {
  const t = machine.process(a.pid).thread(cpu);
  const maxPages = Math.floor((a.mib * 1024 * 1024) / PAGE_SIZE);
  const addr = t.mmap(maxPages * PAGE_SIZE);
  if (addr < 0) throw new Error(`pressure: mmap of ${a.mib} MiB failed (${addr})`);
  const target = a.targetFree ?? machine.config.watermarks.low;
  const result: PressureResult = { residentPages: 0, peakPages: 0, rounds: 0, pagesFaulted: 0, oom: 0 };
  let cursor = 0;
  const touch = (first: number, count: number): boolean => {
    try {
      t.inUser(() => {
        for (let page = first; page < first + count; page++)
          t.store32(addr + page * PAGE_SIZE, result.rounds);
      });
      result.pagesFaulted += count;
      return true;
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      result.oom++;
      return false;
    }
  };
  const drop = (first: number, count: number) =>
    t.madvise(addr + first * PAGE_SIZE, count * PAGE_SIZE, MADV_DONTNEED);
  const shrink = () => {
    const count = Math.min(SLICE_PAGES, result.residentPages);
    drop(result.residentPages - count, count);
    result.residentPages -= count;
  };
  let ready = false;
  const served = { generation: 0 };
  const running = () =>
    a.stopWhenFinished === undefined
      ? Atomics.load(a.control, CONTROL.stop) === 0
      : Atomics.load(a.control, STRESS_CONTROL.finished) < a.stopWhenFinished;
  while (running()) {
    if (a.pausable) safePoint(a.control, served);
    const free = machine.freePages();
    const room = maxPages - result.residentPages;
    if (free > target + SLICE_PAGES && room > 0) {
      const count = Math.min(SLICE_PAGES, room);
      if (touch(result.residentPages, count)) result.residentPages += count;
      else shrink();
    } else if (free + SLICE_PAGES < target && result.residentPages > 0) {
      shrink();
    } else if (a.churn === false) {
      Atomics.wait(a.control, CONTROL.stop, 0, a.pollMs ?? 1);
    } else if (result.residentPages >= SLICE_PAGES) {
      // Hold: re-fault one slice, so that allocations keep meeting the watermark.
      cursor = (cursor + SLICE_PAGES) % (result.residentPages - (result.residentPages % SLICE_PAGES));
      drop(cursor, SLICE_PAGES);
      if (!touch(cursor, SLICE_PAGES)) shrink();
    }
    result.peakPages = Math.max(result.peakPages, result.residentPages);
    result.rounds++;
    if (!ready && (free <= target + SLICE_PAGES || room === 0)) {
      ready = true;
      bump(a.control, CONTROL.ready);
    }
  }
  if (!ready) bump(a.control, CONTROL.ready);
  return result;
}
