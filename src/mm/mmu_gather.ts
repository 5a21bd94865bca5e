// mmu_gather (mm/mmu_gather.c): frames unmapped from an mm are collected while their PTEs are
// cleared under the PTLs, and freed only after a TLB shootdown of the mm, in batches. No frame is
// freed while a CPU may still reach it through a stale TLB entry.

import type { Cpu } from './cpu.js';
import type { TlbGather } from './mm_types.js';
import { freePages, freePagesToZone } from './page_alloc.js';
import { putPages } from './rmap.js';
import { lruAddDrain } from './swap.js';
import { flushTlbMm } from './tlb.js';

/** Frames gathered before a forced flush (Linux: one batch page of pointers, ~500). */
export const GATHER_MAX = 512;

export class MmuGather implements TlbGather<Cpu> {
  readonly frames = new Int32Array(GATHER_MAX);
  count = 0;
  mm = -1;
  /** Free straight to the zone (reclaim) rather than to this CPU's list. */
  toZone = false;

  constructor(readonly cpu: Cpu) {}

  /** tlb_gather_mmu: starts a batch for mm. The gather must be empty. */
  begin(mm: number, toZone: boolean): this {
    if (this.count !== 0) throw new Error(`mmu_gather: begin with ${this.count} frames still gathered`);
    this.mm = mm;
    this.toZone = toZone;
    return this;
  }

  get full(): boolean {
    return this.count === GATHER_MAX;
  }

  add(frame: number): void {
    if (this.count === GATHER_MAX)
      throw new Error('mmu_gather: add to a full batch (caller must flush first)');
    this.frames[this.count++] = frame;
  }

  /**
   * Shootdown, then drop the reference each unmapped PTE held and free the frames that had no other
   * (a COW-shared frame stays with its other mappings, a pinned one with its pinner, one still in
   * another CPU's LRU batch with that batch). As free_pages_and_swap_cache, this CPU's LRU batch is
   * drained first. Caller holds no PTL (the shootdown may wait).
   */
  flush(): void {
    if (this.count === 0) return;
    flushTlbMm(this.cpu, this.mm);
    lruAddDrain(this.cpu);
    const last = putPages(this.cpu.k, this.frames, this.count);
    if (this.toZone) freePagesToZone(this.cpu, this.frames, last);
    else freePages(this.cpu, this.frames, last);
    this.count = 0;
  }
}
