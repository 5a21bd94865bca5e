// Sleeping mutex, futex style (vrange_lock).
//
// The state word holds the owner, as a robust futex holds the owner's TID:
//   0                       unlocked
//   cpu + 1                 locked, nobody sleeping
//   (cpu + 1) | WAITERS     locked, a waiter may sleep: unlock must notify
//   ... | OWNER_DIED        the owner died holding it (set by the robust-list walk)
// Uncontended lock is one compareExchange, unlock one exchange. A contended locker spins a bounded
// number of times (optimistic spinning), then sleeps on the word; the unlocker hands the word back
// to 0 and wakes one sleeper, which may lose the race to a newcomer (as Linux allows).

import { MUTEX } from '../layout/layout.js';
import {
  HELD_INFO_TRYLOCK,
  heldInfo,
  type LockCpu,
  type LockDomain,
  MODE_WRITE,
  SchedPoint,
  statOffset,
} from './domain.js';
import { notHeld, unlockNotOwner } from './errors.js';
import { lockdepAcquire } from './lockdep.js';
import { checkHung, ownerDied, sleepSlice } from './wait.js';

export const MUTEX_OWNER_MASK = 0xffff;
export const MUTEX_WAITERS = 1 << 16;
export const LOCK_OWNER_DIED = 1 << 17;

export class Mutex {
  readonly stateWord: number;
  readonly lastCpuWord: number;
  /** lock_stat row offset and held-lock info word, fixed per lock (see LockCpu.acquired). */
  private readonly stat: number;
  private readonly info: number;

  constructor(
    readonly dom: LockDomain,
    readonly word: number,
    readonly classId: number,
  ) {
    this.stateWord = word + MUTEX.state;
    this.lastCpuWord = word + MUTEX.lastCpu;
    this.stat = statOffset(classId, MODE_WRITE);
    this.info = heldInfo(classId, MODE_WRITE);
  }

  init(): void {
    this.dom.i32[this.stateWord] = 0;
    this.dom.i32[this.lastCpuWord] = -1;
  }

  lock(cpu: LockCpu): void {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquire, this.word);
    if (cpu.lockdep === true) lockdepAcquire(cpu, this.classId, this.word, false);
    if (Atomics.compareExchange(dom.i32, this.stateWord, 0, cpu.tag) !== 0) this.lockSlow(cpu);
    cpu.acquired(this.word, this.lastCpuWord, this.stat, this.info);
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquired, this.word);
  }

  trylock(cpu: LockCpu): boolean {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquire, this.word);
    if (Atomics.compareExchange(dom.i32, this.stateWord, 0, cpu.tag) !== 0) return false;
    cpu.acquired(this.word, this.lastCpuWord, this.stat, this.info | HELD_INFO_TRYLOCK);
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquired, this.word);
    return true;
  }

  unlock(cpu: LockCpu): void {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.release, this.word);
    cpu.released(this.word, this.stat);
    // Releases the critical section; pairs with the compareExchange of the next locker. An exchange,
    // not a compareExchange: the owner may clear the word whatever flags it holds (released() has
    // just checked that this CPU holds the lock), and the builtin is 1-2 ns cheaper (docs/dev/hot-paths.md).
    const previous = Atomics.exchange(dom.i32, this.stateWord, 0);
    if (previous !== cpu.tag) this.unlockSlow(cpu, previous);
  }

  /** The word was not just our tag: waiters to wake, or a broken invariant. */
  private unlockSlow(cpu: LockCpu, previous: number): void {
    const i32 = this.dom.i32;
    if ((previous & MUTEX_OWNER_MASK) !== cpu.tag) {
      // Another CPU's word: put it back unless someone has taken the lock since, and report.
      Atomics.compareExchange(i32, this.stateWord, 0, previous);
      unlockNotOwner(cpu, this.classId, this.word, (previous & MUTEX_OWNER_MASK) - 1);
    }
    Atomics.notify(i32, this.stateWord, 1);
  }

  isLocked(): boolean {
    return (Atomics.load(this.dom.i32, this.stateWord) & MUTEX_OWNER_MASK) !== 0;
  }

  owner(): number {
    return (Atomics.load(this.dom.i32, this.stateWord) & MUTEX_OWNER_MASK) - 1;
  }

  assertHeld(cpu: LockCpu): void {
    if ((Atomics.load(this.dom.i32, this.stateWord) & MUTEX_OWNER_MASK) !== cpu.tag)
      notHeld(cpu, this.classId, this.word, 'held');
  }

  markOwnerDied(): void {
    Atomics.or(this.dom.i32, this.stateWord, LOCK_OWNER_DIED);
    Atomics.notify(this.dom.i32, this.stateWord);
  }

  private lockSlow(cpu: LockCpu): void {
    const dom = this.dom;
    const i32 = dom.i32;
    const word = this.stateWord;
    const tag = cpu.tag;
    cpu.contended(this.lastCpuWord, this.stat);
    const startMs = performance.now();
    let slept = false;
    cpu.setWaitingOn(this.word, this.classId);
    try {
      // Optimistic spinning: the owner is probably running and about to unlock.
      for (let spins = 0; spins < dom.options.sleepLockSpinLimit; spins++) {
        const state = Atomics.load(i32, word);
        if ((state & LOCK_OWNER_DIED) !== 0)
          throw ownerDied(cpu, this.word, this.classId, (state & MUTEX_OWNER_MASK) - 1);
        if (state === 0 && Atomics.compareExchange(i32, word, 0, tag) === 0) {
          cpu.waited(this.stat, performance.now() - startMs, false);
          return;
        }
        if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.wait, this.word);
      }
      // Sleep. Having slept, we take the lock with WAITERS set: others may still sleep on it.
      slept = true;
      for (;;) {
        const state = Atomics.load(i32, word);
        if ((state & LOCK_OWNER_DIED) !== 0)
          throw ownerDied(cpu, this.word, this.classId, (state & MUTEX_OWNER_MASK) - 1);
        if (state === 0) {
          if (Atomics.compareExchange(i32, word, 0, tag | MUTEX_WAITERS) === 0) break;
          continue;
        }
        if (
          (state & MUTEX_WAITERS) === 0 &&
          Atomics.compareExchange(i32, word, state, state | MUTEX_WAITERS) !== state
        ) {
          continue;
        }
        sleepSlice(cpu, word, state | MUTEX_WAITERS, this.word);
        checkHung(cpu, this.word, this.classId, startMs);
      }
    } finally {
      cpu.clearWaitingOn();
    }
    cpu.waited(this.stat, performance.now() - startMs, slept);
  }
}
