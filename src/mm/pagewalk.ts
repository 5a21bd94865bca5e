// Page-table walks (mm/pagewalk.c): visiting the PTEs of a range one split page-table lock at a
// time. The walk holds the PTL of the 512-page block being visited and nothing else.

import { PTES_PER_PTL } from '../layout/layout.js';
import type { Cpu } from './cpu.js';
import { PTE_NONE, PTE_PURGED } from './pgtable.js';

/**
 * Calls visit(pteWord, vpn) for each page of [start, end) of mm with the page's PTL held. visit
 * returns false to stop after that page (to flush a full batch, say). blockDone, if given, is called
 * after the last visit under each PTL, before that PTL is dropped. Returns the page to resume
 * from: `end` when the walk finished.
 */
export function walkPtes(
  cpu: Cpu,
  mm: number,
  start: number,
  end: number,
  visit: (pteWord: number, vpn: number) => boolean,
  blockDone?: () => void,
): number {
  const k = cpu.k;
  let vpn = start;
  while (vpn < end) {
    const blockEnd = Math.min(end, (Math.floor(vpn / PTES_PER_PTL) + 1) * PTES_PER_PTL);
    const ptl = k.ptl(mm, vpn);
    let more = true;
    ptl.lock(cpu.lock);
    try {
      for (let word = k.pteWord(mm, vpn); vpn < blockEnd && more; vpn++, word++) more = visit(word, vpn);
      if (blockDone !== undefined) blockDone();
    } finally {
      ptl.unlock(cpu.lock);
    }
    if (!more) return vpn;
  }
  return end;
}

/** Clears the purged markers of [start, end): the range stopped being volatile. */
export function clearPurgedMarkers(cpu: Cpu, mm: number, start: number, end: number): void {
  const i32 = cpu.i32;
  walkPtes(cpu, mm, start, end, (word) => {
    Atomics.compareExchange(i32, word, PTE_PURGED, PTE_NONE);
    return true;
  });
}
