// mmap and munmap of anonymous private memory (mm/mmap.c).

import { PAGE_SIZE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import type { Kernel } from './kernel.js';
import { zapPageRange } from './memory.js';
import { EINVAL, ENOMEM, EPERM, MAP_FIXED, MMAP_MIN_ADDR, PROT_READ, PROT_WRITE } from './uapi.js';
import {
  findVma,
  insertVma,
  mergeVma,
  pageRangeArgs,
  recountVolatileVmas,
  removeVmas,
  roomToSplit,
  splitAt,
  splitsNeeded,
  VM_READ,
  VM_WRITE,
  vmaCount,
  vmaEnd,
  vmaRoom,
  vmaStart,
  vmasOverlapping,
} from './vma.js';
import { VM } from './vmstat.js';
import { vrangeUnmapRoom, vrangeUnmapSpan } from './vrange.js';

export function protToVmFlags(prot: number): number {
  return ((prot & PROT_READ) !== 0 ? VM_READ : 0) | ((prot & PROT_WRITE) !== 0 ? VM_WRITE | VM_READ : 0);
}

/** PROT_NONE, PROT_READ, PROT_WRITE or both. Compared as numbers: bitwise operators would look at
 * the low 32 bits only and let 2^32 + 1 pass as PROT_READ. */
export function validProt(prot: number): boolean {
  return Number.isInteger(prot) && prot >= 0 && prot <= (PROT_READ | PROT_WRITE);
}

/** get_unmapped_area, top-down: the highest gap of `pages` pages. -1 when there is none. */
function unmappedArea(k: Kernel, mm: number, pages: number): number {
  const floor = MMAP_MIN_ADDR / PAGE_SIZE;
  let gapEnd = k.geometry.vaPages;
  for (let index = vmaCount(k, mm) - 1; index >= -1; index--) {
    const gapStart = index >= 0 ? vmaEnd(k, mm, index) : floor;
    if (gapEnd - Math.max(gapStart, floor) >= pages) return gapEnd - pages;
    if (index >= 0) gapEnd = vmaStart(k, mm, index);
    if (gapEnd <= floor) break;
  }
  return -1;
}

function rangeFree(k: Kernel, mm: number, start: number, end: number): boolean {
  const index = findVma(k, mm, start);
  return index >= vmaCount(k, mm) || vmaStart(k, mm, index) >= end;
}

/**
 * mmap(addr, length, prot, flags): maps anonymous private memory; returns its address.
 * Errors: -EINVAL (zero length, bad prot or flags, MAP_FIXED address not page aligned), -EPERM
 * (MAP_FIXED below mmap_min_addr), -ENOMEM (no room in the address space or the VMA table).
 * A hint without MAP_FIXED is used when that range is free.
 */
export function sysMmap(
  cpu: Cpu,
  mm: number,
  addr: number,
  length: number,
  prot: number,
  flags: number,
): number {
  const k = cpu.k;
  cpu.count(VM.syscall_mmap);
  if (!Number.isSafeInteger(length) || length <= 0) return -EINVAL;
  if (!Number.isSafeInteger(addr) || addr < 0) return -EINVAL;
  if (!validProt(prot) || (flags !== 0 && flags !== MAP_FIXED)) return -EINVAL;
  const pages = Math.ceil(length / PAGE_SIZE);
  if (pages > k.geometry.vaPages) return -ENOMEM;
  const fixed = (flags & MAP_FIXED) !== 0;
  const hint = addr / PAGE_SIZE;
  if (fixed) {
    if (addr % PAGE_SIZE !== 0) return -EINVAL;
    if (addr < MMAP_MIN_ADDR) return -EPERM;
    if (hint + pages > k.geometry.vaPages) return -ENOMEM;
  }
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    let start: number;
    if (fixed) {
      // The replaced mappings go first: their boundary splits, then the new VMA, must fit the table.
      const splits = splitsNeeded(k, mm, hint, hint + pages);
      const afterUnmap = vmaCount(k, mm) + splits - vmasOverlapping(k, mm, hint, hint + pages);
      if (splits > vmaRoom(k, mm) || afterUnmap + 1 > k.config.maxVmasPerMm) return -ENOMEM;
      if (!vrangeUnmapRoom(cpu, mm, hint, hint + pages)) return -ENOMEM;
      doMunmap(cpu, mm, hint, hint + pages);
      start = hint;
    } else {
      const hintUsable =
        addr !== 0 &&
        addr % PAGE_SIZE === 0 &&
        addr >= MMAP_MIN_ADDR &&
        hint + pages <= k.geometry.vaPages &&
        rangeFree(k, mm, hint, hint + pages);
      start = hintUsable ? hint : unmappedArea(k, mm, pages);
      if (start < 0 || vmaRoom(k, mm) < 1) return -ENOMEM;
    }
    const index = findVma(k, mm, start);
    insertVma(k, mm, index, start, start + pages, protToVmFlags(prot));
    mergeVma(k, mm, index);
    return start * PAGE_SIZE;
  } finally {
    sem.upWrite(cpu.lock);
  }
}

/**
 * do_munmap: removes [start, end) from the address space — its pages, its purged markers, its
 * volatile ranges and its VMAs. Caller holds mmap_sem for write and checked there is room for the
 * splits (2 VMA slots, a vrange node).
 */
export function doMunmap(cpu: Cpu, mm: number, start: number, end: number): void {
  const k = cpu.k;
  k.mmapSems[mm].assertWriteLocked(cpu.lock);
  splitAt(k, mm, start, end);
  const first = findVma(k, mm, start);
  let last = first;
  while (last < vmaCount(k, mm) && vmaStart(k, mm, last) < end) last++;
  // Unmap pages before the VMAs go, under the same write lock: no fault can come in between.
  for (let index = first; index < last; index++)
    zapPageRange(cpu, mm, vmaStart(k, mm, index), vmaEnd(k, mm, index));
  removeVmas(k, mm, first, last - first);
  recountVolatileVmas(k, mm);
  vrangeUnmapSpan(cpu, mm, start, end);
}

/**
 * munmap(addr, length). Errors: -EINVAL (address not page aligned, zero length, range beyond the
 * address space), -ENOMEM (the split would overflow the VMA table or the vrange node pool).
 * Unmapping a range with no mappings succeeds.
 */
export function sysMunmap(cpu: Cpu, mm: number, addr: number, length: number): number {
  const k = cpu.k;
  cpu.count(VM.syscall_munmap);
  const range = pageRangeArgs(k, addr, length);
  if (typeof range === 'number') return range;
  const [start, end] = range;
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    if (!roomToSplit(k, mm, start, end) || !vrangeUnmapRoom(cpu, mm, start, end)) return -ENOMEM;
    doMunmap(cpu, mm, start, end);
    return 0;
  } finally {
    sem.upWrite(cpu.lock);
  }
}
