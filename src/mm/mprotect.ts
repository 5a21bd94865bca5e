// mprotect (mm/mprotect.c): changes the protection of whole pages of mapped memory.

import { PAGE_SIZE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { protToVmFlags, validProt } from './mmap.js';
import { walkPtes } from './pagewalk.js';
import { PTE_PRESENT, PTE_PROTNONE, PTE_WRITE } from './pgtable.js';
import { flushTlbMm } from './tlb.js';
import { EINVAL, ENOMEM } from './uapi.js';
import {
  findVma,
  mergeRange,
  rangeMapped,
  recountVolatileVmas,
  roomToSplit,
  setVmaFlags,
  splitAt,
  VM_READ,
  VM_WRITE,
  vmaCount,
  vmaFlags,
  vmaStart,
} from './vma.js';
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
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length)) return -EINVAL;
  if (addr < 0 || addr % PAGE_SIZE !== 0 || length < 0 || !validProt(prot)) return -EINVAL;
  if (length === 0) return 0;
  const start = addr / PAGE_SIZE;
  const end = start + Math.ceil(length / PAGE_SIZE);
  if (end > k.geometry.vaPages) return -ENOMEM;
  const sem = k.mmapSems[mm];
  sem.downWrite(cpu.lock);
  try {
    if (!rangeMapped(k, mm, start, end) || !roomToSplit(k, mm, start, end)) return -ENOMEM;
    splitAt(k, mm, start, end);
    const access = protToVmFlags(prot);
    let removed = 0;
    for (
      let index = findVma(k, mm, start);
      index < vmaCount(k, mm) && vmaStart(k, mm, index) < end;
      index++
    ) {
      const flags = vmaFlags(k, mm, index);
      removed |= flags & (VM_READ | VM_WRITE) & ~access;
      setVmaFlags(k, mm, index, (flags & ~(VM_READ | VM_WRITE)) | access);
    }
    changePtes(cpu, mm, start, end, access, removed !== 0);
    mergeRange(k, mm, start, end);
    recountVolatileVmas(k, mm);
    return 0;
  } finally {
    sem.upWrite(cpu.lock);
  }
}

/** change_protection: present PTEs lose the permissions removed, or their PROT_NONE mark. */
function changePtes(cpu: Cpu, mm: number, start: number, end: number, access: number, flush: boolean): void {
  const i32 = cpu.i32;
  const noAccess = (access & VM_READ) === 0;
  const writable = (access & VM_WRITE) !== 0;
  walkPtes(cpu, mm, start, end, (word) => {
    if ((i32[word] & PTE_PRESENT) === 0) return true;
    if (noAccess) Atomics.or(i32, word, PTE_PROTNONE);
    else Atomics.and(i32, word, ~PTE_PROTNONE);
    if (!writable) Atomics.and(i32, word, ~PTE_WRITE);
    return true;
  });
  if (flush) flushTlbMm(cpu, mm);
}
