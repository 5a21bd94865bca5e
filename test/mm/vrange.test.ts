// Goal: vrange's semantics table (VOLATILE / NOVOLATILE, FULL / PARTIAL, purge, SIGBUS, zeros after
// un-marking, merge and split, /proc/<pid>/vrange, every errno, munmap dropping stale ranges) and the
// same user-visible semantics for the vma policy (mvolatile) and MADV_FREE.

import { describe, expect, it } from 'vitest';
import {
  EINVAL,
  ENOMEM,
  MADV_FREE,
  type Machine,
  SigBus,
  type Thread,
  VRANGE_FULL,
  VRANGE_NOVOLATILE,
  VRANGE_PARTIAL,
  VRANGE_VOLATILE,
} from '../../src/index.js';
import { expectErrnos, expectUnchanged, procLines, smallMachine, thrown } from './helpers.js';

const PAGE = 4096;
const MIB = 1 << 20;

function vrangeLines(machine: Machine, pid: number): string[] {
  return procLines(machine, `/proc/${pid}/vrange`);
}

/** A 4 MiB machine: another process filling 3 MiB forces reclaim to purge what it can. */
function tightMachine(): Machine {
  return smallMachine({ memoryMiB: 4 });
}

/**
 * Fills (and faults in) `mib` MiB in a fresh process, forcing direct reclaim; returns a function
 * that ends that process (reading discarded pages faults frames in again, which needs the room).
 */
function applyPressure(machine: Machine, mib: number): () => void {
  const proc = machine.createProcess();
  const t = proc.mainThread();
  const addr = t.mmap(mib * MIB);
  t.fill(addr, mib * MIB, 0x77);
  return () => proc.exit();
}

describe('vrange semantics', () => {
  it('marks without touching PTEs, and un-marks with "not purged" when nothing was discarded', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(16 * PAGE);
    t.fill(addr, 16 * PAGE, 0x42);
    const rss = () => /VmRSS:.*/.exec(machine.procfs(`/proc/${proc.pid}/status`))?.[0];
    const before = rss();
    expect(t.vrange(addr, 16 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    // Volatile pages that were not purged read their old data, with no fault.
    const faults = machine.vmstat().pgfault;
    expect(t.read(addr, 16 * PAGE).every((b) => b === 0x42)).toBe(true);
    expect(machine.vmstat().pgfault).toBe(faults);
    expect(rss()).toBe(before);
    expect(t.vrange(addr, 16 * PAGE, VRANGE_NOVOLATILE, VRANGE_FULL)).toBe(0);
    expect(vrangeLines(machine, proc.pid)).toEqual([]);
    machine.validate();
  });

  it('merges overlapping and adjacent ranges and splits on NOVOLATILE, as /proc/<pid>/vrange shows', () => {
    const machine = smallMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(32 * PAGE);
    const hex = (n: number) => n.toString(16).padStart(8, '0');
    expect(t.vrange(addr, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(t.vrange(addr + 8 * PAGE, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(vrangeLines(machine, proc.pid)).toEqual([
      `${hex(addr)}-${hex(addr + 4 * PAGE - 1)} v`,
      `${hex(addr + 8 * PAGE)}-${hex(addr + 12 * PAGE - 1)} v`,
    ]);
    // Adjacent to the first, overlapping the second: one range.
    expect(t.vrange(addr + 4 * PAGE, 6 * PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(vrangeLines(machine, proc.pid)).toEqual([`${hex(addr)}-${hex(addr + 12 * PAGE - 1)} v`]);
    // A hole in the middle splits it.
    expect(t.vrange(addr + 5 * PAGE, 2 * PAGE, VRANGE_NOVOLATILE)).toBe(0);
    expect(vrangeLines(machine, proc.pid)).toEqual([
      `${hex(addr)}-${hex(addr + 5 * PAGE - 1)} v`,
      `${hex(addr + 7 * PAGE)}-${hex(addr + 12 * PAGE - 1)} v`,
    ]);
    expect(machine.procfs(`/proc/${proc.pid}/status`)).toMatch(/VolatileRanges:\s+2/);
    machine.validate();
  });

  it('under memory pressure a FULL range is purged: SIGBUS while volatile, NOVOLATILE says 1, then zeros', () => {
    const machine = tightMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(2 * MIB);
    t.fill(addr, 2 * MIB, 0x42);
    expect(t.vrange(addr, 2 * MIB, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    const endPressure = applyPressure(machine, 3);
    const stat = machine.vmstat();
    expect(stat.pgvrange_discard).toBe(512); // FULL: the whole range
    expect(stat.pgdiscard_direct).toBe(512);
    expect(vrangeLines(machine, proc.pid)).toEqual([expect.stringMatching(/ p$/)]);
    const error = thrown(() => t.read(addr + 3 * PAGE + 1, 1));
    expect(error).toBeInstanceOf(SigBus);
    expect((error as SigBus).address).toBe(addr + 3 * PAGE + 1);
    machine.validate();
    expect(t.vrange(addr, 2 * MIB, VRANGE_NOVOLATILE)).toBe(1);
    endPressure();
    expect(t.read(addr, 2 * MIB).every((b) => b === 0)).toBe(true);
    machine.validate();
  });

  it('a PARTIAL range loses only what reclaim needs; un-marking still reports the purge', () => {
    const machine = tightMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(2 * MIB);
    t.fill(addr, 2 * MIB, 0x42);
    expect(t.vrange(addr, 2 * MIB, VRANGE_VOLATILE, VRANGE_PARTIAL)).toBe(0);
    applyPressure(machine, 3);
    const discarded = machine.vmstat().pgvrange_discard;
    expect(discarded).toBeGreaterThan(0);
    expect(discarded).toBeLessThan(512);
    // Every page either kept its data or is a purged page (SIGBUS); count them.
    let kept = 0;
    let purged = 0;
    for (let page = 0; page < 512; page++) {
      const error = thrown(() => {
        if (t.read(addr + page * PAGE, PAGE).every((b) => b === 0x42)) kept++;
        else throw new Error(`page ${page} lost data without a purge`);
      });
      if (error instanceof SigBus) purged++;
      else if (error !== undefined) throw error;
    }
    expect(purged).toBe(discarded);
    expect(kept + purged).toBe(512);
    expect(t.vrange(addr, 2 * MIB, VRANGE_NOVOLATILE)).toBe(1);
    machine.validate();
  });

  it('the consistent-purged rule: a purged range keeps its flag when split, never under-reports', () => {
    const machine = tightMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(2 * MIB);
    t.fill(addr, 2 * MIB, 0x42);
    expect(t.vrange(addr, 2 * MIB, VRANGE_VOLATILE)).toBe(0);
    applyPressure(machine, 3);
    expect(t.vrange(addr, PAGE, VRANGE_NOVOLATILE)).toBe(1);
    // The rest is still volatile and purged: re-merging it keeps the flag.
    expect(t.vrange(addr, PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(t.vrange(addr + MIB, PAGE, VRANGE_NOVOLATILE)).toBe(1);
    machine.validate();
  });

  it('munmap drops the ranges of the unmapped span: a new mapping there is never purged', () => {
    const machine = tightMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(2 * MIB);
    expect(t.vrange(addr, 2 * MIB, VRANGE_VOLATILE)).toBe(0);
    expect(t.munmap(addr + MIB, MIB)).toBe(0);
    expect(vrangeLines(machine, proc.pid)).toHaveLength(1);
    expect(t.munmap(addr, MIB)).toBe(0);
    expect(vrangeLines(machine, proc.pid)).toEqual([]);
    const again = t.mmap(2 * MIB, { addr });
    expect(again).toBe(addr);
    t.fill(addr, 2 * MIB, 0x42);
    // A volatile decoy, newer on the victim LRU (oldest first) than a range munmap left behind would
    // be: the pressure makes reclaim purge it, and such a stale range would have been purged first.
    const decoy = t.mmap(MIB);
    t.fill(decoy, MIB, 0x99);
    expect(t.vrange(decoy, MIB, VRANGE_VOLATILE)).toBe(0);
    applyPressure(machine, 1);
    // Reclaim ran and purged volatile memory: the decoy, and nothing of the new mapping.
    expect(machine.vmstat().pgvrange_discard).toBeGreaterThan(0);
    expect(t.read(addr, 2 * MIB).every((b) => b === 0x42)).toBe(true);
    expect(t.vrange(decoy, MIB, VRANGE_NOVOLATILE)).toBe(1);
    machine.validate();
  });

  it('rejects bad input with the errno the rules give and changes nothing', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(8 * PAGE);
    t.fill(addr, 8 * PAGE, 1);
    expect(t.vrange(addr, 2 * PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(t.munmap(addr + 6 * PAGE, 2 * PAGE)).toBe(0);
    expectErrnos(machine, [
      ['unaligned start', () => t.vrange(addr + 1, PAGE, VRANGE_VOLATILE), -EINVAL],
      ['zero length', () => t.vrange(addr, 0, VRANGE_VOLATILE), -EINVAL],
      ['negative length', () => t.vrange(addr, -PAGE, VRANGE_VOLATILE), -EINVAL],
      ['wrapping length', () => t.vrange(addr, Number.MAX_SAFE_INTEGER, VRANGE_VOLATILE), -EINVAL],
      ['beyond the address space', () => t.vrange(64 * MIB - PAGE, 2 * PAGE, VRANGE_VOLATILE), -EINVAL],
      ['bad mode', () => t.vrange(addr, PAGE, 2), -EINVAL],
      ['bad behavior', () => t.vrange(addr, PAGE, VRANGE_VOLATILE, 7), -EINVAL],
      ['NaN address', () => t.vrange(Number.NaN, PAGE, VRANGE_VOLATILE), -EINVAL],
      ['partly unmapped', () => t.vrange(addr + 4 * PAGE, 4 * PAGE, VRANGE_VOLATILE), -ENOMEM],
      ['unmapped, NOVOLATILE', () => t.vrange(addr + 6 * PAGE, PAGE, VRANGE_NOVOLATILE), -ENOMEM],
    ]);
  });

  it('runs out of vrange nodes with -ENOMEM and changes nothing', () => {
    const machine = smallMachine({ vrangeNodesPerMm: 2 });
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(16 * PAGE);
    expect(t.vrange(addr, PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(t.vrange(addr + 4 * PAGE, PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(expectUnchanged(machine, () => t.vrange(addr + 8 * PAGE, PAGE, VRANGE_VOLATILE))).toBe(-ENOMEM);
    // Bridging the two ranges merges them into one node and frees the other.
    expect(t.vrange(addr + PAGE, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
    expect(t.vrange(addr + 8 * PAGE, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
    // Splitting a range needs a node: none left.
    expect(expectUnchanged(machine, () => t.vrange(addr + 9 * PAGE, PAGE, VRANGE_NOVOLATILE))).toBe(-ENOMEM);
  });
});

describe('the vma policy (mvolatile / mnovolatile)', () => {
  it('splits and flags VMAs, merges them back, and has vrange semantics under pressure', () => {
    const machine = tightMachine();
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const addr = t.mmap(2 * MIB);
    t.fill(addr, 2 * MIB, 0x42);
    expect(t.mvolatile(addr + MIB, MIB)).toBe(0);
    expect(machine.procfs(`/proc/${proc.pid}/maps`)).toMatch(/\[volatile\]/);
    expect(machine.procfs(`/proc/${proc.pid}/maps`).trim().split('\n')).toHaveLength(2);
    expect(t.mnovolatile(addr + MIB, MIB)).toBe(0);
    expect(machine.procfs(`/proc/${proc.pid}/maps`).trim().split('\n')).toHaveLength(1);
    expect(t.mvolatile(addr, 2 * MIB)).toBe(0);
    const endPressure = applyPressure(machine, 3);
    expect(machine.procfs(`/proc/${proc.pid}/maps`)).toMatch(/\[volatile purged\]/);
    expect(thrown(() => t.read(addr, 1))).toBeInstanceOf(SigBus);
    expect(t.mnovolatile(addr, 2 * MIB)).toBe(1);
    endPressure();
    expect(t.read(addr, 2 * MIB).every((b) => b === 0)).toBe(true);
    machine.validate();
  });

  it('rejects bad input like vrange and changes nothing', () => {
    const machine = smallMachine();
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(4 * PAGE);
    expect(t.munmap(addr + 2 * PAGE, PAGE)).toBe(0);
    expectErrnos(machine, [
      ['unaligned', () => t.mvolatile(addr + 1, PAGE), -EINVAL],
      ['zero length', () => t.mnovolatile(addr, 0), -EINVAL],
      ['unmapped', () => t.mvolatile(addr + 2 * PAGE, PAGE), -ENOMEM],
      ['with a hole', () => t.mnovolatile(addr, 4 * PAGE), -ENOMEM],
    ]);
  });
});

describe('MADV_FREE', () => {
  function lazyPages(t: Thread, machine: Machine): number {
    const addr = t.mmap(2 * MIB);
    t.fill(addr, 2 * MIB, 0x42);
    expect(t.madvise(addr, 2 * MIB, MADV_FREE)).toBe(0);
    expect(machine.vmstat().pglazyfree).toBe(512);
    return addr;
  }

  it('keeps the pages until reclaim; untouched ones are discarded (zeros), never SIGBUS', () => {
    const machine = tightMachine();
    const t = machine.createProcess().mainThread();
    const addr = lazyPages(t, machine);
    // Until reclaim runs the data is still there.
    expect(t.read(addr, PAGE).every((b) => b === 0x42)).toBe(true);
    const endPressure = applyPressure(machine, 3);
    expect(machine.vmstat().pglazyfreed).toBeGreaterThan(0);
    endPressure();
    const bytes = t.read(addr, 2 * MIB);
    for (let page = 0; page < 512; page++) {
      const first = bytes[page * PAGE];
      expect([0, 0x42]).toContain(first);
      expect(bytes.subarray(page * PAGE, (page + 1) * PAGE).every((b) => b === first)).toBe(true);
    }
    machine.validate();
  });

  it('a page re-dirtied after MADV_FREE is kept by reclaim', () => {
    const machine = tightMachine();
    const t = machine.createProcess().mainThread();
    const addr = lazyPages(t, machine);
    t.fill(addr, 64 * PAGE, 0x55); // re-dirty the first 64 pages
    applyPressure(machine, 3);
    expect(t.read(addr, 64 * PAGE).every((b) => b === 0x55)).toBe(true);
    machine.validate();
  });
});
