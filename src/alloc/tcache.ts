// The thread cache (jemalloc 3's tcache for small classes): per bin a stack of recently freed
// regions, popped newest first, so that a malloc after a free of the same class reuses the same,
// cache-warm region without touching the bin. A miss fills half the stack from the bin; a free
// into a full stack flushes its older half back to the runs. An incremental GC visits one bin every
// few hundred events and flushes 3/4 of the regions that stayed unused (below the low-water mark)
// since its last visit, so idle classes give their regions back.

import { type Bin, REGION_CACHED, REGION_LIVE, type SmallRun } from './bin.js';
import { AllocationFailedError } from './errors.js';
import type { ArenaCounters } from './stats.js';

/** jemalloc's TCACHE_NSLOTS_SMALL_MAX: at most this many regions per bin (and at most 2 runs' worth). */
export const TCACHE_SLOTS_MAX = 200;
/** A GC pass covers every bin once per this many events. */
const TCACHE_GC_SWEEP = 8192;

export class TcacheBin {
  /** The stack, bottom (oldest) first: each cached region's run and index. */
  readonly runs: SmallRun[] = [];
  readonly regions: number[] = [];
  /** Fewest regions in the stack since the last GC visit. */
  lowWater = 0;
  readonly capacity: number;

  constructor(readonly bin: Bin) {
    this.capacity = Math.min(2 * bin.info.regionCount, TCACHE_SLOTS_MAX);
  }

  get count(): number {
    return this.regions.length;
  }
}

export class Tcache {
  readonly bins: TcacheBin[];
  private events = 0;
  private nextGcBin = 0;
  private readonly gcIncrement: number;

  constructor(
    bins: readonly Bin[],
    private readonly counters: ArenaCounters,
  ) {
    this.bins = bins.map((bin) => new TcacheBin(bin));
    this.gcIncrement = Math.ceil(TCACHE_GC_SWEEP / bins.length);
  }

  /** A region of bin `binIndex`, now live; its address. */
  alloc(binIndex: number): number {
    const tb = this.bins[binIndex];
    if (tb.regions.length === 0) {
      this.fill(tb);
      this.counters.tcacheFills++;
    } else {
      this.counters.tcacheHits++;
    }
    const run = tb.runs.pop()!;
    const region = tb.regions.pop()!;
    if (tb.regions.length < tb.lowWater) tb.lowWater = tb.regions.length;
    if (run.regionState[region] !== REGION_CACHED) {
      throw new Error(`tcache: region ${region} of run 0x${run.addr.toString(16)} was cached but is not`);
    }
    run.regionState[region] = REGION_LIVE;
    this.tick();
    return run.regionAddr(region);
  }

  /** A live region is freed into the cache. Caller checked that it is live. */
  free(run: SmallRun, region: number): void {
    const tb = this.bins[run.bin.info.index];
    run.regionState[region] = REGION_CACHED;
    if (tb.regions.length === tb.capacity) {
      this.flush(tb, tb.capacity >> 1);
      this.counters.tcacheFlushes++;
    }
    tb.runs.push(run);
    tb.regions.push(region);
    this.tick();
  }

  /** Gives every cached region back to its run (tcache_destroy). */
  flushAll(): void {
    for (const tb of this.bins) {
      if (tb.count > 0) this.flush(tb, tb.count);
      tb.lowWater = 0;
    }
  }

  /** Regions cached now. */
  get cached(): number {
    let count = 0;
    for (const tb of this.bins) count += tb.count;
    return count;
  }

  /** Half a stack from the bin, the lowest region on top (arena_tcache_fill_small). */
  private fill(tb: TcacheBin): void {
    const runs: SmallRun[] = [];
    const regions: number[] = [];
    const want = Math.max(tb.capacity >> 1, 1);
    try {
      for (let i = 0; i < want; i++) {
        const [run, region] = tb.bin.take();
        runs.push(run);
        regions.push(region);
      }
    } catch (error) {
      // Out of memory part-way: serve this malloc from what the fill got.
      if (!(error instanceof AllocationFailedError) || runs.length === 0) throw error;
    }
    for (let i = runs.length - 1; i >= 0; i--) {
      tb.runs.push(runs[i]);
      tb.regions.push(regions[i]);
    }
  }

  /** The `count` oldest cached regions go back to their runs. */
  private flush(tb: TcacheBin, count: number): void {
    for (let i = 0; i < count; i++) tb.bin.give(tb.runs[i], tb.regions[i]);
    tb.runs.splice(0, count);
    tb.regions.splice(0, count);
    if (tb.lowWater > tb.regions.length) tb.lowWater = tb.regions.length;
  }

  /** jemalloc's tcache_event: every gcIncrement events, GC the next bin. */
  private tick(): void {
    if (++this.events < this.gcIncrement) return;
    this.events = 0;
    const tb = this.bins[this.nextGcBin];
    this.nextGcBin = (this.nextGcBin + 1) % this.bins.length;
    if (tb.lowWater > 0) {
      this.flush(tb, tb.lowWater - (tb.lowWater >> 2));
      this.counters.tcacheGcFlushes++;
    }
    tb.lowWater = tb.count;
  }
}
