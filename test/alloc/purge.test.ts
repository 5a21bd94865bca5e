// Goal: dirty pages are purged when they exceed active >> lg_dirty_mult (on every free for -1),
// oldest span first, with each policy's syscalls; a reused block keeps its old data where the
// policy keeps it; with vrange and vma, volatile pages are unmarked — exactly the pages handed
// out — before reuse, and a purged one reports purged and reads zeros while others keep their data.

import { describe, expect, it } from 'vitest';
import { LARGE_MAX_BYTES } from '../../src/alloc/index.js';
import type { PurgePolicy } from '../../src/experiment/types.js';
import { vmstatDelta } from '../../src/index.js';
import { shrinkAll } from '../../src/mm/vmscan.js';
import { isZero, KIB, PAGE, POLICIES, pattern, setup, teardown } from './helpers.js';

const BLOCK = 512 * KIB;
const BLOCK_PAGES = BLOCK / PAGE;

describe('the dirty threshold', () => {
  it('lg_dirty_mult 3: purges once dirty > active / 8, the oldest dirty span first, down to the threshold', () => {
    const s = setup({ policy: 'dontneed', lgDirtyMult: 3 });
    const { arena, t, machine } = s;
    arena.malloc(80 * PAGE);
    // Twelve one-page blocks, each followed by a live guard page so that they never coalesce.
    const pages: number[] = [];
    for (let i = 0; i < 12; i++) {
      pages.push(arena.malloc(PAGE));
      arena.malloc(PAGE);
    }
    const active = 80 + 24;
    for (let i = 0; i < 12; i++) {
      t.fill(pages[i], PAGE, i + 1);
      arena.free(pages[i]);
      const dirty = i + 1;
      const stats = arena.stats();
      if (dirty <= (active - dirty) >> 3) {
        expect(stats.purgeCalls, `after ${dirty} frees`).toBe(0);
        expect(stats.bytesDirty).toBe(dirty * PAGE);
      }
    }
    // Free 12 was the first with dirty (12) > active (92) >> 3 = 11: one span, the oldest, purged.
    const stats = arena.stats();
    expect(stats).toMatchObject({ purgePasses: 1, purgeCalls: 1, pagesPurged: 1, bytesDirty: 11 * PAGE });
    expect(machine.vmstat().madvise_dontneed).toBe(1);
    expect(isZero(t.read(pages[0], PAGE))).toBe(true);
    expect(t.read(pages[1], PAGE).every((b) => b === 2)).toBe(true);
    arena.validate();
    teardown(s);
  });

  it('lg_dirty_mult -1: every free purges every dirty page', () => {
    const s = setup({ policy: 'vrange', lgDirtyMult: -1 });
    const { arena, machine } = s;
    const big = arena.malloc(BLOCK);
    const blocks = [arena.malloc(8 * KIB), arena.malloc(3 * PAGE), arena.malloc(PAGE)];
    for (const [i, b] of blocks.entries()) {
      arena.free(b);
      expect(arena.stats()).toMatchObject({ purgeCalls: i + 1, bytesDirty: 0 });
    }
    // The three runs were adjacent: their volatile ranges merged into one in the kernel.
    expect(machine.procfs(`/proc/${s.proc.pid}/vrange`).trim().split('\n')).toHaveLength(1);
    expect(arena.stats().bytesVolatile).toBe(6 * PAGE);
    expect(machine.vmstat().vrange_volatile).toBe(3);
    arena.free(big);
    expect(arena.stats().bytesVolatile).toBe(6 * PAGE + BLOCK);
    teardown(s);
  });

  it('a second emptied chunk is unmapped, volatile ranges and all', () => {
    const s = setup({ policy: 'vrange', lgDirtyMult: -1 });
    const { arena, machine, proc } = s;
    const spare = arena.malloc(LARGE_MAX_BYTES);
    const a = arena.malloc(BLOCK);
    const b = arena.malloc(BLOCK);
    arena.free(spare);
    arena.free(a);
    expect(machine.procfs(`/proc/${proc.pid}/vrange`).trim().split('\n')).toHaveLength(2);
    arena.free(b);
    expect(arena.stats()).toMatchObject({
      chunksMapped: 1,
      chunkMunmapCalls: 1,
      bytesVolatile: LARGE_MAX_BYTES,
    });
    // The unmapped chunk's range went with it; the spare's stays.
    expect(machine.procfs(`/proc/${proc.pid}/vrange`).trim().split('\n')).toHaveLength(1);
    machine.validate();
    arena.validate();
    teardown(s);
  });

  it('policy none never purges', () => {
    const s = setup({ policy: 'none', lgDirtyMult: -1 });
    const { arena } = s;
    arena.free(arena.malloc(BLOCK));
    arena.purge();
    expect(arena.stats()).toMatchObject({ purgeCalls: 0, bytesDirty: BLOCK });
    teardown(s);
  });
});

interface PolicyExpectation {
  /** vmstat counters that must grow by one block's free + reuse. */
  free: Partial<Record<'madvise_dontneed' | 'pglazyfree' | 'vrange_volatile' | 'mvolatile', number>>;
  reuse: Partial<Record<'vrange_novolatile' | 'mnovolatile', number>>;
  /** Whether the reused block still holds the bytes written before the free. */
  dataKept: boolean;
}

const EXPECT: Record<PurgePolicy, PolicyExpectation> = {
  dontneed: { free: { madvise_dontneed: BLOCK_PAGES }, reuse: {}, dataKept: false },
  madv_free: { free: { pglazyfree: BLOCK_PAGES }, reuse: {}, dataKept: true },
  vrange: { free: { vrange_volatile: 1 }, reuse: { vrange_novolatile: 1 }, dataKept: true },
  vma: { free: { mvolatile: 1 }, reuse: { mnovolatile: 1 }, dataKept: true },
  none: { free: {}, reuse: {}, dataKept: true },
};

const COUNTERS = [
  'madvise_dontneed',
  'pglazyfree',
  'vrange_volatile',
  'mvolatile',
  'vrange_novolatile',
  'mnovolatile',
] as const;

describe.each(POLICIES)('policy %s', (policy) => {
  it('frees and reuses a 512 KiB block with its syscalls, keeping data where the policy does', () => {
    const s = setup({ policy, lgDirtyMult: -1 });
    const { arena, t, machine } = s;
    const start = machine.vmstat();
    const small = arena.malloc(64);
    const addr = arena.malloc(BLOCK);
    // One chunk serves both.
    expect(vmstatDelta(start, machine.vmstat()).syscall_mmap).toBe(1);
    const bytes = pattern(7, BLOCK);
    t.write(addr, bytes);
    const beforeFree = machine.vmstat();
    arena.free(addr);
    const afterFree = machine.vmstat();
    const freed = vmstatDelta(beforeFree, afterFree);
    for (const name of COUNTERS) expect(freed[name], name).toBe(EXPECT[policy].free[name as never] ?? 0);
    expect(arena.malloc(BLOCK)).toBe(addr);
    const reused = vmstatDelta(afterFree, machine.vmstat());
    for (const name of COUNTERS) expect(reused[name], name).toBe(EXPECT[policy].reuse[name as never] ?? 0);
    expect(reused.syscall_mmap).toBe(0);
    const now = t.read(addr, BLOCK);
    if (EXPECT[policy].dataKept) expect(Buffer.compare(now, bytes)).toBe(0);
    else expect(isZero(now)).toBe(true);
    const stats = arena.stats();
    expect(stats.purgeCalls).toBe(policy === 'none' ? 0 : 1);
    expect(stats.unmarkCalls).toBe(policy === 'vrange' || policy === 'vma' ? 1 : 0);
    expect(stats.pagesReportedPurged).toBe(0);
    expect(stats.chunkMmapCalls).toBe(1);
    arena.free(small);
    arena.validate();
    teardown(s);
  });
});

describe.each(['vrange', 'vma'] as const)('volatile reuse with %s', (policy) => {
  it('a run purged by reclaim reports purged and reads zeros; one not purged keeps its data', () => {
    const s = setup({ policy, lgDirtyMult: -1 });
    const { arena, t, machine } = s;
    const a = arena.malloc(BLOCK);
    arena.malloc(PAGE);
    const c = arena.malloc(BLOCK);
    arena.malloc(PAGE);
    t.write(a, pattern(1, BLOCK));
    t.write(c, pattern(2, BLOCK));
    arena.free(a);
    arena.free(c);
    expect(arena.stats().bytesVolatile).toBe(2 * BLOCK);
    // Reclaim takes the oldest volatile memory first: a's run, and no more than it needs.
    const reclaimed = shrinkAll(machine.cpu(1), BLOCK_PAGES, false);
    expect(reclaimed).toBe(BLOCK_PAGES);
    expect(arena.malloc(BLOCK)).toBe(a);
    expect(arena.stats()).toMatchObject({ unmarkPurgedCalls: 1, pagesReportedPurged: BLOCK_PAGES });
    expect(isZero(t.read(a, BLOCK))).toBe(true);
    expect(arena.malloc(BLOCK)).toBe(c);
    expect(arena.stats()).toMatchObject({ unmarkCalls: 2, unmarkPurgedCalls: 1 });
    expect(Buffer.compare(t.read(c, BLOCK), pattern(2, BLOCK))).toBe(0);
    arena.validate();
    teardown(s);
  });

  it('under memory pressure from another process, purged runs read zeros and the others keep their data', () => {
    const s = setup({ policy, lgDirtyMult: -1 });
    const { arena, t, machine } = s;
    const size = 2048 * KIB;
    const blocks: number[] = [];
    for (let i = 0; i < 4; i++) {
      blocks.push(arena.malloc(size));
      arena.malloc(PAGE); // a live guard: each block's pages are a volatile range of their own
      t.write(blocks[i], pattern(10 + i, size));
    }
    for (const b of blocks) arena.free(b);
    // A second process touches more than is free: direct reclaim purges the oldest volatile ranges.
    const hog = machine.createProcess().thread(1);
    const hogPages = machine.vmstat().nr_free_pages + 1024;
    const hogAddr = hog.mmap(hogPages * PAGE);
    hog.fill(hogAddr, hogPages * PAGE, 0x5a);
    expect(machine.vmstat().pgdiscard_direct).toBeGreaterThan(0);
    // Reading a purged block faults its zero pages back in: let the hog go first.
    expect(hog.munmap(hogAddr, hogPages * PAGE)).toBe(0);
    const outcomes: boolean[] = [];
    for (let n = 0; n < blocks.length; n++) {
      const reported = arena.stats().unmarkPurgedCalls;
      // Reuse goes by address (lowest first), and chunks are mapped top-down.
      const i = blocks.indexOf(arena.malloc(size));
      expect(i).toBeGreaterThanOrEqual(0);
      const purged = arena.stats().unmarkPurgedCalls > reported;
      outcomes[i] = purged;
      if (purged) expect(isZero(t.read(blocks[i], size)), `block ${i}`).toBe(true);
      else expect(Buffer.compare(t.read(blocks[i], size), pattern(10 + i, size)), `block ${i}`).toBe(0);
    }
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
    if (policy === 'vrange') {
      // The victim LRU: the first block freed was purged, the last one kept. (The vma policy's
      // reclaim walks volatile VMAs in address order instead.)
      expect(outcomes[0]).toBe(true);
      expect(outcomes[3]).toBe(false);
    }
    arena.validate();
    teardown(s);
  });

  it('unmarks exactly the pages it hands out; the rest of the run stays volatile', () => {
    const s = setup({ policy, lgDirtyMult: -1 });
    const { arena, t, machine, proc } = s;
    const run = arena.malloc(16 * PAGE);
    arena.malloc(PAGE);
    t.write(run, pattern(3, 16 * PAGE));
    arena.free(run);
    const before = machine.vmstat();
    expect(arena.malloc(4 * PAGE)).toBe(run);
    const delta = vmstatDelta(before, machine.vmstat());
    expect(delta[policy === 'vrange' ? 'vrange_novolatile' : 'mnovolatile']).toBe(1);
    expect(arena.stats()).toMatchObject({ pagesUnmarked: 4, bytesVolatile: 12 * PAGE });
    const rest = `${(run + 4 * PAGE).toString(16).padStart(8, '0')}-${(run + 16 * PAGE - 1).toString(16).padStart(8, '0')}`;
    if (policy === 'vrange') {
      expect(machine.procfs(`/proc/${proc.pid}/vrange`)).toBe(`${rest} v\n`);
    } else {
      const volatileLines = machine
        .procfs(`/proc/${proc.pid}/maps`)
        .split('\n')
        .filter((line) => line.includes('[volatile]'));
      expect(volatileLines).toEqual([
        expect.stringMatching(
          new RegExp(`^${rest.slice(0, 9)}${(run + 16 * PAGE).toString(16).padStart(8, '0')} `),
        ),
      ]);
    }
    expect(Buffer.compare(t.read(run, 4 * PAGE), pattern(3, 16 * PAGE).subarray(0, 4 * PAGE))).toBe(0);
    arena.validate();
    teardown(s);
  });

  it('a run carved across dirty and volatile pages unmarks only the volatile ones', () => {
    const s = setup({ policy, lgDirtyMult: 3 });
    const { arena, t } = s;
    arena.malloc(BLOCK); // active pages keep the threshold (16 pages) above what is freed here
    const a = arena.malloc(8 * PAGE);
    const b = arena.malloc(8 * PAGE);
    arena.malloc(PAGE);
    t.write(a, pattern(4, 8 * PAGE));
    t.write(b, pattern(5, 8 * PAGE));
    arena.free(a);
    arena.purge();
    arena.free(b);
    expect(arena.stats()).toMatchObject({ bytesVolatile: 8 * PAGE, bytesDirty: 8 * PAGE, purgeCalls: 1 });
    // No dirty span alone holds 16 pages: the free extent [a, b + 8 pages) serves it.
    expect(arena.malloc(16 * PAGE)).toBe(a);
    expect(arena.stats()).toMatchObject({
      unmarkCalls: 1,
      pagesUnmarked: 8,
      bytesVolatile: 0,
      bytesDirty: 0,
    });
    expect(Buffer.compare(t.read(a, 8 * PAGE), pattern(4, 8 * PAGE))).toBe(0);
    expect(Buffer.compare(t.read(b, 8 * PAGE), pattern(5, 8 * PAGE))).toBe(0);
    arena.validate();
    teardown(s);
  });
});
