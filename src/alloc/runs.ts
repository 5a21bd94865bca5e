// Page runs (jemalloc 3's arena_run_alloc / arena_run_dalloc / arena_purge): chunks are carved into
// runs; a freed run's pages become dirty and coalesce with the free pages around them; dirty pages
// beyond active >> lg_dirty_mult are purged, oldest dirty span first, with the arena's policy.
//
// Free pages are tracked twice, both address-ordered and augmented with the longest run:
//  - free extents: maximal runs of free pages whatever their state (dirty, zero, lazy, volatile);
//  - dirty spans: maximal runs of dirty pages, also on a FIFO in the order they became dirty.
// A request takes the lowest-addressed dirty span that fits, else the lowest-addressed free extent
// that fits, else a new chunk; it is carved from the start of what it found, so any dirty span in
// the carved pages starts inside them. Volatile pages in the carved pages are unmarked first, on
// exactly those pages; a chunk's per-page states say which pages of a mixed extent are volatile.
//
// Cost per call: O(log runs) for the trees, plus O(pages carved) for the page states.

import type { Thread } from '../mm/thread.js';
import { AddressTree } from './address_tree.js';
import {
  Chunk,
  type ChunkPages,
  DirtySpan,
  FreeExtent,
  isFreeState,
  PG_ACTIVE,
  PG_DIRTY,
  PG_HEADER,
  PG_STATE_NAMES,
  PG_STATES,
  PG_VOLATILE,
} from './chunk.js';
import { AllocationFailedError } from './errors.js';
import type { PurgeMechanism } from './purge.js';
import {
  CHUNK_HEADER_PAGES,
  CHUNK_PAGES,
  CHUNK_SIZE,
  CHUNK_USABLE_PAGES,
  PAGE_SIZE,
} from './size_classes.js';
import type { ArenaCounters } from './stats.js';

export interface PageRun {
  readonly chunk: Chunk;
  /** Index of the run's first page in its chunk. */
  readonly first: number;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Takes a free extent or dirty span off its chunk's edge entries and out of its tree. */
function unlinkEdges<N extends ChunkPages>(
  node: N,
  byFirst: (N | undefined)[],
  byLast: (N | undefined)[],
  tree: AddressTree<N>,
  what: string,
): void {
  const { first, end } = node;
  if (byFirst[first] !== node || byLast[end - 1] !== node) {
    throw new Error(`runs: ${what} at page ${first} of chunk ${hex(node.chunk.addr)} is not at its edges`);
  }
  byFirst[first] = undefined;
  byLast[end - 1] = undefined;
  tree.remove(node);
}

export class RunAllocator {
  readonly chunks = new Set<Chunk>();
  /** Pages of chunks by state (PG_*). */
  readonly statePages = new Array<number>(PG_STATES).fill(0);
  private readonly avail = new AddressTree<FreeExtent>();
  private readonly dirty = new AddressTree<DirtySpan>();
  /** The purge FIFO: dirty spans from the oldest to the newest. */
  private oldest: DirtySpan | null = null;
  private newest: DirtySpan | null = null;
  /** One entirely free chunk is kept mapped (jemalloc's arena->spare); a second is unmapped. */
  private spare: Chunk | null = null;

  constructor(
    private readonly t: Thread,
    private readonly mechanism: PurgeMechanism,
    /** jemalloc's lg_dirty_mult; -1: purge every dirty page on every free. */
    readonly lgDirtyMult: number,
    private readonly counters: ArenaCounters,
  ) {}

  get activePages(): number {
    return this.statePages[PG_ACTIVE];
  }

  get dirtyPages(): number {
    return this.statePages[PG_DIRTY];
  }

  /** A run of `pages` pages; throws AllocationFailedError (arena unchanged) if the kernel says no. */
  allocRun(pages: number, requestBytes: number): PageRun {
    if (!(Number.isInteger(pages) && pages >= 1 && pages <= CHUNK_USABLE_PAGES)) {
      throw new Error(`runs: a run of ${pages} pages`);
    }
    let chunk: Chunk;
    let first: number;
    /** The free extent that starts at `first`, when it is what was found. */
    let extent: FreeExtent | null = null;
    const span = this.dirty.firstFit(pages);
    if (span !== null) {
      chunk = span.chunk;
      first = span.first;
      this.counters.runsFromDirty++;
    } else {
      extent = this.avail.firstFit(pages) ?? this.chunkAlloc(requestBytes);
      chunk = extent.chunk;
      first = extent.first;
      this.counters.runsFromFree++;
    }
    this.carve(chunk, first, pages, requestBytes, extent);
    return { chunk, first };
  }

  /** Gives back an active run: its pages turn dirty, coalesce, and may trigger a purge. */
  freeRun(chunk: Chunk, first: number, pages: number): void {
    const end = first + pages;
    const state = chunk.state;
    if (!(first >= CHUNK_HEADER_PAGES && end <= CHUNK_PAGES && pages >= 1)) {
      throw new Error(`runs: free of pages [${first}, ${end}) of chunk ${hex(chunk.addr)}`);
    }
    for (let page = first; page < end; page++) {
      if (state[page] !== PG_ACTIVE) {
        throw new Error(
          `runs: free of chunk ${hex(chunk.addr)} page ${page}, which is ${PG_STATE_NAMES[state[page]]}`,
        );
      }
    }
    state.fill(PG_DIRTY, first, end);
    this.statePages[PG_ACTIVE] -= pages;
    this.statePages[PG_DIRTY] += pages;
    // Coalesce the free extent with its free neighbours, whatever their states.
    let extentFirst = first;
    let extentEnd = end;
    if (isFreeState(state[first - 1])) {
      const left = chunk.extentByLast[first - 1]!;
      extentFirst = left.first;
      this.extentDelete(left);
    }
    if (end < CHUNK_PAGES && isFreeState(state[end])) {
      const right = chunk.extentByFirst[end]!;
      extentEnd = right.end;
      this.extentDelete(right);
    }
    this.extentCreate(chunk, extentFirst, extentEnd - extentFirst);
    this.dirtyInsert(chunk, first, end);
    if (extentEnd - extentFirst === CHUNK_USABLE_PAGES) this.chunkEmptied(chunk);
    this.maybePurge();
  }

  /** jemalloc's arena_maybe_purge: purge when dirty > active >> lg_dirty_mult (any dirty for -1). */
  maybePurge(): void {
    if (this.mechanism.purgedState < 0) return;
    const threshold = this.lgDirtyMult < 0 ? 0 : Math.floor(this.activePages / 2 ** this.lgDirtyMult);
    if (this.dirtyPages > threshold) this.purge(threshold);
  }

  /** Purges every dirty page (mallctl "arena.<i>.purge"). */
  purgeAll(): void {
    if (this.mechanism.purgedState >= 0 && this.dirtyPages > 0) this.purge(0);
  }

  /** Purges whole dirty spans, oldest first, until at most `targetPages` dirty pages are left. */
  private purge(targetPages: number): void {
    const purgedState = this.mechanism.purgedState;
    this.counters.purgePasses++;
    while (this.dirtyPages > targetPages) {
      const span = this.oldest!;
      const { chunk, first, end, len } = span;
      const ret = this.mechanism.purge(this.t, chunk.pageAddr(first), len * PAGE_SIZE);
      this.counters.purgeCalls++;
      if (ret < 0) {
        // Out of VMA slots or vrange nodes: the pages stay dirty (their data intact) and the span
        // goes to the young end, so that the next pass tries the others first.
        this.counters.purgeErrors++;
        this.fifoUnlink(span);
        this.fifoAppend(span);
        return;
      }
      this.counters.pagesPurged += len;
      this.spanDelete(span);
      chunk.state.fill(purgedState, first, end);
      this.statePages[PG_DIRTY] -= len;
      this.statePages[purgedState] += len;
    }
  }

  /** Unmaps every chunk; returns the failures (there should be none). */
  destroy(): string[] {
    const failures: string[] = [];
    for (const chunk of this.chunks) {
      const ret = this.t.munmap(chunk.addr, CHUNK_SIZE);
      this.counters.chunkMunmapCalls++;
      if (ret < 0) failures.push(`munmap(${hex(chunk.addr)}, ${CHUNK_SIZE}) returned ${ret}`);
    }
    this.chunks.clear();
    for (const extent of this.avail.toArray()) this.avail.remove(extent);
    for (const span of this.dirty.toArray()) this.dirty.remove(span);
    this.oldest = null;
    this.newest = null;
    this.spare = null;
    this.statePages.fill(0);
    return failures;
  }

  private chunkAlloc(requestBytes: number): FreeExtent {
    const addr = this.t.mmap(CHUNK_SIZE);
    this.counters.chunkMmapCalls++;
    if (addr < 0) {
      throw new AllocationFailedError(
        requestBytes,
        `mmap(${CHUNK_SIZE}) of a chunk`,
        addr,
        'the simulated process is out of address space or VMA slots',
      );
    }
    const chunk = new Chunk(addr);
    this.chunks.add(chunk);
    this.statePages[chunk.state[CHUNK_HEADER_PAGES]] += CHUNK_USABLE_PAGES;
    this.counters.runsFromNewChunk++;
    return this.extentCreate(chunk, CHUNK_HEADER_PAGES, CHUNK_USABLE_PAGES);
  }

  private chunkEmptied(chunk: Chunk): void {
    if (this.spare === null) {
      this.spare = chunk;
      return;
    }
    if (this.spare === chunk) throw new Error(`runs: the spare chunk ${hex(chunk.addr)} was emptied again`);
    const ret = this.t.munmap(chunk.addr, CHUNK_SIZE);
    this.counters.chunkMunmapCalls++;
    // A munmap may need a VMA slot to split a VMA that several chunks merged into; without one
    // the chunk just stays mapped and usable.
    if (ret < 0) return;
    this.extentDelete(chunk.extentByFirst[CHUNK_HEADER_PAGES]!);
    for (let page = CHUNK_HEADER_PAGES; page < CHUNK_PAGES; page++) {
      const span = chunk.spanByFirst[page];
      if (span !== undefined) this.spanDelete(span);
      this.statePages[chunk.state[page]]--;
    }
    this.chunks.delete(chunk);
  }

  /**
   * Takes pages [first, first + pages) out of the free extent that starts at `first` (`found`, when
   * the caller has it) or holds the dirty span that does. Volatile pages are unmarked first: if that
   * fails, nothing is taken.
   */
  private carve(
    chunk: Chunk,
    first: number,
    pages: number,
    requestBytes: number,
    found: FreeExtent | null,
  ): void {
    const end = first + pages;
    if (this.mechanism.purgedState === PG_VOLATILE) this.unmarkVolatile(chunk, first, end, requestBytes);
    const extent = found ?? this.avail.floor(chunk.basePage + first);
    if (extent === null || extent.chunk !== chunk || extent.end < end) {
      throw new Error(`runs: no free extent holds pages [${first}, ${end}) of chunk ${hex(chunk.addr)}`);
    }
    this.extentDelete(extent);
    if (extent.first < first) this.extentCreate(chunk, extent.first, first - extent.first);
    if (end < extent.end) this.extentCreate(chunk, end, extent.end - end);
    const state = chunk.state;
    if (first > extent.first && state[first - 1] === PG_DIRTY) {
      throw new Error(`runs: carving [${first}, ${end}) from the middle of a dirty span`);
    }
    for (let page = first; page < end; ) {
      const pageState = state[page];
      if (pageState === PG_DIRTY) {
        const span = chunk.spanByFirst[page];
        if (span === undefined)
          throw new Error(`runs: dirty page ${page} of a carved run starts no dirty span`);
        const taken = Math.min(span.end, end) - page;
        this.spanTrimFront(span, taken);
        this.statePages[PG_DIRTY] -= taken;
        page += taken;
      } else {
        if (!isFreeState(pageState)) {
          throw new Error(
            `runs: carved page ${page} of chunk ${hex(chunk.addr)} is ${PG_STATE_NAMES[pageState]}`,
          );
        }
        this.statePages[pageState]--;
        page++;
      }
    }
    state.fill(PG_ACTIVE, first, end);
    this.statePages[PG_ACTIVE] += pages;
    if (chunk === this.spare) this.spare = null;
  }

  /**
   * NOVOLATILE (mnovolatile) on each volatile stretch of [first, end), on exactly those pages: the
   * allocator never touches a volatile page, which could raise SIGBUS. The page states are left to
   * carve(); on a failure the stretches already unmarked become dirty and the allocation fails.
   */
  private unmarkVolatile(chunk: Chunk, first: number, end: number, requestBytes: number): void {
    const state = chunk.state;
    for (let page = first; page < end; ) {
      if (state[page] !== PG_VOLATILE) {
        const span = state[page] === PG_DIRTY ? chunk.spanByFirst[page] : undefined;
        page = span !== undefined ? span.end : page + 1;
        continue;
      }
      let stop = page + 1;
      while (stop < end && state[stop] === PG_VOLATILE) stop++;
      const pages = stop - page;
      const ret = this.mechanism.unmark(this.t, chunk.pageAddr(page), pages * PAGE_SIZE);
      this.counters.unmarkCalls++;
      if (ret < 0) {
        this.counters.unmarkErrors++;
        this.unmarkedBecomeDirty(chunk, first, page);
        throw new AllocationFailedError(
          requestBytes,
          `${this.mechanism.policy === 'vma' ? 'mnovolatile' : 'vrange(NOVOLATILE)'}(${hex(chunk.pageAddr(page))}, ${pages * PAGE_SIZE})`,
          ret,
          'no room to split a volatile VMA or range',
        );
      }
      if (ret !== 0 && ret !== 1) throw new Error(`runs: unmark returned ${ret}, neither 0 nor 1`);
      this.counters.pagesUnmarked += pages;
      if (ret === 1) {
        this.counters.unmarkPurgedCalls++;
        this.counters.pagesReportedPurged += pages;
      }
      page = stop;
    }
  }

  /** After a failed unmark: the volatile pages of [first, stop) were unmarked, so they are dirty. */
  private unmarkedBecomeDirty(chunk: Chunk, first: number, stop: number): void {
    const state = chunk.state;
    for (let page = first; page < stop; ) {
      if (state[page] !== PG_VOLATILE) {
        page++;
        continue;
      }
      let end = page + 1;
      while (end < stop && state[end] === PG_VOLATILE) end++;
      state.fill(PG_DIRTY, page, end);
      this.statePages[PG_VOLATILE] -= end - page;
      this.statePages[PG_DIRTY] += end - page;
      this.dirtyInsert(chunk, page, end);
      page = end;
    }
  }

  // Free extents.

  private extentCreate(chunk: Chunk, first: number, pages: number): FreeExtent {
    const extent = new FreeExtent(chunk, first, pages);
    chunk.extentByFirst[first] = extent;
    chunk.extentByLast[first + pages - 1] = extent;
    this.avail.insert(extent);
    return extent;
  }

  private extentDelete(extent: FreeExtent): void {
    const chunk = extent.chunk;
    unlinkEdges(extent, chunk.extentByFirst, chunk.extentByLast, this.avail, 'free extent');
  }

  // Dirty spans.

  /** Pages [first, end), already dirty, join the dirty spans around them as the newest span. */
  private dirtyInsert(chunk: Chunk, first: number, end: number): void {
    const state = chunk.state;
    let spanFirst = first;
    let spanEnd = end;
    if (state[first - 1] === PG_DIRTY) {
      const left = chunk.spanByLast[first - 1]!;
      spanFirst = left.first;
      this.spanDelete(left);
    }
    if (end < CHUNK_PAGES && state[end] === PG_DIRTY) {
      const right = chunk.spanByFirst[end]!;
      spanEnd = right.end;
      this.spanDelete(right);
    }
    const span = new DirtySpan(chunk, spanFirst, spanEnd - spanFirst);
    chunk.spanByFirst[spanFirst] = span;
    chunk.spanByLast[spanEnd - 1] = span;
    this.dirty.insert(span);
    this.fifoAppend(span);
  }

  private spanDelete(span: DirtySpan): void {
    const chunk = span.chunk;
    unlinkEdges(span, chunk.spanByFirst, chunk.spanByLast, this.dirty, 'dirty span');
    this.fifoUnlink(span);
  }

  /** Takes `pages` pages off the front of a dirty span; it keeps its place on the FIFO. */
  private spanTrimFront(span: DirtySpan, pages: number): void {
    if (pages === span.len) {
      this.spanDelete(span);
      return;
    }
    const chunk = span.chunk;
    chunk.spanByFirst[span.first] = undefined;
    this.dirty.remove(span);
    span.key += pages;
    span.len -= pages;
    this.dirty.insert(span);
    chunk.spanByFirst[span.first] = span;
  }

  private fifoAppend(span: DirtySpan): void {
    span.older = this.newest;
    span.newer = null;
    if (this.newest !== null) this.newest.newer = span;
    else this.oldest = span;
    this.newest = span;
  }

  private fifoUnlink(span: DirtySpan): void {
    if (span.older !== null) span.older.newer = span.newer;
    else this.oldest = span.newer;
    if (span.newer !== null) span.newer.older = span.older;
    else this.newest = span.older;
    span.older = null;
    span.newer = null;
  }

  /** Checks every structure against the chunks' page states; throws on the first difference. */
  validate(): void {
    this.avail.validate('runs: free extents');
    this.dirty.validate('runs: dirty spans');
    const counted = new Array<number>(PG_STATES).fill(0);
    let extents = 0;
    let spans = 0;
    for (const chunk of this.chunks) {
      const where = `runs: chunk ${hex(chunk.addr)}`;
      const state = chunk.state;
      for (let page = 0; page < CHUNK_PAGES; page++) {
        const s = state[page];
        if (page < CHUNK_HEADER_PAGES !== (s === PG_HEADER))
          throw new Error(`${where}: page ${page} is ${PG_STATE_NAMES[s]}`);
        counted[s]++;
        const freeStart = isFreeState(s) && !isFreeState(state[page - 1]);
        const extent = chunk.extentByFirst[page];
        if (freeStart !== (extent !== undefined))
          throw new Error(`${where}: page ${page}: extent edge mismatch`);
        if (extent !== undefined) {
          let end = page;
          while (end < CHUNK_PAGES && isFreeState(state[end])) end++;
          if (
            !extent.listed ||
            extent.chunk !== chunk ||
            extent.end !== end ||
            chunk.extentByLast[end - 1] !== extent
          ) {
            throw new Error(`${where}: free extent at ${page} should end at ${end}, ends at ${extent.end}`);
          }
          extents++;
        }
        const dirtyStart = s === PG_DIRTY && state[page - 1] !== PG_DIRTY;
        const span = chunk.spanByFirst[page];
        if (dirtyStart !== (span !== undefined))
          throw new Error(`${where}: page ${page}: dirty span edge mismatch`);
        if (span !== undefined) {
          let end = page;
          while (end < CHUNK_PAGES && state[end] === PG_DIRTY) end++;
          if (
            !span.listed ||
            span.chunk !== chunk ||
            span.end !== end ||
            chunk.spanByLast[end - 1] !== span
          ) {
            throw new Error(`${where}: dirty span at ${page} should end at ${end}, ends at ${span.end}`);
          }
          spans++;
        }
      }
    }
    for (let s = 0; s < PG_STATES; s++) {
      if (s !== PG_HEADER && counted[s] !== this.statePages[s]) {
        throw new Error(
          `runs: ${counted[s]} ${PG_STATE_NAMES[s]} pages, the count says ${this.statePages[s]}`,
        );
      }
    }
    if (extents !== this.avail.count)
      throw new Error(`runs: ${extents} free extents, the tree has ${this.avail.count}`);
    if (spans !== this.dirty.count)
      throw new Error(`runs: ${spans} dirty spans, the tree has ${this.dirty.count}`);
    let onFifo = 0;
    for (
      let span = this.oldest, older: DirtySpan | null = null;
      span !== null;
      older = span, span = span.newer
    ) {
      if (span.older !== older || !span.listed)
        throw new Error(`runs: the purge FIFO is broken at key ${span.key}`);
      onFifo++;
    }
    if (onFifo !== spans) throw new Error(`runs: ${onFifo} spans on the purge FIFO, ${spans} dirty spans`);
    if (this.spare !== null) {
      const whole = this.spare.extentByFirst[CHUNK_HEADER_PAGES];
      if (!this.chunks.has(this.spare) || whole === undefined || whole.len !== CHUNK_USABLE_PAGES) {
        throw new Error(`runs: the spare chunk ${hex(this.spare.addr)} is not entirely free`);
      }
    }
  }
}
