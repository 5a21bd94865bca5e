// Reclaim without swap (mm/vmscan.c). Anonymous memory can only be reclaimed where user space said
// it may be discarded:
//  - volatile ranges (vrange), oldest first from the global victim LRU: VRANGE_FULL ranges lose
//    every page, VRANGE_PARTIAL ranges only as many as reclaim still needs (round-robin: a range
//    goes to the young end after each visit); discarded PTEs become purged markers;
//  - volatile VMAs (the vma policy), found through mm's with mmap_sem trylock, as the kernel must;
//  - lazily freed pages (MADV_FREE), oldest first from the lazyfree LRU, if they are still clean;
//    the ones kept go back to the anon LRU (swap.ts).
// kswapd, a kernel thread on a CPU of its own, is woken below the low watermark and works until
// the high one; an allocation at the min watermark reclaims directly on its CPU.
//
// Lock order (classes.ts): a victim is picked under its LRU lock, which is dropped before the
// victim's vrange_lock or PTL is taken; the victim is then re-validated with its generation.

import { KSWAPD, MM, NIL, PAGE, VMA, VRANGE_NODE } from '../layout/layout.js';
import { SchedPoint } from '../locks/index.js';
import type { Cpu } from './cpu.js';
import type { Kernel } from './kernel.js';
import { MM_LIVE } from './kernel.js';
import type { MmuGather } from './mmu_gather.js';
import { freePagesToZone, zoneFree } from './page_alloc.js';
import { walkPtes } from './pagewalk.js';
import { PTE_DIRTY, PTE_NONE, PTE_PRESENT, PTE_PURGED, PTE_YOUNG, pteFrame } from './pgtable.js';
import { anonVmaOf, pageMapcount, pageRemoveRmap, putPage, putPageTestZero, rmapWalk } from './rmap.js';
import { isolateLazyfree, putbackAnon, SKIPPED } from './swap.js';
import { flushTlbMm } from './tlb.js';
import { VM_PURGED, VM_VOLATILE, vmaContaining, vmaCount, vmaEnd, vmaFlags, vmaStart } from './vma.js';
import { VM } from './vmstat.js';
import { nodeWord, VR_PARTIAL, VR_PURGED, vrangeCovers } from './vrange.js';

/**
 * The rest of unmapping a mapped page of mm whose PTE the caller has just cleared (or made a purged
 * marker) under its PTL, which it still holds: the frame leaves the mm's RSS, and joins the gather
 * that drops the mapping's reference after the shootdown (freeing the frame, and taking it off the
 * LRU, if it was the last).
 */
export function unmapFrame(cpu: Cpu, mm: number, frame: number, tlb: MmuGather): void {
  pageRemoveRmap(cpu.k, frame);
  cpu.rssAdd(mm, -1);
  tlb.add(frame);
}

/** Reclaim on the allocating CPU (below the min watermark). */
export function directReclaim(cpu: Cpu, pages: number): number {
  return shrinkAll(cpu, pages, true);
}

/** Reclaims up to `pages` frames from every source; returns how many it freed. */
export function shrinkAll(cpu: Cpu, pages: number, direct: boolean): number {
  let reclaimed = shrinkVranges(cpu, pages, direct);
  if (reclaimed < pages) reclaimed += shrinkLazyfree(cpu, pages - reclaimed, direct);
  if (reclaimed < pages) reclaimed += shrinkVolatileVmas(cpu, pages - reclaimed, direct);
  return reclaimed;
}

function countDiscard(cpu: Cpu, pages: number, direct: boolean): void {
  cpu.count(VM.pgvrange_discard, pages);
  cpu.count(direct ? VM.pgdiscard_direct : VM.pgdiscard_kswapd, pages);
}

/** Shared pages a walk collects before it stops to try them (they need locks the walk cannot hold). */
const SHARED_BATCH = 64;
const sharedVpns = new Int32Array(SHARED_BATCH);

/**
 * Discards up to `max` mapped pages of [start, end) of mm, a volatile span: their PTEs become purged
 * markers and their frames go back to the zone after a shootdown. A page mapped by other mms too
 * (COW-shared after fork) goes only if it is volatile in all of them (discardShared). Caller holds
 * mm's vrange_lock (vrange policy) or mmap_sem (vma policy). Returns [scanned, discarded].
 */
function discardRange(cpu: Cpu, mm: number, start: number, end: number, max: number): [number, number] {
  const k = cpu.k;
  const i32 = k.i32;
  const tlb = cpu.reclaimGather.begin(mm, true);
  let scanned = 0;
  let discarded = 0;
  for (let vpn = start; vpn < end && discarded < max; ) {
    let shared = 0;
    vpn = walkPtes(cpu, mm, vpn, end, (word, at) => {
      scanned++;
      const pte = i32[word];
      if ((pte & PTE_PRESENT) !== 0) {
        // Mapped once, under this PTL: nobody can add a mapping (fork copies under it too).
        if (pageMapcount(k, pteFrame(pte)) === 1) {
          unmapFrame(cpu, mm, pteFrame(Atomics.exchange(i32, word, PTE_PURGED)), tlb);
          discarded++;
        } else {
          sharedVpns[shared++] = at;
        }
      }
      return !tlb.full && discarded < max && shared < SHARED_BATCH;
    });
    tlb.flush();
    for (let i = 0; i < shared && discarded < max; i++)
      if (discardShared(cpu, mm, sharedVpns[i])) discarded++;
  }
  return [scanned, discarded];
}

/** A lock discardShared took with trylock, to give back. */
type HeldLock = { unlock(): void };

/**
 * try_to_discard_vpage for a page of mm's volatile span at vpn that other mms map too (RFC v7): under
 * the anon_vma lock (no new mapping can appear), every other mapping must be volatile — in that mm's
 * vrange tree, whose vrange_lock we take, or in a VM_VOLATILE VMA, whose mmap_sem we take for read,
 * both with trylock (a second lock of a class we hold; busy means skip). Then the page is unmapped
 * from all of them, each mm's range marked purged and its TLBs shot down, and the frame freed.
 * Otherwise it is kept and counted. Caller holds mm's vrange_lock or mmap_sem, no PTL; it marks
 * mm's own range purged. Returns whether mm's PTE was discarded.
 */
function discardShared(cpu: Cpu, mm: number, vpn: number): boolean {
  const k = cpu.k;
  const i32 = k.i32;
  const av = anonVmaOf(k, mm);
  const avLock = k.anonVmaLocks[av];
  const held: HeldLock[] = [];
  avLock.lock(cpu.lock);
  try {
    // The frame mm maps now (it may have changed since the walk) and the mms that map it.
    const pte = Atomics.load(i32, k.pteWord(mm, vpn));
    if ((pte & PTE_PRESENT) === 0) return false;
    const frame = pteFrame(pte);
    const mappers = new Int32Array(k.config.maxProcesses);
    const n = rmapWalk(k, av, vpn, frame, mappers);
    const ignoreOthers = k.config.mutations.purgeIgnoresOtherMappings;
    const marks: number[] = [];
    for (let i = 0; i < n && !ignoreOthers; i++) {
      if (mappers[i] === mm) continue;
      const mark = lockIfVolatile(cpu, mappers[i], vpn, held);
      if (mark === null || held.length > MAX_SHARED_LOCKS) {
        cpu.count(VM.pgvrange_shared_skip);
        return false;
      }
      marks.push(mappers[i], mark);
    }
    // Every mapping is volatile and stays so while we hold the locks: unmap it everywhere.
    let dropped = 0;
    let ours = false;
    for (let i = 0; i < n; i++) {
      const other = mappers[i];
      if (!unmapShared(cpu, other, vpn, frame)) continue;
      dropped++;
      if (other === mm) ours = true;
      flushTlbMm(cpu, other);
    }
    for (let i = 0; i < marks.length; i += 2) markPurged(cpu, marks[i], vpn, marks[i + 1]);
    // The mappings' references go after every shootdown; the last frees the frame (unless pinned).
    let last = false;
    for (let i = 0; i < dropped; i++) last = putPageTestZero(k, frame) || last;
    if (last) {
      sharedFree[0] = frame;
      freePagesToZone(cpu, sharedFree, 1);
    }
    if (ours) cpu.count(VM.pgvrange_shared_discard);
    return ours;
  } finally {
    for (let i = held.length - 1; i >= 0; i--) held[i].unlock();
    avLock.unlock(cpu.lock);
  }
}

const sharedFree = new Int32Array(1);
/** Locks discardShared may hold besides its caller's (the held-lock stack is MAX_HELD_LOCKS deep). */
const MAX_SHARED_LOCKS = 12;
const MARK_VRANGE = 0;
const MARK_VMA = 1;

/**
 * Whether vpn is volatile in `other`: in its vrange tree (MARK_VRANGE) or a VM_VOLATILE VMA
 * (MARK_VMA), with the lock that keeps it so taken by trylock and pushed on `held`. Null: not
 * volatile, or the lock was busy.
 */
function lockIfVolatile(cpu: Cpu, other: number, vpn: number, held: HeldLock[]): number | null {
  const k = cpu.k;
  const vlock = k.vrangeLocks[other];
  if (vlock.trylock(cpu.lock)) {
    held.push({ unlock: () => vlock.unlock(cpu.lock) });
    if (vrangeCovers(cpu, other, vpn, false)) return MARK_VRANGE;
  }
  const sem = k.mmapSems[other];
  if (!sem.downReadTrylock(cpu.lock)) return null;
  held.push({ unlock: () => sem.upRead(cpu.lock) });
  const index = vmaContaining(k, other, vpn);
  return index >= 0 && (vmaFlags(k, other, index) & VM_VOLATILE) !== 0 ? MARK_VMA : null;
}

function markPurged(cpu: Cpu, other: number, vpn: number, mark: number): void {
  const k = cpu.k;
  if (mark === MARK_VRANGE) {
    vrangeCovers(cpu, other, vpn, true);
    return;
  }
  // As shrinkVolatileVmas: VM_PURGED is set with an atomic OR under mmap_sem read.
  Atomics.or(k.i32, k.vmaWord(other, vmaContaining(k, other, vpn), VMA.flags), VM_PURGED);
}

/** Makes mm's PTE at vpn a purged marker if it still maps frame; the reference stays with the caller. */
function unmapShared(cpu: Cpu, mm: number, vpn: number, frame: number): boolean {
  const k = cpu.k;
  const word = k.pteWord(mm, vpn);
  const ptl = k.ptl(mm, vpn);
  ptl.lock(cpu.lock);
  try {
    const pte = Atomics.load(k.i32, word);
    if ((pte & PTE_PRESENT) === 0 || pteFrame(pte) !== frame) return false;
    Atomics.exchange(k.i32, word, PTE_PURGED);
    pageRemoveRmap(k, frame);
    cpu.rssAdd(mm, -1);
    return true;
  } finally {
    ptl.unlock(cpu.lock);
  }
}

/** Purges volatile ranges, oldest first. */
function shrinkVranges(cpu: Cpu, target: number, direct: boolean): number {
  const k = cpu.k;
  const i32 = k.i32;
  const lru = k.vrangeLruList;
  let reclaimed = 0;
  k.vrangeLruLock.lock(cpu.lock);
  let budget = lru.count;
  k.vrangeLruLock.unlock(cpu.lock);
  while (reclaimed < target && budget-- > 0) {
    k.vrangeLruLock.lock(cpu.lock);
    const node = lru.first();
    if (node === NIL) {
      k.vrangeLruLock.unlock(cpu.lock);
      break;
    }
    // Take the victim's identity, move it to the young end (round-robin), drop the LRU lock.
    const gen = i32[nodeWord(k, node, VRANGE_NODE.gen)];
    const mm = i32[nodeWord(k, node, VRANGE_NODE.mm)];
    let start = i32[nodeWord(k, node, VRANGE_NODE.start)];
    let last = i32[nodeWord(k, node, VRANGE_NODE.last)];
    lru.rotate(node);
    k.vrangeLruLock.unlock(cpu.lock);

    const lock = k.vrangeLocks[mm];
    lock.lock(cpu.lock);
    try {
      // Re-validate: the range may have become non-volatile, or its node been freed and reused.
      const freed =
        i32[nodeWord(k, node, VRANGE_NODE.gen)] !== gen || i32[nodeWord(k, node, VRANGE_NODE.mm)] !== mm;
      const nowStart = i32[nodeWord(k, node, VRANGE_NODE.start)];
      const nowLast = i32[nodeWord(k, node, VRANGE_NODE.last)];
      const moved = nowStart !== start || nowLast !== last;
      if (freed || moved) cpu.count(VM.vrange_victim_changed);
      if (!k.config.mutations.skipPurgeRevalidation) {
        if (freed) continue;
        start = nowStart;
        last = nowLast;
      }
      const flags = i32[nodeWord(k, node, VRANGE_NODE.flags)];
      const max = (flags & VR_PARTIAL) !== 0 ? target - reclaimed : Number.MAX_SAFE_INTEGER;
      const [scanned, discarded] = discardRange(cpu, mm, start, last + 1, max);
      cpu.count(VM.pgvrange_scan, scanned);
      if (discarded > 0) {
        i32[nodeWord(k, node, VRANGE_NODE.flags)] = flags | VR_PURGED;
        countDiscard(cpu, discarded, direct);
        reclaimed += discarded;
      }
    } finally {
      lock.unlock(cpu.lock);
    }
  }
  return reclaimed;
}

let mapperScratch = new Int32Array(0);

/**
 * The one mm that maps a lazily freed frame (page_referenced's rmap walk, under the anon_vma lock),
 * or -1: the frame was unmapped or freed since it left the LRU (its generation moved on), or fork
 * shared it meanwhile. The caller re-checks the PTE under its PTL.
 */
function lazyfreeMapper(cpu: Cpu, frame: number, vpn: number, gen: number): number {
  const k = cpu.k;
  const i32 = k.i32;
  const av = i32[k.pageWord(frame, PAGE.anonVma)];
  if (av === NIL) return -1;
  if (mapperScratch.length < k.config.maxProcesses) mapperScratch = new Int32Array(k.config.maxProcesses);
  const lock = k.anonVmaLocks[av];
  lock.lock(cpu.lock);
  try {
    // Not freed since we read av: a frame keeps its anon_vma until freed, so av is its own.
    if (i32[k.pageWord(frame, PAGE.gen)] !== gen) return -1;
    return rmapWalk(k, av, vpn, frame, mapperScratch) === 1 ? mapperScratch[0] : -1;
  } finally {
    lock.unlock(cpu.lock);
  }
}

/**
 * Discards lazily freed pages that stayed clean, oldest first. Each is isolated from the lazyfree
 * LRU under lru_lock with a reference of reclaim's own (swap.ts), its PTE tested and cleared under
 * the PTL; a page re-dirtied, shared by fork or unmapped meanwhile is put back on the anon LRU.
 */
function shrinkLazyfree(cpu: Cpu, target: number, direct: boolean): number {
  const k = cpu.k;
  const i32 = k.i32;
  let reclaimed = 0;
  let gather: MmuGather | null = null;
  k.lruLock.lock(cpu.lock);
  let budget = k.lazyfreeLruList.count;
  k.lruLock.unlock(cpu.lock);
  while (reclaimed < target && budget-- > 0) {
    k.lruLock.lock(cpu.lock);
    const frame = isolateLazyfree(k);
    k.lruLock.unlock(cpu.lock);
    if (frame === NIL) break;
    if (frame === SKIPPED) continue;
    const vpn = i32[k.pageWord(frame, PAGE.vpn)];
    const gen = i32[k.pageWord(frame, PAGE.gen)];
    const mm = lazyfreeMapper(cpu, frame, vpn, gen);
    if (mm < 0) {
      putbackAnon(cpu, frame);
      continue;
    }
    if (gather !== null && gather.mm !== mm) gather.flush();
    const ptl = k.ptl(mm, vpn);
    ptl.lock(cpu.lock);
    const word = k.pteWord(mm, vpn);
    let pte = Atomics.load(i32, word);
    // Re-validate: still this frame (our reference keeps it from being freed and reused).
    const same = (pte & PTE_PRESENT) !== 0 && pteFrame(pte) === frame;
    // ptep_test_and_clear_young, as page_referenced does: the accessed bit is cleared (the decision
    // stays the dirty bit's, as before the bit was modelled).
    if (same) pte = Atomics.and(i32, word, ~PTE_YOUNG) & ~PTE_YOUNG;
    // compareExchange: the MMU sets YOUNG and DIRTY with a compareExchange too, so a racing access
    // either lands first (and we keep the page) or faults on the cleared PTE.
    // A page fork shared after it was marked is in use by the child: kept.
    const alone = same && pageMapcount(k, frame) === 1;
    let discarded = false;
    if (alone && (pte & PTE_DIRTY) === 0 && Atomics.compareExchange(i32, word, pte, PTE_NONE) === pte) {
      if (gather === null || gather.count === 0) gather = cpu.reclaimGather.begin(mm, true);
      unmapFrame(cpu, mm, frame, gather);
      discarded = true;
      reclaimed++;
    }
    ptl.unlock(cpu.lock);
    if (discarded) {
      // The gather holds the mapping's reference: ours is not the last.
      putPage(cpu, frame);
    } else {
      cpu.count(VM.pgactivate);
      putbackAnon(cpu, frame);
    }
    if (gather?.full) gather.flush();
  }
  gather?.flush();
  if (reclaimed > 0) {
    cpu.count(VM.pglazyfreed, reclaimed);
    cpu.count(direct ? VM.pgdiscard_direct : VM.pgdiscard_kswapd, reclaimed);
  }
  return reclaimed;
}

/** The vma policy: purges VM_VOLATILE VMAs of mm's whose mmap_sem it can get without waiting. */
function shrinkVolatileVmas(cpu: Cpu, target: number, direct: boolean): number {
  const k = cpu.k;
  const i32 = k.i32;
  let reclaimed = 0;
  const mms = k.config.maxProcesses;
  const first = Atomics.add(i32, k.kswapdWord(KSWAPD.vmaScanCursor), 1);
  for (let step = 0; step < mms && reclaimed < target; step++) {
    const mm = (((first + step) % mms) + mms) % mms;
    if (Atomics.load(i32, k.mmWord(mm, MM.state)) !== MM_LIVE) continue;
    if (Atomics.load(i32, k.mmWord(mm, MM.volatileVmas)) === 0) continue;
    const sem = k.mmapSems[mm];
    if (!sem.downReadTrylock(cpu.lock)) continue;
    try {
      for (let index = 0; index < vmaCount(k, mm) && reclaimed < target; index++) {
        const flags = vmaFlags(k, mm, index);
        if ((flags & VM_VOLATILE) === 0) continue;
        const [scanned, discarded] = discardRange(
          cpu,
          mm,
          vmaStart(k, mm, index),
          vmaEnd(k, mm, index),
          Number.MAX_SAFE_INTEGER,
        );
        cpu.count(VM.pgvrange_scan, scanned);
        if (discarded > 0) {
          // mvolatile/mnovolatile change flags only under mmap_sem write, which our read excludes.
          Atomics.or(i32, k.vmaWord(mm, index, VMA.flags), VM_PURGED);
          countDiscard(cpu, discarded, direct);
          reclaimed += discarded;
        }
      }
    } finally {
      sem.upRead(cpu.lock);
    }
  }
  return reclaimed;
}

/**
 * kswapd's main loop, on its own CPU: sleeps until an allocation below the low watermark wakes it,
 * reclaims until the zone is above the high watermark or nothing is left, and stops when asked.
 */
export function kswapdRun(cpu: Cpu): void {
  const k = cpu.k;
  const i32 = k.i32;
  const wake = k.kswapdWord(KSWAPD.wake);
  const stop = k.kswapdWord(KSWAPD.stop);
  const { low, high } = k.config.watermarks;
  Atomics.store(i32, k.kswapdWord(KSWAPD.running), 1);
  try {
    while (Atomics.load(i32, stop) === 0) {
      if (Atomics.load(i32, wake) === 0) {
        idle(cpu, wake, 50);
        continue;
      }
      cpu.count(VM.pageoutrun);
      let progress = false;
      for (let free = zoneFree(k); free < high; free = zoneFree(k)) {
        if (Atomics.load(i32, stop) !== 0) break;
        const reclaimed = shrinkAll(cpu, high - free, false);
        if (reclaimed === 0) break;
        progress = true;
      }
      Atomics.store(i32, wake, 0);
      // Nothing reclaimable while still short: sleep until woken again, re-checking now and then.
      if (!progress && zoneFree(k) < low) idle(cpu, wake, 10);
    }
  } finally {
    Atomics.store(i32, k.kswapdWord(KSWAPD.running), 0);
  }
}

/**
 * kswapd sleeps until woken. Under a deterministic scheduler (a hook is installed) the sleep is a
 * scheduling point instead: sleeping would keep the run token from the CPUs that must wake it.
 */
function idle(cpu: Cpu, wake: number, sliceMs: number): void {
  const hook = cpu.k.dom.hook;
  if (hook === null || !hook(cpu.id, SchedPoint.wait, wake)) Atomics.wait(cpu.k.i32, wake, 0, sliceMs);
}

/** Tells kswapd to return. */
export function kswapdStop(k: Kernel): void {
  Atomics.store(k.i32, k.kswapdWord(KSWAPD.stop), 1);
  Atomics.store(k.i32, k.kswapdWord(KSWAPD.wake), 1);
  Atomics.notify(k.i32, k.kswapdWord(KSWAPD.wake));
}
