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

/**
 * Fair ticket spinlock that sleeps after a bounded spin: tickets = serving << 16 | next, as x86's
 * arch_spinlock_t kept head and tail in one word.
 */
export const SPINLOCK = defineStruct('spinlock', ['tickets', 'sleepers', 'owner', 'lastCpu', 'flags'], {
  cacheLine: true,
});

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
    'waitingOn', // lock word index this CPU is blocked on, or -1
    'waitingClass',
  ],
  { cacheLine: true },
);

/** A CPU's node in an rwsem wait queue; written by the CPU that grants the lock. */
/** state: WAITER_WAITING, WAITER_GRANTED (handed the lock) or WAITER_WOKEN (a writer told to try). */
export const LOCK_WAITER = defineStruct('lock_waiter', ['next', 'mode', 'state'], { cacheLine: true });

/**
 * One entry of a CPU's held-lock stack (the robust list and lockdep's held_locks): the lock word + 1
 * (0: an empty slot, which every slot above the top is; a timed hold carries a flag bit) and one info
 * word packing class, mode and flags (both encodings in locks/domain.ts), so that recording an
 * acquisition, the hottest path of every lock, writes two words and releasing one reads and writes one.
 */
export const HELD_LOCK = defineStruct('held_lock', ['lock', 'info']);

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
// The deterministic scheduler (sched/scheduler.ts): one run token passed between simulated CPUs.
// Only the token holder writes SCHED (except the fail words, claimed with a compareExchange), so
// its words need no read-modify-write atomics; Atomics.store/load on the token orders them.

/** Decisions kept in the trace ring unless the config says otherwise. */
export const DEFAULT_SCHED_TRACE_ENTRIES = 256;
/** PCT depth bound: d - 1 change points live in the sched_pct region. */
export const SCHED_MAX_PCT_DEPTH = 16;

export const SCHED = defineStruct(
  'sched',
  [
    'state', // SCHED_IDLE / SCHED_RUNNING / SCHED_DONE / SCHED_FAILED
    'token', // CPU allowed to run, or -1
    'step', // decisions taken; the last one is step
    'rng', // xorshift32 state (token holder only)
    'seed',
    'strategy', // STRATEGY_RANDOM / STRATEGY_PCT
    'pctDepth',
    'pctStepEstimate',
    'pctNextChange', // index of the next unused change point in sched_pct
    'registered',
    'active', // registered CPUs that have not finished
    'parked', // CPUs waiting in enter() for their first turn
    'idleRounds', // consecutive rounds in which every active CPU waited
    'hash', // FNV-1a over every decision
    'maxSteps',
    'maxIdleRounds',
    'tokenWaitMs',
    'failCpu', // -1, or the CPU that stopped the run (claimed with compareExchange)
    'failReason',
    'failStep',
  ],
  { cacheLine: true },
);

/** Per CPU; turn is bumped (and notified) by whoever hands this CPU the token. */
export const SCHED_CPU = defineStruct('sched_cpu', ['active', 'waiting', 'priority', 'parked', 'turn'], {
  cacheLine: true,
});

/** One scheduling decision in the trace ring. */
export const SCHED_DECISION = defineStruct('sched_decision', ['step', 'from', 'to', 'point', 'lock']);

export interface SchedConfig {
  cpus: number;
  /** Entries of the trace ring (the last decisions kept for replay reports). */
  traceEntries: number;
}

export interface SchedRegions {
  sched: Region;
  schedCpus: Region;
  /** PCT change points (step numbers), SCHED_MAX_PCT_DEPTH words. */
  schedPct: Region;
  schedTrace: Region;
}

export function schedRegions(b: LayoutBuilder, cfg: SchedConfig): SchedRegions {
  if (!Number.isInteger(cfg.traceEntries) || cfg.traceEntries < 1)
    throw new Error(`layout: bad sched trace size ${cfg.traceEntries}`);
  return {
    sched: b.records('sched', SCHED, 1),
    schedCpus: b.records('sched_cpus', SCHED_CPU, cfg.cpus),
    schedPct: b.region('sched_pct', SCHED_MAX_PCT_DEPTH * WORD_BYTES, { cacheLine: false }),
    schedTrace: b.records('sched_trace', SCHED_DECISION, cfg.traceEntries, { cacheLine: false }),
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

// ---------------------------------------------------------------------------------------------
// The machine.

/**
 * The machine's memory is one shared WebAssembly.Memory (its buffer is the SharedArrayBuffer), sized
 * in 64 KiB WebAssembly pages; a 32-bit memory holds at most 65536 of them, 4 GiB.
 */
export const WASM_PAGE_BYTES = 64 * 1024;
export const MAX_WASM_PAGES = 65536;
export const MAX_MACHINE_BYTES = MAX_WASM_PAGES * WASM_PAGE_BYTES;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** PTEs covered by one split page-table lock (one 4 KiB page-table page of 8-byte PTEs). */
export const PTES_PER_PTL = 512;

/** struct page: one per physical frame (32 bytes). */
export const PAGE = defineStruct('page', [
  'flags', // PG_* (mm/page_alloc.ts)
  'anonVma', // the anon_vma (mm/rmap.ts) whose mms may map it (page->mapping), else -1
  'vpn', // virtual page number it is mapped at (every mapping of a COW-shared page uses the same)
  'next', // free list / per-CPU list / LRU link (frame numbers)
  'prev', // LRU back link
  'gen', // bumped on every free: TLB entries remember it, debug mode checks it on every access
  'mapcount', // PTEs mapping it (page_mapcount); changed with atomics under the mapping PTE's PTL
  'refcount', // one per mapping plus transient pins (page_count); the frame is freed at 0
]);

/**
 * An anon_vma (mm/rmap.ts): the family of mms that may map one another's anonymous pages (a
 * process and everything forked from it). Its lock is in anonVmaLocks, indexed alike.
 */
export const ANON_VMA = defineStruct('anon_vma', [
  'members', // mms linked on it; the record is free at 0
  'head', // first member mm (linked through MM.anonVmaNext), or -1
]);

/** Machine-wide control words. */
export const CONTROL = defineStruct('control', ['pidNext', 'lastPid'], { cacheLine: true });

/**
 * The one zone: its free frames. nrFree is read lock-free by every allocation. The watermarks are
 * in the config (config.watermarks), which every thread has.
 */
export const ZONE = defineStruct('zone', ['freeHead', 'nrFree'], { cacheLine: true });

/** kswapd's wake word (allocators set it; kswapd sleeps on it) and its progress. */
export const KSWAPD = defineStruct('kswapd', ['wake', 'running', 'stop', 'vmaScanCursor'], {
  cacheLine: true,
});

/** Per CPU, written by other CPUs: the TLB-shootdown handshake (mm/tlb.ts). */
export const CPU_SHOOTDOWN = defineStruct('cpu_shootdown', ['activeMm', 'flushReq', 'flushAck'], {
  cacheLine: true,
});

/** Per CPU, private to it (others read it only while the CPU is paused, for validation). */
export const CPU_PRIVATE = defineStruct(
  'cpu_private',
  ['tlbMm', 'tlbGenSeen', 'pcpCount', 'pcpHead', 'paused'],
  { cacheLine: true },
);

/** One TLB entry: the virtual page it maps (-1: invalid), the PTE it cached, the frame's gen. */
export const TLB_ENTRY = defineStruct('tlb_entry', ['vpn', 'pte', 'gen']);

/** An address space (mm_struct). */
export const MM = defineStruct(
  'mm',
  [
    'state', // MM_FREE / MM_LIVE / MM_EXITING
    'pid',
    'vmaCount',
    'vrangeRoot', // interval tree of volatile ranges (mm/vrange.ts)
    'vrangeFreeHead', // this mm's slice of the vrange node pool
    'vrangeCount',
    'volatileVmas', // VM_VOLATILE vmas (the vma policy), read by reclaim
    'anonVma', // its anon_vma (mm/rmap.ts), or -1 while the slot is free
    'anonVmaNext', // next member of that anon_vma, or -1
  ],
  { cacheLine: true },
);

/** Per mm, on its own line: bumped by every flusher, read at every entry to user mode. */
export const MM_TLB = defineStruct('mm_tlb', ['tlbGen'], { cacheLine: true });

/** A VMA in an mm's table, which is kept sorted by start. Pages, end exclusive. */
export const VMA = defineStruct('vma', ['start', 'end', 'flags', 'unused']);

/** An LRU list head (the vrange victim LRU, the anon and lazyfree page LRUs). */
export const LRU = defineStruct('lru', ['head', 'tail', 'count'], { cacheLine: true });

/** Pages a per-CPU LRU batch holds before it is moved onto the LRU (Linux's folio_batch, 15). */
export const LRU_BATCH_SIZE = 15;

/**
 * A CPU's lru_add batch (mm/swap.c cpu_fbatches.lru_add): new anonymous pages waiting to be moved
 * onto the anon LRU under the LRU lock, each holding a page reference. Written by its CPU only;
 * others read it while the machine is quiescent (validation). Frames in page0 .. page0 + nr - 1.
 */
export const LRU_BATCH = defineStruct(
  'lru_batch',
  [
    'nr',
    'page0',
    'page1',
    'page2',
    'page3',
    'page4',
    'page5',
    'page6',
    'page7',
    'page8',
    'page9',
    'page10',
    'page11',
    'page12',
    'page13',
    'page14',
  ],
  { cacheLine: true },
);
if (LRU_BATCH.STRIDE - LRU_BATCH.page0 < LRU_BATCH_SIZE) throw new Error('layout: lru_batch too small');

export interface MachineGeometry {
  /** CPU slots: user CPUs then kswapd's. */
  cpuSlots: number;
  frames: number;
  maxProcesses: number;
  vaPages: number;
  maxVmasPerMm: number;
  vrangeNodesPerMm: number;
  tlbEntries: number;
  classCount: number;
  lockdepTextBytes: number;
  vmstatItems: number;
  /** Deterministic scheduler trace ring entries (DEFAULT_SCHED_TRACE_ENTRIES when absent). */
  schedTraceEntries?: number;
}

export interface MachineLayout extends LockDomainRegions, SchedRegions {
  /** The machine memory's size: the regions' end rounded up to whole WebAssembly pages. */
  byteLength: number;
  control: Region;
  zone: Region;
  zoneLock: Region;
  kswapd: Region;
  vrangeLru: Region;
  vrangeLruLock: Region;
  anonLru: Region;
  lazyfreeLru: Region;
  lruLock: Region;
  lruBatches: Region;
  cpuShootdown: Region;
  cpuPrivate: Region;
  pcpLocks: Region;
  tlb: Region;
  vmstat: Region;
  rss: Region;
  mms: Region;
  mmTlb: Region;
  mmapSems: Region;
  vrangeLocks: Region;
  anonVmas: Region;
  anonVmaLocks: Region;
  vmas: Region;
  vrangeNodes: Region;
  ptls: Region;
  ptes: Region;
  pages: Region;
  frames: Region;
}

export function planMachine(g: MachineGeometry): MachineLayout {
  const b = new LayoutBuilder();
  const domain = lockDomainRegions(b, {
    cpus: g.cpuSlots,
    classCount: g.classCount,
    lockdepTextBytes: g.lockdepTextBytes,
  });
  const sched = schedRegions(b, {
    cpus: g.cpuSlots,
    traceEntries: g.schedTraceEntries ?? DEFAULT_SCHED_TRACE_ENTRIES,
  });
  const ptlsPerMm = Math.ceil(g.vaPages / PTES_PER_PTL);
  const layout: Omit<MachineLayout, 'byteLength'> = {
    ...domain,
    ...sched,
    control: b.records('control', CONTROL, 1),
    zone: b.records('zone', ZONE, 1),
    zoneLock: b.records('zone_lock', SPINLOCK, 1),
    kswapd: b.records('kswapd', KSWAPD, 1),
    vrangeLru: b.records('vrange_lru', LRU, 1),
    vrangeLruLock: b.records('vrange_lru_lock', SPINLOCK, 1),
    // The page LRU (one lruvec): anon pages, and lazily freed ones (Linux's inactive file list),
    // both under the one lru_lock; the per-CPU batches in front of it.
    anonLru: b.records('anon_lru', LRU, 1),
    lazyfreeLru: b.records('lazyfree_lru', LRU, 1),
    lruLock: b.records('lru_lock', SPINLOCK, 1),
    lruBatches: b.records('lru_batches', LRU_BATCH, g.cpuSlots),
    cpuShootdown: b.records('cpu_shootdown', CPU_SHOOTDOWN, g.cpuSlots),
    cpuPrivate: b.records('cpu_private', CPU_PRIVATE, g.cpuSlots),
    pcpLocks: b.records('pcp_locks', SPINLOCK, g.cpuSlots),
    tlb: b.records('tlb', TLB_ENTRY, g.cpuSlots * g.tlbEntries),
    // Per-CPU event counters (Float64), as Linux's vm_event_states: a CPU adds to its own without atomics.
    vmstat: b.region('vmstat', g.cpuSlots * g.vmstatItems * 8),
    // Per-CPU RSS deltas per mm: VmRSS is their sum (split RSS counting).
    rss: b.region('rss', g.cpuSlots * g.maxProcesses * WORD_BYTES),
    mms: b.records('mms', MM, g.maxProcesses),
    mmTlb: b.records('mm_tlb', MM_TLB, g.maxProcesses),
    mmapSems: b.records('mmap_sems', RWSEM, g.maxProcesses),
    vrangeLocks: b.records('vrange_locks', MUTEX, g.maxProcesses),
    // One anon_vma per mm at most (each live mm belongs to exactly one), so maxProcesses of them.
    anonVmas: b.records('anon_vmas', ANON_VMA, g.maxProcesses, { cacheLine: false }),
    anonVmaLocks: b.records('anon_vma_locks', MUTEX, g.maxProcesses),
    vmas: b.records('vmas', VMA, g.maxProcesses * g.maxVmasPerMm, { cacheLine: false }),
    vrangeNodes: b.records('vrange_nodes', VRANGE_NODE, g.maxProcesses * g.vrangeNodesPerMm, {
      cacheLine: false,
    }),
    ptls: b.records('ptls', SPINLOCK, g.maxProcesses * ptlsPerMm),
    ptes: b.region('ptes', g.maxProcesses * g.vaPages * WORD_BYTES),
    pages: b.records('pages', PAGE, g.frames, { cacheLine: false }),
    frames: b.region('frames', g.frames * PAGE_SIZE, { align: PAGE_SIZE }),
  };
  const regionsEnd = b.finish().byteLength;
  return { ...layout, byteLength: Math.ceil(regionsEnd / WASM_PAGE_BYTES) * WASM_PAGE_BYTES };
}

// ---------------------------------------------------------------------------------------------
// The lock lab: a lock domain plus a pool of lock records, for the lock library's own tests and
// benchmarks.

export const LAB_LOCK_STRIDE_WORDS = Math.max(MUTEX.STRIDE, SPINLOCK.STRIDE, RWSEM.STRIDE);

export interface LockLabLayout extends LockDomainRegions, SchedRegions {
  byteLength: number;
  locks: Region;
  /** Plain words the tests use as data protected by the locks, each on its own line. */
  data: Region;
}

export function planLockLab(
  cfg: LockDomainConfig & { lockCount: number; dataWords: number; schedTraceEntries?: number },
): LockLabLayout {
  const b = new LayoutBuilder();
  const domain = lockDomainRegions(b, cfg);
  const sched = schedRegions(b, {
    cpus: cfg.cpus,
    traceEntries: cfg.schedTraceEntries ?? DEFAULT_SCHED_TRACE_ENTRIES,
  });
  const locks = b.region('locks', cfg.lockCount * LAB_LOCK_STRIDE_WORDS * WORD_BYTES);
  const data = b.region('data', cfg.dataWords * WORD_BYTES);
  const { byteLength } = b.finish();
  return { ...domain, ...sched, locks, data, byteLength };
}

export function wordIndex(region: Region): number {
  if (region.byteOffset % WORD_BYTES !== 0) throw new Error(`${region.name}: not word aligned`);
  return region.byteOffset / WORD_BYTES;
}

export function doubleIndex(region: Region): number {
  if (region.byteOffset % 8 !== 0) throw new Error(`${region.name}: not 8-byte aligned`);
  return region.byteOffset / 8;
}
