// ebizzy (LTP's ebizzy 0.3) on the simulated machine: threads that each loop
//   pick a random chunk -> allocate a copy -> copy the chunk into it -> search a random key -> free it
// where one loop is one record and the result is records per second. The copy buffer comes from a
// jemalloc-like per-thread arena whose purge policy (dontneed, vma, vrange, madv_free, none) is the
// design under test. Fixed on purpose, and documented in docs/ebizzy.md:
//  - LTP's rand_num() does `*state *= 1103515245 + 12345` from state 0, so it always returns 0 and
//    every record copies chunk 0 and searches key 0. Here each thread has its own seeded LCG.
//  - LTP adds each thread's records to a global counter without a lock; here every thread counts
//    its own records and the controller sums them.
//  - LTP times the run with time(NULL) (one-second resolution); here the controller uses a monotonic
//    clock (performance.now()).
//
// A simulated CPU may run several ebizzy threads (ebizzy's default is 2 threads per CPU): it
// switches between them every SLICE_MS like a time-sharing scheduler.

import { Arena, LG_DIRTY_MULT_DEFAULT } from '../alloc/index.js';
import type { PurgePolicy } from '../alloc/purge.js';
import { PAGE_SIZE } from '../layout/layout.js';
import type { Machine } from '../mm/machine.js';
import type { Thread } from '../mm/thread.js';
import { PROT_READ } from '../mm/uapi.js';
import { bump, waitAtLeast } from '../workers/control.js';
import type { EbizzyOptions } from './ebizzy_options.js';

/** ebizzy's record_t is size_t: 8 bytes; keys fit the low 32 bits (little-endian). */
export const RECORD_BYTES = 8;
/** Time slice of a simulated CPU shared by several ebizzy threads (CFS-like, ms). */
export const SLICE_MS = 4;

/** Words of the run-control buffer shared by the controller and the CPUs. */
export const CONTROL = {
  ready: 0,
  go: 1,
  stop: 2,
  /** Records of thread i are published at PROGRESS + i (for progress reports only). */
  progress: 16,
} as const;

/** ebizzy's generator with LTP's bug fixed: state = state * 1103515245 + 12345 (mod 2^32). */
export class EbizzyRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** rand_num(max): (state / 65536) % max, as ebizzy computes it. */
  next(max: number): number {
    this.state = (Math.imul(this.state, 1103515245) + 12345) >>> 0;
    return Math.floor(this.state / 65536) % max;
  }
}

/** What the process's ebizzy main thread set up before the threads start. */
export interface EbizzyProcessSetup {
  /** Address of each chunk. */
  chunks: number[];
}

/**
 * The ebizzy main thread's set-up on the calling JS thread: allocate and fill the chunks (records
 * 0, 1, 2, ... so that the copy is sorted for bsearch), optionally mprotect the even ones (-p) or
 * leave one-page holes between them (-P).
 */
export function setupEbizzyProcess(
  t: Thread,
  options: EbizzyOptions,
  policy: PurgePolicy,
): EbizzyProcessSetup {
  const chunks: number[] = [];
  const records = options.chunkSize / RECORD_BYTES;
  const image = new Uint8Array(options.chunkSize);
  const view = new DataView(image.buffer);
  for (let r = 0; r < records; r++) view.setUint32(r * RECORD_BYTES, r, true);
  const arena =
    options.holes || options.alwaysMmap ? null : new Arena(t, { policy, lgDirtyMult: LG_DIRTY_MULT_DEFAULT });
  for (let i = 0; i < options.chunks; i++) {
    let addr: number;
    if (arena === null) {
      // Map the chunk with a trailing page, then unmap that page: a hole keeps VMAs from merging.
      const pages = Math.ceil(options.chunkSize / PAGE_SIZE) + (options.holes ? 1 : 0);
      addr = t.mmap(pages * PAGE_SIZE);
      if (addr < 0) throw new Error(`ebizzy set-up: mmap of a chunk failed (${addr})`);
      if (options.holes) t.munmap(addr + (pages - 1) * PAGE_SIZE, PAGE_SIZE);
    } else {
      addr = arena.malloc(options.chunkSize);
    }
    t.write(addr, image);
    if (options.mprotectEven && i % 2 === 0) {
      const start = addr - (addr % PAGE_SIZE);
      const ret = t.mprotect(
        start,
        Math.ceil((addr + options.chunkSize - start) / PAGE_SIZE) * PAGE_SIZE,
        PROT_READ,
      );
      if (ret !== 0) throw new Error(`ebizzy set-up: mprotect failed (${ret})`);
    }
    chunks.push(addr);
  }
  return { chunks };
}

export interface EbizzyThreadSpec {
  pid: number;
  chunks: number[];
  seed: number;
  /** Index of this thread in the run (progress word). */
  index: number;
}

export interface EbizzyCpuArgs {
  threads: EbizzyThreadSpec[];
  options: EbizzyOptions;
  policy: PurgePolicy;
  lgDirtyMult: number;
  control: Int32Array;
}

export interface EbizzyThreadResult {
  index: number;
  records: number;
}

/** One ebizzy thread: its arena, its generator, and the record loop. */
class EbizzyThread {
  readonly arena: Arena;
  readonly random: EbizzyRandom;
  records = 0;

  constructor(
    readonly t: Thread,
    readonly spec: EbizzyThreadSpec,
    readonly options: EbizzyOptions,
    policy: PurgePolicy,
    lgDirtyMult: number,
  ) {
    this.arena = new Arena(t, { policy, lgDirtyMult });
    this.random = new EbizzyRandom(spec.seed);
  }

  /** One record: search_mem's loop body. */
  record(): void {
    const { t, options, random } = this;
    const chunk = random.next(this.spec.chunks.length);
    const src = this.spec.chunks[chunk];
    let size = options.chunkSize;
    if (options.randomSize) size = (random.next(options.chunkSize / RECORD_BYTES) + 1) * RECORD_BYTES;
    const copy = options.alwaysMmap ? t.mmap(size) : this.arena.malloc(size);
    if (copy < 0) throw new Error(`ebizzy: mmap of the copy failed (${copy})`);
    if (options.touchOnly) {
      for (let at = copy; at < copy + size; at += PAGE_SIZE) t.store32(at - (at % 4), 1);
    } else {
      if (options.byteLoop) {
        t.inUser(() => {
          for (let at = 0; at < size; at += 4) t.store32(copy + at, t.load32(src + at));
        });
      } else {
        t.copy(copy, src, size);
      }
      const records = size / RECORD_BYTES;
      const key = random.next(records);
      const found = options.linearSearch
        ? linearSearch(t, copy, records, key)
        : binarySearch(t, copy, records, key);
      // As ebizzy: a key that is not found means memory corruption, and the run stops.
      if (found < 0)
        throw new Error(`ebizzy: couldn't find key ${key} in a copy of chunk ${chunk} (memory corruption)`);
    }
    if (options.alwaysMmap) t.munmap(copy, size);
    else this.arena.free(copy);
    this.records++;
  }
}

function binarySearch(t: Thread, base: number, records: number, key: number): number {
  return t.inUser(() => {
    let lo = 0;
    let hi = records - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const value = t.load32(base + mid * RECORD_BYTES);
      if (value === key) return mid;
      if (value < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  });
}

function linearSearch(t: Thread, base: number, records: number, key: number): number {
  return t.inUser(() => {
    for (let r = 0; r < records; r++) if (t.load32(base + r * RECORD_BYTES) === key) return r;
    return -1;
  });
}

/** Waits (bounded) until control[word] >= value. */
function waitControl(control: Int32Array, word: number, value: number, timeoutMs: number): void {
  if (!waitAtLeast(control, word, value, timeoutMs, 100))
    throw new Error(`ebizzy: timed out waiting for control word ${word}`);
}

/** Job: the ebizzy threads assigned to one CPU, time-shared, until the controller says stop. */
export function ebizzyCpu(machine: Machine, cpu: number, a: EbizzyCpuArgs): EbizzyThreadResult[] {
  const threads = a.threads.map(
    (spec) =>
      new EbizzyThread(machine.process(spec.pid).thread(cpu), spec, a.options, a.policy, a.lgDirtyMult),
  );
  const { control } = a;
  bump(control, CONTROL.ready);
  waitControl(control, CONTROL.go, 1, 60_000);
  let current = 0;
  while (Atomics.load(control, CONTROL.stop) === 0) {
    const thread = threads[current];
    const sliceEnd = performance.now() + SLICE_MS;
    do {
      thread.record();
    } while (threads.length > 1 && performance.now() < sliceEnd && Atomics.load(control, CONTROL.stop) === 0);
    control[CONTROL.progress + thread.spec.index] = thread.records;
    current = (current + 1) % threads.length;
  }
  // Every slice ends with its thread's progress write, so the words already hold the final counts.
  return threads.map((thread) => ({ index: thread.spec.index, records: thread.records }));
}
