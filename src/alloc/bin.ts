// Small allocations (jemalloc 3's bins): each small size class has a bin; a bin's runs are page
// runs cut into equal regions, handed out lowest region first. The bin allocates from its current
// run (runcur), else from its lowest-addressed non-full run, else from a new run; a run whose
// regions are all free again goes back to the page runs at once (arena_dalloc_bin_run).
//
// A region is free (in its run), live (the user's), or cached (in the tcache: the run counts it as
// allocated, the user must not free it again): the state that lets free() catch a double free.

import { AddressTree, TreeNode } from './address_tree.js';
import type { Chunk } from './chunk.js';
import { type BinInfo, PAGE_SIZE } from './size_classes.js';

export const REGION_FREE = 0;
export const REGION_LIVE = 1;
export const REGION_CACHED = 2;

/** Set-first-unset bitmap over up to 1024 regions: 32 words of 32 bits and a summary word. */
class RegionBitmap {
  /** Bit set: region free. */
  private readonly words: Uint32Array;
  /** Bit w set: words[w] has a free region. */
  private summary = 0;

  constructor(regionCount: number) {
    const wordCount = Math.ceil(regionCount / 32);
    if (wordCount > 32) throw new Error(`bin: ${regionCount} regions do not fit a region bitmap`);
    this.words = new Uint32Array(wordCount).fill(0xffffffff);
    const tail = regionCount % 32;
    if (tail !== 0) this.words[wordCount - 1] = (1 << tail) - 1;
    this.summary = wordCount === 32 ? 0xffffffff : (1 << wordCount) - 1;
  }

  /** The lowest free region, now taken. Caller knows one is free. */
  takeFirst(): number {
    const word = 31 - Math.clz32(this.summary & -this.summary);
    const bits = this.words[word];
    const bit = 31 - Math.clz32(bits & -bits);
    const left = (bits & ~(1 << bit)) >>> 0;
    this.words[word] = left;
    if (left === 0) this.summary &= ~(1 << word);
    return word * 32 + bit;
  }

  release(region: number): void {
    const word = region >>> 5;
    this.words[word] |= 1 << (region & 31);
    this.summary |= 1 << word;
  }

  isFree(region: number): boolean {
    return (this.words[region >>> 5] & (1 << (region & 31))) !== 0;
  }
}

export class SmallRun extends TreeNode {
  readonly kind = 'small';
  readonly addr: number;
  nfree: number;
  private readonly bitmap: RegionBitmap;
  readonly regionState: Uint8Array;

  constructor(
    readonly bin: Bin,
    readonly chunk: Chunk,
    /** Index of the first page in the chunk. */
    readonly first: number,
  ) {
    super();
    this.key = chunk.basePage + first;
    this.len = bin.info.runPages;
    this.addr = chunk.addr + first * PAGE_SIZE;
    this.nfree = bin.info.regionCount;
    this.bitmap = new RegionBitmap(bin.info.regionCount);
    this.regionState = new Uint8Array(bin.info.regionCount);
  }

  /** The lowest free region, now cached (on its way to the tcache). Caller knows one is free. */
  take(): number {
    const region = this.bitmap.takeFirst();
    if (this.regionState[region] !== REGION_FREE) {
      throw new Error(
        `bin: region ${region} of run 0x${this.addr.toString(16)} was in the bitmap but not free`,
      );
    }
    this.regionState[region] = REGION_CACHED;
    this.nfree--;
    return region;
  }

  /** A cached region goes back to the run. */
  give(region: number): void {
    if (this.regionState[region] !== REGION_CACHED) {
      throw new Error(`bin: region ${region} of run 0x${this.addr.toString(16)} returned but not cached`);
    }
    this.regionState[region] = REGION_FREE;
    this.bitmap.release(region);
    this.nfree++;
  }

  /** Region index of a live or cached address, or -1 if the address is no region start. */
  regionOf(addr: number): number {
    const offset = addr - this.addr;
    const region = offset / this.bin.info.regionBytes;
    return Number.isInteger(region) && region >= 0 && region < this.bin.info.regionCount ? region : -1;
  }

  regionAddr(region: number): number {
    return this.addr + region * this.bin.info.regionBytes;
  }

  validate(): void {
    let free = 0;
    for (let region = 0; region < this.regionState.length; region++) {
      const isFree = this.regionState[region] === REGION_FREE;
      if (isFree !== this.bitmap.isFree(region)) {
        throw new Error(`bin: run 0x${this.addr.toString(16)} region ${region}: bitmap and state disagree`);
      }
      if (isFree) free++;
    }
    if (free !== this.nfree)
      throw new Error(`bin: run 0x${this.addr.toString(16)}: ${free} free, nfree ${this.nfree}`);
  }
}

/** Where a bin gets and returns its runs: the arena. */
export interface RunSource {
  newSmallRun(bin: Bin): SmallRun;
  releaseSmallRun(run: SmallRun): void;
}

export class Bin {
  runcur: SmallRun | null = null;
  /** Non-full runs other than runcur, lowest address first. */
  readonly nonfull = new AddressTree<SmallRun>();

  constructor(
    readonly info: BinInfo,
    private readonly source: RunSource,
  ) {}

  /** One region, now cached (jemalloc's arena_run_reg_alloc from arena_tcache_fill_small). */
  take(): [SmallRun, number] {
    let run = this.runcur;
    if (run === null || run.nfree === 0) {
      // runcur is full (it is on no list then) or gone: the lowest non-full run, or a new one.
      run = this.nonfull.first();
      if (run !== null) this.nonfull.remove(run);
      else run = this.source.newSmallRun(this);
      this.runcur = run;
    }
    return [run, run.take()];
  }

  /** A cached region goes back to its run (arena_dalloc_bin). */
  give(run: SmallRun, region: number): void {
    run.give(region);
    if (run.nfree === this.info.regionCount) {
      // Empty: dissociate it from the bin and give its pages back.
      if (run === this.runcur) this.runcur = null;
      else if (this.info.regionCount > 1) this.nonfull.remove(run);
      this.source.releaseSmallRun(run);
    } else if (run.nfree === 1 && run !== this.runcur) {
      this.lowerRun(run);
    }
  }

  /** A full run has a free region again: it becomes runcur if below it (arena_bin_lower_run). */
  private lowerRun(run: SmallRun): void {
    const runcur = this.runcur;
    if (runcur !== null && run.addr < runcur.addr) {
      if (runcur.nfree > 0) this.nonfull.insert(runcur);
      this.runcur = run;
    } else {
      this.nonfull.insert(run);
    }
  }
}
