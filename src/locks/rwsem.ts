// Reader/writer semaphore: the model of mmap_sem (kernel/locking/rwsem.c).
//
// One shared count word, as in Linux — every reader does an atomic add on it, which is why the read
// side scales badly: the word's cache line bounces between all CPUs taking the lock.
//
//   bit 0       WRITER_LOCKED
//   bit 1       WAITERS       the FIFO queue is not empty: readers' fast path fails and they queue
//   bit 2       HANDOFF       the queue head waited too long: nobody may steal the lock any more
//   bit 3       OWNER_DIED    a holder died (robust-list walk): waiters give up with a report
//   bits 8..30  reader count  (READER_BIAS = 256)
//
// As in Linux: a queued writer blocks new readers (their fast path fails on WAITERS), so writers are
// not starved by a reader stream. Writers may steal a free lock from the queue (optimistic spinning
// keeps the lock busy instead of convoying through wake-ups), but once the head of the queue has
// waited rwsemHandoffMs it sets HANDOFF and the lock goes to it next, so queued readers are not
// starved by a writer stream either. Readers at the head are granted the lock by whoever finds it
// free (the count is raised on their behalf); a writer at the head is woken to take it itself.
// The queue is protected by wait_lock, a raw ticket lock embedded in the record.

import { LOCK_WAITER, RWSEM } from '../layout/layout.js';
import {
  HELD_INFO_TRYLOCK,
  heldInfo,
  type LockCpu,
  type LockDomain,
  MODE_READ,
  MODE_WRITE,
  SchedPoint,
  statOffset,
} from './domain.js';
import { notHeld } from './errors.js';
import { lockdepAcquire } from './lockdep.js';
import { checkHung, ownerDied } from './wait.js';

export const RWSEM_WRITER_LOCKED = 1;
export const RWSEM_WAITERS = 2;
export const RWSEM_HANDOFF = 4;
export const RWSEM_OWNER_DIED = 8;
export const RWSEM_READER_SHIFT = 8;
export const RWSEM_READER_BIAS = 1 << RWSEM_READER_SHIFT;
const READ_FAILED_MASK = RWSEM_WRITER_LOCKED | RWSEM_WAITERS | RWSEM_HANDOFF | RWSEM_OWNER_DIED;
const NO_CPU = -1;

const WAITER_WAITING = 0;
const WAITER_GRANTED = 1;
const WAITER_WOKEN = 2;

function readerCount(count: number): number {
  return count >>> RWSEM_READER_SHIFT;
}

function hasHolders(count: number): boolean {
  return (count & RWSEM_WRITER_LOCKED) !== 0 || readerCount(count) !== 0;
}

export class RwSemaphore {
  readonly countWord: number;
  readonly ownerWord: number;
  readonly lastCpuWord: number;
  private readonly headWord: number;
  private readonly tailWord: number;
  private readonly waitNextWord: number;
  private readonly waitServingWord: number;
  /** lock_stat row offset and held-lock info word per mode, fixed per lock (see LockCpu.acquired). */
  private readonly readStat: number;
  private readonly readInfo: number;
  private readonly writeStat: number;
  private readonly writeInfo: number;

  constructor(
    readonly dom: LockDomain,
    readonly word: number,
    readonly classId: number,
  ) {
    this.countWord = word + RWSEM.count;
    this.ownerWord = word + RWSEM.owner;
    this.lastCpuWord = word + RWSEM.lastCpu;
    this.headWord = word + RWSEM.queueHead;
    this.tailWord = word + RWSEM.queueTail;
    this.waitNextWord = word + RWSEM.waitNext;
    this.waitServingWord = word + RWSEM.waitServing;
    this.readStat = statOffset(classId, MODE_READ);
    this.readInfo = heldInfo(classId, MODE_READ);
    this.writeStat = statOffset(classId, MODE_WRITE);
    this.writeInfo = heldInfo(classId, MODE_WRITE);
  }

  init(): void {
    const i32 = this.dom.i32;
    for (let f = 0; f < RWSEM.FIELDS.length; f++) i32[this.word + f] = 0;
    i32[this.lastCpuWord] = -1;
    i32[this.headWord] = NO_CPU;
    i32[this.tailWord] = NO_CPU;
  }

  // ----- read side -------------------------------------------------------------------------------

  downRead(cpu: LockCpu): void {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquire, this.word);
    if (cpu.lockdep === true) lockdepAcquire(cpu, this.classId, this.word, false);
    const old = Atomics.add(dom.i32, this.countWord, RWSEM_READER_BIAS);
    if ((old & READ_FAILED_MASK) !== 0) this.readSlow(cpu);
    this.entered(cpu, this.readStat, this.readInfo);
  }

  downReadTrylock(cpu: LockCpu): boolean {
    const i32 = this.dom.i32;
    if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.acquire, this.word);
    let count = Atomics.load(i32, this.countWord);
    while ((count & READ_FAILED_MASK) === 0) {
      const seen = Atomics.compareExchange(i32, this.countWord, count, count + RWSEM_READER_BIAS);
      if (seen === count) {
        this.entered(cpu, this.readStat, this.readInfo | HELD_INFO_TRYLOCK);
        return true;
      }
      count = seen;
    }
    return false;
  }

  upRead(cpu: LockCpu): void {
    if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.release, this.word);
    cpu.released(this.word, this.readStat);
    this.dropReader(cpu);
  }

  // ----- write side ------------------------------------------------------------------------------

  downWrite(cpu: LockCpu): void {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquire, this.word);
    if (cpu.lockdep === true) lockdepAcquire(cpu, this.classId, this.word, false);
    if (Atomics.compareExchange(dom.i32, this.countWord, 0, RWSEM_WRITER_LOCKED) !== 0) this.writeSlow(cpu);
    dom.i32[this.ownerWord] = cpu.tag;
    this.entered(cpu, this.writeStat, this.writeInfo);
  }

  downWriteTrylock(cpu: LockCpu): boolean {
    const dom = this.dom;
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.acquire, this.word);
    if (Atomics.compareExchange(dom.i32, this.countWord, 0, RWSEM_WRITER_LOCKED) !== 0) return false;
    dom.i32[this.ownerWord] = cpu.tag;
    this.entered(cpu, this.writeStat, this.writeInfo | HELD_INFO_TRYLOCK);
    return true;
  }

  upWrite(cpu: LockCpu): void {
    const dom = this.dom;
    const i32 = dom.i32;
    // Only the write holder stores its tag in the owner word, so finding our own tag there proves we
    // hold the lock for write; assertWriteLocked()'s extra atomic load of the count is not needed here.
    if (i32[this.ownerWord] !== cpu.tag) notHeld(cpu, this.classId, this.word, 'write-locked');
    if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.release, this.word);
    cpu.released(this.word, this.writeStat);
    i32[this.ownerWord] = 0;
    if (Atomics.compareExchange(i32, this.countWord, RWSEM_WRITER_LOCKED, 0) === RWSEM_WRITER_LOCKED) return;
    const count = Atomics.and(i32, this.countWord, ~RWSEM_WRITER_LOCKED) & ~RWSEM_WRITER_LOCKED;
    if ((count & RWSEM_WAITERS) !== 0 && !hasHolders(count)) this.wakeWaiters(cpu);
  }

  /** downgrade_write: the writer becomes a reader without letting a writer in between. */
  downgradeWrite(cpu: LockCpu): void {
    const i32 = this.dom.i32;
    this.assertWriteLocked(cpu);
    i32[this.ownerWord] = 0;
    const old = Atomics.add(i32, this.countWord, RWSEM_READER_BIAS - RWSEM_WRITER_LOCKED);
    cpu.changeMode(this.word, MODE_READ);
    // Readers queued at the head may now share the lock with us.
    if ((old & RWSEM_WAITERS) !== 0) this.wakeWaiters(cpu);
  }

  // ----- queries and asserts ---------------------------------------------------------------------

  count(): number {
    return Atomics.load(this.dom.i32, this.countWord);
  }

  isWriteLocked(): boolean {
    return (this.count() & RWSEM_WRITER_LOCKED) !== 0;
  }

  readers(): number {
    return readerCount(this.count());
  }

  /** mmap_assert_locked: held by this CPU in either mode. */
  assertLocked(cpu: LockCpu): void {
    if (cpu.heldMode(this.word) < 0) notHeld(cpu, this.classId, this.word, 'held');
  }

  /** mmap_assert_write_locked. */
  assertWriteLocked(cpu: LockCpu): void {
    if (this.dom.i32[this.ownerWord] !== cpu.tag || !this.isWriteLocked())
      notHeld(cpu, this.classId, this.word, 'write-locked');
  }

  markOwnerDied(): void {
    Atomics.or(this.dom.i32, this.countWord, RWSEM_OWNER_DIED);
    // Waiters sleep on their own queue nodes; each notices within a wait slice.
  }

  // ----- internals -------------------------------------------------------------------------------

  private entered(cpu: LockCpu, stat: number, info: number): void {
    cpu.acquired(this.word, this.lastCpuWord, stat, info);
    if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.acquired, this.word);
  }

  /** Drops one reader; the last reader out with waiters queued hands the lock on. */
  private dropReader(cpu: LockCpu): void {
    const count = Atomics.sub(this.dom.i32, this.countWord, RWSEM_READER_BIAS) - RWSEM_READER_BIAS;
    if ((count & RWSEM_WAITERS) !== 0 && !hasHolders(count)) this.wakeWaiters(cpu);
  }

  private checkDied(cpu: LockCpu, count: number): void {
    if ((count & RWSEM_OWNER_DIED) !== 0)
      throw ownerDied(cpu, this.word, this.classId, this.dom.i32[this.ownerWord] - 1);
  }

  private readSlow(cpu: LockCpu): void {
    // The fast path's add was speculative: take it back (it may have hidden a free lock from a waker).
    this.dropReader(cpu);
    const i32 = this.dom.i32;
    cpu.contended(this.lastCpuWord, this.readStat);
    const startMs = performance.now();
    // Spin while a writer holds the lock and nobody queues; behind queued waiters, queue at once.
    for (let spins = 0; spins < this.dom.options.sleepLockSpinLimit; spins++) {
      const count = Atomics.load(i32, this.countWord);
      this.checkDied(cpu, count);
      if ((count & (RWSEM_WAITERS | RWSEM_HANDOFF)) !== 0) break;
      if ((count & READ_FAILED_MASK) === 0) {
        if ((Atomics.add(i32, this.countWord, RWSEM_READER_BIAS) & READ_FAILED_MASK) === 0) {
          cpu.waited(this.readStat, performance.now() - startMs, false);
          return;
        }
        this.dropReader(cpu);
      }
      if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.wait, this.word);
    }
    this.queueAndWait(cpu, MODE_READ, startMs);
  }

  /** A writer takes the lock if nobody holds it and nobody is owed it (HANDOFF). */
  private tryStealWrite(count: number): boolean {
    if (hasHolders(count) || (count & (RWSEM_HANDOFF | RWSEM_OWNER_DIED)) !== 0) return false;
    return (
      Atomics.compareExchange(this.dom.i32, this.countWord, count, count | RWSEM_WRITER_LOCKED) === count
    );
  }

  private writeSlow(cpu: LockCpu): void {
    const i32 = this.dom.i32;
    cpu.contended(this.lastCpuWord, this.writeStat);
    const startMs = performance.now();
    // Optimistic spinning: the holder is probably running and about to release.
    for (let spins = 0; spins < this.dom.options.sleepLockSpinLimit; spins++) {
      const count = Atomics.load(i32, this.countWord);
      this.checkDied(cpu, count);
      if (this.tryStealWrite(count)) {
        cpu.waited(this.writeStat, performance.now() - startMs, false);
        return;
      }
      if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.wait, this.word);
    }
    this.queueAndWait(cpu, MODE_WRITE, startMs);
  }

  /** Joins the FIFO queue and sleeps until it owns the lock. */
  private queueAndWait(cpu: LockCpu, mode: number, startMs: number): void {
    const dom = this.dom;
    const i32 = dom.i32;
    const stateWord = dom.waiterWord(cpu.id, LOCK_WAITER.state);
    i32[dom.waiterWord(cpu.id, LOCK_WAITER.next)] = NO_CPU;
    i32[dom.waiterWord(cpu.id, LOCK_WAITER.mode)] = mode;
    Atomics.store(i32, stateWord, WAITER_WAITING);
    cpu.setWaitingOn(this.word, this.classId);
    const sliceMs = Math.min(dom.options.waitSliceMs, dom.options.rwsemHandoffMs);
    let handoffSet = false;
    let waits = 0;
    try {
      this.waitLock(cpu);
      try {
        const tail = i32[this.tailWord];
        if (tail === NO_CPU) i32[this.headWord] = cpu.id;
        else i32[dom.waiterWord(tail, LOCK_WAITER.next)] = cpu.id;
        i32[this.tailWord] = cpu.id;
        // From here readers' fast paths fail. Pairs with the holder-count checks of the release paths:
        // either a releaser sees WAITERS and wakes the head, or we see the lock free now and do it.
        const count = Atomics.or(i32, this.countWord, RWSEM_WAITERS) | RWSEM_WAITERS;
        if (!hasHolders(count)) this.grant();
      } finally {
        this.waitUnlock();
      }
      for (;;) {
        const state = Atomics.load(i32, stateWord);
        if (state === WAITER_GRANTED) break;
        if (mode === MODE_WRITE && this.writerTakeFromQueue(cpu, stateWord)) break;
        this.checkDied(cpu, Atomics.load(i32, this.countWord));
        if (!handoffSet && this.handoffDue(startMs, waits)) handoffSet = this.setHandoff(cpu);
        if (state === WAITER_WAITING) {
          waits++;
          if (dom.hook?.(cpu.id, SchedPoint.wait, this.word) !== true)
            Atomics.wait(i32, stateWord, state, sliceMs);
        }
        checkHung(cpu, this.word, this.classId, startMs);
      }
    } catch (error) {
      // Our node stays queued and could be handed the lock with nobody to release it.
      this.markOwnerDied();
      throw error;
    } finally {
      cpu.clearWaitingOn();
    }
    cpu.waited(mode === MODE_WRITE ? this.writeStat : this.readStat, performance.now() - startMs, true);
  }

  /** A queued writer at the head takes the lock when nobody holds it. */
  private writerTakeFromQueue(cpu: LockCpu, stateWord: number): boolean {
    const i32 = this.dom.i32;
    if (i32[this.headWord] !== cpu.id) return false;
    this.waitLock(cpu);
    try {
      if (i32[this.headWord] !== cpu.id) return false;
      const count = Atomics.load(i32, this.countWord);
      if (hasHolders(count) || (count & RWSEM_OWNER_DIED) !== 0) {
        // Sleep again; under wait_lock, so the next grant() (also under it) is not lost.
        Atomics.store(i32, stateWord, WAITER_WAITING);
        return false;
      }
      const rest = i32[this.dom.waiterWord(cpu.id, LOCK_WAITER.next)];
      const cleared = RWSEM_HANDOFF | (rest === NO_CPU ? RWSEM_WAITERS : 0);
      if (
        Atomics.compareExchange(i32, this.countWord, count, (count | RWSEM_WRITER_LOCKED) & ~cleared) !==
        count
      ) {
        return false; // a reader's speculative add moved it; look again
      }
      this.popHead(rest);
      return true;
    } finally {
      this.waitUnlock();
    }
  }

  /**
   * Whether a queued waiter has waited long enough to claim HANDOFF: by the wall clock, or, under a
   * scheduler hook, by its count of waits (the clock would make a deterministic schedule vary).
   */
  private handoffDue(startMs: number, waits: number): boolean {
    const options = this.dom.options;
    if (this.dom.hook !== null) return waits > options.rwsemHandoffWaits;
    return performance.now() - startMs > options.rwsemHandoffMs;
  }

  /** The head waiter, having waited past rwsemHandoffMs, forbids stealing from now on. */
  private setHandoff(cpu: LockCpu): boolean {
    this.waitLock(cpu);
    try {
      if (this.dom.i32[this.headWord] !== cpu.id) return false;
      Atomics.or(this.dom.i32, this.countWord, RWSEM_HANDOFF);
      return true;
    } finally {
      this.waitUnlock();
    }
  }

  private popHead(rest: number): void {
    const i32 = this.dom.i32;
    i32[this.headWord] = rest;
    if (rest === NO_CPU) i32[this.tailWord] = NO_CPU;
  }

  private wakeWaiters(cpu: LockCpu): void {
    this.waitLock(cpu);
    try {
      this.grant();
    } finally {
      this.waitUnlock();
    }
  }

  /**
   * Serves the head of the queue if it can have the lock now: readers up to the next writer are
   * granted it when no writer holds it; a writer is woken to take it when nobody holds it.
   * Caller holds wait_lock.
   */
  private grant(): void {
    const dom = this.dom;
    const i32 = dom.i32;
    for (;;) {
      const head = i32[this.headWord];
      if (head === NO_CPU) return;
      const count = Atomics.load(i32, this.countWord);
      if ((count & (RWSEM_OWNER_DIED | RWSEM_WRITER_LOCKED)) !== 0) return;
      if (i32[dom.waiterWord(head, LOCK_WAITER.mode)] === MODE_WRITE) {
        if (readerCount(count) !== 0) return; // the last reader out will call us again
        const stateWord = dom.waiterWord(head, LOCK_WAITER.state);
        Atomics.store(i32, stateWord, WAITER_WOKEN);
        Atomics.notify(i32, stateWord);
        return;
      }
      let last = head;
      let granted = 1;
      for (;;) {
        const next = i32[dom.waiterWord(last, LOCK_WAITER.next)];
        if (next === NO_CPU || i32[dom.waiterWord(next, LOCK_WAITER.mode)] !== MODE_READ) break;
        last = next;
        granted++;
      }
      const rest = i32[dom.waiterWord(last, LOCK_WAITER.next)];
      const cleared = RWSEM_HANDOFF | (rest === NO_CPU ? RWSEM_WAITERS : 0);
      const next = (count + granted * RWSEM_READER_BIAS) & ~cleared;
      // A reader's speculative add may have moved the count: re-evaluate rather than overwrite it.
      if (Atomics.compareExchange(i32, this.countWord, count, next) !== count) continue;
      this.popHead(rest);
      for (let cpu = head, n = 0; n < granted; n++) {
        const following = i32[dom.waiterWord(cpu, LOCK_WAITER.next)];
        const stateWord = dom.waiterWord(cpu, LOCK_WAITER.state);
        // Publishes the hand-off; pairs with the state load in queueAndWait().
        Atomics.store(i32, stateWord, WAITER_GRANTED);
        Atomics.notify(i32, stateWord);
        cpu = following;
      }
      return;
    }
  }

  /**
   * Takes wait_lock. `cpu` is only for the scheduler hook: under a deterministic scheduler the
   * holder may be another CPU that is not running, so every spin yields instead of burning the
   * run token (no scheduling point lies inside wait_lock, so this is a safety net, not a path).
   */
  private waitLock(cpu: LockCpu): void {
    const dom = this.dom;
    const i32 = dom.i32;
    const ticket = Atomics.add(i32, this.waitNextWord, 1);
    for (let spins = 0; ; spins++) {
      const serving = Atomics.load(i32, this.waitServingWord);
      if (serving === ticket) return;
      if (dom.hook !== null) {
        if (dom.hook(cpu.id, SchedPoint.wait, this.word)) continue;
      } else if (spins <= dom.options.spinLimit) {
        continue;
      }
      // Held for a few dozen instructions; sleep briefly if its holder was descheduled.
      Atomics.wait(i32, this.waitServingWord, serving, 1);
    }
  }

  private waitUnlock(): void {
    Atomics.add(this.dom.i32, this.waitServingWord, 1);
    Atomics.notify(this.dom.i32, this.waitServingWord);
  }
}
