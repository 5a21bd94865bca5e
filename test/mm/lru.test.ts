// Goal: the page LRU as Linux keeps it — new anonymous pages reach the anon LRU through their CPU's
// 15-page lru_add batch under lru_lock and leave it when freed (also from another CPU's batch), MADV_FREE
// moves them to the lazyfree list and reclaim puts kept ones back, the MMU's walk sets the accessed
// (young) bit that MADV_FREE clears, and the validator catches a mapped page missing from the LRU.

import { describe, expect, it } from 'vitest';
import { MADV_DONTNEED, MADV_FREE, type Machine, type Process, type Thread } from '../../src/index.js';
import { LRU_BATCH_SIZE, PAGE as PAGE_STRUCT } from '../../src/layout/layout.js';
import { PG_FREE, PG_LAZYFREE, PG_LRU } from '../../src/mm/mm_types.js';
import { PTE_DIRTY, PTE_YOUNG, pteFrame } from '../../src/mm/pgtable.js';
import { lruAddDrain, lruBatchCount } from '../../src/mm/swap.js';
import { shrinkAll } from '../../src/mm/vmscan.js';
import { smallMachine } from './helpers.js';

const PAGE = 4096;

function pte(machine: Machine, proc: Process, addr: number): number {
  const k = machine.kernel;
  return Atomics.load(k.i32, k.pteWord(proc.mm, addr / PAGE));
}

function frameOf(machine: Machine, proc: Process, addr: number): number {
  return pteFrame(pte(machine, proc, addr));
}

function pageField(machine: Machine, frame: number, field: number): number {
  return machine.kernel.i32[machine.kernel.pageWord(frame, field)];
}

function lruCounts(machine: Machine): { anon: number; lazyfree: number } {
  const stat = machine.vmstat();
  return { anon: stat.nr_inactive_anon, lazyfree: stat.nr_inactive_file };
}

function lruLockAcquisitions(machine: Machine): number {
  return machine.lockStat().find((row) => row.name === 'lru_lock')?.acquisitions ?? Number.NaN;
}

/** A fresh machine's process on CPU 0 with `pages` pages mapped and, given `value`, filled with it. */
function mapped(pages: number, value?: number): { machine: Machine; proc: Process; t: Thread; addr: number } {
  const machine = smallMachine();
  const proc = machine.createProcess();
  const t = proc.mainThread(0);
  const addr = t.mmap(pages * PAGE);
  if (value !== undefined) t.fill(addr, pages * PAGE, value);
  return { machine, proc, t, addr };
}

describe('page LRU', () => {
  it('puts a faulted page on the anon LRU through its CPU batch, and takes it off when freed', () => {
    const { machine, proc, t, addr } = mapped(1, 1);
    const frame = frameOf(machine, proc, addr);
    // In the batch: not on the LRU yet, and the batch holds a reference of its own.
    expect(lruBatchCount(machine.kernel, 0)).toBe(1);
    expect(pageField(machine, frame, PAGE_STRUCT.flags) & PG_LRU).toBe(0);
    expect(pageField(machine, frame, PAGE_STRUCT.refcount)).toBe(2);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 0 });
    machine.validate();

    lruAddDrain(machine.cpu(0));
    expect(lruBatchCount(machine.kernel, 0)).toBe(0);
    expect(pageField(machine, frame, PAGE_STRUCT.flags) & PG_LRU).toBe(PG_LRU);
    expect(pageField(machine, frame, PAGE_STRUCT.refcount)).toBe(1);
    expect(lruCounts(machine)).toEqual({ anon: 1, lazyfree: 0 });
    expect(machine.validate().anonLruPages).toBe(1);

    expect(t.madvise(addr, PAGE, MADV_DONTNEED)).toBe(0);
    expect(pageField(machine, frame, PAGE_STRUCT.flags) & (PG_LRU | PG_FREE)).toBe(PG_FREE);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 0 });
    machine.validate();
  });

  it('drains its own batch before an mmu_gather frees the pages (free_pages_and_swap_cache)', () => {
    const { machine, t, addr } = mapped(3, 1);
    expect(lruBatchCount(machine.kernel, 0)).toBe(3);
    expect(t.munmap(addr, 3 * PAGE)).toBe(0);
    expect(lruBatchCount(machine.kernel, 0)).toBe(0);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 0 });
    expect(machine.validate().mappedFrames).toBe(0);
  });

  it('moves a full batch of 15 onto the LRU under one lru_lock hold', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread(0);
    const addr = t.mmap(2 * LRU_BATCH_SIZE * PAGE);
    const before = lruLockAcquisitions(machine);
    t.fill(addr, (LRU_BATCH_SIZE - 1) * PAGE, 1);
    expect(lruBatchCount(machine.kernel, 0)).toBe(LRU_BATCH_SIZE - 1);
    expect(lruCounts(machine).anon).toBe(0);
    expect(lruLockAcquisitions(machine)).toBe(before);
    t.fill(addr + (LRU_BATCH_SIZE - 1) * PAGE, PAGE, 1);
    expect(lruBatchCount(machine.kernel, 0)).toBe(0);
    expect(lruCounts(machine).anon).toBe(LRU_BATCH_SIZE);
    expect(lruLockAcquisitions(machine)).toBe(before + 1);
    t.fill(addr + LRU_BATCH_SIZE * PAGE, 2 * PAGE, 1);
    expect(lruBatchCount(machine.kernel, 0)).toBe(2);
    expect(machine.validate().lruBatchPages).toBe(2);
  });

  it("frees a page unmapped while in another CPU's batch when that CPU drains", () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t0 = proc.thread(0);
    const t1 = proc.thread(1);
    const addr = t0.mmap(PAGE);
    t0.fill(addr, PAGE, 7);
    const frame = frameOf(machine, proc, addr);
    expect(t1.madvise(addr, PAGE, MADV_DONTNEED)).toBe(0);
    // Unmapped, but CPU 0's batch still holds it: not free yet, and not leaked either.
    expect(pageField(machine, frame, PAGE_STRUCT.refcount)).toBe(1);
    expect(pageField(machine, frame, PAGE_STRUCT.flags) & PG_FREE).toBe(0);
    expect(machine.validate().batchOnlyFrames).toBe(1);
    lruAddDrain(machine.cpu(0));
    expect(pageField(machine, frame, PAGE_STRUCT.flags) & (PG_LRU | PG_FREE)).toBe(PG_FREE);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 0 });
    const summary = machine.validate();
    expect(summary.batchOnlyFrames).toBe(0);
    expect(summary.mappedFrames).toBe(0);
  });

  it('empties the LRU when a process exits', () => {
    const { machine, proc } = mapped(40, 3);
    expect(lruCounts(machine).anon).toBe(30);
    proc.exit(0);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 0 });
    expect(lruBatchCount(machine.kernel, 0)).toBe(0);
    expect(machine.validate().mappedFrames).toBe(0);
  });
});

describe('MADV_FREE and the LRU', () => {
  it('moves pages to the lazyfree list; reclaim discards the clean one and puts the re-dirtied one back', () => {
    const { machine, proc, t, addr } = mapped(2, 5);
    expect(t.madvise(addr, 2 * PAGE, MADV_FREE)).toBe(0);
    // MADV_FREE drained this CPU's batch first, so both pages were on the anon LRU to move.
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 2 });
    const kept = frameOf(machine, proc, addr + PAGE);
    expect(pageField(machine, kept, PAGE_STRUCT.flags) & PG_LAZYFREE).toBe(PG_LAZYFREE);
    machine.validate();
    t.fill(addr + PAGE, 1, 9);
    const before = machine.vmstat();
    expect(shrinkAll(machine.cpu(0), 10, true)).toBe(1);
    const after = machine.vmstat();
    expect(after.pglazyfreed - before.pglazyfreed).toBe(1);
    expect(after.pgactivate - before.pgactivate).toBe(1);
    expect(lruCounts(machine)).toEqual({ anon: 1, lazyfree: 0 });
    expect(pageField(machine, kept, PAGE_STRUCT.flags) & (PG_LRU | PG_LAZYFREE)).toBe(PG_LRU);
    expect(t.read(addr, 1)[0]).toBe(0);
    expect(t.read(addr + PAGE, 1)[0]).toBe(9);
    machine.validate();
  });

  it('frees a lazily freed range again (rewritten meanwhile) without lru_lock, cleaning its PTEs', () => {
    const pages = 40;
    const { machine, proc, t, addr } = mapped(pages, 5);
    expect(t.madvise(addr, pages * PAGE, MADV_FREE)).toBe(0);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: pages });
    // ebizzy's cycle: the allocator hands the range out again, the copy rewrites it, it is freed again.
    t.fill(addr, pages * PAGE, 6);
    const locks = lruLockAcquisitions(machine);
    const moved = machine.vmstat().pglazyfree;
    expect(t.madvise(addr, pages * PAGE, MADV_FREE)).toBe(0);
    expect(lruLockAcquisitions(machine)).toBe(locks);
    expect(machine.vmstat().pglazyfree).toBe(moved);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: pages });
    for (let p = 0; p < pages; p++)
      expect(pte(machine, proc, addr + p * PAGE) & (PTE_DIRTY | PTE_YOUNG)).toBe(0);
    machine.validate();
  });

  it("leaves a page still in another CPU's batch on the anon side, as Linux does", () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const addr = proc.thread(0).mmap(PAGE);
    proc.thread(0).fill(addr, PAGE, 5);
    expect(proc.thread(1).madvise(addr, PAGE, MADV_FREE)).toBe(0);
    expect(lruCounts(machine)).toEqual({ anon: 0, lazyfree: 0 });
    expect(machine.vmstat().pglazyfree).toBe(0);
    lruAddDrain(machine.cpu(0));
    expect(lruCounts(machine)).toEqual({ anon: 1, lazyfree: 0 });
    machine.validate();
  });
});

describe('the accessed (young) bit', () => {
  it('is set by the page walk of an access and cleared by MADV_FREE', () => {
    const { machine, proc, t, addr } = mapped(1);
    expect(t.read(addr, 1)[0]).toBe(0);
    expect(pte(machine, proc, addr) & (PTE_YOUNG | PTE_DIRTY)).toBe(PTE_YOUNG);
    t.fill(addr, 1, 1);
    expect(pte(machine, proc, addr) & (PTE_YOUNG | PTE_DIRTY)).toBe(PTE_YOUNG | PTE_DIRTY);
    expect(t.madvise(addr, PAGE, MADV_FREE)).toBe(0);
    expect(pte(machine, proc, addr) & (PTE_YOUNG | PTE_DIRTY)).toBe(0);
    // MADV_FREE flushed the TLBs: the next read walks the PTE again and makes it young.
    expect(t.read(addr, 1)[0]).toBe(1);
    expect(pte(machine, proc, addr) & (PTE_YOUNG | PTE_DIRTY)).toBe(PTE_YOUNG);
    machine.validate();
  });

  it('starts cleared in a forked child', () => {
    const { machine, proc, t, addr } = mapped(1, 1);
    const child = t.fork();
    if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
    const k = machine.kernel;
    expect(pte(machine, proc, addr) & PTE_YOUNG).toBe(PTE_YOUNG);
    expect(Atomics.load(k.i32, k.pteWord(child.mainThread(1).mm, addr / PAGE)) & PTE_YOUNG).toBe(0);
    machine.validate();
  });
});

describe('the validator and the LRU', () => {
  it('reports a mapped page that is on no LRU list and in no batch', () => {
    const { machine, proc, addr } = mapped(1, 1);
    lruAddDrain(machine.cpu(0));
    machine.validate();
    // Corrupt the state as a path that forgot the LRU would: the page leaves the list.
    const k = machine.kernel;
    const frame = frameOf(machine, proc, addr);
    k.anonLruList.remove(frame);
    Atomics.and(k.i32, k.pageWord(frame, PAGE_STRUCT.flags), ~PG_LRU);
    expect(() => machine.validate()).toThrow(/mapped frame \d+ is on 0 LRU lists and in 0 LRU batches/);
  });

  it('reports an LRU list whose PG_LRU flags do not add up', () => {
    const { machine, proc, addr } = mapped(1, 1);
    lruAddDrain(machine.cpu(0));
    const k = machine.kernel;
    Atomics.or(k.i32, k.pageWord(frameOf(machine, proc, addr) + 1, PAGE_STRUCT.flags), PG_LRU);
    expect(() => machine.validate()).toThrow(/2 frames flagged PG_LRU, the LRU lists hold 1 \+ 0/);
  });
});
