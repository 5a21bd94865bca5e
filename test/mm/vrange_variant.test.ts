// Goal: config.vrangeVariant 'v7' gives the RFC v7 patch's syscall rules (no mmap_sem and no
// mapping check, length rounded down, only overlapping ranges merged) and the default keeps the lab's.

import { describe, expect, it } from 'vitest';
import { EINVAL, ENOMEM, type Machine, VRANGE_NOVOLATILE, VRANGE_VOLATILE } from '../../src/index.js';
import { procLines, smallMachine } from './helpers.js';

const PAGE = 4096;

function mmapReadAcquisitions(machine: Machine): number {
  return machine.lockStat().find((row) => row.name === 'mmap_sem-R')?.acquisitions ?? 0;
}

function setup(variant: 'lab' | 'v7') {
  const machine = smallMachine({ vrangeVariant: variant });
  const proc = machine.createProcess();
  const t = proc.mainThread();
  const addr = t.mmap(16 * PAGE);
  expect(addr).toBeGreaterThan(0);
  return { machine, t, addr, lines: () => procLines(machine, `/proc/${proc.pid}/vrange`) };
}

describe('vrange variants', () => {
  it('v7 takes no mmap_sem and accepts an unmapped range; the lab takes it and says -ENOMEM', () => {
    for (const variant of ['lab', 'v7'] as const) {
      const { machine, t, addr } = setup(variant);
      expect(t.munmap(addr + 8 * PAGE, 8 * PAGE)).toBe(0);
      const before = mmapReadAcquisitions(machine);
      const ret = t.vrange(addr, 16 * PAGE, VRANGE_VOLATILE);
      const taken = mmapReadAcquisitions(machine) - before;
      if (variant === 'lab') {
        expect(ret).toBe(-ENOMEM);
        expect(taken).toBe(1);
      } else {
        expect(ret).toBe(0);
        expect(taken).toBe(0);
        expect(t.vrange(addr, 16 * PAGE, VRANGE_NOVOLATILE)).toBe(0);
      }
      expect(machine.validate().vranges).toBe(0);
    }
  });

  it('v7 rounds the length down, the lab rounds it up', () => {
    const lab = setup('lab');
    expect(lab.t.vrange(lab.addr, PAGE + 1, VRANGE_VOLATILE)).toBe(0);
    expect(lab.t.vrange(lab.addr + 4 * PAGE, 100, VRANGE_VOLATILE)).toBe(0);
    expect(lab.lines()).toHaveLength(2);
    expect(lab.lines()[0]).toMatch(/^[0-9a-f]+-[0-9a-f]+ v$/);
    const [first, last] = lab.lines()[0].split(' ')[0].split('-');
    expect(Number.parseInt(last, 16) + 1 - Number.parseInt(first, 16)).toBe(2 * PAGE);

    const v7 = setup('v7');
    expect(v7.t.vrange(v7.addr, PAGE + 1, VRANGE_VOLATILE)).toBe(0);
    expect(v7.t.vrange(v7.addr + 4 * PAGE, 100, VRANGE_VOLATILE)).toBe(-EINVAL);
    expect(v7.lines()).toHaveLength(1);
    const [v7First, v7Last] = v7.lines()[0].split(' ')[0].split('-');
    expect(Number.parseInt(v7Last, 16) + 1 - Number.parseInt(v7First, 16)).toBe(PAGE);
  });

  it('v7 keeps adjacent ranges apart and merges overlapping ones; the lab merges both', () => {
    for (const variant of ['lab', 'v7'] as const) {
      const { machine, t, addr, lines } = setup(variant);
      expect(t.vrange(addr, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
      expect(t.vrange(addr + 4 * PAGE, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
      expect(lines()).toHaveLength(variant === 'v7' ? 2 : 1);
      expect(t.vrange(addr + 2 * PAGE, 4 * PAGE, VRANGE_VOLATILE)).toBe(0);
      expect(lines()).toHaveLength(1);
      expect(machine.validate().vranges).toBe(1);
    }
  });

  it('rejects an unknown variant', () => {
    expect(() => smallMachine({ vrangeVariant: 'v8' as never })).toThrow(/vrangeVariant/);
  });
});
