// Fair ticket spinlock on shared words (the PTL, LRU and zone locks).
//
// A kernel spinlock holder cannot be preempted; a worker thread holding this one can be descheduled
// by the host, and pure spinning then collapses when there are more workers than cores. So a waiter
// spins options.spinLimit times, then sleeps on the `serving` word (lock_stat counts those sleeps).
// Tickets are served in order: no waiter is starved.

import { SPINLOCK } from '../layout/layout.js';
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

/** flags: the owner died holding the lock, or a waiter gave up its ticket; nobody can be served. */
export const SPIN_BROKEN = 1;

export class Spinlock {
  readonly nextWord: number;
  readonly servingWord: number;
  readonly sleepersWord: number;
  readonly ownerWord: number;
  readonly lastCpuWord: number;
  readonly flagsWord: number;
  /** lock_stat row offset and held-lock info word, fixed per lock (see LockCpu.acquired). */
  private readonly stat: number;
  private readonly info: number;

  constructor(
    readonly dom: LockDomain,
    /** Word index of the SPINLOCK record; also the lock's identity in reports. */
    readonly word: number,
    readonly classId: number,
  ) {
    this.nextWord = word + SPINLOCK.next;
    this.servingWord = word + SPINLOCK.serving;
    this.sleepersWord = word + SPINLOCK.sleepers;
    this.ownerWord = word + SPINLOCK.owner;
    this.lastCpuWord = word + SPINLOCK.lastCpu;
    this.flagsWord = word + SPINLOCK.flags;
    this.stat = statOffset(classId, MODE_WRITE);
    this.info = heldInfo(classId, MODE_WRITE);
  }

  /** Resets the record to unlocked (initialisation only, nobody may be using it). */
  init(): void {
    const i32 = this.dom.i32;
    for (let f = 0; f < SPINLOCK.FIELDS.length; f++) i32[this.word + f] = 0;
    i32[this.lastCpuWord] = -1;
  }

  lock(cpu: LockCpu): void {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquire, this.word);
    if (cpu.lockdep === true) lockdepAcquire(cpu, this.classId, this.word, false);
    const ticket = Atomics.add(dom.i32, this.nextWord, 1);
    if (Atomics.load(dom.i32, this.servingWord) !== ticket) this.waitTurn(cpu, ticket);
    this.enter(cpu, this.info);
  }

  trylock(cpu: LockCpu): boolean {
    const i32 = this.dom.i32;
    if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.acquire, this.word);
    const serving = Atomics.load(i32, this.servingWord);
    if (Atomics.compareExchange(i32, this.nextWord, serving, (serving + 1) | 0) !== serving) return false;
    this.enter(cpu, this.info | HELD_INFO_TRYLOCK);
    return true;
  }

  unlock(cpu: LockCpu): void {
    const dom = this.dom;
    const i32 = dom.i32;
    if (i32[this.ownerWord] !== cpu.tag)
      unlockNotOwner(cpu, this.classId, this.word, i32[this.ownerWord] - 1);
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.release, this.word);
    cpu.released(this.word, this.stat);
    i32[this.ownerWord] = 0;
    // Passes the lock to the next ticket; pairs with the serving loads in waitTurn().
    Atomics.add(i32, this.servingWord, 1);
    if (Atomics.load(i32, this.sleepersWord) !== 0) Atomics.notify(i32, this.servingWord);
  }

  isLocked(): boolean {
    const i32 = this.dom.i32;
    return Atomics.load(i32, this.nextWord) !== Atomics.load(i32, this.servingWord);
  }

  /** Owner CPU, or -1 (diagnostics: may be stale by the time it is read). */
  owner(): number {
    return this.dom.i32[this.ownerWord] - 1;
  }

  assertHeld(cpu: LockCpu): void {
    if (this.dom.i32[this.ownerWord] !== cpu.tag) notHeld(cpu, this.classId, this.word, 'held');
  }

  /** Robust-list handling: the owner died; wake every waiter so that none waits for it. */
  markOwnerDied(): void {
    Atomics.or(this.dom.i32, this.flagsWord, SPIN_BROKEN);
    Atomics.notify(this.dom.i32, this.servingWord);
  }

  private enter(cpu: LockCpu, info: number): void {
    this.dom.i32[this.ownerWord] = cpu.tag;
    cpu.acquired(this.word, this.lastCpuWord, this.stat, info);
    if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.acquired, this.word);
  }

  private waitTurn(cpu: LockCpu, ticket: number): void {
    const dom = this.dom;
    const i32 = dom.i32;
    cpu.contended(this.lastCpuWord, this.stat);
    const startMs = performance.now();
    let slept = false;
    cpu.setWaitingOn(this.word, this.classId);
    try {
      let served = false;
      const spinLimit = dom.options.spinLimit;
      for (let spins = 0; spins < spinLimit; spins++) {
        if (Atomics.load(i32, this.servingWord) === ticket) {
          served = true;
          break;
        }
        if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.wait, this.word);
        if ((spins & 63) === 63) this.checkBroken(cpu);
      }
      if (!served) {
        slept = true;
        Atomics.add(i32, this.sleepersWord, 1);
        try {
          for (;;) {
            const serving = Atomics.load(i32, this.servingWord);
            if (serving === ticket) break;
            this.checkBroken(cpu);
            sleepSlice(cpu, this.servingWord, serving, this.word);
            checkHung(cpu, this.word, this.classId, startMs);
          }
        } finally {
          Atomics.sub(i32, this.sleepersWord, 1);
        }
      }
    } catch (error) {
      // Our ticket can never be served now: everyone behind it would wait forever.
      this.markOwnerDied();
      throw error;
    } finally {
      cpu.clearWaitingOn();
    }
    cpu.waited(this.stat, performance.now() - startMs, slept);
  }

  private checkBroken(cpu: LockCpu): void {
    if ((Atomics.load(this.dom.i32, this.flagsWord) & SPIN_BROKEN) !== 0) {
      throw ownerDied(cpu, this.word, this.classId, this.owner());
    }
  }
}
