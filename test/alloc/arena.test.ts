// Goal: malloc/free/reuse of small, large and huge blocks follow jemalloc 3 (tcache LIFO, lowest
// address first, coalescing, huge blocks mmap'ed and unmapped); bad frees throw with what is wrong;
// running out of address space is a clear error; destroy gives every page back.

import { describe, expect, it } from 'vitest';
import {
  AllocationFailedError,
  Arena,
  BINS,
  CHUNK_SIZE,
  InvalidPointerError,
  LARGE_MAX_BYTES,
} from '../../src/alloc/index.js';
import { vmstatDelta } from '../../src/index.js';
import { allocMachine, KIB, MIB, PAGE, pattern, rss, setup, teardown } from './helpers.js';

function thrown(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('small blocks', () => {
  it('reuse the last freed region of their class first (tcache LIFO) and never share one', () => {
    const s = setup({ policy: 'none' });
    const { arena } = s;
    const blocks = Array.from({ length: 100 }, () => arena.malloc(64));
    expect(new Set(blocks).size).toBe(100);
    // The first fill hands out a run's lowest regions in address order.
    expect(blocks[1] - blocks[0]).toBe(64);
    arena.free(blocks[10]);
    arena.free(blocks[20]);
    expect(arena.malloc(50)).toBe(blocks[20]);
    expect(arena.malloc(64)).toBe(blocks[10]);
    expect(blocks).not.toContain(arena.malloc(64));
    // Another class does not take them.
    arena.free(blocks[30]);
    expect(arena.malloc(128)).not.toBe(blocks[30]);
    arena.validate();
    teardown(s);
  });

  it('give a run back to the page runs once all its regions are free', () => {
    const s = setup({ policy: 'none' });
    const { arena } = s;
    const bin = BINS.find((b) => b.regionBytes === 1024)!;
    const blocks = Array.from({ length: bin.regionCount * 3 }, () => arena.malloc(1000));
    expect(arena.stats().smallRuns).toBe(3);
    for (const b of blocks) arena.free(b);
    arena.flushTcache();
    const stats = arena.stats();
    expect(stats.smallRuns).toBe(0);
    expect(stats.bytesActive).toBe(0);
    expect(stats.bytesDirty).toBe(3 * bin.runPages * PAGE);
    expect(stats.bytesAllocated).toBe(0);
    arena.validate();
    teardown(s);
  });
});

describe('large blocks', () => {
  it('reuse a freed run, the lowest-addressed dirty one first, and coalesce neighbours', () => {
    const s = setup({ policy: 'none' });
    const { arena } = s;
    const [a, b, c, guard] = [
      arena.malloc(32 * KIB),
      arena.malloc(32 * KIB),
      arena.malloc(32 * KIB),
      arena.malloc(PAGE),
    ];
    expect(b - a).toBe(32 * KIB);
    expect(c - b).toBe(32 * KIB);
    arena.free(c);
    arena.free(a);
    expect(arena.malloc(32 * KIB)).toBe(a);
    expect(arena.malloc(20 * KIB)).toBe(c);
    // b and the rest of c's run coalesce: a 44 KiB block fits where b was.
    arena.free(b);
    arena.free(c);
    expect(arena.malloc(64 * KIB)).toBe(b);
    expect(arena.stats().runsFromDirty).toBe(3);
    arena.free(guard);
    arena.validate();
    teardown(s);
  });

  it('come from one chunk until it is full, then from a new one', () => {
    const s = setup({ policy: 'none' });
    const { arena } = s;
    const first = arena.malloc(LARGE_MAX_BYTES);
    expect(arena.stats().chunksMapped).toBe(1);
    const second = arena.malloc(PAGE);
    expect(arena.stats().chunkMmapCalls).toBe(2);
    arena.free(first);
    arena.free(second);
    // Both chunks are empty: one stays as the spare, the other is unmapped.
    expect(arena.stats()).toMatchObject({ chunksMapped: 1, chunkMunmapCalls: 1 });
    arena.validate();
    teardown(s);
  });
});

describe('huge blocks', () => {
  it('are mapped on malloc and unmapped on free, in whole chunks', () => {
    const s = setup({ policy: 'vrange' });
    const { machine, arena, t } = s;
    const before = machine.vmstat();
    const addr = arena.malloc(5 * MIB);
    expect(arena.usableSize(addr)).toBe(2 * CHUNK_SIZE);
    t.write(addr + 5 * MIB - 3, new Uint8Array([1, 2, 3]));
    expect(vmstatDelta(before, machine.vmstat()).syscall_mmap).toBe(1);
    arena.free(addr);
    const delta = vmstatDelta(before, machine.vmstat());
    expect(delta.syscall_munmap).toBe(1);
    expect(delta.vrange_volatile).toBe(0);
    expect(arena.stats()).toMatchObject({ hugeMapped: 0, hugeBytesMapped: 0, mallocHuge: 1, freeHuge: 1 });
    expect(rss(machine, s.proc)).toBe(0);
    teardown(s);
  });
});

describe('bad pointers', () => {
  it('a double free throws, for small, large and huge blocks', () => {
    const s = setup({ policy: 'vrange' });
    const { arena } = s;
    for (const size of [24, 3000, 64 * KIB, 6 * MIB]) {
      const addr = arena.malloc(size);
      arena.free(addr);
      const error = thrown(() => arena.free(addr)) as InvalidPointerError;
      expect(error).toBeInstanceOf(InvalidPointerError);
      expect(error.address).toBe(addr);
      if (size < 6 * MIB) {
        expect(error.reason, `size ${size}`).toBe('double-free');
        expect(error.message).toMatch(/double free/);
      } else {
        expect(error.message).toMatch(/not a block of this arena/);
      }
    }
    arena.validate();
    teardown(s);
  });

  it('a pointer malloc did not return throws and changes nothing', () => {
    const s = setup({ policy: 'dontneed' });
    const { arena } = s;
    const small = arena.malloc(100);
    const large = arena.malloc(40 * KIB);
    const huge = arena.malloc(5 * MIB);
    const before = arena.stats();
    const cases: [number, string][] = [
      [small + 8, 'interior'],
      [large + 16, 'interior'],
      [large + 3 * PAGE, 'interior'],
      [huge + PAGE, 'interior'],
      [large - 5 * PAGE, 'not-allocated'],
      [0x1000, 'not-allocated'],
      [0, 'not-allocated'],
      [Number.NaN, 'not-allocated'],
    ];
    for (const [addr, reason] of cases) {
      const error = thrown(() => arena.free(addr)) as InvalidPointerError;
      expect(error, `free(${addr})`).toBeInstanceOf(InvalidPointerError);
      expect(error.reason, error.message).toBe(reason);
      expect(() => arena.usableSize(addr)).toThrow(InvalidPointerError);
    }
    expect(thrown(() => arena.free(large + 16))).toMatchObject({
      message: expect.stringMatching(/middle of the 40960-byte block at 0x/),
    });
    expect(arena.stats()).toEqual(before);
    arena.validate();
    teardown(s);
  });
});

describe('running out', () => {
  it('an mmap the address space cannot hold is an AllocationFailedError, and the arena stays usable', () => {
    const s = setup({ policy: 'vma' }, { vaMiB: 16 });
    const { arena } = s;
    const error = thrown(() => arena.malloc(64 * MIB)) as AllocationFailedError;
    expect(error).toBeInstanceOf(AllocationFailedError);
    expect(error.message).toMatch(/malloc\(67108864\): mmap\(67108864\) of a huge block failed with -ENOMEM/);
    // Chunks until the 16 MiB address space is full.
    const blocks: number[] = [];
    let failure: unknown;
    for (let i = 0; i < 10 && failure === undefined; i++) {
      try {
        blocks.push(arena.malloc(3 * MIB));
      } catch (e) {
        failure = e;
      }
    }
    expect(failure).toBeInstanceOf(AllocationFailedError);
    expect((failure as AllocationFailedError).call).toMatch(/chunk/);
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    arena.validate();
    for (const b of blocks) arena.free(b);
    arena.free(arena.malloc(64));
    arena.validate();
    teardown(s);
  });
});

describe('lifetime', () => {
  it('destroy unmaps everything: the machine validates and RSS returns to 0', () => {
    const s = setup({ policy: 'vrange' });
    const { machine, arena, t, proc } = s;
    for (let i = 0; i < 50; i++) {
      const addr = arena.malloc(i % 5 === 0 ? 100 * KIB : 200);
      t.write(addr, pattern(i, 64));
      if (i % 3 === 0) arena.free(addr);
    }
    arena.malloc(6 * MIB);
    expect(rss(machine, proc)).toBeGreaterThan(0);
    arena.destroy();
    expect(machine.vmstat().nr_anon_pages).toBe(0);
    expect(() => arena.malloc(8)).toThrow(/after destroy/);
    expect(thrown(() => arena.free(0x100000))).toMatchObject({ reason: 'destroyed' });
    machine.validate();
    expect(rss(machine, proc)).toBe(0);
    proc.exit();
    expect(rss(machine, proc)).toBe(0);
    machine.validate();
  });

  it('a thread has one arena at a time', () => {
    const s = setup({ policy: 'none' });
    expect(() => new Arena(s.t, { policy: 'none' })).toThrow(/already has an arena/);
    teardown(s);
    const again = new Arena(s.machine.createProcess().mainThread(), { policy: 'vma', lgDirtyMult: -1 });
    expect(again.stats().lgDirtyMult).toBe(-1);
    expect(
      () => new Arena(allocMachine().createProcess().mainThread(), { policy: 'none', lgDirtyMult: 1.5 }),
    ).toThrow(/lgDirtyMult/);
  });
});
