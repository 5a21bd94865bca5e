// Processes: an mm slot from the fixed table (fork's mm_alloc) and its teardown (exit_mmap).

import { CONTROL, MM } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { type Kernel, MM_EXITING, MM_FREE, MM_LIVE } from './kernel.js';
import { doMunmap } from './mmap.js';
import { anonVmaNew, anonVmaUnlink } from './rmap.js';
import { vrangeInitMm } from './vrange.js';

/** Allocates an mm slot for a new process; returns [mm, pid], or null when the process table is full. */
export function mmAlloc(k: Kernel): [number, number] | null {
  const slot = mmAllocSlot(k);
  if (slot === null) return null;
  anonVmaNew(k, slot[0]);
  mmPublish(k, slot[0]);
  return slot;
}

/**
 * An empty mm slot (no VMA, no range, no anon_vma yet), not yet live: pid lookups and reclaim's scans
 * skip it until mmPublish(). Null when the process table is full.
 */
export function mmAllocSlot(k: Kernel): [number, number] | null {
  const i32 = k.i32;
  for (let mm = 0; mm < k.config.maxProcesses; mm++) {
    const state = k.mmWord(mm, MM.state);
    if (Atomics.compareExchange(i32, state, MM_FREE, MM_EXITING) !== MM_FREE) continue;
    const pid = Atomics.add(i32, k.controlWord(CONTROL.pidNext), 1) + 1;
    i32[k.mmWord(mm, MM.pid)] = pid;
    i32[k.mmWord(mm, MM.vmaCount)] = 0;
    i32[k.mmWord(mm, MM.volatileVmas)] = 0;
    vrangeInitMm(k, mm);
    return [mm, pid];
  }
  return null;
}

/** Publishes an initialised mm; pairs with the state loads of pid lookups and reclaim. */
export function mmPublish(k: Kernel, mm: number): void {
  Atomics.store(k.i32, k.mmWord(mm, MM.state), MM_LIVE);
}

/** The mm slot of a live pid, or -1. */
export function mmOfPid(k: Kernel, pid: number): number {
  for (let mm = 0; mm < k.config.maxProcesses; mm++) {
    if (Atomics.load(k.i32, k.mmWord(mm, MM.state)) === MM_LIVE && k.i32[k.mmWord(mm, MM.pid)] === pid)
      return mm;
  }
  return -1;
}

export function livePids(k: Kernel): number[] {
  const pids: number[] = [];
  for (let mm = 0; mm < k.config.maxProcesses; mm++) {
    if (Atomics.load(k.i32, k.mmWord(mm, MM.state)) === MM_LIVE) pids.push(k.i32[k.mmWord(mm, MM.pid)]);
  }
  return pids;
}

/** exit_mmap: unmaps everything and frees the slot. No thread of the process may still run. */
export function exitMm(cpu: Cpu, mm: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  if (Atomics.compareExchange(i32, k.mmWord(mm, MM.state), MM_LIVE, MM_EXITING) !== MM_LIVE) {
    throw new Error(`exit of mm ${mm}, which is not live`);
  }
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    doMunmap(cpu, mm, 0, k.geometry.vaPages);
  } finally {
    sem.upWrite(cpu.lock);
  }
  // It maps nothing now: no rmap walk can find it through its anon_vma any more.
  anonVmaUnlink(cpu, mm);
  Atomics.store(i32, k.mmWord(mm, MM.state), MM_FREE);
}
