// Volatile ranges (Minchan Kim's vrange RFC v7, with John Stultz's consistent-purged rule).
//
// Each mm keeps its volatile ranges in an interval tree in the shared buffer, under its own
// vrange_lock mutex: marking memory volatile or not takes mmap_sem only for read (to check that the
// range is mapped), never for write, and walks no PTE on the common path. Every volatile range is
// also on one global victim LRU (under vrange_lru_lock) that reclaim takes its victims from, oldest
// first (mm/vmscan.ts).
//
// A range's purged flag covers the whole range: NOVOLATILE reports 1 if any page of any range it
// touches was purged while volatile (never 0 when data was lost; possibly 1 for a page that kept its
// data). Purged pages carry a purged marker in their PTE; markers exist only inside purged volatile
// ranges — NOVOLATILE, munmap and MADV_DONTNEED clear them — so a fault on a marker means SIGBUS.

import { MM, NIL, PAGE_SIZE, VRANGE_NODE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import {
  type IntervalTree,
  nodeAlloc,
  nodeFree,
  nodeLast,
  nodeStart,
  treeFirst,
  treeInit,
  treeInsert,
  treeIterFirst,
  treeIterNext,
  treeNext,
  treeRemove,
} from './interval_tree.js';
import type { Kernel } from './kernel.js';
import { clearPurgedMarkers } from './pagewalk.js';
import { EINVAL, ENOMEM, VRANGE_FULL, VRANGE_NOVOLATILE, VRANGE_PARTIAL, VRANGE_VOLATILE } from './uapi.js';
import { pageRangeArgs, rangeMapped } from './vma.js';
import { VM } from './vmstat.js';

/** Node flags. */
export const VR_PURGED = 1;
/** Marked VRANGE_PARTIAL: reclaim may discard only as many of its pages as it needs. */
export const VR_PARTIAL = 2;

export function vrangeTree(k: Kernel, mm: number): IntervalTree {
  return {
    i32: k.i32,
    nodeBase: k.vrangeNodeBase,
    rootWord: k.mmWord(mm, MM.vrangeRoot),
    freeHeadWord: k.mmWord(mm, MM.vrangeFreeHead),
  };
}

export function nodeWord(k: Kernel, node: number, field: number): number {
  return k.vrangeNodeBase + node * VRANGE_NODE.STRIDE + field;
}

/** The mm's slice of the node pool. */
export function vrangePool(k: Kernel, mm: number): { firstNode: number; nodeCount: number } {
  return { firstNode: mm * k.config.vrangeNodesPerMm, nodeCount: k.config.vrangeNodesPerMm };
}

/** An empty tree and a full pool for a new mm. */
export function vrangeInitMm(k: Kernel, mm: number): void {
  const pool = vrangePool(k, mm);
  treeInit(vrangeTree(k, mm), pool.firstNode, pool.nodeCount);
  k.i32[k.mmWord(mm, MM.vrangeCount)] = 0;
}

/**
 * sys_vrange(addr, len, mode, behavior).
 * Returns 0 (nothing in the range purged), 1 (NOVOLATILE: some page of it was purged), or
 * -EINVAL (unaligned start, zero or wrapping length, range beyond the address space, bad mode or
 * behavior), -ENOMEM (part of the range is not mapped, or no free vrange node). Errors change nothing.
 * The 'v7' variant (config.vrangeVariant) follows the RFC v7 patch instead: len is rounded down to
 * whole pages (less than a page is -EINVAL), mmap_sem is not taken and the range need not be mapped.
 */
export function sysVrange(
  cpu: Cpu,
  mm: number,
  addr: number,
  len: number,
  mode: number,
  behavior: number,
): number {
  const k = cpu.k;
  if (k.config.vrangeVariant === 'v7') return sysVrangeV7(cpu, mm, addr, len, mode, behavior);
  const range = pageRangeArgs(k, addr, len);
  if (typeof range === 'number') return range;
  if (mode !== VRANGE_VOLATILE && mode !== VRANGE_NOVOLATILE) return -EINVAL;
  if (behavior !== VRANGE_FULL && behavior !== VRANGE_PARTIAL) return -EINVAL;
  const [start, end] = range;
  const last = end - 1;
  const sem = k.mmapSems[mm];
  sem.downRead(cpu.lock);
  try {
    if (!rangeMapped(k, mm, start, end)) return -ENOMEM;
    if (mode === VRANGE_VOLATILE) {
      cpu.count(VM.vrange_volatile);
      return withVrangeLock(cpu, mm, true, () => markVolatile(cpu, mm, start, last, behavior));
    }
    cpu.count(VM.vrange_novolatile);
    const locked = !k.config.mutations.novolatileWithoutLock;
    const ret = withVrangeLock(cpu, mm, locked, () => removeSpan(cpu, mm, start, last));
    if (ret === 1) cpu.count(VM.vrange_purged_reported);
    return ret;
  } finally {
    sem.upRead(cpu.lock);
  }
}

/** v7's sys_vrange: `len &= PAGE_MASK`, no mmap_sem, no check that the range is mapped. */
function sysVrangeV7(
  cpu: Cpu,
  mm: number,
  addr: number,
  len: number,
  mode: number,
  behavior: number,
): number {
  const wholePages = Number.isSafeInteger(len) && len > 0 ? len - (len % PAGE_SIZE) : len;
  const range = pageRangeArgs(cpu.k, addr, wholePages);
  if (typeof range === 'number') return range;
  if (mode !== VRANGE_VOLATILE && mode !== VRANGE_NOVOLATILE) return -EINVAL;
  if (behavior !== VRANGE_FULL && behavior !== VRANGE_PARTIAL) return -EINVAL;
  const [start, end] = range;
  if (mode === VRANGE_VOLATILE) {
    cpu.count(VM.vrange_volatile);
    return withVrangeLock(cpu, mm, true, () => markVolatile(cpu, mm, start, end - 1, behavior));
  }
  cpu.count(VM.vrange_novolatile);
  const ret = withVrangeLock(cpu, mm, true, () => removeSpan(cpu, mm, start, end - 1));
  if (ret === 1) cpu.count(VM.vrange_purged_reported);
  return ret;
}

/** Ids of mm's ranges overlapping [start, last], in address order. Caller holds vrange_lock. */
function overlapping(t: IntervalTree, start: number, last: number): number[] {
  const nodes: number[] = [];
  for (let n = treeIterFirst(t, start, last); n !== NIL; n = treeIterNext(t, n, start, last)) nodes.push(n);
  return nodes;
}

/**
 * Of `nodes` (the ranges overlapping [start, last]), the one sticking out on both sides: removing
 * [start, last] splits it in two, which needs a second node. NIL when there is none.
 */
function findSplitter(t: IntervalTree, nodes: readonly number[], start: number, last: number): number {
  for (const n of nodes) if (nodeStart(t, n) < start && nodeLast(t, n) > last) return n;
  return NIL;
}

function withVrangeLock<T>(cpu: Cpu, mm: number, locked: boolean, body: () => T): T {
  const lock = cpu.k.vrangeLocks[mm];
  if (!locked) return body();
  lock.lock(cpu.lock);
  try {
    return body();
  } finally {
    lock.unlock(cpu.lock);
  }
}

/**
 * VOLATILE: one range covering [start, last] and every range it overlaps or touches (v7 variant:
 * every range it overlaps; a range it only touches stays a range of its own).
 */
function markVolatile(cpu: Cpu, mm: number, start: number, last: number, behavior: number): number {
  const k = cpu.k;
  const t = vrangeTree(k, mm);
  const i32 = k.i32;
  let mergedStart = start;
  let mergedLast = last;
  let flags = behavior === VRANGE_PARTIAL ? VR_PARTIAL : 0;
  // Ranges overlapping or adjacent to [start, last] merge into one (v7: overlapping ones only).
  const reach = k.config.vrangeVariant === 'v7' ? 0 : 1;
  const neighbours = overlapping(t, Math.max(start - reach, 0), last + reach);
  const node = neighbours.length > 0 ? neighbours[0] : nodeAlloc(t, start, last);
  if (node === NIL) return -ENOMEM;
  for (const n of neighbours) {
    mergedStart = Math.min(mergedStart, nodeStart(t, n));
    mergedLast = Math.max(mergedLast, nodeLast(t, n));
    flags |= i32[nodeWord(k, n, VRANGE_NODE.flags)] & VR_PURGED;
  }
  const lru = k.vrangeLruList;
  k.vrangeLruLock.lock(cpu.lock);
  for (const n of neighbours) {
    treeRemove(t, n);
    lru.remove(n);
    if (n !== node) {
      nodeFree(t, n);
      i32[k.mmWord(mm, MM.vrangeCount)]--;
    }
  }
  if (neighbours.length === 0) i32[k.mmWord(mm, MM.vrangeCount)]++;
  i32[nodeWord(k, node, VRANGE_NODE.start)] = mergedStart;
  i32[nodeWord(k, node, VRANGE_NODE.last)] = mergedLast;
  i32[nodeWord(k, node, VRANGE_NODE.flags)] = flags;
  i32[nodeWord(k, node, VRANGE_NODE.mm)] = mm;
  treeInsert(t, node);
  // The youngest volatile range: reclaim takes it last.
  lru.addTail(node);
  k.vrangeLruLock.unlock(cpu.lock);
  return 0;
}

/**
 * NOVOLATILE (and munmap's part): removes [start, last] from mm's volatile ranges, trimming or
 * splitting ranges that stick out. Returns 1 if any range it touched was purged, 0 otherwise,
 * -ENOMEM if a split needs a node and the pool is empty (before changing anything).
 */
function removeSpan(cpu: Cpu, mm: number, start: number, last: number): number {
  const k = cpu.k;
  const t = vrangeTree(k, mm);
  const i32 = k.i32;
  const touched = overlapping(t, start, last);
  if (touched.length === 0) return 0;
  const splitter = findSplitter(t, touched, start, last);
  let spare = NIL;
  if (splitter !== NIL) {
    spare = nodeAlloc(t, last + 1, nodeLast(t, splitter));
    if (spare === NIL) return -ENOMEM;
  }
  let purged = 0;
  const lru = k.vrangeLruList;
  k.vrangeLruLock.lock(cpu.lock);
  for (const n of touched) {
    const nStart = nodeStart(t, n);
    const nLast = nodeLast(t, n);
    const flags = i32[nodeWord(k, n, VRANGE_NODE.flags)];
    if ((flags & VR_PURGED) !== 0) purged = 1;
    treeRemove(t, n);
    if (nStart >= start && nLast <= last) {
      lru.remove(n);
      nodeFree(t, n);
      i32[k.mmWord(mm, MM.vrangeCount)]--;
      continue;
    }
    // Keep the part(s) outside [start, last]; they stay volatile, purged flag and all.
    if (nStart < start) {
      i32[nodeWord(k, n, VRANGE_NODE.last)] = start - 1;
    } else {
      i32[nodeWord(k, n, VRANGE_NODE.start)] = last + 1;
    }
    treeInsert(t, n);
    if (n === splitter) {
      i32[nodeWord(k, spare, VRANGE_NODE.flags)] = flags;
      i32[nodeWord(k, spare, VRANGE_NODE.mm)] = mm;
      treeInsert(t, spare);
      lru.addTail(spare);
      i32[k.mmWord(mm, MM.vrangeCount)]++;
    }
  }
  k.vrangeLruLock.unlock(cpu.lock);
  // The uncommon path: purged ranges leave markers in the span that is no longer volatile.
  if (purged) clearPurgedMarkers(cpu, mm, start, last + 1);
  return purged;
}

/**
 * munmap's part: the unmapped span stops being volatile, so a later mapping there is never purged
 * by a stale range. Caller holds mmap_sem for write and has checked vrangeUnmapRoom().
 */
export function vrangeUnmapSpan(cpu: Cpu, mm: number, start: number, end: number): void {
  const ret = withVrangeLock(cpu, mm, true, () => removeSpan(cpu, mm, start, end - 1));
  if (ret < 0) throw new Error(`vrange: no node for munmap's split of mm ${mm} (caller did not check room)`);
}

/** Whether removing [start, end) from mm's ranges can be done: a split needs a free node. */
export function vrangeUnmapRoom(cpu: Cpu, mm: number, start: number, end: number): boolean {
  const k = cpu.k;
  const t = vrangeTree(k, mm);
  return withVrangeLock(cpu, mm, true, () => {
    const splitter = findSplitter(t, overlapping(t, start, end - 1), start, end - 1);
    return splitter === NIL || k.i32[t.freeHeadWord] !== NIL;
  });
}

/**
 * The fault path found a purged marker: SIGBUS if vpn is in a volatile range (and, as v7 does, the
 * range moves to the young end of the victim LRU: it is in use). Caller holds mmap_sem for read.
 */
export function vrangeFaultIsVolatile(cpu: Cpu, mm: number, vpn: number): boolean {
  const k = cpu.k;
  return withVrangeLock(cpu, mm, true, () => {
    const node = treeIterFirst(vrangeTree(k, mm), vpn, vpn);
    if (node === NIL) return false;
    k.vrangeLruLock.lock(cpu.lock);
    k.vrangeLruList.rotate(node);
    k.vrangeLruLock.unlock(cpu.lock);
    return true;
  });
}

export interface VrangeInfo {
  start: number;
  last: number;
  purged: boolean;
  partial: boolean;
}

/** The mm's ranges in address order. Caller holds vrange_lock, or the machine is quiescent. */
export function vrangeList(k: Kernel, mm: number): VrangeInfo[] {
  const t = vrangeTree(k, mm);
  const out: VrangeInfo[] = [];
  for (let n = treeFirst(t); n !== NIL; n = treeNext(t, n)) {
    const flags = k.i32[nodeWord(k, n, VRANGE_NODE.flags)];
    out.push({
      start: nodeStart(t, n),
      last: nodeLast(t, n),
      purged: (flags & VR_PURGED) !== 0,
      partial: (flags & VR_PARTIAL) !== 0,
    });
  }
  return out;
}

/** /proc/<pid>/vrange: "start-last p|v" per range, byte addresses in hex, last inclusive. */
export function renderVrange(k: Kernel, mm: number): string {
  return vrangeList(k, mm)
    .map((r) => {
      const first = (r.start * PAGE_SIZE).toString(16).padStart(8, '0');
      const lastByte = ((r.last + 1) * PAGE_SIZE - 1).toString(16).padStart(8, '0');
      return `${first}-${lastByte} ${r.purged ? 'p' : 'v'}\n`;
    })
    .join('');
}

/**
 * fork with inheritance (the versions after v7): child gets a copy of parent's ranges, purged flags
 * included, each on the victim LRU. Caller holds parent's mmap_sem for write and vrange_lock, and
 * child's vrange_lock; child's pool is as large as parent's, so the copy always fits.
 */
export function vrangeDup(cpu: Cpu, parent: number, child: number): void {
  const k = cpu.k;
  const i32 = k.i32;
  k.vrangeLocks[parent].assertHeld(cpu.lock);
  k.vrangeLocks[child].assertHeld(cpu.lock);
  const from = vrangeTree(k, parent);
  const to = vrangeTree(k, child);
  k.vrangeLruLock.lock(cpu.lock);
  for (let n = treeFirst(from); n !== NIL; n = treeNext(from, n)) {
    const copy = nodeAlloc(to, nodeStart(from, n), nodeLast(from, n));
    if (copy === NIL) throw new Error(`vrange: child mm ${child} pool smaller than its parent's`);
    i32[nodeWord(k, copy, VRANGE_NODE.flags)] = i32[nodeWord(k, n, VRANGE_NODE.flags)];
    i32[nodeWord(k, copy, VRANGE_NODE.mm)] = child;
    treeInsert(to, copy);
    k.vrangeLruList.addTail(copy);
    i32[k.mmWord(child, MM.vrangeCount)]++;
  }
  k.vrangeLruLock.unlock(cpu.lock);
}

/** Whether vpn lies in one of mm's volatile ranges; marks that range purged if `purge`. Caller holds vrange_lock. */
export function vrangeCovers(cpu: Cpu, mm: number, vpn: number, purge: boolean): boolean {
  const k = cpu.k;
  k.vrangeLocks[mm].assertHeld(cpu.lock);
  const node = treeIterFirst(vrangeTree(k, mm), vpn, vpn);
  if (node === NIL) return false;
  if (purge) k.i32[nodeWord(k, node, VRANGE_NODE.flags)] |= VR_PURGED;
  return true;
}
