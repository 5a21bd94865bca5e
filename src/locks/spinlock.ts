// Fair ticket spinlock on shared words (the PTL, LRU, zone and per-CPU page-list locks).
//
// One word holds both ticket counters, serving in the high 16 bits and next in the low 16, as x86's
// ticket spinlock kept head and tail in one word (NR_CPUS bounds the queue, so 16 bits are plenty).
// Taking a ticket is one compareExchange that advances `next`; releasing is one Atomics.add of
// 1 << 16 to `serving`, which wraps out of the word and never carries into `next`, and whose old
// value says whether anyone holds a ticket (then, and only then, the unlocker looks for sleepers).
// The compareExchange needs the word's current value: each Spinlock object remembers the ticket
// value it last left the lock free at, and guesses that the lock is still so. The guess is right
// whenever no other CPU took the lock since (a per-CPU page list, a PTL used by one thread), making
// an uncontended pair two atomic operations; when it is wrong, the failed compareExchange returns
// the word, and the next one, with that value, takes the ticket.
//
// A kernel spinlock holder cannot be preempted; a worker thread holding this one can be descheduled
// by the host, and pure spinning then collapses when there are more workers than cores. So a waiter
// spins options.spinLimit times, then sleeps on the ticket word (lock_stat counts those sleeps).
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

/** The ticket word's halves. */
const SERVING_SHIFT = 16;
const SERVING_ONE = 1 << SERVING_SHIFT;
const TICKET_MASK = 0xffff;

/** The ticket word with its `next` ticket taken (advanced within its 16 bits). */
function withTicketTaken(tickets: number): number {
  return (tickets & ~TICKET_MASK) | ((tickets + 1) & TICKET_MASK);
}

export class Spinlock {
  /** serving << 16 | next. */
  readonly ticketsWord: number;
  readonly sleepersWord: number;
  readonly ownerWord: number;
  readonly lastCpuWord: number;
  readonly flagsWord: number;
  /** lock_stat row offset and held-lock info word, fixed per lock (see LockCpu.acquired). */
  private readonly stat: number;
  private readonly info: number;
  /** The ticket value at which this object last saw the lock free (serving = next = it). */
  private freeTicket = 0;

  constructor(
    readonly dom: LockDomain,
    /** Word index of the SPINLOCK record; also the lock's identity in reports. */
    readonly word: number,
    readonly classId: number,
  ) {
    this.ticketsWord = word + SPINLOCK.tickets;
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
    // The guess: the lock is free at the ticket this object last left it at. Taking that ticket
    // advances `next` (withTicketTaken() written out: a module function costs the hot path a check
    // of its binding, docs/dev/hot-paths.md).
    const t = this.freeTicket;
    const free = (t << SERVING_SHIFT) | t;
    const seen = Atomics.compareExchange(
      dom.i32,
      this.ticketsWord,
      free,
      (t << SERVING_SHIFT) | ((t + 1) & TICKET_MASK),
    );
    if (seen !== free) this.lockSlow(cpu, seen);
    this.enter(cpu, this.info);
  }

  /** The guess was wrong: take a ticket at the word's actual value, then wait for it if need be. */
  private lockSlow(cpu: LockCpu, seen: number): void {
    const i32 = this.dom.i32;
    let tickets = seen;
    for (;;) {
      const now = Atomics.compareExchange(i32, this.ticketsWord, tickets, withTicketTaken(tickets));
      if (now === tickets) break;
      tickets = now;
    }
    const ticket = tickets & TICKET_MASK;
    if (tickets >>> SERVING_SHIFT !== ticket) this.waitTurn(cpu, ticket);
  }

  trylock(cpu: LockCpu): boolean {
    const i32 = this.dom.i32;
    if (this.dom.hook !== null) this.dom.hook(cpu.id, SchedPoint.acquire, this.word);
    const tickets = Atomics.load(i32, this.ticketsWord);
    const ticket = tickets & TICKET_MASK;
    if (tickets >>> SERVING_SHIFT !== ticket) return false;
    if (Atomics.compareExchange(i32, this.ticketsWord, tickets, withTicketTaken(tickets)) !== tickets)
      return false;
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
    // Passes the lock to the next ticket; pairs with the ticket-word loads in waitTurn().
    const old = Atomics.add(i32, this.ticketsWord, SERVING_ONE);
    const serving = ((old >>> SERVING_SHIFT) + 1) & TICKET_MASK;
    if ((old & TICKET_MASK) === serving) this.freeTicket = serving;
    else this.wakeWaiters();
  }

  /** Someone holds a ticket: it may be asleep. */
  private wakeWaiters(): void {
    const i32 = this.dom.i32;
    if (Atomics.load(i32, this.sleepersWord) !== 0) Atomics.notify(i32, this.ticketsWord);
  }

  isLocked(): boolean {
    const tickets = Atomics.load(this.dom.i32, this.ticketsWord);
    return tickets >>> SERVING_SHIFT !== (tickets & TICKET_MASK);
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
    Atomics.notify(this.dom.i32, this.ticketsWord);
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
        if (Atomics.load(i32, this.ticketsWord) >>> SERVING_SHIFT === ticket) {
          served = true;
          break;
        }
        if (dom.hook !== null) dom.hook(cpu.id, SchedPoint.wait, this.word);
        if ((spins & 63) === 63) this.checkBroken(cpu);
      }
      if (!served) {
        slept = true;
        // Counted before the word is read again: an unlocker that advances `serving` after that read
        // sees the count (both are sequentially consistent) and wakes us.
        Atomics.add(i32, this.sleepersWord, 1);
        try {
          for (;;) {
            const tickets = Atomics.load(i32, this.ticketsWord);
            if (tickets >>> SERVING_SHIFT === ticket) break;
            this.checkBroken(cpu);
            // Later tickets change the word too: such a wake-up just reads it again.
            sleepSlice(cpu, this.ticketsWord, tickets, this.word);
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
