// Goal: the charge account spends, over many charges, exactly the time charged (to within one
// clock read), reads no clock for charges that leave less than PAY_NS owed, and pays a large
// charge at once. A fake clock makes this independent of the host's speed.

import { afterEach, describe, expect, it } from 'vitest';
import { chargeBalanceNs, MAX_CREDIT_NS, PAY_NS, setChargeClock, spendNs } from '../../src/hw/charge.js';

/** A clock that advances `stepNs` on every read, counting its reads. */
function fakeClock(stepNs: number) {
  const state = { reads: 0, nowMs: 0 };
  setChargeClock(() => {
    state.reads++;
    state.nowMs += stepNs / 1e6;
    return state.nowMs;
  });
  return state;
}

const realClock = () => performance.now();
afterEach(() => {
  setChargeClock(realClock);
});

describe('the hardware-charge account', () => {
  it('reads no clock until PAY_NS is owed, then spins the whole balance', () => {
    const clock = fakeClock(50);
    spendNs(400);
    spendNs(400);
    expect(clock.reads).toBe(0);
    expect(chargeBalanceNs()).toBe(800);
    spendNs(400);
    // 1,200 ns owed: the start read and 24 reads of 50 ns.
    expect(clock.reads).toBe(25);
    expect(chargeBalanceNs()).toBeCloseTo(0, 6);
  });

  it('carries an overshoot as credit, and spends what was charged over many charges', () => {
    const clock = fakeClock(70);
    let charged = 0;
    let seed = 7;
    for (let i = 0; i < 10_000; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const ns = 1 + (seed % 300);
      spendNs(ns);
      charged += ns;
    }
    // The clock's whole advance is the time spent; what is not spent yet is the balance, between
    // one read's credit and PAY_NS owed. Each payment may add one read the account cannot see (the
    // one that starts it): with at most charged / PAY_NS payments, that is 7% here.
    const spentNs = clock.nowMs * 1e6;
    const balance = chargeBalanceNs();
    expect(balance).toBeGreaterThan(-70);
    expect(balance).toBeLessThan(PAY_NS);
    expect(spentNs).toBeGreaterThanOrEqual(charged - balance);
    expect(spentNs - (charged - balance)).toBeLessThanOrEqual(70 * Math.ceil(charged / PAY_NS));
  });

  it('credits no more than MAX_CREDIT_NS when the host preempts a spin', () => {
    let reads = 0;
    let nowMs = 0;
    setChargeClock(() => {
      reads++;
      // The fifth read comes 1 ms late: the thread was preempted in the middle of the spin.
      nowMs += reads === 5 ? 1 : 50 / 1e6;
      return nowMs;
    });
    spendNs(1200);
    expect(chargeBalanceNs()).toBe(-MAX_CREDIT_NS);
    const before = nowMs;
    spendNs(PAY_NS + MAX_CREDIT_NS);
    // Only the capped credit was deducted: the next payment still spins PAY_NS.
    expect((nowMs - before) * 1e6).toBeGreaterThanOrEqual(PAY_NS);
  });

  it('pays a charge of PAY_NS or more at once', () => {
    const clock = fakeClock(100);
    spendNs(5 * PAY_NS);
    expect(clock.nowMs * 1e6).toBeGreaterThanOrEqual(5 * PAY_NS);
    expect(chargeBalanceNs()).toBeLessThanOrEqual(0);
  });

  it('ignores zero, negative and NaN charges', () => {
    const clock = fakeClock(10);
    spendNs(0);
    spendNs(-5);
    spendNs(Number.NaN);
    expect(clock.reads).toBe(0);
    expect(chargeBalanceNs()).toBe(0);
  });
});
