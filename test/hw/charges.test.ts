// Each hardware event is charged where the hardware incurs it: one event costed at a time, an
// operation that incurs it n times takes at least n charges, and one that does not, less than one.

import { describe, expect, it } from 'vitest';
import { chargesOf } from '../../src/hw/profile.js';
import { type HwEvent, MADV_FREE, Machine, NO_HW_PROFILE } from '../../src/index.js';

// Large, so that an operation that incurs no charge stays far below one on a loaded host.
const CHARGE_MS = 200;
const PAGE = 4096;

function machineCharging(event: HwEvent): Machine {
  const charges = { ...chargesOf(NO_HW_PROFILE), [event]: CHARGE_MS * 1e6 };
  return Machine.create({ memoryMiB: 16, cpus: 1, hw: { profile: `test ${event}`, charges } });
}

function elapsedMs(body: () => void): number {
  const start = performance.now();
  body();
  return performance.now() - start;
}

describe('hardware charges', () => {
  it('charges every syscall, and no access', () => {
    const t = machineCharging('syscall').createProcess().mainThread();
    let addr = 0;
    expect(elapsedMs(() => (addr = t.mmap(2 * PAGE)))).toBeGreaterThanOrEqual(CHARGE_MS);
    expect(elapsedMs(() => t.store32(addr, 1))).toBeLessThan(CHARGE_MS);
    expect(elapsedMs(() => t.madvise(addr, PAGE, MADV_FREE))).toBeGreaterThanOrEqual(CHARGE_MS);
  });

  it('charges each fault, not a present page', () => {
    const t = machineCharging('fault').createProcess().mainThread();
    const addr = t.mmap(2 * PAGE);
    expect(elapsedMs(() => t.fill(addr, 2 * PAGE, 7))).toBeGreaterThanOrEqual(2 * CHARGE_MS);
    expect(elapsedMs(() => t.fill(addr, 2 * PAGE, 8))).toBeLessThan(CHARGE_MS);
  });

  it('charges the dirty-bit assist on the first write after MADV_FREE cleaned the PTE', () => {
    const t = machineCharging('dirtyAssist').createProcess().mainThread();
    const addr = t.mmap(PAGE);
    t.store32(addr, 1); // the fault installs a dirty PTE: no assist
    expect(elapsedMs(() => t.store32(addr, 2))).toBeLessThan(CHARGE_MS);
    expect(t.madvise(addr, PAGE, MADV_FREE)).toBe(0);
    expect(t.load32(addr)).toBe(2);
    expect(elapsedMs(() => t.store32(addr, 3))).toBeGreaterThanOrEqual(CHARGE_MS);
    expect(elapsedMs(() => t.store32(addr, 4))).toBeLessThan(CHARGE_MS);
  });

  it('charges the TLB refill of the first translation after a flush', () => {
    const t = machineCharging('tlbRefill').createProcess().mainThread();
    const addr = t.mmap(PAGE);
    t.store32(addr, 1);
    expect(t.madvise(addr, PAGE, MADV_FREE)).toBe(0); // flushes the TLB
    expect(elapsedMs(() => t.load32(addr))).toBeGreaterThanOrEqual(CHARGE_MS);
    expect(elapsedMs(() => t.load32(addr))).toBeLessThan(CHARGE_MS);
  });

  it('prints the profile it runs with', () => {
    expect(machineCharging('fault').config.hw.profile).toBe('test fault');
    expect(Machine.create({ memoryMiB: 16, cpus: 1 }).config.hw.profile).toBe('none');
  });
});
