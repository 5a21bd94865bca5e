// Anonymous reverse mapping (mm/rmap.c): from a frame to the mms and addresses that map it.
//
// Linux hangs an anon_vma off every anonymous VMA and chains a child's to its parent's at fork. Here
// an mm has no mremap, so every mapping of a page is at the same virtual page (struct page's vpn),
// and one anon_vma per process family is enough: a process gets a fresh one when it is created, and
// a forked child joins its parent's. The mms that map a frame are then the members of the frame's
// anon_vma whose PTE at page.vpn holds that frame.
//
// struct page counts:
//  - mapcount: PTEs mapping the frame (page_mapcount). It changes under the PTL of the PTE that
//    gains or loses the frame, with atomics (PTEs of several mms change at once). A reader holding
//    the PTL of a PTE that maps the frame and seeing 1 knows the frame is its alone: a new mapping
//    comes only from fork copying a mapping's PTE, under that mapping's PTL.
//  - refcount: one per mapping plus transient pins (get_page), as page_count. An unmapped frame
//    keeps its mapping's reference until the TLB shootdown (mmu_gather), and is freed at zero.
//
// Lock order (classes.ts): mmap_sem -> vrange_lock -> anon_vma lock -> PTL. The anon_vma lock
// guards the member list and excludes fork's PTE copy, the one way a frame gains a mapper; an rmap
// walk that must act on every mapping of a page (the purge of a shared page) holds it throughout.

import { ANON_VMA, MM, NIL, PAGE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { type Kernel, MM_FREE } from './kernel.js';
import { freePage } from './page_alloc.js';
import { PTE_PRESENT, pteFrame } from './pgtable.js';

export function anonVmaOf(k: Kernel, mm: number): number {
  return k.i32[k.mmWord(mm, MM.anonVma)];
}

/**
 * anon_vma_prepare for a new process: a free anon_vma with mm as its only member. One always exists:
 * every live anon_vma has a member, and mm (not yet a member of any) holds a slot of the table.
 */
export function anonVmaNew(k: Kernel, mm: number): void {
  const i32 = k.i32;
  for (let av = 0; av < k.config.maxProcesses; av++) {
    if (Atomics.compareExchange(i32, k.anonVmaWord(av, ANON_VMA.members), 0, 1) !== 0) continue;
    i32[k.anonVmaWord(av, ANON_VMA.head)] = mm;
    i32[k.mmWord(mm, MM.anonVmaNext)] = NIL;
    i32[k.mmWord(mm, MM.anonVma)] = av;
    return;
  }
  throw new Error(`rmap: no free anon_vma for mm ${mm} (more families than process slots)`);
}

/** anon_vma_fork: the child joins its parent's anon_vma. */
export function anonVmaFork(cpu: Cpu, child: number, parent: number): number {
  const k = cpu.k;
  const i32 = k.i32;
  const av = anonVmaOf(k, parent);
  const lock = k.anonVmaLocks[av];
  lock.lock(cpu.lock);
  i32[k.mmWord(child, MM.anonVmaNext)] = i32[k.anonVmaWord(av, ANON_VMA.head)];
  i32[k.anonVmaWord(av, ANON_VMA.head)] = child;
  Atomics.add(i32, k.anonVmaWord(av, ANON_VMA.members), 1);
  i32[k.mmWord(child, MM.anonVma)] = av;
  lock.unlock(cpu.lock);
  return av;
}

/** unlink_anon_vmas at exit: mm, which maps nothing any more, leaves its anon_vma. */
export function anonVmaUnlink(cpu: Cpu, mm: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  const av = anonVmaOf(k, mm);
  if (av === NIL) throw new Error(`rmap: mm ${mm} has no anon_vma`);
  const lock = k.anonVmaLocks[av];
  lock.lock(cpu.lock);
  let link = k.anonVmaWord(av, ANON_VMA.head);
  let steps = 0;
  while (i32[link] !== mm) {
    if (i32[link] === NIL || steps++ > k.config.maxProcesses)
      throw new Error(`rmap: mm ${mm} is not on its anon_vma ${av}`);
    link = k.mmWord(i32[link], MM.anonVmaNext);
  }
  i32[link] = i32[k.mmWord(mm, MM.anonVmaNext)];
  i32[k.mmWord(mm, MM.anonVmaNext)] = NIL;
  i32[k.mmWord(mm, MM.anonVma)] = NIL;
  // Under the lock, as fork's increment. The last member frees the record: members 0 is what
  // anonVmaNew claims, which needs no lock (nobody else can reach a record without members).
  Atomics.sub(i32, k.anonVmaWord(av, ANON_VMA.members), 1);
  lock.unlock(cpu.lock);
}

/** The members of an anon_vma. Caller holds its lock, or the machine is quiescent. */
export function anonVmaMembers(k: Kernel, av: number): number[] {
  const out: number[] = [];
  for (
    let mm = k.i32[k.anonVmaWord(av, ANON_VMA.head)];
    mm !== NIL;
    mm = k.i32[k.mmWord(mm, MM.anonVmaNext)]
  ) {
    if (out.length > k.config.maxProcesses) throw new Error(`rmap: anon_vma ${av} member list has a cycle`);
    out.push(mm);
  }
  return out;
}

/**
 * The members of anon_vma av whose PTE at vpn maps frame, written to `out`; returns how many. Caller
 * holds av's lock (no mapping can appear) and knows the frame is av's page at vpn (it saw it in a
 * member's PTE, under the lock); a PTE may still lose the frame meanwhile, so a caller acting on one
 * re-checks it under its PTL.
 */
export function rmapWalk(k: Kernel, av: number, vpn: number, frame: number, out: Int32Array): number {
  const i32 = k.i32;
  let n = 0;
  for (let mm = i32[k.anonVmaWord(av, ANON_VMA.head)]; mm !== NIL; mm = i32[k.mmWord(mm, MM.anonVmaNext)]) {
    if (Atomics.load(i32, k.mmWord(mm, MM.state)) === MM_FREE) continue;
    const pte = Atomics.load(i32, k.pteWord(mm, vpn));
    if ((pte & PTE_PRESENT) === 0 || pteFrame(pte) !== frame) continue;
    if (n === out.length) throw new Error(`rmap: frame ${frame} has more than ${out.length} mappers`);
    out[n++] = mm;
  }
  return n;
}

/** page_add_new_anon_rmap: a fresh frame gets its first mapping, at vpn of mm. Caller holds the PTL. */
export function pageAddNewAnonRmap(k: Kernel, frame: number, mm: number, vpn: number): void {
  const i32 = k.i32;
  i32[k.pageWord(frame, PAGE.vpn)] = vpn;
  i32[k.pageWord(frame, PAGE.anonVma)] = anonVmaOf(k, mm);
  i32[k.pageWord(frame, PAGE.mapcount)] = 1;
  i32[k.pageWord(frame, PAGE.refcount)] = 1;
}

/** page_dup_rmap (fork): one more PTE maps the frame. Caller holds the PTL of a PTE mapping it. */
export function pageDupRmap(k: Kernel, frame: number): void {
  Atomics.add(k.i32, k.pageWord(frame, PAGE.mapcount), 1);
  Atomics.add(k.i32, k.pageWord(frame, PAGE.refcount), 1);
}

/**
 * page_remove_rmap: a PTE stopped mapping the frame (the caller cleared it under its PTL, which it
 * holds). The mapping's reference stays with the caller until after the TLB shootdown.
 */
export function pageRemoveRmap(k: Kernel, frame: number): void {
  const was = Atomics.sub(k.i32, k.pageWord(frame, PAGE.mapcount), 1);
  if (was < 1) throw new Error(`rmap: frame ${frame} unmapped with mapcount ${was}`);
}

export function pageMapcount(k: Kernel, frame: number): number {
  return Atomics.load(k.i32, k.pageWord(frame, PAGE.mapcount));
}

/** get_page: pins a frame that is mapped (the caller holds the PTL of a PTE mapping it). */
export function getPage(k: Kernel, frame: number): void {
  const was = Atomics.add(k.i32, k.pageWord(frame, PAGE.refcount), 1);
  if (was < 1) throw new Error(`rmap: get_page of frame ${frame} with refcount ${was}`);
}

/** put_page_testzero: drops a reference; true when it was the last (the caller frees the frame). */
export function putPageTestZero(k: Kernel, frame: number): boolean {
  const was = Atomics.sub(k.i32, k.pageWord(frame, PAGE.refcount), 1);
  if (was < 1) throw new Error(`rmap: put_page of frame ${frame} with refcount ${was}`);
  return was === 1;
}

/** put_page: drops a reference and frees the frame on the last. */
export function putPage(cpu: Cpu, frame: number): void {
  if (putPageTestZero(cpu.k, frame)) freePage(cpu, frame);
}

/**
 * Drops one reference of each of frames[0..count) and moves the frames whose last reference that
 * was to the front of the array; returns how many there are (to be freed by the caller).
 */
export function putPages(k: Kernel, frames: Int32Array, count: number): number {
  let last = 0;
  for (let i = 0; i < count; i++) if (putPageTestZero(k, frames[i])) frames[last++] = frames[i];
  return last;
}
