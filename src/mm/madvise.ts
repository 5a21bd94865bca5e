// madvise (mm/madvise.c): MADV_DONTNEED and MADV_FREE on anonymous memory.
//
// Both take mmap_sem for read only (madvise_need_mmap_write() is false for them): they change PTEs
// under the PTLs, never the VMA set.

import type { Cpu } from './cpu.js';
import { pageFlags } from './lruvec.js';
import { zapPageRange } from './memory.js';
import { PG_LAZYFREE } from './mm_types.js';
import { walkPtes } from './pagewalk.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_YOUNG, pteFrame } from './pgtable.js';
import { pageMapcount } from './rmap.js';
import { lruAddDrain, lruMarkLazyfree } from './swap.js';
import { flushTlbMm } from './tlb.js';
import { EINVAL, ENOMEM, MADV_DONTNEED, MADV_FREE, MADV_NORMAL } from './uapi.js';
import { findVma, madviseRangeArgs, rangeMapped, vmaCount, vmaEnd, vmaStart } from './vma.js';
import { VM } from './vmstat.js';

/**
 * madvise(addr, length, advice) with MADV_NORMAL, MADV_DONTNEED or MADV_FREE.
 * Returns 0, -EINVAL (address not page aligned, negative length, unknown advice) or -ENOMEM
 * (part of the range is not mapped). A zero length succeeds.
 * Deviation from Linux, on purpose: with a hole in the range Linux still applies the advice to
 * the mapped parts before returning -ENOMEM; here an error changes nothing.
 *
 * MADV_DONTNEED zaps the pages now (shootdown, frames freed): the range reads as zeros and each
 * later touch costs a fault, an allocation and a zero-fill. MADV_FREE only clears the dirty bits
 * (and flushes TLBs): the pages stay mapped until reclaim discards the ones still clean. Pages
 * shared copy-on-write with another mm are left alone, as Linux does.
 */
export function sysMadvise(cpu: Cpu, mm: number, addr: number, length: number, advice: number): number {
  const k = cpu.k;
  cpu.count(VM.syscall_madvise);
  if (advice !== MADV_NORMAL && advice !== MADV_DONTNEED && advice !== MADV_FREE) return -EINVAL;
  const range = madviseRangeArgs(k, addr, length);
  if (typeof range === 'number') return range;
  const [start, end] = range;
  const sem = k.mmapSems[mm];
  sem.downRead(cpu.lock);
  try {
    if (!rangeMapped(k, mm, start, end)) return -ENOMEM;
    if (advice === MADV_NORMAL) return 0;
    for (
      let index = findVma(k, mm, start);
      index < vmaCount(k, mm) && vmaStart(k, mm, index) < end;
      index++
    ) {
      const from = Math.max(start, vmaStart(k, mm, index));
      const to = Math.min(end, vmaEnd(k, mm, index));
      if (advice === MADV_DONTNEED) cpu.count(VM.madvise_dontneed, zapPageRange(cpu, mm, from, to));
      else madviseFree(cpu, mm, from, to);
    }
    return 0;
  } finally {
    sem.upRead(cpu.lock);
  }
}

/**
 * madvise_free_single_vma: drain this CPU's LRU batch (so that the pages it faulted in are on the
 * LRU), then madvise_free_pte_range: make the PTEs old and clean, move the pages to the lazyfree LRU,
 * then flush TLBs.
 */
function madviseFree(cpu: Cpu, mm: number, start: number, end: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  const batch = cpu.lazyfreeBatch;
  let marked = 0;
  let shared = 0;
  let n = 0;
  lruAddDrain(cpu);
  // A batch is one PTL block: it moves on the LRU (in blockDone) while the PTL still pins the
  // mapping, so a racing zap frees the frame (taking it off the LRU) only after the move.
  walkPtes(
    cpu,
    mm,
    start,
    end,
    (word) => {
      if ((i32[word] & PTE_PRESENT) !== 0) {
        const frame = pteFrame(i32[word]);
        // As Linux: a page another mm maps too (COW-shared after fork) is not lazily freed. Its
        // mapcount cannot grow while we hold this PTL (fork copies a PTE under its PTL).
        if (pageMapcount(k, frame) !== 1) {
          shared++;
          return true;
        }
        // Atomic: the MMU may be setting YOUNG or DIRTY right now; an access after this must set
        // them again (ptep_get_and_clear + pte_mkold + pte_mkclean).
        Atomics.and(i32, word, ~(PTE_DIRTY | PTE_YOUNG));
        // folio_mark_lazyfree: a page MADV_FREE already moved (Linux: no longer swap-backed) is not
        // batched again, so a range freed again and again takes no lru_lock (a plain test, as
        // folio_test_swapbacked; lruMarkLazyfree re-checks under the lock).
        if ((pageFlags(k, frame) & PG_LAZYFREE) === 0) batch[n++] = frame;
      }
      return true;
    },
    () => {
      if (n === 0) return;
      marked += lruMarkLazyfree(cpu, batch, n);
      n = 0;
    },
  );
  // No CPU may keep a TLB entry that lets it write without setting DIRTY.
  flushTlbMm(cpu, mm);
  cpu.count(VM.pglazyfree, marked);
  if (shared > 0) cpu.count(VM.pglazyfree_shared_skip, shared);
}
