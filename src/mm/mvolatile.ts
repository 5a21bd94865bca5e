// The vma policy (vrange v5, mvolatile/mnovolatile): the design vrange v7 replaced. Volatility is a
// VMA flag, so marking splits and merges VMAs under mmap_sem held for writing — the cost, and the
// contention with page faults, that v7's per-mm interval tree avoids. Same user-visible semantics:
// SIGBUS on a purged page while volatile, zeros after un-marking, purged never under-reported.

import type { Cpu } from './cpu.js';
import { clearPurgedMarkers } from './pagewalk.js';
import { ENOMEM } from './uapi.js';
import {
  findVma,
  mergeRange,
  rangeMapped,
  recountVolatileVmas,
  roomToSplit,
  setVmaFlags,
  splitAt,
  VM_PURGED,
  VM_VOLATILE,
  vmaCount,
  vmaFlags,
  vmaStart,
} from './vma.js';
import { VM } from './vmstat.js';
import { vrangeArgs } from './vrange.js';

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

function changeVolatility(cpu: Cpu, mm: number, addr: number, length: number, volatile: boolean): number {
  const k = cpu.k;
  const range = vrangeArgs(k, addr, length);
  if (typeof range === 'number') return range;
  const start = range[0];
  const end = range[1] + 1;
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    if (!rangeMapped(k, mm, start, end) || !roomToSplit(k, mm, start, end)) return -ENOMEM;
    splitAt(k, mm, start, end);
    let purged = false;
    for (
      let index = findVma(k, mm, start);
      index < vmaCount(k, mm) && vmaStart(k, mm, index) < end;
      index++
    ) {
      const flags = vmaFlags(k, mm, index);
      if ((flags & VM_PURGED) !== 0) purged = true;
      // Becoming volatile keeps an earlier purge (the merged range is purged if any part was).
      setVmaFlags(k, mm, index, volatile ? flags | VM_VOLATILE : flags & ~(VM_VOLATILE | VM_PURGED));
    }
    if (!volatile && purged) clearPurgedMarkers(cpu, mm, start, end);
    mergeRange(k, mm, start, end);
    recountVolatileVmas(k, mm);
    return volatile || !purged ? 0 : 1;
  } finally {
    sem.upWrite(cpu.lock);
  }
}
