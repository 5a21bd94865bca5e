// What the allocator reports to its caller. Both are user-visible conditions, not broken
// invariants: an allocation the simulated process has no room for, and a free() or usableSize()
// of a pointer the arena did not hand out (a bug in the simulated program the tool must report).

import { errnoName } from '../mm/uapi.js';

/**
 * malloc could not get memory from the kernel: mmap failed (out of address space, VMA table full),
 * or unmarking volatile pages for reuse failed (no room to split a VMA or a volatile range).
 * Nothing was allocated and the arena is consistent.
 */
export class AllocationFailedError extends Error {
  override name = 'AllocationFailedError';
  constructor(
    readonly requestBytes: number,
    /** The failed call, e.g. "mmap(4194304)". */
    readonly call: string,
    /** Its return value (-errno). */
    readonly errno: number,
    why: string,
  ) {
    super(`malloc(${requestBytes}): ${call} failed with ${errnoName(errno)} (${why})`);
  }
}

export type InvalidPointerReason = 'double-free' | 'interior' | 'not-allocated' | 'destroyed';

/** free() or usableSize() of a pointer that is not a live block of this arena. */
export class InvalidPointerError extends Error {
  override name = 'InvalidPointerError';
  constructor(
    readonly operation: 'free' | 'usableSize',
    readonly address: number,
    readonly reason: InvalidPointerReason,
    detail: string,
  ) {
    super(`${operation}(0x${address.toString(16)}): ${detail}`);
  }
}
