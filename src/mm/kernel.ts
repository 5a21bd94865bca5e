// The kernel's view of the machine: one shared WebAssembly.Memory whose buffer (a SharedArrayBuffer)
// holds physical memory and every kernel structure, and the views any thread (main or worker)
// rebuilds from it to act as its CPUs, with its own instance of the byte primitives (src/arch) over it.
//
// Kernel.create(config) allocates and initialises the memory, once; Kernel.attach(handle) gives a
// worker the same views over the same memory. Nothing shared is allocated afterwards. Every other
// kernel module takes a Kernel and asks it for the word index of what it needs.

import { type Arch, createArch } from '../arch/index.js';
import type { HwCharges } from '../hw/profile.js';
import {
  ANON_VMA,
  CPU_PRIVATE,
  CPU_SHOOTDOWN,
  doubleIndex,
  LRU,
  LRU_BATCH,
  MAX_MACHINE_BYTES,
  type MachineGeometry,
  type MachineLayout,
  MM,
  MM_TLB,
  MUTEX,
  NIL,
  PAGE,
  PAGE_SIZE,
  PTES_PER_PTL,
  planMachine,
  RWSEM,
  SPINLOCK,
  TLB_ENTRY,
  VMA,
  VRANGE_NODE,
  WASM_PAGE_BYTES,
  wordIndex,
  ZONE,
} from '../layout/layout.js';
import {
  KERNEL_LOCK_CLASSES,
  LockClassTable,
  LockDomain,
  Mutex,
  RwSemaphore,
  Spinlock,
} from '../locks/index.js';
import { type MachineConfig, type MachineConfigInput, resolveConfig } from './config.js';
import { LruList } from './lru.js';
import { PG_FREE } from './mm_types.js';
import { VMSTAT_ITEMS } from './vmstat.js';

export const MM_FREE = 0;
export const MM_LIVE = 1;
export const MM_EXITING = 2;

/** Value of a CPU's activeMm / tlbMm when it runs no user code / holds no translations. */
export const NO_MM = -1;

/**
 * What a worker needs to attach to a machine: the memory (a shared WebAssembly.Memory posts to a
 * worker as the same memory, so the worker can instantiate the byte primitives over it) and the
 * resolved config.
 */
export interface MachineHandle {
  memory: WebAssembly.Memory;
  config: MachineConfig;
}

export class Kernel {
  readonly config: MachineConfig;
  readonly memory: WebAssembly.Memory;
  /** The memory's buffer: the design's single SharedArrayBuffer. */
  readonly buffer: SharedArrayBuffer;
  readonly layout: MachineLayout;
  readonly geometry: MachineGeometry;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** Physical memory, byte-addressed: frame f starts at f * PAGE_SIZE. */
  readonly frames: Uint8Array;
  /** Physical memory as 32-bit words (aligned loads and stores). */
  readonly frameWords: Int32Array;
  /** The byte primitives on physical memory (config.arch: WebAssembly or TypedArray). */
  readonly arch: Arch;
  /** ns each hardware event spends (config.hw); hwCharged is false under profile none. */
  readonly hw: HwCharges;
  readonly hwCharged: boolean;
  readonly dom: LockDomain;
  readonly classes: LockClassTable;

  // Word (or Float64) indices of the regions, derived from the layout once.
  readonly control: number;
  readonly zone: number;
  readonly kswapd: number;
  readonly vrangeLru: number;
  readonly anonLru: number;
  readonly lazyfreeLru: number;
  readonly lruBatchBase: number;
  readonly shootBase: number;
  readonly privBase: number;
  readonly tlbBase: number;
  readonly vmstatBase: number;
  readonly rssBase: number;
  readonly mmBase: number;
  readonly mmTlbBase: number;
  readonly vmaBase: number;
  readonly vrangeNodeBase: number;
  readonly anonVmaBase: number;
  readonly pteBase: number;
  readonly pageBase: number;
  readonly ptlsPerMm: number;

  /** The vrange victim LRU (links in vrange nodes), under vrangeLruLock. */
  readonly vrangeLruList: LruList;
  /** The anon page LRU (links in struct page), under lruLock. */
  readonly anonLruList: LruList;
  /** The lazyfree page LRU (links in struct page), under lruLock. */
  readonly lazyfreeLruList: LruList;

  readonly zoneLock: Spinlock;
  readonly vrangeLruLock: Spinlock;
  /** The lruvec's lru_lock: both page LRUs. */
  readonly lruLock: Spinlock;
  readonly pcpLocks: Spinlock[];
  readonly mmapSems: RwSemaphore[];
  readonly vrangeLocks: Mutex[];
  /** Locks of the anon_vma records (mm/rmap.ts), indexed alike. */
  readonly anonVmaLocks: Mutex[];
  private readonly ptlCache: (Spinlock | undefined)[];
  private readonly ptlFirst: number;
  private readonly ptlClass: number;

  private constructor(handle: MachineHandle) {
    const config = handle.config;
    this.config = config;
    this.memory = handle.memory;
    const buffer: ArrayBuffer | SharedArrayBuffer = handle.memory.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) throw new Error('machine: its memory must be shared');
    this.buffer = buffer;
    this.classes = new LockClassTable(KERNEL_LOCK_CLASSES);
    this.geometry = machineGeometry(config);
    this.layout = planMachine(this.geometry);
    // Both are whole WebAssembly pages: the layout rounds its size up to them.
    if (this.buffer.byteLength !== this.layout.byteLength) {
      throw new Error(
        `machine: memory is ${this.buffer.byteLength} bytes, its config needs ${this.layout.byteLength}`,
      );
    }
    const L = this.layout;
    this.i32 = new Int32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer, 0, this.buffer.byteLength / 8);
    this.frames = new Uint8Array(this.buffer, L.frames.byteOffset, L.frames.byteLength);
    this.frameWords = new Int32Array(this.buffer, L.frames.byteOffset, L.frames.byteLength / 4);
    this.arch = createArch(config.arch, this.memory, this.frames);
    this.hw = config.hw.charges;
    this.hwCharged = Object.values(this.hw).some((ns) => ns > 0);
    this.dom = new LockDomain(this.buffer, L, this.classes, config.locks, this.geometry.cpuSlots);

    this.control = wordIndex(L.control);
    this.zone = wordIndex(L.zone);
    this.kswapd = wordIndex(L.kswapd);
    this.vrangeLru = wordIndex(L.vrangeLru);
    this.anonLru = wordIndex(L.anonLru);
    this.lazyfreeLru = wordIndex(L.lazyfreeLru);
    this.lruBatchBase = wordIndex(L.lruBatches);
    this.shootBase = wordIndex(L.cpuShootdown);
    this.privBase = wordIndex(L.cpuPrivate);
    this.tlbBase = wordIndex(L.tlb);
    this.vmstatBase = doubleIndex(L.vmstat);
    this.rssBase = wordIndex(L.rss);
    this.mmBase = wordIndex(L.mms);
    this.mmTlbBase = wordIndex(L.mmTlb);
    this.vmaBase = wordIndex(L.vmas);
    this.vrangeNodeBase = wordIndex(L.vrangeNodes);
    this.anonVmaBase = wordIndex(L.anonVmas);
    this.pteBase = wordIndex(L.ptes);
    this.pageBase = wordIndex(L.pages);
    this.ptlsPerMm = Math.ceil(this.geometry.vaPages / PTES_PER_PTL);
    this.vrangeLruList = new LruList(
      this.i32,
      this.vrangeLru,
      this.vrangeNodeBase,
      VRANGE_NODE.STRIDE,
      VRANGE_NODE.lruNext,
      VRANGE_NODE.lruPrev,
    );
    this.anonLruList = new LruList(this.i32, this.anonLru, this.pageBase, PAGE.STRIDE, PAGE.next, PAGE.prev);
    this.lazyfreeLruList = new LruList(
      this.i32,
      this.lazyfreeLru,
      this.pageBase,
      PAGE.STRIDE,
      PAGE.next,
      PAGE.prev,
    );

    const cls = (name: string) => this.classes.id(name);
    this.zoneLock = new Spinlock(this.dom, wordIndex(L.zoneLock), cls('zone_lock'));
    this.vrangeLruLock = new Spinlock(this.dom, wordIndex(L.vrangeLruLock), cls('vrange_lru_lock'));
    this.lruLock = new Spinlock(this.dom, wordIndex(L.lruLock), cls('lru_lock'));
    const pcpFirst = wordIndex(L.pcpLocks);
    this.pcpLocks = Array.from(
      { length: this.geometry.cpuSlots },
      (_, cpu) => new Spinlock(this.dom, pcpFirst + cpu * SPINLOCK.STRIDE, cls('pcp_lock')),
    );
    const semFirst = wordIndex(L.mmapSems);
    const mutexFirst = wordIndex(L.vrangeLocks);
    this.mmapSems = Array.from(
      { length: config.maxProcesses },
      (_, mm) => new RwSemaphore(this.dom, semFirst + mm * RWSEM.STRIDE, cls('mmap_sem')),
    );
    this.vrangeLocks = Array.from(
      { length: config.maxProcesses },
      (_, mm) => new Mutex(this.dom, mutexFirst + mm * MUTEX.STRIDE, cls('vrange_lock')),
    );
    const anonVmaLockFirst = wordIndex(L.anonVmaLocks);
    this.anonVmaLocks = Array.from(
      { length: config.maxProcesses },
      (_, av) => new Mutex(this.dom, anonVmaLockFirst + av * MUTEX.STRIDE, cls('anon_vma_lock')),
    );
    this.ptlFirst = wordIndex(L.ptls);
    this.ptlClass = cls('ptl');
    this.ptlCache = new Array(config.maxProcesses * this.ptlsPerMm);
  }

  static create(input: MachineConfigInput = {}): Kernel {
    const config = resolveConfig(input);
    const { byteLength, frames } = planMachine(machineGeometry(config));
    if (byteLength > MAX_MACHINE_BYTES) {
      const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
      throw new RangeError(
        `machine config: the machine needs ${mib(byteLength)} (${mib(frames.byteLength)} of RAM, ` +
          `${mib(byteLength - frames.byteLength)} of page tables and other kernel data for ` +
          `${config.maxProcesses} processes of ${config.vaMiB} MiB VA), more than the ` +
          `${mib(MAX_MACHINE_BYTES)} a shared WebAssembly memory holds: lower memoryMiB, maxProcesses or vaMiB`,
      );
    }
    const pages = byteLength / WASM_PAGE_BYTES;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
    const k = new Kernel({ memory, config });
    initKernel(k);
    return k;
  }

  static attach(handle: MachineHandle): Kernel {
    return new Kernel(handle);
  }

  get handle(): MachineHandle {
    return { memory: this.memory, config: this.config };
  }

  // ----- words of the shared structures -----------------------------------------------------------

  mmWord(mm: number, field: number): number {
    return this.mmBase + mm * MM.STRIDE + field;
  }

  tlbGenWord(mm: number): number {
    return this.mmTlbBase + mm * MM_TLB.STRIDE + MM_TLB.tlbGen;
  }

  shootWord(cpu: number, field: number): number {
    return this.shootBase + cpu * CPU_SHOOTDOWN.STRIDE + field;
  }

  /** A word of CPU cpu's lru_add batch (LRU_BATCH). */
  lruBatchWord(cpu: number, field: number): number {
    return this.lruBatchBase + cpu * LRU_BATCH.STRIDE + field;
  }

  privWord(cpu: number, field: number): number {
    return this.privBase + cpu * CPU_PRIVATE.STRIDE + field;
  }

  tlbWord(cpu: number, slot: number, field: number): number {
    return this.tlbBase + (cpu * this.geometry.tlbEntries + slot) * TLB_ENTRY.STRIDE + field;
  }

  pteWord(mm: number, vpn: number): number {
    return this.pteBase + mm * this.geometry.vaPages + vpn;
  }

  pageWord(frame: number, field: number): number {
    return this.pageBase + frame * PAGE.STRIDE + field;
  }

  anonVmaWord(anonVma: number, field: number): number {
    return this.anonVmaBase + anonVma * ANON_VMA.STRIDE + field;
  }

  vmaWord(mm: number, index: number, field: number): number {
    return this.vmaBase + (mm * this.config.maxVmasPerMm + index) * VMA.STRIDE + field;
  }

  controlWord(field: number): number {
    return this.control + field;
  }

  zoneWord(field: number): number {
    return this.zone + field;
  }

  kswapdWord(field: number): number {
    return this.kswapd + field;
  }

  rssWord(cpu: number, mm: number): number {
    return this.rssBase + cpu * this.config.maxProcesses + mm;
  }

  vmstatIndex(cpu: number, item: number): number {
    return this.vmstatBase + cpu * VMSTAT_ITEMS.length + item;
  }

  /** The split page-table lock covering vpn in mm. */
  ptl(mm: number, vpn: number): Spinlock {
    const index = mm * this.ptlsPerMm + Math.floor(vpn / PTES_PER_PTL);
    let lock = this.ptlCache[index];
    if (lock === undefined) {
      lock = new Spinlock(this.dom, this.ptlFirst + index * SPINLOCK.STRIDE, this.ptlClass);
      this.ptlCache[index] = lock;
    }
    return lock;
  }

  /** Byte offset of a frame in `frames`. */
  frameOffset(frame: number): number {
    return frame * PAGE_SIZE;
  }

  get kswapdCpu(): number {
    return this.config.cpus;
  }
}

export function machineGeometry(config: MachineConfig): MachineGeometry {
  return {
    cpuSlots: config.cpus + 1,
    frames: config.memoryMiB * 256,
    maxProcesses: config.maxProcesses,
    vaPages: config.vaMiB * 256,
    maxVmasPerMm: config.maxVmasPerMm,
    vrangeNodesPerMm: config.vrangeNodesPerMm,
    tlbEntries: config.tlbEntries,
    classCount: KERNEL_LOCK_CLASSES.length,
    lockdepTextBytes: config.lockdepTextBytes,
    vmstatItems: VMSTAT_ITEMS.length,
  };
}

/** Initialises a fresh buffer: every lock unlocked, every list empty, every frame free. */
function initKernel(k: Kernel): void {
  const m = k;
  const { i32, geometry: g } = m;
  for (const lock of [m.zoneLock, m.vrangeLruLock, m.lruLock, ...m.pcpLocks]) lock.init();
  for (let mm = 0; mm < g.maxProcesses; mm++) {
    m.mmapSems[mm].init();
    m.vrangeLocks[mm].init();
    m.anonVmaLocks[mm].init();
    i32[m.anonVmaWord(mm, ANON_VMA.head)] = NIL;
    i32[m.mmWord(mm, MM.anonVma)] = NIL;
    i32[m.mmWord(mm, MM.anonVmaNext)] = NIL;
    i32[m.mmWord(mm, MM.state)] = MM_FREE;
    i32[m.mmWord(mm, MM.vrangeRoot)] = NIL;
    i32[m.mmWord(mm, MM.vrangeFreeHead)] = NIL;
  }
  for (let p = 0; p < g.maxProcesses * m.ptlsPerMm; p++) {
    m.ptl(Math.floor(p / m.ptlsPerMm), (p % m.ptlsPerMm) * PTES_PER_PTL).init();
  }
  for (let cpu = 0; cpu < g.cpuSlots; cpu++) {
    i32[m.shootWord(cpu, CPU_SHOOTDOWN.activeMm)] = NO_MM;
    i32[m.privWord(cpu, CPU_PRIVATE.tlbMm)] = NO_MM;
    i32[m.privWord(cpu, CPU_PRIVATE.pcpHead)] = NIL;
    for (let slot = 0; slot < g.tlbEntries; slot++) i32[m.tlbWord(cpu, slot, TLB_ENTRY.vpn)] = -1;
  }
  for (const lru of [m.vrangeLru, m.anonLru, m.lazyfreeLru]) {
    i32[lru + LRU.head] = NIL;
    i32[lru + LRU.tail] = NIL;
  }
  // Every frame on the zone's free list, lowest first.
  for (let frame = 0; frame < g.frames; frame++) {
    i32[m.pageWord(frame, PAGE.flags)] = PG_FREE;
    i32[m.pageWord(frame, PAGE.anonVma)] = NIL;
    i32[m.pageWord(frame, PAGE.next)] = frame + 1 < g.frames ? frame + 1 : NIL;
    i32[m.pageWord(frame, PAGE.prev)] = NIL;
  }
  i32[m.zoneWord(ZONE.freeHead)] = g.frames > 0 ? 0 : NIL;
  i32[m.zoneWord(ZONE.nrFree)] = g.frames;
}
