// Goal: user copies, fills and ebizzy's record search through the MMU (one call into the byte
// primitives per page run, or per physically contiguous run outside debug mode) give the bytes and
// answers of a plain reference model, across page boundaries and at any alignment, with either arch,
// in debug mode and out of it, and both arches leave identical memory.

import { describe, expect, it } from 'vitest';
import type { ArchKind } from '../../src/arch/index.js';
import { SigSegv, type Thread } from '../../src/index.js';
import { smallMachine } from './helpers.js';

const PAGE = 4096;
const SPAN = 12 * PAGE;

function mappedProcess(arch: ArchKind, debug = true): { t: Thread; base: number } {
  const t = smallMachine({ arch, debug }).createProcess().mainThread();
  const base = t.mmap(SPAN);
  expect(base).toBeGreaterThan(0);
  return { t, base };
}

/** ebizzy's records: key r in the low 32 bits of record r, junk above. */
function records(count: number): Uint8Array {
  const bytes = new Uint8Array(count * 8);
  const view = new DataView(bytes.buffer);
  for (let r = 0; r < count; r++) {
    view.setUint32(r * 8, r * 3, true);
    view.setUint32(r * 8 + 4, 0xffffffff, true);
  }
  return bytes;
}

describe.each<[ArchKind, boolean]>([
  ['wasm', false],
  ['wasm', true],
  ['js', false],
  ['js', true],
])('arch %s, debug %s', (arch, debug) => {
  it('copies and fills runs that cross pages at odd offsets, as a plain array would', () => {
    const { t, base } = mappedProcess(arch, debug);
    const model = new Uint8Array(SPAN);
    for (let i = 0; i < SPAN; i++) model[i] = (i * 31) & 0xff;
    t.write(base, model);
    const ops: [string, number, number, number][] = [
      ['copy', 5 * PAGE + 3, 7, 2 * PAGE + 100],
      ['copy', 1, 9 * PAGE - 1, PAGE + 2],
      ['fill', PAGE - 1, 0x3c, 3 * PAGE + 2],
      ['copy', 10 * PAGE, 2 * PAGE, PAGE],
      ['copy', 0, PAGE, 0],
      ['fill', 7, 0, 0],
    ];
    for (const [op, dst, x, n] of ops) {
      if (op === 'copy') {
        t.copy(base + dst, base + x, n);
        model.copyWithin(dst, x, x + n);
      } else {
        t.fill(base + dst, n, x);
        model.fill(x, dst, dst + n);
      }
      expect(Buffer.compare(t.read(base, SPAN), model), `${op} ${dst} ${x} ${n}`).toBe(0);
    }
  });

  it('finds every key by binary and linear search, at any alignment and across pages', () => {
    const { t, base } = mappedProcess(arch, debug);
    const count = 1500; // 12000 bytes: three pages and a bit
    for (const offset of [0, 4, 3, 6, PAGE - 5]) {
      t.write(base + offset, records(count));
      for (const r of [0, 1, 511, 512, 513, 700, 1023, 1024, 1499]) {
        expect(t.findRecord(base + offset, count, r * 3), `bsearch ${r} at +${offset}`).toBe(r);
        expect(t.findRecord(base + offset, count, r * 3, true), `lsearch ${r} at +${offset}`).toBe(r);
      }
      for (const absent of [1, 3 * count, 0xffffffff]) {
        expect(t.findRecord(base + offset, count, absent)).toBe(-1);
        expect(t.findRecord(base + offset, count, absent, true)).toBe(-1);
      }
      expect(t.findRecord(base + offset, 0, 0)).toBe(-1);
    }
  });

  it('a search or a copy that runs off the mapping raises SIGSEGV at the first unmapped byte', () => {
    const { t, base } = mappedProcess(arch, debug);
    t.write(base + SPAN - 16, records(2));
    expect(t.findRecord(base + SPAN - 16, 2, 3)).toBe(1);
    const linear = (() => {
      try {
        t.findRecord(base + SPAN - 16, 3, 77, true);
      } catch (e) {
        return e;
      }
    })();
    expect(linear).toBeInstanceOf(SigSegv);
    expect((linear as SigSegv).address).toBe(base + SPAN);
    expect(() => t.copy(base, base + SPAN - 8, 16)).toThrow(SigSegv);
  });

  it('a copy stopped by SIGSEGV has copied every page before the faulting one', () => {
    const { t, base } = mappedProcess(arch, debug);
    const src = base + 6 * PAGE;
    t.fill(src, 6 * PAGE, 0x77);
    t.fill(base, 6 * PAGE, 0);
    // A hole in the middle of the source: pages 0-2 copy, page 3 faults.
    expect(t.munmap(src + 3 * PAGE, PAGE)).toBe(0);
    const e = (() => {
      try {
        t.copy(base, src, 6 * PAGE);
      } catch (error) {
        return error;
      }
    })();
    expect(e).toBeInstanceOf(SigSegv);
    expect((e as SigSegv).address).toBe(src + 3 * PAGE);
    const copied = t.read(base, 6 * PAGE);
    expect(copied.subarray(0, 3 * PAGE).every((b) => b === 0x77)).toBe(true);
    expect(copied.subarray(3 * PAGE).every((b) => b === 0)).toBe(true);
  });
});

it('wasm and js arches leave the same memory and find the same records', () => {
  const a = mappedProcess('wasm');
  const b = mappedProcess('js');
  for (const { t, base } of [a, b]) {
    t.write(base + 3, records(1400));
    t.copy(base + 6 * PAGE + 1, base + 100, 3 * PAGE);
    t.fill(base + 2 * PAGE - 9, 2 * PAGE, 0x11);
  }
  expect(Buffer.compare(a.t.read(a.base, SPAN), b.t.read(b.base, SPAN))).toBe(0);
  for (let key = 0; key < 4200; key += 37) {
    expect(a.t.findRecord(a.base + 6 * PAGE + 1, 300, key)).toBe(
      b.t.findRecord(b.base + 6 * PAGE + 1, 300, key),
    );
  }
});
