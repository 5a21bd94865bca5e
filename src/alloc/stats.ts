// The arena's counters (jemalloc's arena_stats_t and tcache stats, plus the purge-policy counters
// this lab compares). Counted in plain JS numbers: the arena belongs to one thread.

import type { PurgePolicy } from './purge.js';

export class ArenaCounters {
  chunkMmapCalls = 0;
  chunkMunmapCalls = 0;
  hugeMmapCalls = 0;
  hugeMunmapCalls = 0;

  mallocSmall = 0;
  freeSmall = 0;
  mallocLarge = 0;
  freeLarge = 0;
  mallocHuge = 0;
  freeHuge = 0;

  tcacheHits = 0;
  tcacheFills = 0;
  tcacheFlushes = 0;
  tcacheGcFlushes = 0;

  /** Runs carved from a dirty span, from a free extent (clean or mixed), from a new chunk. */
  runsFromDirty = 0;
  runsFromFree = 0;
  runsFromNewChunk = 0;

  /** Purge passes (arena_purge), purge syscalls, pages they covered, and failed purge syscalls. */
  purgePasses = 0;
  purgeCalls = 0;
  pagesPurged = 0;
  purgeErrors = 0;

  /** NOVOLATILE / mnovolatile calls before reuse, pages they covered, and what they reported. */
  unmarkCalls = 0;
  pagesUnmarked = 0;
  unmarkPurgedCalls = 0;
  pagesReportedPurged = 0;
  unmarkErrors = 0;
}

export interface ArenaStats {
  policy: PurgePolicy;
  lgDirtyMult: number;

  /** Chunks mapped now, and the mmap / munmap calls for chunks so far. */
  chunksMapped: number;
  chunkMmapCalls: number;
  chunkMunmapCalls: number;
  /** Huge mappings now, their bytes, and their mmap / munmap calls. */
  hugeMapped: number;
  hugeBytesMapped: number;
  hugeMmapCalls: number;
  hugeMunmapCalls: number;

  /** Usable bytes of the live blocks (small, large, huge); regions parked in the tcache excluded. */
  bytesAllocated: number;
  /** Bytes of the pages of active runs in chunks (small runs whole, large runs): jemalloc's nactive. */
  bytesActive: number;
  /** Free pages of chunks by state: dirty (data and RSS kept), volatile, lazy (MADV_FREE), zero. */
  bytesDirty: number;
  bytesVolatile: number;
  bytesLazy: number;
  bytesZero: number;

  mallocSmall: number;
  freeSmall: number;
  mallocLarge: number;
  freeLarge: number;
  mallocHuge: number;
  freeHuge: number;
  /** Small runs now, regions cached in the tcache now. */
  smallRuns: number;
  tcacheCached: number;
  tcacheHits: number;
  tcacheFills: number;
  tcacheFlushes: number;
  tcacheGcFlushes: number;

  runsFromDirty: number;
  runsFromFree: number;
  runsFromNewChunk: number;

  purgePasses: number;
  purgeCalls: number;
  pagesPurged: number;
  purgeErrors: number;

  unmarkCalls: number;
  pagesUnmarked: number;
  unmarkPurgedCalls: number;
  pagesReportedPurged: number;
  unmarkErrors: number;
}
