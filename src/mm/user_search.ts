// ebizzy's search over user memory, as its libc runs it: a binary search (bsearch) or a linear scan
// of 8-byte records sorted by key (the low 32 bits, little-endian, unsigned). The records are
// virtually contiguous and physically scattered, so the search translates once per page it looks at
// and hands each page's run of records to the byte primitives (src/arch):
//  - binary: probes through the MMU, one word each, until the records left lie in one page, then
//    searches that page's run in one call; the probe order is a plain half-open binary search's,
//    so every arch finds the same record;
//  - linear: every page's run of records in one call.
// A record whose key word straddles two pages (base not 4-aligned) is read through the MMU alone.

import { RECORD_BYTES } from '../arch/index.js';
import { PAGE_SIZE } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { checkSpan, inUser, userLoad32, withUserPage } from './mmu.js';

const KEY_BYTES = 4;

/** The index of a record of `count` at `base` whose key is `key`, or -1. In user mode for mm. */
export function userFindRecord(
  cpu: Cpu,
  mm: number,
  base: number,
  count: number,
  key: number,
  linear: boolean,
): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`bad record count ${count}`);
  if (!Number.isInteger(key) || key < 0 || key > 0xffffffff)
    throw new RangeError(`bad key ${key}: keys are unsigned 32-bit`);
  checkSpan(cpu, base, count * RECORD_BYTES);
  return inUser(cpu, mm, () =>
    linear ? linearSearch(cpu, mm, base, count, key) : binarySearch(cpu, mm, base, count, key),
  );
}

function keyAt(cpu: Cpu, mm: number, address: number): number {
  return userLoad32(cpu, mm, address) >>> 0;
}

function binarySearch(cpu: Cpu, mm: number, base: number, count: number, key: number): number {
  const arch = cpu.k.arch;
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const first = base + lo * RECORD_BYTES;
    const keysEnd = base + (hi - 1) * RECORD_BYTES + KEY_BYTES;
    if (keysEnd <= (Math.floor(first / PAGE_SIZE) + 1) * PAGE_SIZE) {
      const records = hi - lo;
      const found = withUserPage(cpu, mm, first, false, (phys) => arch.bsearchRecords(phys, records, key));
      return found < 0 ? -1 : lo + found;
    }
    const mid = lo + ((hi - lo) >>> 1);
    const value = keyAt(cpu, mm, base + mid * RECORD_BYTES);
    if (value === key) return mid;
    if (value < key) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

function linearSearch(cpu: Cpu, mm: number, base: number, count: number, key: number): number {
  const arch = cpu.k.arch;
  for (let r = 0; r < count; ) {
    const at = base + r * RECORD_BYTES;
    const pageEnd = (Math.floor(at / PAGE_SIZE) + 1) * PAGE_SIZE;
    if (at + KEY_BYTES > pageEnd) {
      if (keyAt(cpu, mm, at) === key) return r;
      r++;
      continue;
    }
    const records = Math.min(count - r, Math.floor((pageEnd - at - KEY_BYTES) / RECORD_BYTES) + 1);
    const found = withUserPage(cpu, mm, at, false, (phys) => arch.lsearchRecords(phys, records, key));
    if (found >= 0) return r + found;
    r += records;
  }
  return -1;
}
