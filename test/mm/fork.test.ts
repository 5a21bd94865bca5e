// Goal: fork's semantics — copy-on-write (the child reads the parent's data, writes diverge, the last
// mapper reuses its page), reverse mapping (a shared page is purged only when volatile in every mm
// that maps it, then in all of them), MADV_FREE leaving shared pages alone, map counts through exit,
// munmap and MADV_DONTNEED, and both vrange inheritance rules at fork; the validator after each step.

import { describe, expect, it } from 'vitest';
import {
  EAGAIN,
  MADV_DONTNEED,
  MADV_FREE,
  type Machine,
  type MachineConfigInput,
  OutOfMemoryError,
  type ProcessRef,
  SigBus,
  type Thread,
  VRANGE_FULL,
  VRANGE_NOVOLATILE,
  VRANGE_VOLATILE,
} from '../../src/index.js';
import { procLines, smallMachine, thrown } from './helpers.js';

const PAGE = 4096;
const MIB = 1 << 20;

function fork(t: Thread): ProcessRef {
  const child = t.fork();
  if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
  return child;
}

/** A parent with `pages` pages filled with `byte`, and its forked child (whose thread runs on CPU 1). */
function forked(config: MachineConfigInput, pages: number, byte: number) {
  const machine = smallMachine(config);
  const parent = machine.createProcess();
  const t = parent.mainThread();
  const addr = t.mmap(pages * PAGE);
  t.fill(addr, pages * PAGE, byte);
  const child = fork(t);
  return { machine, parent, t, addr, child, c: child.thread(1) };
}

function all(bytes: Uint8Array, value: number): boolean {
  return bytes.every((b) => b === value);
}

/** A fresh process that fills `mib` MiB (forcing reclaim) and exits. */
/**
 * A fresh process fills memory until an allocation at the min watermark finds nothing to reclaim
 * (out of memory, caught), then exits: direct reclaim has looked at every volatile page by then.
 */
function pressureToMin(machine: Machine): void {
  const proc = machine.createProcess();
  const t = proc.mainThread();
  const addr = t.mmap(4 * MIB);
  expect(thrown(() => t.fill(addr, 4 * MIB, 0x77))).toBeInstanceOf(OutOfMemoryError);
  proc.exit();
}

function pressure(machine: Machine, mib: number): void {
  const proc = machine.createProcess();
  const t = proc.mainThread();
  const bytes = Math.round((mib * MIB) / PAGE) * PAGE;
  const addr = t.mmap(bytes);
  t.fill(addr, bytes, 0x77);
  proc.exit();
}

describe('fork and copy-on-write', () => {
  it('the child reads the parent data from shared frames; writes diverge, each side copying or reusing', () => {
    const { machine, t, addr, child, c } = forked({}, 8, 0x11);
    expect(child.pid).not.toBe(t.pid);
    // Shared, not copied: no new frame for the child.
    const anonBefore = machine.vmstat().nr_free_pages + machine.vmstat().nr_pcp_pages;
    expect(all(c.read(addr, 8 * PAGE), 0x11)).toBe(true);
    expect(machine.vmstat().nr_free_pages + machine.vmstat().nr_pcp_pages).toBe(anonBefore);
    expect(machine.validate().mappedFrames).toBe(8);
    // The child writes page 0: it gets a copy; the parent keeps its data.
    c.fill(addr, PAGE, 0x22);
    expect(machine.vmstat().cow_fault).toBe(1);
    expect(all(t.read(addr, PAGE), 0x11)).toBe(true);
    expect(all(c.read(addr, PAGE), 0x22)).toBe(true);
    // The parent writes page 0: it is the last mapper of the old frame, which it reuses in place.
    t.fill(addr, PAGE, 0x33);
    expect(machine.vmstat().cow_fault).toBe(1);
    expect(machine.vmstat().pgreuse).toBe(1);
    expect(all(c.read(addr, PAGE), 0x22)).toBe(true);
    // The parent writes page 1: copied; the child still sees the data of the fork.
    t.fill(addr + PAGE, PAGE, 0x44);
    expect(machine.vmstat().cow_fault).toBe(2);
    expect(all(c.read(addr + PAGE, PAGE), 0x11)).toBe(true);
    expect(machine.validate().mappedFrames).toBe(10);
    expect(machine.vmstat().fork).toBe(1);
    expect(machine.lockdepReports()).toEqual([]);
  });

  it('a grandchild shares with both; exit, munmap and MADV_DONTNEED drop map counts and free the last', () => {
    const { machine, parent, t, addr, child, c } = forked({ maxProcesses: 4 }, 4, 0x11);
    const grandchild = fork(c);
    const g = grandchild.thread(0);
    expect(all(g.read(addr, 4 * PAGE), 0x11)).toBe(true);
    expect(machine.validate().mappedFrames).toBe(4);
    // MADV_DONTNEED in the child: its mappings go, the frames stay for the other two.
    expect(c.madvise(addr, 2 * PAGE, MADV_DONTNEED)).toBe(0);
    expect(all(c.read(addr, 2 * PAGE), 0)).toBe(true); // fresh zero pages
    expect(all(t.read(addr, 2 * PAGE), 0x11)).toBe(true);
    expect(machine.validate().mappedFrames).toBe(6);
    // munmap in the parent, exit of the child: only the grandchild maps the first frames now.
    expect(t.munmap(addr, 4 * PAGE)).toBe(0);
    machine.validate();
    child.exit(1);
    expect(machine.validate().mappedFrames).toBe(4);
    expect(all(g.read(addr, 4 * PAGE), 0x11)).toBe(true);
    // Its writes reuse the pages in place: nobody else maps them.
    g.fill(addr, 4 * PAGE, 0x55);
    expect(machine.vmstat().cow_fault).toBe(0);
    grandchild.exit(0);
    parent.exit(0);
    const summary = machine.validate();
    expect(summary.mappedFrames).toBe(0);
    expect(summary.freeFrames + summary.pcpFrames).toBe(summary.totalFrames);
    expect(machine.lockdepReports()).toEqual([]);
  });

  it('fork fails with EAGAIN when the process table is full, changing nothing', () => {
    const machine = smallMachine({ maxProcesses: 2 });
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(PAGE);
    t.fill(addr, PAGE, 1);
    fork(t);
    expect(t.fork()).toBe(-EAGAIN);
    expect(machine.pids()).toHaveLength(2);
    machine.validate();
  });

  it('MADV_FREE leaves a page shared with another mm alone, as Linux does', () => {
    const { machine, t, addr, c } = forked({ memoryMiB: 4 }, 16, 0x11);
    expect(t.madvise(addr, 16 * PAGE, MADV_FREE)).toBe(0);
    expect(machine.vmstat().pglazyfree).toBe(0);
    expect(machine.vmstat().pglazyfree_shared_skip).toBe(16);
    pressure(machine, 3);
    expect(machine.vmstat().pglazyfreed).toBe(0);
    expect(all(t.read(addr, 16 * PAGE), 0x11)).toBe(true);
    expect(all(c.read(addr, 16 * PAGE), 0x11)).toBe(true);
    machine.validate();
  });
});

describe('purge of shared pages', () => {
  it('a page volatile in the parent only is never purged', () => {
    const { machine, t, addr, c } = forked({ memoryMiB: 4 }, 256, 0x11);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    // Below the min watermark (direct reclaim), short of running out.
    pressureToMin(machine);
    const stat = machine.vmstat();
    expect(stat.pgvrange_shared_skip).toBeGreaterThan(0);
    expect(stat.pgvrange_discard).toBe(0);
    machine.validate();
    expect(all(t.read(addr, 256 * PAGE), 0x11)).toBe(true);
    expect(all(c.read(addr, 256 * PAGE), 0x11)).toBe(true);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(0);
    machine.validate();
    expect(machine.lockdepReports()).toEqual([]);
  });

  it('volatile in both: purged in both (SIGBUS in both), and both NOVOLATILEs return 1', () => {
    const { machine, t, addr, c } = forked({ memoryMiB: 4 }, 256, 0x11);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    expect(c.vrange(addr, 256 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    pressure(machine, 3);
    const stat = machine.vmstat();
    expect(stat.pgvrange_shared_discard).toBe(256);
    expect(stat.pgvrange_shared_skip).toBe(0);
    expect(stat.nr_tlb_local_flush_all).toBeGreaterThan(0);
    machine.validate();
    expect(thrown(() => t.read(addr, 1))).toBeInstanceOf(SigBus);
    expect(thrown(() => c.read(addr + 255 * PAGE, 1))).toBeInstanceOf(SigBus);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    expect(c.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    expect(all(t.read(addr, 256 * PAGE), 0)).toBe(true);
    expect(all(c.read(addr, 256 * PAGE), 0)).toBe(true);
    machine.validate();
    expect(machine.lockdepReports()).toEqual([]);
  });

  it('the vma policy: a shared page is purged only when its VMA is VM_VOLATILE in both', () => {
    const { machine, t, addr, c } = forked({ memoryMiB: 4 }, 256, 0x11);
    expect(t.mvolatile(addr, 256 * PAGE)).toBe(0);
    pressureToMin(machine);
    expect(machine.vmstat().pgvrange_shared_skip).toBeGreaterThan(0);
    expect(machine.vmstat().pgvrange_discard).toBe(0);
    expect(all(c.read(addr, 256 * PAGE), 0x11)).toBe(true);
    expect(c.mvolatile(addr, 256 * PAGE)).toBe(0);
    pressure(machine, 3);
    expect(machine.vmstat().pgvrange_shared_discard).toBeGreaterThan(0);
    machine.validate();
    expect(t.mnovolatile(addr, 256 * PAGE)).toBe(1);
    expect(c.mnovolatile(addr, 256 * PAGE)).toBe(1);
    machine.validate();
  });

  it('the planted race: purging without checking the other mappings loses the child data', () => {
    const { machine, t, addr, c } = forked(
      { memoryMiB: 4, mutations: { purgeIgnoresOtherMappings: true } },
      256,
      0x11,
    );
    expect(t.vrange(addr, 256 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    pressure(machine, 3);
    // The child never marked anything volatile, yet its data is gone.
    expect(all(c.read(addr, 256 * PAGE), 0x11)).toBe(false);
  });
});

describe('fork of volatile ranges', () => {
  function purgedParent(config: MachineConfigInput) {
    const machine = smallMachine({ memoryMiB: 4, ...config });
    const parent = machine.createProcess();
    const t = parent.mainThread();
    const addr = t.mmap(256 * PAGE);
    t.fill(addr, 256 * PAGE, 0x11);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    pressure(machine, 3);
    expect(machine.vmstat().pgvrange_discard).toBe(256);
    const child = fork(t);
    return { machine, t, addr, child, c: child.thread(1) };
  }

  it('RFC v7 (default): the child has no volatile range; the purged pages read as zeros there', () => {
    const { machine, t, addr, child, c } = purgedParent({});
    machine.validate();
    expect(procLines(machine, `/proc/${child.pid}/vrange`)).toEqual([]);
    expect(all(c.read(addr, 256 * PAGE), 0)).toBe(true);
    expect(c.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(0);
    // The parent is unchanged: still volatile and purged.
    expect(thrown(() => t.read(addr, 1))).toBeInstanceOf(SigBus);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    machine.validate();
  });

  it('inheritance (forkInheritsVranges): the child has the purged range too, SIGBUS and NOVOLATILE 1', () => {
    const { machine, t, addr, child, c } = purgedParent({ forkInheritsVranges: true });
    machine.validate();
    expect(procLines(machine, `/proc/${child.pid}/vrange`)).toEqual([expect.stringMatching(/ p$/)]);
    expect(thrown(() => c.read(addr, 1))).toBeInstanceOf(SigBus);
    expect(c.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    expect(all(c.read(addr, 256 * PAGE), 0)).toBe(true);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    machine.validate();
  });

  it('inheritance of a range not purged: a purge later takes the page from both', () => {
    const machine = smallMachine({ memoryMiB: 4, forkInheritsVranges: true });
    const t = machine.createProcess().mainThread();
    const addr = t.mmap(256 * PAGE);
    t.fill(addr, 256 * PAGE, 0x11);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_VOLATILE, VRANGE_FULL)).toBe(0);
    const c = fork(t).thread(1);
    pressure(machine, 3);
    expect(machine.vmstat().pgvrange_shared_discard).toBe(256);
    expect(c.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    expect(t.vrange(addr, 256 * PAGE, VRANGE_NOVOLATILE)).toBe(1);
    machine.validate();
  });
});
