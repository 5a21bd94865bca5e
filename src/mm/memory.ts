// Page faults and unmapping (mm/memory.c): handleMmFault() serves a non-present or write-protected
// PTE; zapPageRange() clears the PTEs of a range and frees their frames after a TLB shootdown.

import { PAGE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { clearPage, copyPage } from './highmem.js';
import { allocPage, freePage, PG_ANON } from './page_alloc.js';
import { walkPtes } from './pagewalk.js';
import {
  mkPte,
  PTE_DIRTY,
  PTE_NONE,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_PURGED,
  PTE_WRITE,
  pteFrame,
} from './pgtable.js';
import { getPage, pageAddNewAnonRmap, pageMapcount, pageRemoveRmap, putPage } from './rmap.js';
import { OutOfMemoryError, SigBus, SigSegv } from './signals.js';
import { lruCacheAdd } from './swap.js';
import { flushTlbMm } from './tlb.js';
import { VM_READ, VM_VOLATILE, VM_WRITE, vmaContaining, vmaFlags } from './vma.js';
import { directReclaim, unmapFrame } from './vmscan.js';
import { VM } from './vmstat.js';
import { vrangeFaultIsVolatile } from './vrange.js';

/**
 * handle_mm_fault: makes vpn of mm accessible for a read or a write, or throws the signal the access
 * earns. Called from the MMU with the CPU out of user mode; the MMU retries the access afterwards.
 */
export function handleMmFault(cpu: Cpu, mm: number, vpn: number, write: boolean, address: number): void {
  const k = cpu.k;
  const sem = k.mmapSems[mm];
  cpu.count(VM.pgfault);
  sem.downRead(cpu.lock);
  try {
    const index = vmaContaining(k, mm, vpn);
    if (index < 0) {
      cpu.count(VM.sigsegv);
      throw new SigSegv(address, 'maperr');
    }
    const flags = vmaFlags(k, mm, index);
    if ((flags & VM_READ) === 0 || (write && (flags & VM_WRITE) === 0)) {
      cpu.count(VM.sigsegv);
      throw new SigSegv(address, 'accerr');
    }
    const pteWord = k.pteWord(mm, vpn);
    const pte = Atomics.load(k.i32, pteWord);
    if ((pte & PTE_PRESENT) !== 0) {
      // Another CPU mapped it first, or a write to a write-protected PTE of a writable VMA: a
      // COW-shared page after fork, or one mprotect left read-only.
      if (write && (pte & PTE_WRITE) === 0) doWpPage(cpu, mm, vpn, pteWord, address);
      return;
    }
    if ((pte & PTE_PURGED) !== 0 && purgedStillVolatile(cpu, mm, vpn, flags)) {
      cpu.count(VM.sigbus);
      throw new SigBus(address);
    }
    doAnonymousPage(cpu, mm, vpn, pteWord, pte, (flags & VM_WRITE) !== 0, write, address);
  } finally {
    sem.upRead(cpu.lock);
  }
}

/** A purged marker faults with SIGBUS while its range is still volatile (either design). */
function purgedStillVolatile(cpu: Cpu, mm: number, vpn: number, vmFlags: number): boolean {
  if ((vmFlags & VM_VOLATILE) !== 0) return true;
  return vrangeFaultIsVolatile(cpu, mm, vpn);
}

/**
 * do_wp_page: a write to a present, write-protected PTE (pteWord, vpn's) of a writable VMA. A frame
 * this PTE alone maps is reused in place; a COW-shared one is copied to a fresh frame that replaces
 * it in this PTE, the others keep the old one. Caller holds mmap_sem for read; the MMU retries the
 * access afterwards, so a PTE that changed meanwhile is simply left for the retry.
 */
function doWpPage(cpu: Cpu, mm: number, vpn: number, pteWord: number, address: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  const ptl = k.ptl(mm, vpn);
  ptl.lock(cpu.lock);
  const pte = Atomics.load(i32, pteWord);
  if ((pte & PTE_PRESENT) === 0 || (pte & PTE_WRITE) !== 0) {
    ptl.unlock(cpu.lock);
    return;
  }
  const old = pteFrame(pte);
  if (pageMapcount(k, old) === 1) {
    wpPageReuse(cpu, pteWord);
    ptl.unlock(cpu.lock);
    return;
  }
  // Pinned, the old frame outlives its mappings while we copy it with no lock held.
  getPage(k, old);
  ptl.unlock(cpu.lock);
  const frame = allocPage(cpu, directReclaim);
  if (frame < 0) {
    putPage(cpu, old);
    cpu.count(VM.oom_kill);
    throw new OutOfMemoryError(address, cpu.id, 'no free frame for a copy-on-write break');
  }
  copyPage(k, frame, old);
  ptl.lock(cpu.lock);
  if (Atomics.load(i32, pteWord) !== pte || pageMapcount(k, old) === 1) {
    // Purged, unmapped or already broken meanwhile: the retry sees the new PTE. Or the other
    // mappings went while we copied: the page is ours alone now, reuse it.
    if (Atomics.load(i32, pteWord) === pte) wpPageReuse(cpu, pteWord);
    ptl.unlock(cpu.lock);
    freePage(cpu, frame);
    putPage(cpu, old);
    return;
  }
  pageAddNewAnonRmap(k, frame, mm, vpn);
  // Not yet published: a plain store, as Linux's non-atomic __folio_set_swapbacked on a new folio.
  i32[k.pageWord(frame, PAGE.flags)] = PG_ANON;
  lruCacheAdd(cpu, frame);
  // Publishes the copy; pairs with the MMU's Atomics.load of the PTE. The old frame keeps its other
  // mappings (mapcount was above 1 under this PTL, so it stays above 0).
  Atomics.store(i32, pteWord, mkPte(frame, PTE_WRITE | PTE_DIRTY | (pte & PTE_PROTNONE)));
  pageRemoveRmap(k, old);
  ptl.unlock(cpu.lock);
  cpu.count(VM.cow_fault);
  // Other CPUs of mm may still read the old frame through their TLBs: after this none does, and the
  // mapping's reference can go (with the pin).
  flushTlbMm(cpu, mm);
  putPage(cpu, old);
  putPage(cpu, old);
}

/** wp_page_reuse: the PTE maps a frame no other PTE maps; make it writable. Caller holds the PTL. */
function wpPageReuse(cpu: Cpu, pteWord: number): void {
  // A write fault sets DIRTY with WRITE, as the MMU would on the access it is about to retry. No MMU
  // sets bits in a read-only PTE, and every other writer holds the PTL: an OR is enough.
  Atomics.or(cpu.k.i32, pteWord, PTE_WRITE | PTE_DIRTY);
  cpu.count(VM.pgreuse);
}

/**
 * do_anonymous_page: a zeroed frame for a never-touched (or discarded) page. pteWord is vpn's PTE,
 * expected the value the fault saw in it.
 */
function doAnonymousPage(
  cpu: Cpu,
  mm: number,
  vpn: number,
  pteWord: number,
  expected: number,
  writable: boolean,
  write: boolean,
  address: number,
): void {
  const k = cpu.k;
  const frame = allocPage(cpu, directReclaim);
  if (frame < 0) {
    cpu.count(VM.oom_kill);
    throw new OutOfMemoryError(address, cpu.id, 'no free frame and nothing reclaimable (no swap)');
  }
  clearPage(k, frame);
  cpu.count(VM.pgzero);
  const ptl = k.ptl(mm, vpn);
  ptl.lock(cpu.lock);
  if (k.config.mutations.faultWithoutRecheck || Atomics.load(k.i32, pteWord) === expected) {
    pageAddNewAnonRmap(k, frame, mm, vpn);
    // Not yet published: a plain store, as Linux's non-atomic __folio_set_swapbacked on a new folio.
    k.i32[k.pageWord(frame, PAGE.flags)] = PG_ANON;
    // folio_add_lru_vma, under the PTL as in Linux: onto this CPU's batch, onto the LRU when full.
    lruCacheAdd(cpu, frame);
    // Publishes the mapping; pairs with the MMU's Atomics.load of the PTE.
    Atomics.store(k.i32, pteWord, mkPte(frame, (writable ? PTE_WRITE : 0) | (write ? PTE_DIRTY : 0)));
    cpu.rssAdd(mm, 1);
    ptl.unlock(cpu.lock);
    return;
  }
  // Another CPU served this fault first: keep its page.
  ptl.unlock(cpu.lock);
  freePage(cpu, frame);
}

/**
 * zap_page_range: clears every PTE of [start, end) — mapped pages and purged markers — and frees
 * the frames after a shootdown. Caller holds mmap_sem (read for madvise, write for munmap).
 * Returns the number of frames freed.
 */
export function zapPageRange(cpu: Cpu, mm: number, start: number, end: number): number {
  const k = cpu.k;
  const i32 = k.i32;
  k.mmapSems[mm].assertLocked(cpu.lock);
  const tlb = cpu.gather.begin(mm, false);
  let freed = 0;
  for (let vpn = start; vpn < end; ) {
    vpn = walkPtes(cpu, mm, vpn, end, (word) => {
      if (i32[word] === PTE_NONE) return true;
      // Exchange, not store: the MMU may be setting DIRTY on this PTE right now.
      const old = Atomics.exchange(i32, word, PTE_NONE);
      if ((old & PTE_PRESENT) === 0) return true;
      unmapFrame(cpu, mm, pteFrame(old), tlb);
      freed++;
      return !tlb.full;
    });
    tlb.flush();
  }
  return freed;
}
