// jemalloc 3's size classes for 4 KiB pages, a 16-byte quantum and 4 MiB chunks (the jemalloc 3.6
// manual's table of size classes):
//   small: tiny [8], quantum-spaced [16, 32, ..., 128], then four classes per doubling
//          [160, 192, 224, 256], [320 .. 512], [640 .. 1024], [1280 .. 2048], [2560, 3072, 3584];
//   large: whole pages, 4 KiB up to the chunk minus its header (4072 KiB);
//   huge:  chunk multiples, mapped with their own mmap.
// A small class is served from a bin's runs: page runs cut into equal regions.

import { PAGE_SIZE } from '../layout/layout.js';

export { PAGE_SIZE };
export const CHUNK_SIZE = 4 << 20;
export const CHUNK_PAGES = CHUNK_SIZE / PAGE_SIZE;
/**
 * jemalloc 3 keeps a chunk's page map in its first pages (map_bias: 6 pages for 4 MiB chunks). Our
 * metadata lives in JS objects, so the header is never touched; it is reserved so that the large
 * classes end where jemalloc's do.
 */
export const CHUNK_HEADER_PAGES = 6;
export const CHUNK_USABLE_PAGES = CHUNK_PAGES - CHUNK_HEADER_PAGES;
export const LARGE_MAX_BYTES = CHUNK_USABLE_PAGES * PAGE_SIZE;
export const SMALL_MAX_BYTES = 3584;
export const TINY_MIN_BYTES = 8;
export const QUANTUM_BYTES = 16;

/** A small run is at most this many pages; its waste (run size mod region size) at most 1/64 of it. */
const RUN_PAGES_MAX = 8;
const RUN_WASTE_DIVISOR = 64;
/** Region bitmaps have one 32-bit summary word over 32 words. */
export const RUN_REGIONS_MAX = 32 * 32;

export interface BinInfo {
  readonly index: number;
  readonly regionBytes: number;
  readonly runPages: number;
  readonly regionCount: number;
}

function smallClassBytes(): number[] {
  const classes = [TINY_MIN_BYTES];
  for (let size = QUANTUM_BYTES; size <= 128; size += QUANTUM_BYTES) classes.push(size);
  for (let group = 128; group < SMALL_MAX_BYTES; group *= 2) {
    const delta = group / 4;
    for (let size = group + delta; size <= 2 * group && size <= SMALL_MAX_BYTES; size += delta) {
      classes.push(size);
    }
  }
  return classes;
}

/** jemalloc's bin_info_run_size_calc, simplified: the first run size wasting at most 1/64. */
function runPagesFor(regionBytes: number): number {
  let best = 1;
  let bestWasteRatio = Number.POSITIVE_INFINITY;
  for (let pages = 1; pages <= RUN_PAGES_MAX; pages++) {
    const runBytes = pages * PAGE_SIZE;
    if (runBytes / regionBytes > RUN_REGIONS_MAX) break;
    const waste = runBytes % regionBytes;
    if (waste * RUN_WASTE_DIVISOR <= runBytes) return pages;
    if (waste / runBytes < bestWasteRatio) {
      best = pages;
      bestWasteRatio = waste / runBytes;
    }
  }
  return best;
}

export const BINS: readonly BinInfo[] = Object.freeze(
  smallClassBytes().map((regionBytes, index) => {
    const runPages = runPagesFor(regionBytes);
    return Object.freeze({
      index,
      regionBytes,
      runPages,
      regionCount: Math.floor((runPages * PAGE_SIZE) / regionBytes),
    });
  }),
);

/** Bin index of every size in 8-byte steps: binOfEighths[ceil(size / 8)]. */
const binOfEighths = new Uint8Array(SMALL_MAX_BYTES / 8 + 1);
{
  let bin = 0;
  for (let eighths = 0; eighths < binOfEighths.length; eighths++) {
    while (BINS[bin].regionBytes < eighths * 8) bin++;
    binOfEighths[eighths] = bin;
  }
}

/** The bin serving malloc(size), for 0 <= size <= SMALL_MAX_BYTES. */
export function smallBinIndex(size: number): number {
  return binOfEighths[(size + 7) >>> 3];
}

export type SizeKind = 'small' | 'large' | 'huge';

export function sizeKind(size: number): SizeKind {
  if (size <= SMALL_MAX_BYTES) return 'small';
  if (size <= LARGE_MAX_BYTES) return 'large';
  return 'huge';
}

/** Pages of the large run serving malloc(size). */
export function largePages(size: number): number {
  return Math.ceil(size / PAGE_SIZE);
}

/** Bytes of the huge mapping serving malloc(size): whole chunks, as jemalloc 3 maps them. */
export function hugeBytes(size: number): number {
  return Math.ceil(size / CHUNK_SIZE) * CHUNK_SIZE;
}

/** The usable size malloc(size) hands out. */
export function sizeClassBytes(size: number): number {
  switch (sizeKind(size)) {
    case 'small':
      return BINS[smallBinIndex(size)].regionBytes;
    case 'large':
      return largePages(size) * PAGE_SIZE;
    case 'huge':
      return hugeBytes(size);
  }
}

// Load-time self-check of the tables (cheap, and a wrong table corrupts every allocation).
for (const bin of BINS) {
  if (bin.regionCount < 1 || bin.regionCount > RUN_REGIONS_MAX) {
    throw new Error(`size_classes: bin ${bin.index} (${bin.regionBytes} B) has ${bin.regionCount} regions`);
  }
  if (bin.index > 0 && BINS[bin.index - 1].regionBytes >= bin.regionBytes) {
    throw new Error(`size_classes: bin ${bin.index} is not larger than the one before`);
  }
}
if (BINS[BINS.length - 1].regionBytes !== SMALL_MAX_BYTES) {
  throw new Error('size_classes: the last small class must be SMALL_MAX_BYTES');
}
