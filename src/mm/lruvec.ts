// The page LRU of the one lruvec (include/linux/mm_inline.h, and the LRU part of mm/swap.c's
// release_pages): two lists of struct page, linked through page.next/prev, under the one lru_lock.
//  - anon: every mapped anonymous page once its CPU's lru_add batch was moved (swap.ts);
//  - lazyfree: pages MADV_FREE marked (PG_LAZYFREE; Linux moves them to the inactive file list).
// A page is on a list exactly while PG_LRU is set, and which list PG_LAZYFREE says; both flags change
// only under lru_lock, with atomic read-modify-writes of the flags word as Linux's set_bit/clear_bit,
// except on a page whose last reference went (nobody else can reach it: Linux's non-atomic
// __folio_clear_lru_flags). Tests of a flag are plain reads, as test_bit.
// A page leaves the LRU when its last reference goes (lruReleaseFrames, from the free path) or when
// reclaim isolates it (swap.ts), never merely because a PTE stopped mapping it.
//
// Lock order (classes.ts): PTL -> lru_lock -> pcp lock -> zone lock.

import { PAGE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import type { Kernel } from './kernel.js';
import type { LruList } from './lru.js';
import { PG_LAZYFREE, PG_LRU } from './mm_types.js';

/** Pages release_pages frees under one lru_lock hold before it lets go of the lock (Linux's bound). */
export const SWAP_CLUSTER_MAX = 32;

export function pageFlags(k: Kernel, frame: number): number {
  return k.i32[k.pageWord(frame, PAGE.flags)];
}

function listOf(k: Kernel, flags: number): LruList {
  return (flags & PG_LAZYFREE) !== 0 ? k.lazyfreeLruList : k.anonLruList;
}

/**
 * lruvec_add_folio + folio_set_lru: a page on no list joins the young end of the list its
 * PG_LAZYFREE names. Caller holds lru_lock.
 */
export function lruvecAdd(k: Kernel, frame: number): void {
  const flags = Atomics.or(k.i32, k.pageWord(frame, PAGE.flags), PG_LRU);
  if ((flags & PG_LRU) !== 0) throw new Error(`lru: frame ${frame} added while already on the LRU`);
  listOf(k, flags).addTail(frame);
}

/** folio_test_clear_lru + lruvec_del_folio: takes a page off its list. Caller holds lru_lock. */
export function lruvecDel(k: Kernel, frame: number): number {
  const flags = Atomics.and(k.i32, k.pageWord(frame, PAGE.flags), ~PG_LRU);
  if ((flags & PG_LRU) === 0) throw new Error(`lru: frame ${frame} is not on the LRU`);
  listOf(k, flags).remove(frame);
  return flags;
}

/**
 * Moves a page between the anon and lazyfree lists (lazy: to lazyfree), if it is on the LRU at all
 * (a page isolated by reclaim or still in a CPU's batch stays where it is). Caller holds lru_lock.
 * Returns whether it moved.
 */
export function lruvecMove(k: Kernel, frame: number, lazy: boolean): boolean {
  const word = k.pageWord(frame, PAGE.flags);
  const flags = Atomics.load(k.i32, word);
  if ((flags & PG_LRU) === 0 || ((flags & PG_LAZYFREE) !== 0) === lazy) return false;
  listOf(k, flags).remove(frame);
  if (lazy) Atomics.or(k.i32, word, PG_LAZYFREE);
  else Atomics.and(k.i32, word, ~PG_LAZYFREE);
  listOf(k, flags ^ PG_LAZYFREE).addTail(frame);
  return true;
}

/**
 * The LRU part of freeing (release_pages, __page_cache_release): frames whose last reference just
 * went leave their LRU list under lru_lock, taken once per SWAP_CLUSTER_MAX pages on the LRU. PG_LRU
 * is read without the lock first: at refcount 0 nobody can set it (adding needs a reference) and
 * reclaim cannot isolate the page (its get-unless-zero fails), so only we clear it.
 */
export function lruReleaseFrames(cpu: Cpu, frames: Int32Array, count: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  let held = 0;
  for (let i = 0; i < count; i++) {
    const word = k.pageWord(frames[i], PAGE.flags);
    const flags = i32[word];
    if ((flags & PG_LRU) === 0) continue;
    if (held === 0) k.lruLock.lock(cpu.lock);
    listOf(k, flags).remove(frames[i]);
    i32[word] = flags & ~(PG_LRU | PG_LAZYFREE);
    if (++held === SWAP_CLUSTER_MAX) {
      k.lruLock.unlock(cpu.lock);
      held = 0;
    }
  }
  if (held > 0) k.lruLock.unlock(cpu.lock);
}
