// Goal: malloc rounds each size to jemalloc 3's size classes (small, large, huge) and aligns blocks
// as jemalloc does: 8 bytes for the tiny class, 16 for the other small ones, pages beyond.

import { describe, expect, it } from 'vitest';
import {
  BINS,
  CHUNK_SIZE,
  LARGE_MAX_BYTES,
  SMALL_MAX_BYTES,
  sizeClassBytes,
  sizeKind,
} from '../../src/alloc/index.js';
import { KIB, MIB, PAGE, setup, teardown } from './helpers.js';

describe('size classes', () => {
  it('are jemalloc 3.6 manual classes: tiny, quantum-spaced, four per doubling up to 3584', () => {
    expect(BINS.map((b) => b.regionBytes)).toEqual([
      8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 640, 768, 896, 1024, 1280,
      1536, 1792, 2048, 2560, 3072, 3584,
    ]);
    expect(SMALL_MAX_BYTES).toBe(3584);
    expect(LARGE_MAX_BYTES).toBe(4072 * KIB);
    for (const bin of BINS) {
      // A run wastes at most 1/64 of itself, or the least it can in at most 8 pages.
      expect(bin.regionCount).toBe(Math.floor((bin.runPages * PAGE) / bin.regionBytes));
      expect(bin.runPages).toBeLessThanOrEqual(8);
      const runBytes = bin.runPages * PAGE;
      const waste = runBytes - bin.regionCount * bin.regionBytes;
      const wasteOf = (pages: number) => (pages * PAGE) % bin.regionBytes;
      const within = [1, 2, 3, 4, 5, 6, 7, 8].filter((pages) => wasteOf(pages) * 64 <= pages * PAGE);
      if (within.length > 0) {
        // The smallest run that wastes at most 1/64.
        expect(waste * 64, `${bin.regionBytes}-byte regions`).toBeLessThanOrEqual(runBytes);
        expect(bin.runPages, `${bin.regionBytes}-byte regions`).toBe(within[0]);
      } else {
        for (let pages = 1; pages <= 8; pages++)
          expect(waste / runBytes, `${bin.regionBytes}-byte regions`).toBeLessThanOrEqual(
            wasteOf(pages) / (pages * PAGE),
          );
      }
    }
  });

  it('rounds sizes up to their class', () => {
    const cases: [number, number, string][] = [
      [0, 8, 'small'],
      [1, 8, 'small'],
      [8, 8, 'small'],
      [9, 16, 'small'],
      [17, 32, 'small'],
      [100, 112, 'small'],
      [129, 160, 'small'],
      [257, 320, 'small'],
      [1025, 1280, 'small'],
      [3073, 3584, 'small'],
      [3584, 3584, 'small'],
      [3585, 4 * KIB, 'large'],
      [4097, 8 * KIB, 'large'],
      [512 * KIB, 512 * KIB, 'large'],
      [LARGE_MAX_BYTES, LARGE_MAX_BYTES, 'large'],
      [LARGE_MAX_BYTES + 1, 4 * MIB, 'huge'],
      [4 * MIB + 1, 8 * MIB, 'huge'],
    ];
    for (const [size, bytes, kind] of cases) {
      expect(sizeClassBytes(size), `size ${size}`).toBe(bytes);
      expect(sizeKind(size), `size ${size}`).toBe(kind);
    }
  });

  it('hands out blocks of the class size, aligned to 8 (tiny), 16 (small) or a page', () => {
    const s = setup({ policy: 'none' });
    const { arena } = s;
    for (const size of [
      1,
      8,
      13,
      24,
      48,
      100,
      200,
      1000,
      3000,
      3584,
      5000,
      100 * KIB,
      LARGE_MAX_BYTES,
      CHUNK_SIZE + 1,
    ]) {
      for (let i = 0; i < 3; i++) {
        const addr = arena.malloc(size);
        expect(arena.usableSize(addr), `malloc(${size})`).toBe(sizeClassBytes(size));
        const alignment = size <= 8 ? 8 : size <= SMALL_MAX_BYTES ? 16 : PAGE;
        expect(addr % alignment, `malloc(${size}) = 0x${addr.toString(16)}`).toBe(0);
      }
    }
    arena.validate();
    teardown(s);
  });
});
