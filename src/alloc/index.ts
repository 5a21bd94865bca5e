// The simulated user-space allocator: a jemalloc-3-like per-thread arena.

export { Arena, type ArenaOptions, LG_DIRTY_MULT_DEFAULT } from './arena.js';
export { AllocationFailedError, InvalidPointerError, type InvalidPointerReason } from './errors.js';
export {
  BINS,
  type BinInfo,
  CHUNK_HEADER_PAGES,
  CHUNK_SIZE,
  CHUNK_USABLE_PAGES,
  hugeBytes,
  LARGE_MAX_BYTES,
  type SizeKind,
  SMALL_MAX_BYTES,
  sizeClassBytes,
  sizeKind,
} from './size_classes.js';
export type { ArenaStats } from './stats.js';
