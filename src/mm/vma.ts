// The VMA table of an mm: its mappings as [start, end) page ranges with flags, kept sorted by
// start in a fixed array (Linux keeps a maple tree; lookups here are binary searches).
//
// Caller holds mmap_sem: for read to look, for write to change — except VM_PURGED, which reclaim
// sets with an atomic OR under mmap_sem read (the vma policy's purge).

import { MM, PAGE_SIZE, VMA } from '../layout/layout.js';
import type { Kernel } from './kernel.js';
import { EINVAL, ENOMEM } from './uapi.js';

export const VM_READ = 1;
export const VM_WRITE = 2;
/** The vma policy (vrange v5): the range is volatile, reclaim may purge it. */
export const VM_VOLATILE = 0x100;
/** A page of this volatile VMA was purged since it became volatile. */
export const VM_PURGED = 0x200;

export function vmaCount(k: Kernel, mm: number): number {
  return k.i32[k.mmWord(mm, MM.vmaCount)];
}

export function vmaStart(k: Kernel, mm: number, index: number): number {
  return k.i32[k.vmaWord(mm, index, VMA.start)];
}

export function vmaEnd(k: Kernel, mm: number, index: number): number {
  return k.i32[k.vmaWord(mm, index, VMA.end)];
}

export function vmaFlags(k: Kernel, mm: number, index: number): number {
  return Atomics.load(k.i32, k.vmaWord(mm, index, VMA.flags));
}

export function setVmaFlags(k: Kernel, mm: number, index: number, flags: number): void {
  Atomics.store(k.i32, k.vmaWord(mm, index, VMA.flags), flags);
}

/** find_vma: index of the first VMA ending above vpn (vmaCount when none). */
export function findVma(k: Kernel, mm: number, vpn: number): number {
  let lo = 0;
  let hi = vmaCount(k, mm);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (vmaEnd(k, mm, mid) <= vpn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the VMA containing vpn, or -1. */
export function vmaContaining(k: Kernel, mm: number, vpn: number): number {
  const index = findVma(k, mm, vpn);
  return index < vmaCount(k, mm) && vmaStart(k, mm, index) <= vpn ? index : -1;
}

/**
 * Validates the (addr, length) of munmap, vrange and mvolatile: returns the pages [start, end), or
 * -EINVAL (a non-integer, negative or unaligned address, a zero or negative length, a range beyond
 * the address space). madviseRangeArgs() with these calls' stricter contract.
 */
export function pageRangeArgs(k: Kernel, addr: number, length: number): [number, number] | number {
  if (length === 0) return -EINVAL;
  const range = madviseRangeArgs(k, addr, length);
  return range === -ENOMEM ? -EINVAL : range;
}

/**
 * Validates the (addr, length) of madvise and mprotect, whose contract differs: returns the pages
 * [start, end), or the syscall's result as it stands — -EINVAL (a non-integer, negative or
 * unaligned address, a negative length), 0 (a zero length: nothing to do), -ENOMEM (a range beyond
 * the address space). The caller checks its other arguments first.
 */
export function madviseRangeArgs(k: Kernel, addr: number, length: number): [number, number] | number {
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length)) return -EINVAL;
  if (addr < 0 || addr % PAGE_SIZE !== 0 || length < 0) return -EINVAL;
  if (length === 0) return 0;
  const start = addr / PAGE_SIZE;
  const end = start + Math.ceil(length / PAGE_SIZE);
  if (end > k.geometry.vaPages) return -ENOMEM;
  return [start, end];
}

/** True when every page of [start, end) lies inside some VMA. */
export function rangeMapped(k: Kernel, mm: number, start: number, end: number): boolean {
  let vpn = start;
  let index = findVma(k, mm, vpn);
  const count = vmaCount(k, mm);
  while (vpn < end) {
    if (index >= count || vmaStart(k, mm, index) > vpn) return false;
    vpn = vmaEnd(k, mm, index);
    index++;
  }
  return true;
}

function copyVma(k: Kernel, mm: number, from: number, to: number): void {
  for (let f = 0; f < VMA.STRIDE; f++) k.i32[k.vmaWord(mm, to, f)] = k.i32[k.vmaWord(mm, from, f)];
}

function writeVma(k: Kernel, mm: number, index: number, start: number, end: number, flags: number): void {
  if (!(start < end)) throw new Error(`vma: empty or inverted [${start}, ${end})`);
  k.i32[k.vmaWord(mm, index, VMA.start)] = start;
  k.i32[k.vmaWord(mm, index, VMA.end)] = end;
  setVmaFlags(k, mm, index, flags);
}

/** Free slots left in the table. */
export function vmaRoom(k: Kernel, mm: number): number {
  return k.config.maxVmasPerMm - vmaCount(k, mm);
}

/** Inserts a VMA at index (which keeps the table sorted). Caller checked vmaRoom. */
export function insertVma(
  k: Kernel,
  mm: number,
  index: number,
  start: number,
  end: number,
  flags: number,
): void {
  const count = vmaCount(k, mm);
  if (count >= k.config.maxVmasPerMm) throw new Error(`vma table of mm ${mm} full`);
  for (let i = count; i > index; i--) copyVma(k, mm, i - 1, i);
  writeVma(k, mm, index, start, end, flags);
  k.i32[k.mmWord(mm, MM.vmaCount)] = count + 1;
}

export function removeVmas(k: Kernel, mm: number, index: number, n: number): void {
  const count = vmaCount(k, mm);
  for (let i = index; i + n < count; i++) copyVma(k, mm, i + n, i);
  k.i32[k.mmWord(mm, MM.vmaCount)] = count - n;
}

/** split_vma: [start, end) becomes [start, at) and [at, end). Caller checked vmaRoom. */
export function splitVma(k: Kernel, mm: number, index: number, at: number): void {
  const start = vmaStart(k, mm, index);
  const end = vmaEnd(k, mm, index);
  if (!(start < at && at < end)) throw new Error(`split_vma at ${at} outside (${start}, ${end})`);
  const flags = vmaFlags(k, mm, index);
  k.i32[k.vmaWord(mm, index, VMA.end)] = at;
  insertVma(k, mm, index + 1, at, end, flags);
}

/** Slots splitAt(start, end) would add: one per boundary that falls strictly inside a VMA. */
export function splitsNeeded(k: Kernel, mm: number, start: number, end: number): number {
  let n = 0;
  for (const at of [start, end]) {
    const index = vmaContaining(k, mm, at);
    if (index >= 0 && vmaStart(k, mm, index) < at) n++;
  }
  return n;
}

/** VMAs overlapping [start, end). */
export function vmasOverlapping(k: Kernel, mm: number, start: number, end: number): number {
  let n = 0;
  for (let index = findVma(k, mm, start); index < vmaCount(k, mm) && vmaStart(k, mm, index) < end; index++)
    n++;
  return n;
}

/** Whether splitting at start and end fits the table (mprotect, mvolatile, munmap). */
export function roomToSplit(k: Kernel, mm: number, start: number, end: number): boolean {
  return splitsNeeded(k, mm, start, end) <= vmaRoom(k, mm);
}

/** Splits VMAs so that start and end fall on VMA boundaries (check roomToSplit first). */
export function splitAt(k: Kernel, mm: number, start: number, end: number): void {
  for (const at of [start, end]) {
    const index = vmaContaining(k, mm, at);
    if (index >= 0 && vmaStart(k, mm, index) < at) splitVma(k, mm, index, at);
  }
}

/** vma_merge: joins the VMA at index with equal-flagged neighbours it touches. Returns its new index. */
export function mergeVma(k: Kernel, mm: number, index: number): number {
  let i = index;
  const flags = vmaFlags(k, mm, i);
  if (
    i + 1 < vmaCount(k, mm) &&
    vmaEnd(k, mm, i) === vmaStart(k, mm, i + 1) &&
    vmaFlags(k, mm, i + 1) === flags
  ) {
    k.i32[k.vmaWord(mm, i, VMA.end)] = vmaEnd(k, mm, i + 1);
    removeVmas(k, mm, i + 1, 1);
  }
  if (i > 0 && vmaEnd(k, mm, i - 1) === vmaStart(k, mm, i) && vmaFlags(k, mm, i - 1) === flags) {
    k.i32[k.vmaWord(mm, i - 1, VMA.end)] = vmaEnd(k, mm, i);
    removeVmas(k, mm, i, 1);
    i--;
  }
  return i;
}

/** Merges every VMA in [start, end) and its boundaries with equal neighbours. */
export function mergeRange(k: Kernel, mm: number, start: number, end: number): void {
  let index = Math.max(findVma(k, mm, start) - 1, 0);
  while (index < vmaCount(k, mm) && (index === 0 || vmaStart(k, mm, index) <= end)) {
    index = mergeVma(k, mm, index) + 1;
  }
}

/**
 * Sets the flags of the VMAs of [start, end) to update(old flags): splits at start and end first,
 * merges equal neighbours and recounts the volatile VMAs afterwards (mprotect, mvolatile). Returns
 * the OR of the old flags, or -ENOMEM (part of the range unmapped, or the splits would overflow the
 * table) having changed nothing. Caller holds mmap_sem write; PTEs are the caller's business.
 */
export function updateVmaFlags(
  k: Kernel,
  mm: number,
  start: number,
  end: number,
  update: (flags: number) => number,
): number {
  if (!rangeMapped(k, mm, start, end) || !roomToSplit(k, mm, start, end)) return -ENOMEM;
  splitAt(k, mm, start, end);
  let old = 0;
  for (let index = findVma(k, mm, start); index < vmaCount(k, mm) && vmaStart(k, mm, index) < end; index++) {
    const flags = vmaFlags(k, mm, index);
    old |= flags;
    setVmaFlags(k, mm, index, update(flags));
  }
  mergeRange(k, mm, start, end);
  recountVolatileVmas(k, mm);
  return old;
}

/** Recounts the mm's VM_VOLATILE VMAs (reclaim's hint for the vma policy). Caller holds mmap_sem write. */
export function recountVolatileVmas(k: Kernel, mm: number): void {
  let n = 0;
  for (let index = 0; index < vmaCount(k, mm); index++) if ((vmaFlags(k, mm, index) & VM_VOLATILE) !== 0) n++;
  Atomics.store(k.i32, k.mmWord(mm, MM.volatileVmas), n);
}
