// The byte primitives as TypedArray operations on the machine's buffer: the model's implementation
// before the WebAssembly one, kept selectable (config arch: 'js') so that benchmarks measure both in
// one run and tests check that both agree. V8 copies a shared buffer with relaxed atomics, byte by
// byte or word by word, which is why this is the slower of the two.

import { PAGE_SIZE } from '../layout/layout.js';
import { type Arch, checkByte, checkPage, checkRecords, checkRun, RECORD_BYTES } from './arch.js';

/** Source of clear_page and memset: TypedArray.fill on a shared buffer is ~10x slower than set(). */
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);
let patternPage = ZERO_PAGE;
let patternByte = 0;

function pattern(byte: number): Uint8Array {
  if (byte !== patternByte) {
    patternPage = byte === 0 ? ZERO_PAGE : new Uint8Array(PAGE_SIZE).fill(byte);
    patternByte = byte;
  }
  return patternPage;
}

export class TypedArrayArch implements Arch {
  readonly kind = 'js';
  private readonly limit: number;

  /** frames: physical memory, byte-addressed. */
  constructor(private readonly frames: Uint8Array) {
    this.limit = frames.length;
  }

  copyPage(dst: number, src: number): void {
    checkPage('copy_page', 'dst', dst, this.limit);
    checkPage('copy_page', 'src', src, this.limit);
    this.frames.copyWithin(dst, src, src + PAGE_SIZE);
  }

  clearPage(dst: number): void {
    checkPage('clear_page', 'dst', dst, this.limit);
    this.frames.set(ZERO_PAGE, dst);
  }

  memcpy(dst: number, src: number, n: number): void {
    checkRun('memcpy', 'dst', dst, n, this.limit);
    checkRun('memcpy', 'src', src, n, this.limit);
    this.frames.copyWithin(dst, src, src + n);
  }

  memset(dst: number, byte: number, n: number): void {
    checkByte('memset', byte);
    checkRun('memset', 'dst', dst, n, this.limit);
    const page = pattern(byte);
    for (let done = 0; done < n; done += PAGE_SIZE) {
      const chunk = Math.min(PAGE_SIZE, n - done);
      this.frames.set(chunk === PAGE_SIZE ? page : page.subarray(0, chunk), dst + done);
    }
  }

  memcmp(a: number, b: number, n: number): number {
    checkRun('memcmp', 'a', a, n, this.limit);
    checkRun('memcmp', 'b', b, n, this.limit);
    const frames = this.frames;
    for (let i = 0; i < n; i++) {
      const x = frames[a + i];
      const y = frames[b + i];
      if (x !== y) return x - y;
    }
    return 0;
  }

  bsearchRecords(base: number, count: number, key: number): number {
    checkRecords('bsearch_records', base, count, key, this.limit);
    // The probe order of arch.wat's bsearch_records: half-open [lo, hi), mid = lo + (hi - lo) / 2.
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = lo + ((hi - lo) >>> 1);
      const value = this.keyAt(base + mid * RECORD_BYTES);
      if (value === key) return mid;
      if (value < key) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  lsearchRecords(base: number, count: number, key: number): number {
    checkRecords('lsearch_records', base, count, key, this.limit);
    for (let i = 0; i < count; i++) if (this.keyAt(base + i * RECORD_BYTES) === key) return i;
    return -1;
  }

  /** The unsigned little-endian 32-bit key at `at` (any alignment). */
  private keyAt(at: number): number {
    const f = this.frames;
    return (f[at] | (f[at + 1] << 8) | (f[at + 2] << 16) | (f[at + 3] << 24)) >>> 0;
  }
}
