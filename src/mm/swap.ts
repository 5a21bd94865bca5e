// Per-CPU LRU batches and LRU moves (mm/swap.c, mm/vmscan.c's isolation and putback).
//
// A new anonymous page (a fault's zeroed page, a copy-on-write copy) is not put on the LRU at once:
// folio_add_lru takes a page reference and appends the page to its CPU's lru_add batch, and only when
// the batch is full (LRU_BATCH_SIZE, 15) or drained (lru_add_drain: before MADV_FREE, before an
// mmu_gather frees pages, at exit) does the CPU take lru_lock once and move the whole batch onto the
// anon LRU, setting PG_LRU, then drop the batch's references. A page freed while it sits in another
// CPU's batch is therefore freed by that CPU's next drain (the batch's reference is its last).
//
// The batch is its CPU's own (Linux guards it with a local lock): only that CPU writes it, so it
// needs no atomics; the validator reads it while the machine is quiescent.

import { LRU_BATCH, LRU_BATCH_SIZE, NIL, PAGE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import type { Kernel } from './kernel.js';
import { lruvecAdd, lruvecDel, lruvecMove, pageFlags } from './lruvec.js';
import { PG_LAZYFREE, PG_LRU } from './mm_types.js';
import { freePages } from './page_alloc.js';
import { getPage, putPage, putPages } from './rmap.js';

/** Pages in CPU cpu's lru_add batch. */
export function lruBatchCount(k: Kernel, cpu: number): number {
  return k.i32[k.lruBatchWord(cpu, LRU_BATCH.nr)];
}

/** The frame in slot i of CPU cpu's lru_add batch. */
export function lruBatchPage(k: Kernel, cpu: number, i: number): number {
  return k.i32[k.lruBatchWord(cpu, LRU_BATCH.page0 + i)];
}

/**
 * folio_add_lru: queues a new anonymous page (mapped by the caller, which holds a reference) for
 * the anon LRU on this CPU's batch, with a reference of the batch's own; a full batch is moved.
 */
export function lruCacheAdd(cpu: Cpu, frame: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  getPage(k, frame);
  const nrWord = k.lruBatchWord(cpu.id, LRU_BATCH.nr);
  const nr = i32[nrWord];
  i32[k.lruBatchWord(cpu.id, LRU_BATCH.page0 + nr)] = frame;
  i32[nrWord] = nr + 1;
  if (nr + 1 === LRU_BATCH_SIZE) lruBatchMove(cpu);
}

/** lru_add_drain: moves what this CPU's batch holds onto the LRU. */
export function lruAddDrain(cpu: Cpu): void {
  if (lruBatchCount(cpu.k, cpu.id) > 0) lruBatchMove(cpu);
}

const moved = new Int32Array(LRU_BATCH_SIZE);

/**
 * folio_batch_move_lru(lru_add_fn): the batch onto the anon LRU under one lru_lock hold, then its
 * references dropped (folios_put), freeing the pages that were unmapped while they waited.
 */
function lruBatchMove(cpu: Cpu): void {
  const k = cpu.k;
  const i32 = k.i32;
  const nrWord = k.lruBatchWord(cpu.id, LRU_BATCH.nr);
  const nr = i32[nrWord];
  k.lruLock.lock(cpu.lock);
  for (let i = 0; i < nr; i++) {
    const frame = i32[k.lruBatchWord(cpu.id, LRU_BATCH.page0 + i)];
    moved[i] = frame;
    lruvecAdd(k, frame);
  }
  k.lruLock.unlock(cpu.lock);
  i32[nrWord] = 0;
  freePages(cpu, moved, putPages(k, moved, nr));
}

/**
 * MADV_FREE's LRU part (lru_lazyfree_fn): mapped pages on the anon LRU move to the lazyfree list,
 * in groups of LRU_BATCH_SIZE per lru_lock hold as Linux's per-CPU lazyfree batch moves them. A page
 * not on the LRU (still in some CPU's batch, or isolated) is left, as Linux leaves it. Caller holds
 * the PTL that maps them (they cannot be freed meanwhile). Returns how many moved.
 */
export function lruMarkLazyfree(cpu: Cpu, frames: Int32Array, count: number): number {
  const k = cpu.k;
  let n = 0;
  for (let first = 0; first < count; first += LRU_BATCH_SIZE) {
    k.lruLock.lock(cpu.lock);
    for (let i = first; i < Math.min(count, first + LRU_BATCH_SIZE); i++)
      if (lruvecMove(k, frames[i], true)) n++;
    k.lruLock.unlock(cpu.lock);
  }
  return n;
}

/**
 * A lazily freed page that is in use again (fork gave it a second mapping) goes back to the anon
 * list. PG_LAZYFREE is tested first without the lock, so a page MADV_FREE never marked costs no
 * lock. Caller holds a PTL mapping it.
 */
export function lruCancelLazyfree(cpu: Cpu, frame: number): void {
  const k = cpu.k;
  if ((pageFlags(k, frame) & PG_LAZYFREE) === 0) return;
  k.lruLock.lock(cpu.lock);
  lruvecMove(k, frame, false);
  k.lruLock.unlock(cpu.lock);
}

/** isolateLazyfree's answer for a page it had to skip. */
export const SKIPPED = -2;

/** folio_try_get: a reference unless the count is already 0 (the page is being freed). */
function tryGetPage(k: Kernel, frame: number): boolean {
  const word = k.pageWord(frame, PAGE.refcount);
  for (;;) {
    const count = Atomics.load(k.i32, word);
    if (count === 0) return false;
    if (Atomics.compareExchange(k.i32, word, count, count + 1) === count) return true;
  }
}

/**
 * isolate_lru_folios for one page, the oldest of the lazyfree list: takes a reference (unless the
 * page is being freed, which leaves it for its freer) and takes it off the list, PG_LRU and
 * PG_LAZYFREE cleared. Returns the frame, NIL when the list is empty, or SKIPPED when the oldest
 * page is being freed (it went to the young end). Caller holds lru_lock.
 */
export function isolateLazyfree(k: Kernel): number {
  const lru = k.lazyfreeLruList;
  const frame = lru.first();
  if (frame === NIL) return NIL;
  if (!tryGetPage(k, frame)) {
    lru.rotate(frame);
    return SKIPPED;
  }
  lruvecDel(k, frame);
  Atomics.and(k.i32, k.pageWord(frame, PAGE.flags), ~PG_LAZYFREE);
  return frame;
}

/**
 * move_folios_to_lru for a page reclaim isolated and keeps (re-dirtied, or shared): it goes back to
 * the anon list (Linux sets PG_swapbacked again and activates it), then the isolation's reference
 * is dropped (freeing the page if it was unmapped meanwhile).
 */
export function putbackAnon(cpu: Cpu, frame: number): void {
  const k = cpu.k;
  k.lruLock.lock(cpu.lock);
  if ((pageFlags(k, frame) & PG_LRU) !== 0) throw new Error(`lru: putback of frame ${frame} on the LRU`);
  lruvecAdd(k, frame);
  k.lruLock.unlock(cpu.lock);
  putPage(cpu, frame);
}
