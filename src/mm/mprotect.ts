// mprotect (mm/mprotect.c): changes the protection of whole pages of mapped memory.

import type { Cpu } from './cpu.js';
import { protToVmFlags, validProt } from './mmap.js';
import { walkPtes } from './pagewalk.js';
import { PTE_PRESENT, PTE_PROTNONE, PTE_WRITE } from './pgtable.js';
import { flushTlbMm } from './tlb.js';
import { EINVAL } from './uapi.js';
import { madviseRangeArgs, updateVmaFlags, VM_READ, VM_WRITE } from './vma.js';
import { VM } from './vmstat.js';

/**
 * mprotect(addr, length, prot): PROT_NONE, PROT_READ or PROT_READ|PROT_WRITE.
 * Returns 0, -EINVAL (address not page aligned, bad prot), -ENOMEM (part of the range unmapped, or
 * the splits would overflow the VMA table). A zero length succeeds and changes nothing.
 * Removing a permission clears it in the PTEs and flushes TLBs; adding one is left to the fault
 * path (a write to a read-only PTE of a writable VMA makes it writable), as Linux does.
 */
export function sysMprotect(cpu: Cpu, mm: number, addr: number, length: number, prot: number): number {
  const k = cpu.k;
  cpu.count(VM.syscall_mprotect);
  if (!validProt(prot)) return -EINVAL;
  const range = madviseRangeArgs(k, addr, length);
  if (typeof range === 'number') return range;
  const [start, end] = range;
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    const access = protToVmFlags(prot);
    const old = updateVmaFlags(k, mm, start, end, (flags) => (flags & ~(VM_READ | VM_WRITE)) | access);
    if (old < 0) return old;
    // After the VMA merge: the PTEs change under their PTLs, and no kernel path that reads the VMA
    // table runs before mmap_sem is released, so the order of the two steps is invisible.
    const removed = old & (VM_READ | VM_WRITE) & ~access;
    changePtes(cpu, mm, start, end, access, removed !== 0);
    return 0;
  } finally {
    sem.upWrite(cpu.lock);
  }
}

/** change_protection: present PTEs lose the permissions removed, or their PROT_NONE mark. */
function changePtes(cpu: Cpu, mm: number, start: number, end: number, access: number, flush: boolean): void {
  const i32 = cpu.i32;
  const noAccess = (access & VM_READ) === 0;
  // The bits to clear, in one atomic op: PROTNONE unless the new protection is PROT_NONE, WRITE
  // unless it is writable.
  const clear = (noAccess ? 0 : PTE_PROTNONE) | ((access & VM_WRITE) !== 0 ? 0 : PTE_WRITE);
  walkPtes(cpu, mm, start, end, (word) => {
    if ((i32[word] & PTE_PRESENT) === 0) return true;
    if (noAccess) Atomics.or(i32, word, PTE_PROTNONE);
    if (clear !== 0) Atomics.and(i32, word, ~clear);
    return true;
  });
  if (flush) flushTlbMm(cpu, mm);
}
