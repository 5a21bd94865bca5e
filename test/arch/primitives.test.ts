// Goal: the byte primitives (src/arch), WebAssembly and TypedArray alike, copy, fill, compare and
// search as their contracts say — overlapping ranges, zero lengths, runs across page boundaries —
// and an argument outside physical memory throws ArchRangeError before a single byte is written.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Arch, type ArchKind, ArchRangeError } from '../../src/arch/index.js';
import { Machine } from '../../src/index.js';
import { clearPage, copyPage } from '../../src/mm/highmem.js';
import type { Kernel } from '../../src/mm/kernel.js';

const PAGE = 4096;

function machineOf(arch: ArchKind): Machine {
  return Machine.create({ memoryMiB: 8, cpus: 1, maxProcesses: 2, vaMiB: 16, arch });
}

/** Physical memory filled with a byte pattern that differs from page to page. */
function patterned(k: Kernel): void {
  for (let i = 0; i < 8 * PAGE; i++) k.frames[i] = (i * 7 + (i >> 12) * 13) & 0xff;
}

function framesHash(k: Kernel): string {
  return createHash('sha256').update(k.frames).digest('hex');
}

/** Records of keys `keys` (8 bytes each, key in the low 32 bits, the high 32 bits junk) at `at`. */
function putRecords(k: Kernel, at: number, keys: number[]): void {
  const view = new DataView(k.buffer, k.frames.byteOffset);
  keys.forEach((key, i) => {
    view.setUint32(at + i * 8, key, true);
    view.setUint32(at + i * 8 + 4, 0xdeadbeef, true);
  });
}

describe.each<ArchKind>(['wasm', 'js'])('arch %s', (kind) => {
  const machine = machineOf(kind);
  const k = machine.kernel;
  const arch: Arch = k.arch;
  const limit = k.frames.length;

  it('is the arch the config asked for, over the machine memory', () => {
    expect(arch.kind).toBe(kind);
    expect(machine.config.arch).toBe(kind);
  });

  it('memcpy copies forward and backward overlapping ranges as memmove does', () => {
    for (const [dst, src, n] of [
      [100, 103, 5000],
      [103, 100, 5000],
      [PAGE - 10, PAGE - 3, 20],
      [2 * PAGE + 1, 2 * PAGE, PAGE + 17],
    ]) {
      patterned(k);
      const expected = Uint8Array.from(k.frames.subarray(0, 8 * PAGE));
      expected.copyWithin(dst, src, src + n);
      arch.memcpy(dst, src, n);
      expect(Buffer.compare(k.frames.subarray(0, 8 * PAGE), expected), `${dst} <- ${src} x ${n}`).toBe(0);
    }
  });

  it('runs across page boundaries: memcpy, memset and memcmp', () => {
    patterned(k);
    arch.memcpy(3 * PAGE - 5, PAGE - 7, 30);
    for (let i = 0; i < 30; i++) expect(k.frames[3 * PAGE - 5 + i]).toBe(k.frames[PAGE - 7 + i]);
    arch.memset(5 * PAGE - 3, 0xa5, PAGE + 6);
    expect(k.frames[5 * PAGE - 4]).not.toBe(0xa5);
    expect(k.frames.subarray(5 * PAGE - 3, 6 * PAGE + 3).every((b) => b === 0xa5)).toBe(true);
    expect(k.frames[6 * PAGE + 3]).not.toBe(0xa5);
    expect(arch.memcmp(3 * PAGE - 5, PAGE - 7, 30)).toBe(0);
  });

  it('memcmp orders by the first differing byte, unsigned, past whole equal words', () => {
    patterned(k);
    arch.memcpy(4 * PAGE, 0, 100);
    expect(arch.memcmp(0, 4 * PAGE, 100)).toBe(0);
    k.frames[4 * PAGE + 37] = (k.frames[37] + 1) & 0xff;
    k.frames[4 * PAGE + 60] = 0; // after the first difference: must not decide
    const sign = Math.sign(k.frames[37] - k.frames[4 * PAGE + 37]);
    expect(Math.sign(arch.memcmp(0, 4 * PAGE, 100))).toBe(sign);
    expect(Math.sign(arch.memcmp(4 * PAGE, 0, 100))).toBe(-sign);
    expect(arch.memcmp(0, 4 * PAGE, 37)).toBe(0);
    k.frames[10] = 0xff;
    k.frames[PAGE + 10] = 0x01;
    expect(arch.memcmp(10, PAGE + 10, 1)).toBeGreaterThan(0);
  });

  it('zero lengths move nothing, even at the very end of physical memory', () => {
    patterned(k);
    const before = framesHash(k);
    arch.memcpy(limit, 0, 0);
    arch.memcpy(0, limit, 0);
    arch.memset(limit, 1, 0);
    expect(arch.memcmp(0, limit, 0)).toBe(0);
    expect(arch.bsearchRecords(limit, 0, 5)).toBe(-1);
    expect(arch.lsearchRecords(limit, 0, 5)).toBe(-1);
    expect(framesHash(k)).toBe(before);
  });

  it('copyPage and clearPage move exactly one frame, by frame number', () => {
    patterned(k);
    const src = Uint8Array.from(k.frames.subarray(2 * PAGE, 3 * PAGE));
    copyPage(k, 6, 2);
    expect(Buffer.compare(k.frames.subarray(6 * PAGE, 7 * PAGE), src)).toBe(0);
    expect(k.frames[7 * PAGE]).toBe((7 * PAGE * 7 + 7 * 13) & 0xff);
    clearPage(k, 6);
    expect(k.frames.subarray(6 * PAGE, 7 * PAGE).every((b) => b === 0)).toBe(true);
    expect(k.frames[6 * PAGE - 1]).not.toBe(0);
  });

  it('searches 8-byte records by their low 32 bits, unsigned, at any alignment', () => {
    const keys = [0, 1, 5, 9, 0x7fffffff, 0x80000000, 0xfffffffe];
    for (const base of [0, 4, 3, 8 * PAGE + 1]) {
      putRecords(k, base, keys);
      keys.forEach((key, i) => {
        expect(arch.bsearchRecords(base, keys.length, key), `bsearch ${key} at ${base}`).toBe(i);
        expect(arch.lsearchRecords(base, keys.length, key), `lsearch ${key} at ${base}`).toBe(i);
      });
      for (const absent of [2, 10, 0xffffffff, 0x80000001]) {
        expect(arch.bsearchRecords(base, keys.length, absent)).toBe(-1);
        expect(arch.lsearchRecords(base, keys.length, absent)).toBe(-1);
      }
      // The high half of a record is never a key.
      expect(arch.lsearchRecords(base, keys.length, 0xdeadbeef)).toBe(-1);
    }
    // The last record's key word may end exactly at the end of physical memory.
    new DataView(k.buffer, k.frames.byteOffset).setUint32(limit - 12, 3, true);
    new DataView(k.buffer, k.frames.byteOffset).setUint32(limit - 4, 4, true);
    expect(arch.bsearchRecords(limit - 12, 2, 4)).toBe(1);
    expect(arch.lsearchRecords(limit - 4, 1, 4)).toBe(0);
    expect(() => arch.lsearchRecords(limit - 3, 1, 0)).toThrow(ArchRangeError);
  });

  it('throws ArchRangeError for arguments outside physical memory, and writes nothing', () => {
    patterned(k);
    k.frames.fill(0x5a, limit - PAGE, limit);
    const before = framesHash(k);
    const bad: [string, () => unknown][] = [
      ['memcpy dst past the end', () => arch.memcpy(limit - 10, 0, 11)],
      ['memcpy src past the end', () => arch.memcpy(0, limit - 10, 11)],
      ['memcpy negative dst', () => arch.memcpy(-1, 0, 4)],
      ['memcpy negative length', () => arch.memcpy(0, 100, -1)],
      ['memcpy fractional address', () => arch.memcpy(0.5, 100, 4)],
      ['memcpy NaN length', () => arch.memcpy(0, 100, Number.NaN)],
      ['memcpy dst wrapping 4 GiB', () => arch.memcpy(2 ** 32, 0, 4)],
      ['memset past the end', () => arch.memset(limit - 1, 0, 2)],
      ['memset value not a byte', () => arch.memset(0, 256, 4)],
      ['memcmp past the end', () => arch.memcmp(0, limit, 1)],
      ['copyPage dst past the end', () => arch.copyPage(limit, 0)],
      ['copyPage unaligned', () => arch.copyPage(PAGE + 8, 0)],
      ['clearPage past the end', () => arch.clearPage(limit)],
      ['clearPage unaligned', () => arch.clearPage(12)],
      ['copyPage no such frame', () => copyPage(k, k.geometry.frames, 0)],
      ['clearPage negative frame', () => clearPage(k, -1)],
      ['bsearch past the end', () => arch.bsearchRecords(limit - 8, 2, 1)],
      ['lsearch past the end', () => arch.lsearchRecords(limit - 3, 1, 1)],
      ['search key not 32-bit', () => arch.lsearchRecords(0, 1, 2 ** 32)],
      ['search negative count', () => arch.bsearchRecords(0, -1, 1)],
    ];
    for (const [name, call] of bad) {
      expect(call, name).toThrow(ArchRangeError);
      expect(framesHash(k), name).toBe(before);
    }
  });
});

describe('wasm and js agree', () => {
  it('the same random operations leave the same bytes and give the same answers', () => {
    let seed = 12345;
    console.log(`seed ${seed}`);
    const next = (max: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * max);
    };
    const ks = (['wasm', 'js'] as const).map((kind) => machineOf(kind).kernel);
    for (const k of ks) patterned(k);
    const span = 16 * PAGE;
    for (let step = 0; step < 400; step++) {
      const op = next(6);
      const a = next(span);
      const b = next(span);
      const n = next(Math.min(span - a, span - b, 3 * PAGE));
      const answers = ks.map((k) => {
        switch (op) {
          case 0:
            k.arch.memcpy(a, b, n);
            return 0;
          case 1:
            k.arch.memset(a, b & 0xff, n);
            return 0;
          case 2:
            return Math.sign(k.arch.memcmp(a, b, n));
          case 3:
            copyPage(k, a >> 12, b >> 12);
            return 0;
          case 4:
            return k.arch.lsearchRecords(a, n >> 3, b & 0xff);
          default:
            return k.arch.bsearchRecords(a, n >> 3, b & 0xff);
        }
      });
      expect(answers[0], `step ${step} op ${op}`).toBe(answers[1]);
    }
    expect(framesHash(ks[0])).toBe(framesHash(ks[1]));
  });
});
