// The vma policy (vrange v5, mvolatile/mnovolatile): the design vrange v7 replaced. Volatility is a
// VMA flag, so marking splits and merges VMAs under mmap_sem held for writing — the cost, and the
// contention with page faults, that v7's per-mm interval tree avoids. Same user-visible semantics:
// SIGBUS on a purged page while volatile, zeros after un-marking, purged never under-reported.

import type { Cpu } from './cpu.js';
import { clearPurgedMarkers } from './pagewalk.js';
import { pageRangeArgs, updateVmaFlags, VM_PURGED, VM_VOLATILE } from './vma.js';
import { VM } from './vmstat.js';

/**
 * mvolatile(addr, length): 0, -EINVAL (as vrange), -ENOMEM (part unmapped, or no room to split).
 * mnovolatile(addr, length): 0, 1 (a page of the range was purged), or the same errors.
 */
export function sysMvolatile(cpu: Cpu, mm: number, addr: number, length: number): number {
  cpu.count(VM.mvolatile);
  return changeVolatility(cpu, mm, addr, length, true);
}

export function sysMnovolatile(cpu: Cpu, mm: number, addr: number, length: number): number {
  cpu.count(VM.mnovolatile);
  return changeVolatility(cpu, mm, addr, length, false);
}

function withVolatile(flags: number): number {
  return flags | VM_VOLATILE;
}

function withoutVolatile(flags: number): number {
  return flags & ~(VM_VOLATILE | VM_PURGED);
}

function changeVolatility(cpu: Cpu, mm: number, addr: number, length: number, volatile: boolean): number {
  const k = cpu.k;
  const range = pageRangeArgs(k, addr, length);
  if (typeof range === 'number') return range;
  const [start, end] = range;
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    // Becoming volatile keeps an earlier purge (the merged range is purged if any part was).
    const old = updateVmaFlags(k, mm, start, end, volatile ? withVolatile : withoutVolatile);
    if (old < 0) return old;
    const purged = (old & VM_PURGED) !== 0;
    // After the VMA merge: the markers are PTEs, cleared under their PTLs; the vma policy's reclaim
    // and the fault path both need mmap_sem, which we still hold.
    if (!volatile && purged) clearPurgedMarkers(cpu, mm, start, end);
    return volatile || !purged ? 0 : 1;
  } finally {
    sem.upWrite(cpu.lock);
  }
}
