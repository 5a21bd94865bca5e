// The shared-memory layout: every record and region that lives in the SharedArrayBuffer is declared
// here, and nowhere else. Other modules take word indices from these declarations; no module
// computes an offset of its own.
//
// Two buffers exist: a lock lab (the lock library alone, for its tests and benchmarks) and a
// machine (everything). Both lay out the lock domain with lockDomainRegions().

import { defineStruct, LayoutBuilder, type Region, WORD_BYTES } from './struct.js';

// ---------------------------------------------------------------------------------------------
// Lock words. One record per lock instance, each on its own cache line.

/** Sleeping mutex, futex style: state = 0 | (owner cpu + 1) | MUTEX_WAITERS | LOCK_OWNER_DIED. */
export const MUTEX = defineStruct('mutex', ['state', 'lastCpu'], { cacheLine: true });

/** Fair ticket spinlock that sleeps after a bounded spin. */
export const SPINLOCK = defineStruct(
  'spinlock',
  ['next', 'serving', 'sleepers', 'owner', 'lastCpu', 'flags'],
  {
    cacheLine: true,
  },
);

/** Reader/writer semaphore (mmap_sem), one count word as in Linux, a FIFO queue of waiting CPUs. */
export const RWSEM = defineStruct(
  'rwsem',
  [
    'count',
    'owner',
    'lastCpu',
    'queueHead',
    'queueTail',
    // The wait_lock protecting the queue: a ticket lock embedded in the record.
    'waitNext',
    'waitServing',
  ],
  { cacheLine: true },
);

// ---------------------------------------------------------------------------------------------
// The lock domain: per-CPU state the lock library keeps beside the lock words.

export const MAX_HELD_LOCKS = 24;

/** Per-CPU lock state; written by its CPU, read by others for reports. */
export const LOCK_CPU = defineStruct(
  'lock_cpu',
  [
    'state', // CPU_OFFLINE / CPU_ONLINE / CPU_DEAD
    'heldDepth',
    'waitingOn', // lock word index this CPU is blocked on, or -1
    'waitingClass',
  ],
  { cacheLine: true },
);

/** A CPU's node in an rwsem wait queue; written by the CPU that grants the lock. */
/** state: WAITER_WAITING, WAITER_GRANTED (handed the lock) or WAITER_WOKEN (a writer told to try). */
export const LOCK_WAITER = defineStruct('lock_waiter', ['next', 'mode', 'state'], { cacheLine: true });

/** One entry of a CPU's held-lock stack (the robust list and lockdep's held_locks). */
export const HELD_LOCK = defineStruct('held_lock', ['lock', 'classId', 'mode', 'flags']);

/** lock_stat counters of one class row (a class has a write row, and a read row for rwsems). */
export const LOCK_STAT = defineStruct('lock_stat', [
  'conBounces',
  'contentions',
  'sleeps',
  'waitMinUs',
  'waitMaxUs',
  'waitTotalUs',
  'acqBounces',
  'acquisitions',
  'holdSamples',
  'holdMinUs',
  'holdMaxUs',
  'holdTotalUs',
]);

export const LOCKDEP_MAX_REPORTS = 64;
export const LOCKDEP = defineStruct('lockdep', ['textCursor', 'reportCount', 'disabled'], {
  cacheLine: true,
});

export interface LockDomainConfig {
  /** CPU slots, kernel threads included. */
  cpus: number;
  /** Number of lock classes. */
  classCount: number;
  /** Bytes for lockdep's call-site text. */
  lockdepTextBytes: number;
}

export interface LockDomainRegions {
  lockCpus: Region;
  lockWaiters: Region;
  heldLocks: Region;
  heldSince: Region;
  lockStat: Region;
  lockdep: Region;
  lockdepGraph: Region;
  lockdepReports: Region;
  lockdepText: Region;
}

export function lockDomainRegions(b: LayoutBuilder, cfg: LockDomainConfig): LockDomainRegions {
  const rows = cfg.classCount * 2;
  return {
    lockCpus: b.records('lock_cpus', LOCK_CPU, cfg.cpus),
    lockWaiters: b.records('lock_waiters', LOCK_WAITER, cfg.cpus),
    heldLocks: b.records('held_locks', HELD_LOCK, cfg.cpus * MAX_HELD_LOCKS, { cacheLine: true }),
    // Acquire timestamps of sampled holds, parallel to heldLocks (Float64).
    heldSince: b.region('held_since', cfg.cpus * MAX_HELD_LOCKS * 8),
    // Per CPU (as Linux's cpu_lock_stats): a CPU adds to its own rows without atomics.
    lockStat: b.region('lock_stat', cfg.cpus * rows * LOCK_STAT.STRIDE * 8),
    lockdep: b.records('lockdep', LOCKDEP, 1),
    // lockdepGraph[a * classCount + b] = 1 + text offset of the first site that took b under a.
    lockdepGraph: b.region('lockdep_graph', cfg.classCount * cfg.classCount * WORD_BYTES),
    lockdepReports: b.region('lockdep_reports', LOCKDEP_MAX_REPORTS * WORD_BYTES),
    lockdepText: b.region('lockdep_text', cfg.lockdepTextBytes, { cacheLine: false }),
  };
}

// ---------------------------------------------------------------------------------------------
// vrange: interval-tree nodes, one global pool partitioned per mm (see mm/interval_tree.ts).

/** Null node id in every node link. */
export const NIL = -1;

export const VRANGE_NODE = defineStruct('vrange_node', [
  // Interval tree (mm/interval_tree.ts): the range [start, last] in pages, inclusive.
  'start',
  'last',
  'subtreeLast', // augmentation: max `last` in this subtree
  'left',
  'right',
  'parent', // also the free-list link while the node is free
  'color', // red-black colour: 0 black, 1 red
  // vrange (mm/vrange.ts)
  'flags',
  'mm',
  'gen', // bumped whenever the node is freed or reused: reclaim re-validates its victim with it
  // The global victim LRU (mm/vmscan.ts), links are node ids.
  'lruPrev',
  'lruNext',
]);

/** Where a tree's root and its node pool's free-list head live (words of the owning mm record). */
export interface TreeRef {
  rootWord: number;
  freeHeadWord: number;
}

// ---------------------------------------------------------------------------------------------
// The lock lab: a lock domain plus a pool of lock records, for the lock library's own tests and
// benchmarks.

export const LAB_LOCK_STRIDE_WORDS = Math.max(MUTEX.STRIDE, SPINLOCK.STRIDE, RWSEM.STRIDE);

export interface LockLabLayout extends LockDomainRegions {
  byteLength: number;
  locks: Region;
  /** Plain words the tests use as data protected by the locks, each on its own line. */
  data: Region;
}

export function planLockLab(cfg: LockDomainConfig & { lockCount: number; dataWords: number }): LockLabLayout {
  const b = new LayoutBuilder();
  const domain = lockDomainRegions(b, cfg);
  const locks = b.region('locks', cfg.lockCount * LAB_LOCK_STRIDE_WORDS * WORD_BYTES);
  const data = b.region('data', cfg.dataWords * WORD_BYTES);
  const { byteLength } = b.finish();
  return { ...domain, locks, data, byteLength };
}

export function wordIndex(region: Region): number {
  if (region.byteOffset % WORD_BYTES !== 0) throw new Error(`${region.name}: not word aligned`);
  return region.byteOffset / WORD_BYTES;
}

export function doubleIndex(region: Region): number {
  if (region.byteOffset % 8 !== 0) throw new Error(`${region.name}: not 8-byte aligned`);
  return region.byteOffset / 8;
}
