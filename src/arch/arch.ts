// The machine's byte primitives (arch/x86/lib): the one interface the kernel and the user-access
// path call for bulk byte work, and the argument checks both implementations share.
//
// Addresses are physical: byte offsets in the frames region (frame f starts at f * PAGE_SIZE).
// Every argument is checked against that region before a byte moves, so a broken caller throws an
// ArchRangeError and nothing is written. Two implementations, chosen by the machine config's `arch`:
//   wasm  the WebAssembly module of arch.wat over the machine's shared memory (memory.copy/fill run
//         at native speed on a shared WebAssembly.Memory);
//   js    TypedArray copies on the same buffer (V8 copies shared buffers byte by byte, relaxed).

import { PAGE_SIZE } from '../layout/layout.js';

export type ArchKind = 'wasm' | 'js';
export const ARCH_KINDS: readonly ArchKind[] = ['wasm', 'js'];

/** Records of ebizzy's search: 8 bytes each, the key in the low 32 bits (little-endian, unsigned). */
export const RECORD_BYTES = 8;
/** Bytes of a record the search reads: its key word. */
export const RECORD_KEY_BYTES = 4;

export interface Arch {
  readonly kind: ArchKind;
  /** Copies one page; both addresses page-aligned. */
  copyPage(dst: number, src: number): void;
  /** Zeroes one page; page-aligned. */
  clearPage(dst: number): void;
  /** Copies n bytes from src to dst; overlapping ranges copy as memmove does. */
  memcpy(dst: number, src: number, n: number): void;
  /** Sets n bytes at dst to byte (0-255). */
  memset(dst: number, byte: number, n: number): void;
  /** Negative, zero or positive as a's first differing byte is lower, none differs, or it is higher. */
  memcmp(a: number, b: number, n: number): number;
  /** Binary search of count records at base sorted by key: an index whose key is key, or -1. */
  bsearchRecords(base: number, count: number, key: number): number;
  /** Linear search: the first index whose key is key, or -1. */
  lsearchRecords(base: number, count: number, key: number): number;
}

/** A primitive was called with an argument outside physical memory: a broken invariant of its caller. */
export class ArchRangeError extends Error {
  override name = 'ArchRangeError';
}

/**
 * Throws unless [at, at + n) lies in physical memory of `limit` bytes, with integer at and n >= 0.
 * A zero-length run may sit at the very end (at === limit), as memcpy(p, q, 0) may.
 */
export function checkRun(op: string, what: string, at: number, n: number, limit: number): void {
  if (!(Number.isInteger(at) && Number.isInteger(n) && at >= 0 && n >= 0 && at + n <= limit)) {
    throw new ArchRangeError(
      `${op}: ${what} [${at}, ${at} + ${n}) is outside physical memory [0, ${limit}) (a kernel bug)`,
    );
  }
}

export function checkPage(op: string, what: string, at: number, limit: number): void {
  checkRun(op, what, at, PAGE_SIZE, limit);
  if (at % PAGE_SIZE !== 0)
    throw new ArchRangeError(`${op}: ${what} ${at} is not page-aligned (a kernel bug)`);
}

export function checkByte(op: string, byte: number): void {
  if (!(Number.isInteger(byte) && byte >= 0 && byte <= 0xff))
    throw new ArchRangeError(`${op}: fill value ${byte} is not a byte (a kernel bug)`);
}

/** The records' key words lie in memory: count records at base, the last one's key word included. */
export function checkRecords(op: string, base: number, count: number, key: number, limit: number): void {
  if (!(Number.isInteger(count) && count >= 0))
    throw new ArchRangeError(`${op}: bad record count ${count} (a kernel bug)`);
  if (!(Number.isInteger(key) && key >= 0 && key <= 0xffffffff))
    throw new ArchRangeError(`${op}: key ${key} is not an unsigned 32-bit value (a kernel bug)`);
  checkRun(op, 'records', base, count === 0 ? 0 : (count - 1) * RECORD_BYTES + RECORD_KEY_BYTES, limit);
}
