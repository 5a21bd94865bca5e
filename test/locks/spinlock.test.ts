// Goal: the ticket spinlock's one-word tickets (serving << 16 | next) stay exact on the paths a
// single thread can drive step by step: the guessed compareExchange that takes a free lock, the
// retry when the guess is stale (another object, as another thread has, used the lock since),
// tickets wrapping past 16 bits on both paths, trylock against a held lock, and a queued ticket
// that unlock must serve. Contention across real threads is in mutual_exclusion.test.ts.

import { describe, expect, it } from 'vitest';
import { SPINLOCK } from '../../src/layout/layout.js';
import { readLockStat, Spinlock } from '../../src/locks/index.js';
import { makeLab, SPIN } from './helpers.js';

function tickets(lab: ReturnType<typeof makeLab>, lock: Spinlock): { serving: number; next: number } {
  const word = Atomics.load(lab.dom.i32, lock.word + SPINLOCK.tickets);
  return { serving: word >>> 16, next: word & 0xffff };
}

describe('ticket spinlock', () => {
  it('takes, releases and re-takes through stale guesses and across the 16-bit wrap', () => {
    const lab = makeLab(2);
    const cpus = [lab.cpu(0), lab.cpu(1)];
    const first = lab.spinlock(SPIN);
    // A second object over the same record, as a second thread has: each remembers where it last
    // left the lock free, so alternating them makes every guess stale.
    const second = new Spinlock(lab.dom, first.word, first.classId);
    // Start just below the wrap: serving = next = 0xfffd.
    Atomics.store(lab.dom.i32, first.word + SPINLOCK.tickets, (0xfffd << 16) | 0xfffd);
    // Right guesses (first after first) and stale ones (after the other object), across the wrap.
    const order = [first, first, second, first, second, second, first, first];
    const rounds = order.length;
    for (let i = 0; i < rounds; i++) {
      const lock = order[i];
      const cpu = lock === first ? cpus[0] : cpus[1];
      lock.lock(cpu);
      expect(lock.isLocked()).toBe(true);
      expect(lock.owner()).toBe(cpu.id);
      const held = tickets(lab, lock);
      expect(held.next).toBe((held.serving + 1) & 0xffff);
      lock.unlock(cpu);
      expect(lock.isLocked()).toBe(false);
      const free = tickets(lab, lock);
      expect(free).toEqual({ serving: (0xfffd + i + 1) & 0xffff, next: (0xfffd + i + 1) & 0xffff });
    }
    // Every acquisition counted, none contended: a stale guess is not contention.
    const row = readLockStat(lab.dom).find((r) => r.name === 'test_spinlock');
    expect(row?.acquisitions).toBe(rounds);
    expect(row?.contentions).toBe(0);
  });

  it('trylock fails while the lock is held and takes it once it is free', () => {
    const lab = makeLab(2);
    const [a, b] = [lab.cpu(0), lab.cpu(1)];
    const lock = lab.spinlock(SPIN);
    lock.lock(a);
    expect(lock.trylock(b)).toBe(false);
    expect(tickets(lab, lock)).toEqual({ serving: 0, next: 1 });
    lock.unlock(a);
    expect(lock.trylock(b)).toBe(true);
    expect(lock.owner()).toBe(1);
    lock.unlock(b);
    expect(tickets(lab, lock)).toEqual({ serving: 2, next: 2 });
  });

  it('an unlock with a ticket queued behind it serves that ticket, not the unlocker', () => {
    const lab = makeLab(2);
    const [a, b] = [lab.cpu(0), lab.cpu(1)];
    const lock = lab.spinlock(SPIN);
    lock.lock(a);
    // A waiter's ticket, taken as lockSlow takes it (the waiter itself would be on another thread).
    const i32 = lab.dom.i32;
    const word = lock.word + SPINLOCK.tickets;
    Atomics.add(i32, word, 1);
    expect(tickets(lab, lock)).toEqual({ serving: 0, next: 2 });
    lock.unlock(a);
    // Ticket 1 is now served: the lock is held (by the queued waiter) until it is released.
    expect(tickets(lab, lock)).toEqual({ serving: 1, next: 2 });
    expect(lock.isLocked()).toBe(true);
    expect(lock.trylock(b)).toBe(false);
    // The waiter's release.
    Atomics.add(i32, word, 1 << 16);
    expect(lock.isLocked()).toBe(false);
    // The unlocker's guess (free at ticket 1) is stale now; its next lock still takes ticket 2.
    lock.lock(a);
    expect(tickets(lab, lock)).toEqual({ serving: 2, next: 3 });
    lock.unlock(a);
    expect(lock.isLocked()).toBe(false);
  });
});
