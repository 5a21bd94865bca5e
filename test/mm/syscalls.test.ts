// Goal: single-thread semantics of mmap, munmap, mprotect and madvise(MADV_DONTNEED), with the
// kernel's errno for each bad input — and a failed call leaves the machine exactly as it was.

import { describe, expect, it } from 'vitest';
import {
  EINVAL,
  ENOMEM,
  EPERM,
  MADV_DONTNEED,
  MAP_FIXED,
  MMAP_MIN_ADDR,
  OutOfMemoryError,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SigSegv,
} from '../../src/index.js';
import { expectErrnos, expectUnchanged, procLines, smallMachine, thrown } from './helpers.js';

const PAGE = 4096;
const MIB = 1 << 20;

function mapsLines(machine: ReturnType<typeof smallMachine>, pid: number): string[] {
  return procLines(machine, `/proc/${pid}/maps`);
}

describe('mmap', () => {
  it('maps zero-filled, page-aligned anonymous memory that keeps what is written', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(3 * PAGE + 5);
    expect(addr).toBeGreaterThanOrEqual(MMAP_MIN_ADDR);
    expect(addr % PAGE).toBe(0);
    expect(t.read(addr, 4 * PAGE).every((b) => b === 0)).toBe(true);
    t.write(addr + PAGE - 2, new Uint8Array([9, 8, 7, 6]));
    expect(Array.from(t.read(addr + PAGE - 2, 4))).toEqual([9, 8, 7, 6]);
    expect(mapsLines(machine, proc.pid)).toEqual([
      `${addr.toString(16).padStart(8, '0')}-${(addr + 4 * PAGE).toString(16).padStart(8, '0')} rw-p 00000000 00:00 0`,
    ]);
    // Reading faults pages in too (no shared zero page in this model).
    expect(machine.procfs(`/proc/${proc.pid}/status`)).toMatch(/VmRSS:\s+16 kB/);
    machine.validate();
  });

  it('uses a free hint, honours MAP_FIXED and replaces what MAP_FIXED covers', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    const hint = 0x200000;
    expect(t.mmap(PAGE, { addr: hint })).toBe(hint);
    t.fill(hint, PAGE, 0xaa);
    // The hint is taken: another address is chosen.
    const other = t.mmap(PAGE, { addr: hint });
    expect(other).not.toBe(hint);
    // MAP_FIXED over it: the old page is gone, the new one reads zero.
    expect(t.mmap(PAGE, { addr: hint, flags: MAP_FIXED })).toBe(hint);
    expect(t.read(hint, 1)[0]).toBe(0);
    machine.validate();
  });

  it('merges adjacent mappings with the same protection into one VMA', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const a = t.mmap(PAGE, { addr: 0x300000, flags: MAP_FIXED });
    t.mmap(PAGE, { addr: a + PAGE, flags: MAP_FIXED });
    expect(mapsLines(machine, proc.pid)).toHaveLength(1);
    t.mmap(PAGE, { addr: a + 2 * PAGE, flags: MAP_FIXED, prot: PROT_READ });
    expect(mapsLines(machine, proc.pid)).toHaveLength(2);
  });

  it('rejects bad input with the kernel errno and changes nothing', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    t.mmap(MIB);
    expectErrnos(machine, [
      ['zero length', () => t.mmap(0), -EINVAL],
      ['negative length', () => t.mmap(-PAGE), -EINVAL],
      ['NaN length', () => t.mmap(Number.NaN), -EINVAL],
      ['fractional length', () => t.mmap(1.5), -EINVAL],
      ['bad prot', () => t.mmap(PAGE, { prot: 8 }), -EINVAL],
      ['bad flags', () => t.mmap(PAGE, { flags: 0x20000 }), -EINVAL],
      ['MAP_FIXED unaligned', () => t.mmap(PAGE, { addr: 0x300001, flags: MAP_FIXED }), -EINVAL],
      ['MAP_FIXED below mmap_min_addr', () => t.mmap(PAGE, { addr: PAGE, flags: MAP_FIXED }), -EPERM],
      [
        'MAP_FIXED past the address space',
        () => t.mmap(2 * PAGE, { addr: 64 * MIB - PAGE, flags: MAP_FIXED }),
        -ENOMEM,
      ],
      ['larger than the address space', () => t.mmap(65 * MIB), -ENOMEM],
      ['no gap large enough', () => t.mmap(63 * MIB), -ENOMEM],
    ]);
    machine.validate();
  });

  it('returns -ENOMEM when the VMA table is full', () => {
    const machine = smallMachine({ maxVmasPerMm: 4 });
    const t = machine.createProcess().mainThread();
    // Alternate protections so that nothing merges.
    for (let i = 0; i < 4; i++) {
      expect(t.mmap(PAGE, { addr: 0x400000 + 2 * i * PAGE, flags: MAP_FIXED, prot: PROT_READ })).toBe(
        0x400000 + 2 * i * PAGE,
      );
    }
    expect(expectUnchanged(machine, () => t.mmap(PAGE, { addr: 0x800000 }))).toBe(-ENOMEM);
  });
});

describe('munmap', () => {
  it('unmaps a middle part: two VMAs remain, the hole faults with the address', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(4 * PAGE);
    t.fill(addr, 4 * PAGE, 1);
    expect(t.munmap(addr + PAGE, 2 * PAGE)).toBe(0);
    expect(mapsLines(machine, proc.pid)).toHaveLength(2);
    const error = thrown(() => t.read(addr + PAGE + 10, 1));
    expect(error).toBeInstanceOf(SigSegv);
    expect((error as SigSegv).address).toBe(addr + PAGE + 10);
    expect((error as SigSegv).reason).toBe('maperr');
    expect(t.read(addr, 1)[0]).toBe(1);
    expect(t.read(addr + 3 * PAGE, 1)[0]).toBe(1);
    expect(machine.procfs(`/proc/${proc.pid}/status`)).toMatch(/VmRSS:\s+8 kB/);
    // Unmapping what is not mapped is fine.
    expect(t.munmap(addr + PAGE, 2 * PAGE)).toBe(0);
    machine.validate();
  });

  it('rejects bad input with the kernel errno and changes nothing', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(MIB);
    t.fill(addr, MIB, 3);
    expectErrnos(machine, [
      ['unaligned', () => t.munmap(addr + 1, PAGE), -EINVAL],
      ['zero length', () => t.munmap(addr, 0), -EINVAL],
      ['negative length', () => t.munmap(addr, -1), -EINVAL],
      ['negative address', () => t.munmap(-PAGE, PAGE), -EINVAL],
      ['past the address space', () => t.munmap(addr, 128 * MIB), -EINVAL],
      ['NaN address', () => t.munmap(Number.NaN, PAGE), -EINVAL],
    ]);
  });
});

describe('mprotect', () => {
  it('read-only faults writes but not reads; read-write again allows writes; PROT_NONE faults reads', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(3 * PAGE);
    t.fill(addr, 3 * PAGE, 5);
    expect(t.mprotect(addr + PAGE, PAGE, PROT_READ)).toBe(0);
    expect(mapsLines(machine, proc.pid).map((l) => l.split(' ')[1])).toEqual(['rw-p', 'r--p', 'rw-p']);
    expect(t.read(addr + PAGE, 1)[0]).toBe(5);
    const error = thrown(() => t.write(addr + PAGE + 4, new Uint8Array([1])));
    expect(error).toBeInstanceOf(SigSegv);
    expect((error as SigSegv).reason).toBe('accerr');
    expect((error as SigSegv).address).toBe(addr + PAGE + 4);
    expect(t.read(addr + PAGE, 1)[0]).toBe(5); // the failed write changed nothing
    expect(t.mprotect(addr + PAGE, PAGE, PROT_READ | PROT_WRITE)).toBe(0);
    expect(mapsLines(machine, proc.pid)).toHaveLength(1); // merged back
    t.write(addr + PAGE, new Uint8Array([6]));
    expect(t.read(addr + PAGE, 1)[0]).toBe(6);
    expect(t.mprotect(addr, PAGE, PROT_NONE)).toBe(0);
    expect(thrown(() => t.read(addr, 1))).toBeInstanceOf(SigSegv);
    expect(t.mprotect(addr, PAGE, PROT_READ)).toBe(0);
    expect(t.read(addr, 1)[0]).toBe(5);
    machine.validate();
  });

  it('rejects bad input with the kernel errno and changes nothing', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(4 * PAGE);
    t.fill(addr, 4 * PAGE, 1);
    t.munmap(addr + 2 * PAGE, PAGE);
    expectErrnos(machine, [
      ['unaligned', () => t.mprotect(addr + 3, PAGE, PROT_READ), -EINVAL],
      ['bad prot', () => t.mprotect(addr, PAGE, 4), -EINVAL],
      ['negative length', () => t.mprotect(addr, -PAGE, PROT_READ), -EINVAL],
      ['range with a hole', () => t.mprotect(addr, 4 * PAGE, PROT_READ), -ENOMEM],
      ['unmapped range', () => t.mprotect(addr + 2 * PAGE, PAGE, PROT_READ), -ENOMEM],
      ['past the address space', () => t.mprotect(addr, 128 * MIB, PROT_READ), -ENOMEM],
    ]);
    expect(t.mprotect(addr, 0, PROT_READ)).toBe(0);
  });
});

describe('madvise(MADV_DONTNEED)', () => {
  it('frees the pages now: the range reads zeros and the next touch faults a fresh page', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(8 * PAGE);
    t.fill(addr, 8 * PAGE, 0x5a);
    const before = machine.vmstat();
    expect(t.madvise(addr, 8 * PAGE, MADV_DONTNEED)).toBe(0);
    const after = machine.vmstat();
    expect(after.madvise_dontneed - before.madvise_dontneed).toBe(8);
    expect(after.pgfree - before.pgfree).toBe(8);
    expect(machine.procfs(`/proc/${proc.pid}/status`)).toMatch(/VmRSS:\s+0 kB/);
    expect(t.read(addr, 8 * PAGE).every((b) => b === 0)).toBe(true);
    expect(machine.vmstat().pgfault - after.pgfault).toBe(8);
    machine.validate();
  });

  it('rejects bad input with the kernel errno and changes nothing', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(4 * PAGE);
    t.fill(addr, 4 * PAGE, 1);
    t.munmap(addr + 3 * PAGE, PAGE);
    expectErrnos(machine, [
      ['unaligned', () => t.madvise(addr + 100, PAGE, MADV_DONTNEED), -EINVAL],
      ['unknown advice', () => t.madvise(addr, PAGE, 1234), -EINVAL],
      ['negative length', () => t.madvise(addr, -PAGE, MADV_DONTNEED), -EINVAL],
      ['NaN length', () => t.madvise(addr, Number.NaN, MADV_DONTNEED), -EINVAL],
      ['range with a hole', () => t.madvise(addr, 4 * PAGE, MADV_DONTNEED), -ENOMEM],
      ['unmapped range', () => t.madvise(addr + 3 * PAGE, PAGE, MADV_DONTNEED), -ENOMEM],
    ]);
    expect(t.madvise(addr, 0, MADV_DONTNEED)).toBe(0);
    expect(t.read(addr, 1)[0]).toBe(1);
  });
});

describe('faults and memory', () => {
  it('out of memory with nothing reclaimable ends the access with a clear error, not a hang', () => {
    const machine = smallMachine({ memoryMiB: 2 });
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(4 * MIB);
    const error = thrown(() => t.fill(addr, 4 * MIB, 1));
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect((error as Error).message).toMatch(
      /out of memory: cpu 0 faulting at 0x[0-9a-f]+: no free frame and nothing reclaimable/,
    );
    expect(machine.vmstat().oom_kill).toBe(1);
    machine.validate();
    // Memory comes back when the mapping goes.
    expect(t.munmap(addr, 4 * MIB)).toBe(0);
    expect(machine.validate().mappedFrames).toBe(0);
  });

  it('a page freshly given to a process is zero-filled even when its frame held another process data', () => {
    const machine = smallMachine();
    const a = machine.createProcess();
    const b = machine.createProcess();
    const ta = a.mainThread();
    const tb = b.mainThread();
    const addrA = ta.mmap(16 * PAGE);
    ta.fill(addrA, 16 * PAGE, 0xee);
    const k = machine.kernel;
    const framesOf = (mm: number, addr: number) =>
      Array.from({ length: 16 }, (_, i) => k.i32[k.pteWord(mm, addr / PAGE + i)] >>> 8);
    const aFrames = framesOf(a.mm, addrA);
    expect(ta.munmap(addrA, 16 * PAGE)).toBe(0);
    const addrB = tb.mmap(16 * PAGE);
    const bytes = tb.read(addrB, 16 * PAGE);
    // The frames were recycled from A to B (per-CPU lists are LIFO) and came back zeroed.
    const reused = framesOf(b.mm, addrB).filter((f) => aFrames.includes(f));
    expect(reused.length).toBeGreaterThan(0);
    expect(bytes.every((x) => x === 0)).toBe(true);
    machine.validate();
  });

  it('process exit frees every frame', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(MIB);
    t.fill(addr, MIB, 1);
    expect(machine.validate().mappedFrames).toBe(256);
    proc.exit();
    const summary = machine.validate();
    expect(summary.mappedFrames).toBe(0);
    expect(summary.freeFrames + summary.pcpFrames).toBe(summary.totalFrames);
    expect(() => machine.process(proc.pid)).toThrow(/no process/);
  });
});
