// Declarations shared by the CPU, the frame allocator and the unmapping paths (Linux:
// include/linux/mm_types.h, page-flags.h). They live here, below cpu.ts, kernel.ts, page_alloc.ts
// and mmu_gather.ts, so that none of those has to import another only for a type or a flag: the
// modules of src/mm import each other without a cycle (test/layering.test.ts checks it).

/** page.flags: free in the zone's free list. */
export const PG_FREE = 1;
/** On a per-CPU page list (still free). */
export const PG_PCP = 2;
/** Mapped anonymous memory (page.anonVma, page.vpn say where: mm/rmap.ts). */
export const PG_ANON = 4;
/**
 * Lazily freed by MADV_FREE (Linux: anon without PG_swapbacked): on the lazyfree LRU while PG_LRU
 * is set too.
 */
export const PG_LAZYFREE = 8;
/** On a page LRU list (the anon one, or the lazyfree one with PG_LAZYFREE), as Linux's PG_lru. */
export const PG_LRU = 16;

/**
 * A CPU's mmu_gather as the CPU holds it (src/mm/mmu_gather.ts implements it). `C` is the CPU type,
 * left open so that this module needs no import of cpu.ts.
 */
export interface TlbGather<C> {
  readonly cpu: C;
  readonly frames: Int32Array<ArrayBuffer>;
  count: number;
  mm: number;
  toZone: boolean;
  readonly full: boolean;
  begin(mm: number, toZone: boolean): TlbGather<C>;
  add(frame: number): void;
  flush(): void;
}
