// Goal: a CPU's TLB flush empties every entry the CPU filled, however the TLB was filled (a TLB
// larger or smaller than the pages touched) and whichever JS thread filled it: a flush walks only the
// slots filled since the last one, so that list must be exactly the TLB's non-empty slots.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/index.js';
import { TLB_ENTRY } from '../../src/layout/layout.js';
import type { Cpu } from '../../src/mm/cpu.js';
import { localFlush } from '../../src/mm/tlb.js';
import { smallMachine } from './helpers.js';

const PAGE = 4096;

/** The slots of cpu's TLB that hold a translation, read from shared memory. */
function filledSlots(machine: Machine, cpu: number): number[] {
  const k = machine.kernel;
  const slots: number[] = [];
  for (let slot = 0; slot < k.geometry.tlbEntries; slot++)
    if (k.i32[k.tlbWord(cpu, slot, TLB_ENTRY.vpn)] !== -1) slots.push(slot);
  return slots;
}

function listed(cpu: Cpu): number[] {
  return [...cpu.tlbFilled.subarray(0, cpu.tlbFilledCount)].sort((a, b) => a - b);
}

/** Maps `pages` pages and writes one word in each on CPU 0. */
function touch(machine: Machine, pages: number): void {
  const t = machine.createProcess().mainThread(0);
  const base = t.mmap(pages * PAGE);
  expect(base).toBeGreaterThan(0);
  for (let p = 0; p < pages; p++) t.store32(base + p * PAGE, p + 1);
  for (let p = 0; p < pages; p++) expect(t.load32(base + p * PAGE)).toBe(p + 1);
}

describe.each([
  [64, 300],
  [2048, 300],
  [2048, 3000],
])('a %i-entry TLB after touching %i pages', (tlbEntries, pages) => {
  it('lists exactly its filled slots, once each, and a flush empties them all', () => {
    const machine = smallMachine({ tlbEntries, memoryMiB: 16 });
    touch(machine, pages);
    const cpu = machine.cpu(0);
    const slots = filledSlots(machine, 0);
    expect(slots.length).toBe(Math.min(tlbEntries, pages));
    expect(listed(cpu)).toEqual(slots);
    localFlush(cpu);
    expect(filledSlots(machine, 0)).toEqual([]);
    expect(cpu.tlbFilledCount).toBe(0);
  });

  it('a CPU attached by another Machine (another thread) lists what the last one left, and flushes it', () => {
    const first = smallMachine({ tlbEntries, memoryMiB: 16 });
    touch(first, pages);
    const slots = filledSlots(first, 0);
    first.detach();
    const second = Machine.attach(first.handle);
    const cpu = second.cpu(0);
    expect(listed(cpu)).toEqual(slots);
    localFlush(cpu);
    expect(filledSlots(second, 0)).toEqual([]);
    second.detach();
  });
});
