// fork (kernel/fork.c dup_mm, dup_mmap; mm/memory.c copy_page_range).
//
// The child gets a copy of the parent's VMA table and shares its anonymous pages copy-on-write: both
// PTEs of a page lose WRITE, the page's mapcount and refcount grow by one, and the first write on
// either side faults into do_wp_page (memory.ts), which copies the page or, for the last mapper,
// reuses it. The child joins the parent's anon_vma, so rmap walks find both (rmap.ts).
//
// Volatile ranges follow RFC v7 by default: the child starts with none, and the pages the parent had
// purged are plain holes in the child (zeros on touch). With config.forkInheritsVranges (the later
// versions) the child gets a copy of the ranges, purged flags and markers included. VMA flags are
// copied as Linux copies them, so under the vma policy VM_VOLATILE, VM_PURGED and the markers are
// inherited either way.
//
// Locks: the parent's mmap_sem for write (no fault, munmap, madvise or vrange call of the parent
// runs), its vrange_lock when ranges are inherited (no purge of its ranges between copying the
// ranges and the markers), the anon_vma lock (no rmap walk sees a half-copied family), then each
// 512-page block's PTL in parent and child. The child's locks are of the same classes as the
// parent's, and are taken with trylock: nobody else can reach an mm that is not yet live, so they
// never fail.

import { MM, PTES_PER_PTL, VMA } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import type { Kernel } from './kernel.js';
import { PTE_NONE, PTE_PRESENT, PTE_PURGED, PTE_WRITE, PTE_YOUNG, pteFrame } from './pgtable.js';
import { mmAllocSlot, mmPublish } from './process.js';
import { anonVmaFork, pageDupRmap } from './rmap.js';
import { lruCancelLazyfree } from './swap.js';
import { flushTlbMm } from './tlb.js';
import { EAGAIN } from './uapi.js';
import { recountVolatileVmas, VM_VOLATILE, vmaCount, vmaEnd, vmaFlags, vmaStart } from './vma.js';
import { VM } from './vmstat.js';
import { vrangeDup } from './vrange.js';

/**
 * fork(): a new process whose address space is a copy-on-write copy of mm's. Returns the child's
 * pid, or -EAGAIN (the process table is full).
 */
export function sysFork(cpu: Cpu, mm: number): number {
  const k = cpu.k;
  const slot = mmAllocSlot(k);
  if (slot === null) return -EAGAIN;
  const [child, pid] = slot;
  const inherit = k.config.forkInheritsVranges;
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    dupVmas(k, mm, child);
    if (inherit) k.vrangeLocks[mm].lock(cpu.lock);
    try {
      if (inherit) {
        trylockFresh(k.vrangeLocks[child].trylock(cpu.lock), 'vrange_lock', child);
        vrangeDup(cpu, mm, child);
        k.vrangeLocks[child].unlock(cpu.lock);
      }
      const av = k.anonVmaLocks[anonVmaFork(cpu, child, mm)];
      av.lock(cpu.lock);
      let writeProtected = 0;
      try {
        for (let index = 0; index < vmaCount(k, mm); index++) {
          const volatileVma = (vmaFlags(k, mm, index) & VM_VOLATILE) !== 0;
          writeProtected += copyPteRange(
            cpu,
            mm,
            child,
            vmaStart(k, mm, index),
            vmaEnd(k, mm, index),
            inherit || volatileVma,
          );
        }
      } finally {
        av.unlock(cpu.lock);
      }
      // No CPU of the parent may keep writing to a now shared frame through a writable TLB entry.
      if (writeProtected > 0) flushTlbMm(cpu, mm);
    } finally {
      if (inherit) k.vrangeLocks[mm].unlock(cpu.lock);
    }
  } finally {
    sem.upWrite(cpu.lock);
  }
  mmPublish(k, child);
  cpu.count(VM.fork);
  return pid;
}

function trylockFresh(taken: boolean, what: string, mm: number): void {
  if (!taken) throw new Error(`fork: ${what} of the new mm ${mm} is held by someone else`);
}

/** dup_mmap's table part: the child's VMAs are the parent's, flags included. */
function dupVmas(k: Kernel, parent: number, child: number): void {
  const i32 = k.i32;
  const count = vmaCount(k, parent);
  for (let index = 0; index < count; index++)
    for (let f = 0; f < VMA.STRIDE; f++) i32[k.vmaWord(child, index, f)] = i32[k.vmaWord(parent, index, f)];
  i32[k.mmWord(child, MM.vmaCount)] = count;
  recountVolatileVmas(k, child);
}

/**
 * copy_pte_range for [start, end): mapped pages become shared (both PTEs read-only), purged markers
 * are copied if `markers`. Caller holds parent's mmap_sem for write and the anon_vma lock. Returns
 * the parent PTEs it write-protected (the caller flushes the parent's TLBs).
 */
function copyPteRange(
  cpu: Cpu,
  parent: number,
  child: number,
  start: number,
  end: number,
  markers: boolean,
): number {
  const k = cpu.k;
  const i32 = k.i32;
  let writeProtected = 0;
  let copied = 0;
  for (let vpn = start; vpn < end; ) {
    const blockEnd = Math.min(end, (Math.floor(vpn / PTES_PER_PTL) + 1) * PTES_PER_PTL);
    const ptl = k.ptl(parent, vpn);
    const childPtl = k.ptl(child, vpn);
    ptl.lock(cpu.lock);
    trylockFresh(childPtl.trylock(cpu.lock), 'PTL', child);
    for (; vpn < blockEnd; vpn++) {
      const word = k.pteWord(parent, vpn);
      const pte = i32[word];
      if (pte === PTE_NONE) continue;
      if ((pte & PTE_PRESENT) === 0) {
        if (markers && pte === PTE_PURGED) i32[k.pteWord(child, vpn)] = PTE_PURGED;
        continue;
      }
      const frame = pteFrame(pte);
      // A lazily freed page that gains a second mapping is no longer lazily freed (MADV_FREE
      // leaves shared pages alone); the child's copy is a use of it: back to the anon LRU.
      lruCancelLazyfree(cpu, frame);
      // Atomic: the MMU may be setting DIRTY in this PTE right now (it sets it only while WRITE is set).
      const now = Atomics.and(i32, word, ~PTE_WRITE) & ~PTE_WRITE;
      if ((pte & PTE_WRITE) !== 0) writeProtected++;
      pageDupRmap(k, frame);
      // The child's PTE starts old, as copy_present_pte makes it (pte_mkold).
      i32[k.pteWord(child, vpn)] = now & ~PTE_YOUNG;
      copied++;
    }
    childPtl.unlock(cpu.lock);
    ptl.unlock(cpu.lock);
  }
  cpu.rssAdd(child, copied);
  return writeProtected;
}
