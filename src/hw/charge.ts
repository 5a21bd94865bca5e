// Spending a hardware event's time on the simulated CPU that incurs it. The CPU really is busy for
// that long, in the context where the hardware would be (holding whatever locks the path holds
// there), so the contention it causes is real; it is never a sleep.
//
// Reading the clock costs time too (performance.now() ~50 ns on the development host, more than a
// TLB refill), so a busy-wait per event would overshoot every small charge by about one clock read
// and more (a 49 ns charge spent 139 ns). Instead each JS thread keeps an account: a charge adds
// what it owes, and once the balance reaches PAY_NS the thread spins until the clock has advanced
// by the whole balance, then carries the overshoot (measured, not guessed) as credit against later
// charges (at most MAX_CREDIT_NS: a larger overshoot is the host preempting the thread). Over a run
// the time spent equals the time charged to within one clock read per payment
// and the call itself: measured on the development host, 20 ns charges took 31-45 ns each, 49 ns
// 62-68, 136 ns 155-158, 2 us 2.09-2.12 us (with one busy-wait per event: 217, 139, 229 ns and
// 2.18 us for 1 us).
// Events of PAY_NS or more (IPIs) are paid where they occur; smaller ones (refills, dirty-bit
// assists, syscall and fault entry, none of which is charged under a kernel lock) are paid within
// PAY_NS of where they occur, on the same CPU. A payment may thus carry up to PAY_NS of earlier
// small charges into the context of the event that triggers it: at worst an IPI sent under a lock
// holds that lock up to 1 us longer than it should.

/** The balance at which owed time is paid by spinning (ns). */
export const PAY_NS = 1000;
/**
 * The most credit an overshoot leaves (ns). A spin overshoots by under one clock read unless the
 * host preempted the thread at its end; that time is the host's, not the hardware's, and crediting
 * it would shorten later events by as much.
 */
export const MAX_CREDIT_NS = 200;

/** The clock (ms), replaceable by tests. */
export type ChargeClock = () => number;

let clock: ChargeClock = () => performance.now();
/** Owed (positive) or overspent (negative) ns on this JS thread. */
let balanceNs = 0;

/** Charges `ns` to the calling thread's CPU: paid now or within PAY_NS (see above). */
export function spendNs(ns: number): void {
  if (!(ns > 0)) return;
  balanceNs += ns;
  if (balanceNs < PAY_NS) return;
  const start = clock();
  const end = start + balanceNs / 1e6;
  let now = start;
  while (now < end) now = clock();
  balanceNs = Math.max(-MAX_CREDIT_NS, balanceNs - (now - start) * 1e6);
}

/** What this thread owes (positive) or has overspent (negative), in ns. */
export function chargeBalanceNs(): number {
  return balanceNs;
}

/** Tests: a fake clock, and the account started afresh. Returns the previous clock. */
export function setChargeClock(next: ChargeClock): ChargeClock {
  const previous = clock;
  clock = next;
  balanceNs = 0;
  return previous;
}
