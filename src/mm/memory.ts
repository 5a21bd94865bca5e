// Page faults and unmapping (mm/memory.c): handleMmFault() serves a non-present or write-protected
// PTE; zapPageRange() clears the PTEs of a range and frees their frames after a TLB shootdown.

import { PAGE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { clearPage } from './highmem.js';
import { allocPage, freePage, PG_ANON } from './page_alloc.js';
import { walkPtes } from './pagewalk.js';
import { mkPte, PTE_DIRTY, PTE_NONE, PTE_PRESENT, PTE_PURGED, PTE_WRITE, pteFrame } from './pgtable.js';
import { OutOfMemoryError, SigBus, SigSegv } from './signals.js';
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
      // Another CPU mapped it first, or a write to a page mprotect left read-only in a now writable VMA.
      if (write && (pte & PTE_WRITE) === 0) makeWritable(cpu, mm, vpn, pteWord, pte);
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

/** pteWord is vpn's PTE (k.pteWord(mm, vpn)), pte the value the fault saw in it. */
function makeWritable(cpu: Cpu, mm: number, vpn: number, pteWord: number, pte: number): void {
  const k = cpu.k;
  const ptl = k.ptl(mm, vpn);
  ptl.lock(cpu.lock);
  // A write fault sets DIRTY with WRITE, as the MMU would on the access it is about to retry.
  Atomics.compareExchange(k.i32, pteWord, pte, pte | PTE_WRITE | PTE_DIRTY);
  ptl.unlock(cpu.lock);
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
    k.i32[k.pageWord(frame, PAGE.mm)] = mm;
    k.i32[k.pageWord(frame, PAGE.vpn)] = vpn;
    k.i32[k.pageWord(frame, PAGE.flags)] = PG_ANON;
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
