// A jemalloc-3-like allocator for one simulated thread (a per-thread arena). Its metadata lives in
// JS objects — private to the thread, as a per-thread arena's is — and never in simulated memory:
// the allocator itself touches no simulated page, so it cannot fault on a volatile one. All the
// memory it hands out comes from t.mmap:
//   small (<= 3584 B)   regions of page runs, through the thread cache (bin.ts, tcache.ts);
//   large (<= 4072 KiB) page runs carved from 4 MiB chunks (runs.ts), purged by policy (purge.ts);
//   huge                their own mmap, munmap'ed on free.
//
//   const arena = new Arena(t, { policy: 'vrange' });
//   const p = arena.malloc(512 * 1024);
//   arena.free(p);
//
// One arena per thread, used by that thread only: no lock. A block is found from its address
// through one hash lookup of its page (jemalloc's chunk page map); every call is O(1) or
// O(log runs), plus O(pages) of the run it carves or frees.

import type { Thread } from '../mm/thread.js';
import { Bin, REGION_CACHED, REGION_FREE, REGION_LIVE, type RunSource, SmallRun } from './bin.js';
import {
  type Chunk,
  PG_ACTIVE,
  PG_DIRTY,
  PG_HEADER,
  PG_LAZY,
  PG_STATE_NAMES,
  PG_VOLATILE,
  PG_ZERO,
} from './chunk.js';
import { AllocationFailedError, InvalidPointerError } from './errors.js';
import { type PurgePolicy, purgeMechanism } from './purge.js';
import { RunAllocator } from './runs.js';
import {
  BINS,
  CHUNK_SIZE,
  hugeBytes,
  LARGE_MAX_BYTES,
  largePages,
  PAGE_SIZE,
  SMALL_MAX_BYTES,
  smallBinIndex,
} from './size_classes.js';
import { ArenaCounters, type ArenaStats } from './stats.js';
import { Tcache } from './tcache.js';

/** jemalloc 3's default: purge when dirty pages exceed 1/8 of the active ones. */
export const LG_DIRTY_MULT_DEFAULT = 3;
const LG_DIRTY_MULT_MAX = 30;

export interface ArenaOptions {
  policy: PurgePolicy;
  /** Purge when dirty > active >> lgDirtyMult; -1: purge all dirty pages on every free. Default 3. */
  lgDirtyMult?: number;
}

/** A large block: a page run of a chunk. */
class LargeRun {
  readonly kind = 'large';
  constructor(
    readonly chunk: Chunk,
    readonly first: number,
    readonly pages: number,
    readonly addr: number,
  ) {}
}

/** A huge block: a mapping of its own. */
class HugeMapping {
  readonly kind = 'huge';
  constructor(
    readonly addr: number,
    readonly bytes: number,
  ) {}
}

type Block = SmallRun | LargeRun | HugeMapping;

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Threads that have a live arena: one arena per thread. */
const threadsWithArena = new WeakSet<Thread>();

export class Arena implements RunSource {
  readonly policy: PurgePolicy;
  readonly lgDirtyMult: number;
  private readonly counters = new ArenaCounters();
  private readonly runs: RunAllocator;
  private readonly bins: Bin[];
  private readonly tcache: Tcache;
  /** Page number -> block: every page of a small run, the first page of a large or huge block. */
  private readonly pageMap = new Map<number, Block>();
  private readonly huge = new Set<HugeMapping>();
  private hugeBytesMapped = 0;
  private bytesAllocated = 0;
  private smallRuns = 0;
  private destroyed = false;

  constructor(
    readonly thread: Thread,
    options: ArenaOptions,
  ) {
    const lgDirtyMult = options.lgDirtyMult ?? LG_DIRTY_MULT_DEFAULT;
    if (!(Number.isInteger(lgDirtyMult) && lgDirtyMult >= -1 && lgDirtyMult <= LG_DIRTY_MULT_MAX)) {
      throw new RangeError(
        `arena: lgDirtyMult must be an integer from -1 to ${LG_DIRTY_MULT_MAX}, got ${lgDirtyMult}`,
      );
    }
    const mechanism = purgeMechanism(options.policy);
    if (threadsWithArena.has(thread)) {
      throw new Error(`arena: thread of pid ${thread.pid} on cpu ${thread.cpuId} already has an arena`);
    }
    threadsWithArena.add(thread);
    this.policy = options.policy;
    this.lgDirtyMult = lgDirtyMult;
    this.runs = new RunAllocator(thread, mechanism, lgDirtyMult, this.counters);
    this.bins = BINS.map((info) => new Bin(info, this));
    this.tcache = new Tcache(this.bins, this.counters);
  }

  /** The address of a block of at least `size` bytes (malloc(0) gives the smallest class). */
  malloc(size: number): number {
    this.assertLive('malloc');
    if (!(Number.isSafeInteger(size) && size >= 0)) {
      throw new RangeError(`malloc(${size}): the size must be a non-negative safe integer`);
    }
    if (size <= SMALL_MAX_BYTES) {
      const bin = smallBinIndex(size);
      const addr = this.tcache.alloc(bin);
      this.counters.mallocSmall++;
      this.bytesAllocated += BINS[bin].regionBytes;
      return addr;
    }
    if (size <= LARGE_MAX_BYTES) return this.mallocLarge(size);
    return this.mallocHuge(size);
  }

  /** Frees a block; throws InvalidPointerError for a double free or a pointer malloc did not return. */
  free(addr: number): void {
    const block = this.lookup('free', addr);
    switch (block.kind) {
      case 'small': {
        this.tcache.free(block, block.regionOf(addr));
        this.counters.freeSmall++;
        this.bytesAllocated -= block.bin.info.regionBytes;
        return;
      }
      case 'large': {
        this.pageMap.delete(block.chunk.basePage + block.first);
        this.counters.freeLarge++;
        this.bytesAllocated -= block.pages * PAGE_SIZE;
        this.runs.freeRun(block.chunk, block.first, block.pages);
        return;
      }
      case 'huge':
        this.freeHuge(block);
        return;
    }
  }

  /** Bytes usable at `addr` (the block's size class). */
  usableSize(addr: number): number {
    const block = this.lookup('usableSize', addr);
    switch (block.kind) {
      case 'small':
        return block.bin.info.regionBytes;
      case 'large':
        return block.pages * PAGE_SIZE;
      case 'huge':
        return block.bytes;
    }
  }

  /** Purges every dirty page now, whatever the threshold (mallctl "arena.<i>.purge"). */
  purge(): void {
    this.assertLive('purge');
    this.runs.purgeAll();
  }

  /** Gives every region of the thread cache back to its run (mallctl "thread.tcache.flush"). */
  flushTcache(): void {
    this.assertLive('flushTcache');
    this.tcache.flushAll();
  }

  /** Unmaps every chunk and huge mapping; every block is gone and the arena unusable. */
  destroy(): void {
    this.assertLive('destroy');
    const failures = this.runs.destroy();
    for (const mapping of this.huge) {
      const ret = this.thread.munmap(mapping.addr, mapping.bytes);
      this.counters.hugeMunmapCalls++;
      if (ret < 0) failures.push(`munmap(${hex(mapping.addr)}, ${mapping.bytes}) returned ${ret}`);
    }
    this.huge.clear();
    this.hugeBytesMapped = 0;
    this.pageMap.clear();
    this.bytesAllocated = 0;
    this.smallRuns = 0;
    this.destroyed = true;
    threadsWithArena.delete(this.thread);
    if (failures.length > 0)
      throw new Error(`arena: destroy could not unmap everything: ${failures.join('; ')}`);
  }

  stats(): ArenaStats {
    const c = this.counters;
    const pages = this.runs.statePages;
    return {
      policy: this.policy,
      lgDirtyMult: this.lgDirtyMult,
      chunksMapped: this.runs.chunks.size,
      chunkMmapCalls: c.chunkMmapCalls,
      chunkMunmapCalls: c.chunkMunmapCalls,
      hugeMapped: this.huge.size,
      hugeBytesMapped: this.hugeBytesMapped,
      hugeMmapCalls: c.hugeMmapCalls,
      hugeMunmapCalls: c.hugeMunmapCalls,
      bytesAllocated: this.bytesAllocated,
      bytesActive: pages[PG_ACTIVE] * PAGE_SIZE,
      bytesDirty: pages[PG_DIRTY] * PAGE_SIZE,
      bytesVolatile: pages[PG_VOLATILE] * PAGE_SIZE,
      bytesLazy: pages[PG_LAZY] * PAGE_SIZE,
      bytesZero: pages[PG_ZERO] * PAGE_SIZE,
      mallocSmall: c.mallocSmall,
      freeSmall: c.freeSmall,
      mallocLarge: c.mallocLarge,
      freeLarge: c.freeLarge,
      mallocHuge: c.mallocHuge,
      freeHuge: c.freeHuge,
      smallRuns: this.smallRuns,
      tcacheCached: this.tcache.cached,
      tcacheHits: c.tcacheHits,
      tcacheFills: c.tcacheFills,
      tcacheFlushes: c.tcacheFlushes,
      tcacheGcFlushes: c.tcacheGcFlushes,
      runsFromDirty: c.runsFromDirty,
      runsFromFree: c.runsFromFree,
      runsFromNewChunk: c.runsFromNewChunk,
      purgePasses: c.purgePasses,
      purgeCalls: c.purgeCalls,
      pagesPurged: c.pagesPurged,
      purgeErrors: c.purgeErrors,
      unmarkCalls: c.unmarkCalls,
      pagesUnmarked: c.pagesUnmarked,
      unmarkPurgedCalls: c.unmarkPurgedCalls,
      pagesReportedPurged: c.pagesReportedPurged,
      unmarkErrors: c.unmarkErrors,
    };
  }

  // RunSource: the bins' runs.

  newSmallRun(bin: Bin): SmallRun {
    const { chunk, first } = this.runs.allocRun(bin.info.runPages, bin.info.regionBytes);
    const run = new SmallRun(bin, chunk, first);
    for (let page = 0; page < bin.info.runPages; page++) this.pageMap.set(run.key + page, run);
    this.smallRuns++;
    return run;
  }

  releaseSmallRun(run: SmallRun): void {
    for (let page = 0; page < run.len; page++) this.pageMap.delete(run.key + page);
    this.smallRuns--;
    this.runs.freeRun(run.chunk, run.first, run.len);
  }

  private mallocLarge(size: number): number {
    const pages = largePages(size);
    const { chunk, first } = this.runs.allocRun(pages, size);
    const run = new LargeRun(chunk, first, pages, chunk.pageAddr(first));
    this.pageMap.set(chunk.basePage + first, run);
    this.counters.mallocLarge++;
    this.bytesAllocated += pages * PAGE_SIZE;
    return run.addr;
  }

  private mallocHuge(size: number): number {
    const bytes = hugeBytes(size);
    const addr = this.thread.mmap(bytes);
    this.counters.hugeMmapCalls++;
    if (addr < 0) {
      throw new AllocationFailedError(
        size,
        `mmap(${bytes}) of a huge block`,
        addr,
        'the simulated process is out of address space or VMA slots',
      );
    }
    const mapping = new HugeMapping(addr, bytes);
    this.pageMap.set(addr / PAGE_SIZE, mapping);
    this.huge.add(mapping);
    this.hugeBytesMapped += bytes;
    this.counters.mallocHuge++;
    this.bytesAllocated += bytes;
    return addr;
  }

  private freeHuge(mapping: HugeMapping): void {
    const ret = this.thread.munmap(mapping.addr, mapping.bytes);
    this.counters.hugeMunmapCalls++;
    if (ret < 0) {
      // Only a VMA split with a full VMA table can fail here; the block stays allocated.
      throw new Error(`free(${hex(mapping.addr)}): munmap of the huge block failed with ${ret}`);
    }
    this.pageMap.delete(mapping.addr / PAGE_SIZE);
    this.huge.delete(mapping);
    this.hugeBytesMapped -= mapping.bytes;
    this.counters.freeHuge++;
    this.bytesAllocated -= mapping.bytes;
  }

  private assertLive(operation: string): void {
    if (this.destroyed) throw new Error(`arena: ${operation} after destroy()`);
  }

  /** The live block starting at addr; throws InvalidPointerError otherwise. */
  private lookup(operation: 'free' | 'usableSize', addr: number): Block {
    if (this.destroyed)
      throw new InvalidPointerError(operation, addr, 'destroyed', 'the arena was destroyed');
    if (!(Number.isSafeInteger(addr) && addr > 0)) {
      throw new InvalidPointerError(
        operation,
        Number(addr) || 0,
        'not-allocated',
        `${addr} is not an address`,
      );
    }
    const block = this.pageMap.get(Math.floor(addr / PAGE_SIZE));
    if (block !== undefined) {
      if (block.kind === 'small') {
        const region = block.regionOf(addr);
        if (region >= 0 && block.regionState[region] === REGION_LIVE) return block;
      } else if (block.addr === addr) {
        return block;
      }
    }
    throw this.invalidPointer(operation, addr, block);
  }

  /** Says what is wrong with a pointer lookup() rejected (the slow path: it may scan). */
  private invalidPointer(
    operation: 'free' | 'usableSize',
    addr: number,
    block: Block | undefined,
  ): InvalidPointerError {
    const error = (reason: 'double-free' | 'interior' | 'not-allocated', detail: string) =>
      new InvalidPointerError(operation, addr, reason, detail);
    if (block?.kind === 'small') {
      const size = block.bin.info.regionBytes;
      const region = Math.floor((addr - block.addr) / size);
      if (region >= block.bin.info.regionCount) {
        return error('not-allocated', `points past the last ${size}-byte region of a small run (run tail)`);
      }
      if (block.regionAddr(region) !== addr) {
        const what = block.regionState[region] === REGION_LIVE ? 'live' : 'free';
        return error(
          'interior',
          `points into the middle of the ${what} ${size}-byte block at ${hex(block.regionAddr(region))}`,
        );
      }
      const where = block.regionState[region] === REGION_CACHED ? 'in the thread cache' : 'free in its run';
      if (block.regionState[region] !== REGION_FREE && block.regionState[region] !== REGION_CACHED) {
        throw new Error(`arena: region state ${block.regionState[region]} at ${hex(addr)}`);
      }
      const freed = `the ${size}-byte block was already freed (it is ${where})`;
      return error('double-free', operation === 'free' ? `double free: ${freed}` : freed);
    }
    if (block !== undefined) {
      const size = block.kind === 'large' ? block.pages * PAGE_SIZE : block.bytes;
      return error('interior', `points into the middle of the ${size}-byte block at ${hex(block.addr)}`);
    }
    for (const chunk of this.runs.chunks) {
      if (addr < chunk.addr || addr >= chunk.addr + CHUNK_SIZE) continue;
      let page = Math.floor((addr - chunk.addr) / PAGE_SIZE);
      const state = chunk.state[page];
      if (state === PG_HEADER)
        return error('not-allocated', `points into the header of the chunk at ${hex(chunk.addr)}`);
      if (state !== PG_ACTIVE) {
        const what = `its page is free (${PG_STATE_NAMES[state]}) in the arena`;
        return addr % PAGE_SIZE === 0
          ? error('double-free', `double free, or a block never allocated: ${what}`)
          : error('not-allocated', `no block here: ${what}`);
      }
      while (!this.pageMap.has(chunk.basePage + page)) page--;
      const start = this.pageMap.get(chunk.basePage + page) as LargeRun;
      return error(
        'interior',
        `points into the middle of the ${start.pages * PAGE_SIZE}-byte block at ${hex(start.addr)}`,
      );
    }
    for (const mapping of this.huge) {
      if (addr > mapping.addr && addr < mapping.addr + mapping.bytes) {
        return error(
          'interior',
          `points into the middle of the ${mapping.bytes}-byte block at ${hex(mapping.addr)}`,
        );
      }
    }
    return error(
      'not-allocated',
      'not a block of this arena (never allocated here, or a huge block already freed)',
    );
  }

  /** Whole-arena consistency check (tests, debug): throws on the first broken invariant. */
  validate(): void {
    this.assertLive('validate');
    this.runs.validate();
    const cached = new Set<string>();
    for (const tb of this.tcache.bins) {
      if (tb.count > tb.capacity)
        throw new Error(`arena: tcache bin ${tb.bin.info.index} holds ${tb.count} > ${tb.capacity}`);
      for (let i = 0; i < tb.count; i++) {
        const run = tb.runs[i];
        if (run.bin !== tb.bin || run.regionState[tb.regions[i]] !== REGION_CACHED) {
          throw new Error(
            `arena: tcache bin ${tb.bin.info.index} entry ${i} is not a cached region of its bin`,
          );
        }
        const key = `${run.key}:${tb.regions[i]}`;
        if (cached.has(key)) throw new Error(`arena: region ${key} is in the tcache twice`);
        cached.add(key);
      }
    }
    let allocated = 0;
    let activePages = 0;
    let smallRuns = 0;
    const seen = new Set<Block>();
    for (const [page, block] of this.pageMap) {
      if (seen.has(block)) continue;
      seen.add(block);
      if (block.kind === 'huge') {
        if (page !== block.addr / PAGE_SIZE || !this.huge.has(block))
          throw new Error(`arena: huge block ${hex(block.addr)} misfiled`);
        allocated += block.bytes;
        continue;
      }
      const pages = block.kind === 'small' ? block.len : block.pages;
      const firstKey = block.kind === 'small' ? block.key : block.chunk.basePage + block.first;
      if (block.kind === 'large' && page !== firstKey)
        throw new Error(`arena: large block ${hex(block.addr)} misfiled`);
      for (let p = block.first; p < block.first + pages; p++) {
        if (block.chunk.state[p] !== PG_ACTIVE)
          throw new Error(`arena: block ${hex(block.addr)} has page ${p} not active`);
        if (block.kind === 'small' && this.pageMap.get(block.chunk.basePage + p) !== block) {
          throw new Error(`arena: small run ${hex(block.addr)} page ${p} is not mapped to it`);
        }
      }
      if (!this.runs.chunks.has(block.chunk))
        throw new Error(`arena: block ${hex(block.addr)} in an unknown chunk`);
      activePages += pages;
      if (block.kind === 'large') {
        allocated += pages * PAGE_SIZE;
        continue;
      }
      smallRuns++;
      block.validate();
      const bin = block.bin;
      const onList = block.listed;
      if (onList !== (block !== bin.runcur && block.nfree > 0)) {
        throw new Error(
          `arena: small run ${hex(block.addr)} is ${onList ? '' : 'not '}on its bin's non-full list`,
        );
      }
      if (block.nfree === bin.info.regionCount)
        throw new Error(`arena: small run ${hex(block.addr)} is empty but kept`);
      for (let region = 0; region < bin.info.regionCount; region++) {
        const state = block.regionState[region];
        if (state === REGION_LIVE) allocated += bin.info.regionBytes;
        if ((state === REGION_CACHED) !== cached.has(`${block.key}:${region}`)) {
          throw new Error(
            `arena: region ${region} of run ${hex(block.addr)} cached state disagrees with the tcache`,
          );
        }
      }
    }
    if (this.huge.size !== [...seen].filter((b) => b.kind === 'huge').length)
      throw new Error('arena: huge set and page map disagree');
    if (allocated !== this.bytesAllocated)
      throw new Error(`arena: ${allocated} bytes live, counted ${this.bytesAllocated}`);
    if (activePages !== this.runs.activePages)
      throw new Error(`arena: ${activePages} active pages, counted ${this.runs.activePages}`);
    if (smallRuns !== this.smallRuns)
      throw new Error(`arena: ${smallRuns} small runs, counted ${this.smallRuns}`);
    for (const bin of this.bins) {
      bin.nonfull.validate(`arena: bin ${bin.info.index} non-full runs`);
      if (bin.runcur !== null && !seen.has(bin.runcur))
        throw new Error(`arena: bin ${bin.info.index} runcur is not a live run`);
    }
  }
}
