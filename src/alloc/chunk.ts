// A chunk: 4 MiB of simulated memory from one mmap, a sequence of pages that runs are carved from.
// The chunk's page map (jemalloc's arena_chunk_map_t) is a JS array here: per page its state, and
// at the edges of free extents and dirty spans a reference to them, so that a freed run finds its
// free neighbours in O(1) — jemalloc's trick of recording a run's size at both ends.

import { TreeNode } from './address_tree.js';
import { CHUNK_HEADER_PAGES, CHUNK_PAGES, PAGE_SIZE } from './size_classes.js';

/** Page states. Free pages are the states >= PG_DIRTY. */
export const PG_HEADER = 0;
/** In a run that is allocated (a large block, or a small run). */
export const PG_ACTIVE = 1;
/** Free, and still holding whatever was written (and its RSS). */
export const PG_DIRTY = 2;
/** Free and known zero: never touched, or purged with MADV_DONTNEED. */
export const PG_ZERO = 3;
/** Free, purged with MADV_FREE: the kernel may discard it; contents unknown. */
export const PG_LAZY = 4;
/** Free, marked volatile (vrange / mvolatile): must be unmarked before it is touched. */
export const PG_VOLATILE = 5;
export const PG_STATES = 6;
export const PG_STATE_NAMES = ['header', 'active', 'dirty', 'zero', 'lazy', 'volatile'] as const;

export function isFreeState(state: number): boolean {
  return state >= PG_DIRTY;
}

export class Chunk {
  /** Global page number of page 0 (addr / PAGE_SIZE). */
  readonly basePage: number;
  readonly state = new Uint8Array(CHUNK_PAGES);
  /** The free extent starting (ending) at a page, at extent edges only. */
  readonly extentByFirst: (FreeExtent | undefined)[] = new Array(CHUNK_PAGES);
  readonly extentByLast: (FreeExtent | undefined)[] = new Array(CHUNK_PAGES);
  /** The dirty span starting (ending) at a page, at span edges only. */
  readonly spanByFirst: (DirtySpan | undefined)[] = new Array(CHUNK_PAGES);
  readonly spanByLast: (DirtySpan | undefined)[] = new Array(CHUNK_PAGES);

  constructor(readonly addr: number) {
    if (!(Number.isSafeInteger(addr) && addr > 0 && addr % PAGE_SIZE === 0)) {
      throw new Error(`chunk: address ${addr} is not a page-aligned address`);
    }
    this.basePage = addr / PAGE_SIZE;
    this.state.fill(PG_ZERO, CHUNK_HEADER_PAGES);
  }

  pageAddr(page: number): number {
    return this.addr + page * PAGE_SIZE;
  }
}

/** Pages [first, end) of one chunk, listed in an address tree by global page number. */
export class ChunkPages extends TreeNode {
  constructor(
    readonly chunk: Chunk,
    first: number,
    pages: number,
  ) {
    super();
    this.key = chunk.basePage + first;
    this.len = pages;
  }

  get first(): number {
    return this.key - this.chunk.basePage;
  }

  get end(): number {
    return this.key - this.chunk.basePage + this.len;
  }
}

/** A maximal run of free pages of one chunk, whatever their states: what a run is carved from. */
export class FreeExtent extends ChunkPages {}

/** A maximal run of dirty pages of one chunk; on the purge FIFO, oldest first. */
export class DirtySpan extends ChunkPages {
  older: DirtySpan | null = null;
  newer: DirtySpan | null = null;
}
