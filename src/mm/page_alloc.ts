// Physical frame allocator (mm/page_alloc.c): one zone with a free list under the zone lock, and
// per-CPU page lists in front of it so that the zone lock is taken once per batch, not per page.
//
// Watermarks: below low an allocation wakes kswapd; at or below min a per-CPU list is not refilled
// until direct reclaim on the allocating CPU has brought the zone back above min. With nothing left
// to reclaim (no swap: only volatile and lazily-freed pages are reclaimable) the allocation fails.
//
// Lock order: pcp lock -> zone lock. A CPU's pcp lock is uncontended except when another CPU drains
// every list before giving up (drain_all_pages), as in Linux since the lists got their own lock.

import { CPU_PRIVATE, KSWAPD, NIL, PAGE, ZONE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import type { Kernel } from './kernel.js';
import { lruReleaseFrames } from './lruvec.js';
import { PG_ANON, PG_FREE, PG_LAZYFREE, PG_LRU, PG_PCP } from './mm_types.js';
import { VM } from './vmstat.js';

// The page flags are declared in mm_types.ts; the allocator's users read them from here.
export { PG_ANON, PG_FREE, PG_LAZYFREE, PG_LRU, PG_PCP };

/** Direct reclaim: frees up to `pages` frames on the calling CPU; returns how many it freed. */
export type DirectReclaim = (cpu: Cpu, pages: number) => number;

/** Attempts an allocation makes (reclaim + retry) before it fails, as should_reclaim_retry. */
const MAX_RECLAIM_RETRIES = 16;

export function zoneFree(k: Kernel): number {
  return Atomics.load(k.i32, k.zoneWord(ZONE.nrFree));
}

export function pcpCount(k: Kernel, cpu: number): number {
  return k.i32[k.privWord(cpu, CPU_PRIVATE.pcpCount)];
}

export function wakeKswapd(cpu: Cpu): void {
  const k = cpu.k;
  const word = k.kswapdWord(KSWAPD.wake);
  if (Atomics.compareExchange(k.i32, word, 0, 1) === 0) {
    Atomics.notify(k.i32, word);
    cpu.count(VM.kswapd_wakeup);
  }
}

/**
 * Allocates a frame for the calling CPU, reclaiming if memory is short. Returns NIL when memory is
 * exhausted and nothing could be reclaimed; the caller reports out-of-memory. The frame is not zeroed.
 */
export function allocPage(cpu: Cpu, reclaim: DirectReclaim): number {
  const k = cpu.k;
  const free = zoneFree(k);
  if (free <= k.config.watermarks.low) wakeKswapd(cpu);
  let frame = pcpTake(cpu);
  if (frame === NIL) frame = allocSlow(cpu, reclaim);
  if (frame !== NIL) {
    k.i32[k.pageWord(frame, PAGE.flags)] = 0;
    cpu.count(VM.pgalloc);
  }
  return frame;
}

function allocSlow(cpu: Cpu, reclaim: DirectReclaim): number {
  const k = cpu.k;
  const { min, high } = k.config.watermarks;
  let drained = false;
  for (let attempt = 0; attempt < MAX_RECLAIM_RETRIES; attempt++) {
    const free = zoneFree(k);
    if (free > min && refillPcp(cpu, min) > 0) {
      const frame = pcpTake(cpu);
      if (frame !== NIL) return frame;
      continue;
    }
    wakeKswapd(cpu);
    cpu.count(VM.allocstall);
    const reclaimed = reclaim(cpu, Math.max(high - free, k.config.pcpBatch));
    if (reclaimed > 0 || zoneFree(k) > free) continue;
    if (!drained) {
      drained = true;
      drainAllPcp(cpu);
      continue;
    }
    return NIL;
  }
  return NIL;
}

/** Takes a frame from this CPU's list, or NIL. */
function pcpTake(cpu: Cpu): number {
  const k = cpu.k;
  const i32 = k.i32;
  const countWord = k.privWord(cpu.id, CPU_PRIVATE.pcpCount);
  if (i32[countWord] === 0) return NIL;
  const lock = k.pcpLocks[cpu.id];
  lock.lock(cpu.lock);
  const headWord = k.privWord(cpu.id, CPU_PRIVATE.pcpHead);
  const frame = i32[headWord];
  if (frame !== NIL) {
    i32[headWord] = i32[k.pageWord(frame, PAGE.next)];
    i32[countWord]--;
  }
  lock.unlock(cpu.lock);
  return frame;
}

/** Moves up to a batch of frames from the zone to this CPU's list, keeping the zone above min. */
function refillPcp(cpu: Cpu, min: number): number {
  const k = cpu.k;
  const i32 = k.i32;
  const pcp = k.pcpLocks[cpu.id];
  pcp.lock(cpu.lock);
  k.zoneLock.lock(cpu.lock);
  const nrFree = i32[k.zoneWord(ZONE.nrFree)];
  const take = Math.min(k.config.pcpBatch, nrFree - min);
  // Both heads in locals, written once (as drainPcp does): each frame moves from the zone's head
  // to the CPU list's head, so the batch lands on the CPU list in reverse order, as pushes would.
  const pcpHeadWord = k.privWord(cpu.id, CPU_PRIVATE.pcpHead);
  let zoneHead = i32[k.zoneWord(ZONE.freeHead)];
  let pcpHead = i32[pcpHeadWord];
  let moved = 0;
  for (; moved < take; moved++) {
    const frame = zoneHead;
    if (frame === NIL) throw new Error(`zone free list empty with nrFree ${nrFree - moved}`);
    zoneHead = i32[k.pageWord(frame, PAGE.next)];
    i32[k.pageWord(frame, PAGE.flags)] = PG_FREE | PG_PCP;
    i32[k.pageWord(frame, PAGE.next)] = pcpHead;
    pcpHead = frame;
  }
  if (moved > 0) {
    i32[k.zoneWord(ZONE.freeHead)] = zoneHead;
    i32[pcpHeadWord] = pcpHead;
    i32[k.privWord(cpu.id, CPU_PRIVATE.pcpCount)] += moved;
    Atomics.store(i32, k.zoneWord(ZONE.nrFree), nrFree - moved);
  }
  k.zoneLock.unlock(cpu.lock);
  pcp.unlock(cpu.lock);
  if (moved > 0) cpu.count(VM.pcp_refill);
  return moved;
}

function pcpPush(k: Kernel, cpu: number, frame: number): void {
  const i32 = k.i32;
  i32[k.pageWord(frame, PAGE.flags)] = PG_FREE | PG_PCP;
  i32[k.pageWord(frame, PAGE.next)] = i32[k.privWord(cpu, CPU_PRIVATE.pcpHead)];
  i32[k.privWord(cpu, CPU_PRIVATE.pcpHead)] = frame;
  i32[k.privWord(cpu, CPU_PRIVATE.pcpCount)]++;
}

/** Marks a frame free: its generation moves on, so stale TLB entries to it are detectable. */
function retire(k: Kernel, frame: number): void {
  const i32 = k.i32;
  const flags = i32[k.pageWord(frame, PAGE.flags)];
  if ((flags & PG_FREE) !== 0) throw new Error(`double free of frame ${frame}`);
  if ((flags & PG_LRU) !== 0) throw new Error(`frame ${frame} freed while still on the LRU`);
  // A frame that was mapped goes only when its last mapping and its last reference did (mm/rmap.ts).
  if (i32[k.pageWord(frame, PAGE.mapcount)] !== 0 || i32[k.pageWord(frame, PAGE.refcount)] !== 0)
    throw new Error(
      `frame ${frame} freed with mapcount ${i32[k.pageWord(frame, PAGE.mapcount)]}, refcount ${i32[k.pageWord(frame, PAGE.refcount)]}`,
    );
  i32[k.pageWord(frame, PAGE.anonVma)] = NIL;
  i32[k.pageWord(frame, PAGE.vpn)] = -1;
  i32[k.pageWord(frame, PAGE.prev)] = NIL;
  i32[k.pageWord(frame, PAGE.gen)] = (i32[k.pageWord(frame, PAGE.gen)] + 1) | 0;
}

const single = new Int32Array(1);

/** Frees one frame to this CPU's list. */
export function freePage(cpu: Cpu, frame: number): void {
  single[0] = frame;
  freePages(cpu, single, 1);
}

/**
 * release_pages + free_unref_page_list: frames whose last reference went leave the LRU, then go to
 * this CPU's list under one pcp-lock acquisition; a list above pcpHigh gives batches back to the zone.
 */
export function freePages(cpu: Cpu, frames: Int32Array, count: number): void {
  if (count === 0) return;
  const k = cpu.k;
  lruReleaseFrames(cpu, frames, count);
  for (let i = 0; i < count; i++) retire(k, frames[i]);
  const pcp = k.pcpLocks[cpu.id];
  const countWord = k.privWord(cpu.id, CPU_PRIVATE.pcpCount);
  pcp.lock(cpu.lock);
  for (let i = 0; i < count; i++) {
    pcpPush(k, cpu.id, frames[i]);
    if (k.i32[countWord] > k.config.pcpHigh) drainPcp(cpu, cpu.id, k.config.pcpBatch);
  }
  pcp.unlock(cpu.lock);
  cpu.count(VM.pgfree, count);
}

/**
 * Frees frames (off the LRU first) straight to the zone under one zone-lock acquisition (reclaim's
 * batches).
 */
export function freePagesToZone(cpu: Cpu, frames: Int32Array, count: number): void {
  if (count === 0) return;
  const k = cpu.k;
  const i32 = k.i32;
  lruReleaseFrames(cpu, frames, count);
  for (let i = 0; i < count; i++) retire(k, frames[i]);
  k.zoneLock.lock(cpu.lock);
  let head = i32[k.zoneWord(ZONE.freeHead)];
  for (let i = 0; i < count; i++) {
    const frame = frames[i];
    i32[k.pageWord(frame, PAGE.flags)] = PG_FREE;
    i32[k.pageWord(frame, PAGE.next)] = head;
    head = frame;
  }
  i32[k.zoneWord(ZONE.freeHead)] = head;
  Atomics.store(i32, k.zoneWord(ZONE.nrFree), i32[k.zoneWord(ZONE.nrFree)] + count);
  k.zoneLock.unlock(cpu.lock);
  cpu.count(VM.pgfree, count);
}

/** Moves up to `count` frames from CPU `owner`'s list to the zone. Caller holds owner's pcp lock. */
function drainPcp(cpu: Cpu, owner: number, count: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  k.pcpLocks[owner].assertHeld(cpu.lock);
  k.zoneLock.lock(cpu.lock);
  let moved = 0;
  let zoneHead = i32[k.zoneWord(ZONE.freeHead)];
  while (moved < count) {
    const frame = i32[k.privWord(owner, CPU_PRIVATE.pcpHead)];
    if (frame === NIL) break;
    i32[k.privWord(owner, CPU_PRIVATE.pcpHead)] = i32[k.pageWord(frame, PAGE.next)];
    i32[k.pageWord(frame, PAGE.flags)] = PG_FREE;
    i32[k.pageWord(frame, PAGE.next)] = zoneHead;
    zoneHead = frame;
    moved++;
  }
  i32[k.privWord(owner, CPU_PRIVATE.pcpCount)] -= moved;
  i32[k.zoneWord(ZONE.freeHead)] = zoneHead;
  Atomics.store(i32, k.zoneWord(ZONE.nrFree), i32[k.zoneWord(ZONE.nrFree)] + moved);
  k.zoneLock.unlock(cpu.lock);
  if (moved > 0) cpu.count(VM.pcp_drain);
}

/** drain_all_pages: every CPU's list back to the zone, before an allocation gives up. */
export function drainAllPcp(cpu: Cpu): void {
  const k = cpu.k;
  for (let owner = 0; owner < k.geometry.cpuSlots; owner++) {
    const pcp = k.pcpLocks[owner];
    pcp.lock(cpu.lock);
    drainPcp(cpu, owner, Number.MAX_SAFE_INTEGER);
    pcp.unlock(cpu.lock);
  }
}
