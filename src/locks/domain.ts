// The lock domain: what every lock needs beyond its own words — the CPUs' held-lock stacks (the
// robust list), lock_stat rows, lockdep's graph — and the per-thread view of one CPU (LockCpu).

import {
  doubleIndex,
  HELD_LOCK,
  LOCK_CPU,
  LOCK_STAT,
  LOCK_WAITER,
  type LockDomainRegions,
  MAX_HELD_LOCKS,
  wordIndex,
} from '../layout/layout.js';
import type { LockClassTable } from './classes.js';

export const CPU_OFFLINE = 0;
export const CPU_ONLINE = 1;
export const CPU_DEAD = 2;

/** Lock modes recorded in the held-lock stack. */
export const MODE_WRITE = 0;
export const MODE_READ = 1;
/** Held-lock flag: taken with a trylock (lockdep adds no dependency for it). */
export const HELD_TRYLOCK = 1;

// HELD_LOCK.lock holds the lock word + 1, so that 0 (zeroed memory) is an empty slot: every slot above
// the top of a CPU's stack is empty, and readers on other CPUs find the depth by looking for the first
// one. While a hold is timed for lock_stat (its start in the held_since region), the entry also carries
// HELD_LOCK_SAMPLED. Releasing the innermost lock thus reads one word and writes one: no separate depth
// word to keep in shared memory and no info word to read (docs/dev/hot-paths.md).
// The hot paths write `lockWord + HELD_TAG_BIAS` in place: a call to a module-level function costs
// TurboFan a check that the binding still holds that function, on every use.
const HELD_EMPTY = 0;
const HELD_TAG_BIAS = 1;
const HELD_LOCK_SAMPLED = 1 << 30;

/** The lock word of a HELD_LOCK.lock value (empty: -1). */
function heldTagLock(tag: number): number {
  return (tag & ~HELD_LOCK_SAMPLED) - HELD_TAG_BIAS;
}

// Packing of HELD_LOCK.info: class id in the low 16 bits, then the mode bit, then the flags.
const HELD_INFO_CLASS_MASK = 0xffff;
const HELD_INFO_MODE_SHIFT = 16;
const HELD_INFO_FLAGS_SHIFT = 17;
/** HELD_TRYLOCK as it sits in an info word: a trylock passes `heldInfo(class, mode) | HELD_INFO_TRYLOCK`. */
export const HELD_INFO_TRYLOCK = HELD_TRYLOCK << HELD_INFO_FLAGS_SHIFT;

// The layout offsets the uncontended acquire/release path uses, copied into module-local constants.
// TurboFan re-reads an imported binding (or a struct's field) on every use, behind a hole check and a
// map check; a module-local constant costs it nothing. Measured on Node 20: 2.5-3 ns of a ~37 ns
// mutex pair in the host's fast state, 5-6 ns in its slow state (bench:locks A/B, same process).
const HELD_STRIDE = HELD_LOCK.STRIDE;
const HELD_LOCK_FIELD = HELD_LOCK.lock;
const HELD_INFO_FIELD = HELD_LOCK.info;
const STAT_STRIDE = LOCK_STAT.STRIDE;
const STAT_ACQUISITIONS = LOCK_STAT.acquisitions;
const STAT_ACQ_BOUNCES = LOCK_STAT.acqBounces;
const HELD_DEPTH_LIMIT = MAX_HELD_LOCKS;

/** The held-lock info word of a class taken in a mode, with HELD_* flags (HELD_TRYLOCK for a trylock). */
export function heldInfo(classId: number, mode: number, flags = 0): number {
  return classId | (mode << HELD_INFO_MODE_SHIFT) | (flags << HELD_INFO_FLAGS_SHIFT);
}

export function heldInfoClass(info: number): number {
  return info & HELD_INFO_CLASS_MASK;
}

export function heldInfoMode(info: number): number {
  return (info >>> HELD_INFO_MODE_SHIFT) & 1;
}

export function heldInfoFlags(info: number): number {
  return info >>> HELD_INFO_FLAGS_SHIFT;
}

/** Points at which a scheduler may interleave CPUs (sched/scheduler.ts installs one as LockDomain.hook). */
export const SchedPoint = {
  acquire: 0,
  acquired: 1,
  release: 2,
  /** About to sleep on a lock word; a hook returning true has yielded and the sleep is skipped. */
  wait: 3,
  /** A user memory access boundary (the MMU calls it). */
  access: 4,
  /**
   * Debug mode: bytes are moving through a translation, between the access boundary and the check
   * that the frame was not freed meanwhile. Not a scheduling decision (the deterministic scheduler
   * passes it by); delay injection may stop here to widen that window.
   */
  moving: 7,
} as const;
export type SchedPoint = (typeof SchedPoint)[keyof typeof SchedPoint];
export type SchedHook = (cpu: number, point: SchedPoint, lockWord: number) => boolean;

export interface LockOptions {
  /** Spin iterations of a spinlock before it sleeps on the lock word. */
  spinLimit: number;
  /** Optimistic spin iterations of a mutex or rwsem before it queues. */
  sleepLockSpinLimit: number;
  /** A wait longer than this produces a hung-task report instead of waiting on. */
  hungTaskTimeoutMs: number;
  /** A queued rwsem waiter at the head for longer than this sets HANDOFF: no more lock stealing. */
  rwsemHandoffMs: number;
  /**
   * The same bound counted in waits, used instead of rwsemHandoffMs while a scheduler hook is
   * installed: a deterministic schedule must not depend on the wall clock.
   */
  rwsemHandoffWaits: number;
  /** Sleeping waits are cut into slices this long to notice owner death and the hung-task bound. */
  waitSliceMs: number;
  /** lock_stat recording (on by default, as cheap as a few plain stores). */
  lockStat: boolean;
  /**
   * Hold times are timed for the first acquisition of each lock_stat row on each CPU and for every
   * 2^shift-th one after it (0: every acquisition). Each timed hold reads the clock twice (~50 ns
   * each on this host), so 1 in 32 cost 4-5 ns per uncontended pair; 1 in 256 costs under 1 ns.
   */
  holdSampleShift: number;
  /** lockdep: lock-order checking (debug mode). */
  lockdep: boolean;
}

export const DEFAULT_LOCK_OPTIONS: LockOptions = {
  spinLimit: 4000,
  sleepLockSpinLimit: 64,
  hungTaskTimeoutMs: 20_000,
  rwsemHandoffMs: 4,
  rwsemHandoffWaits: 16,
  waitSliceMs: 50,
  lockStat: true,
  holdSampleShift: 8,
  lockdep: false,
};

export class LockDomain {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly cpuCount: number;
  readonly cpuBase: number;
  readonly waiterBase: number;
  readonly heldBase: number;
  readonly heldSinceBase: number;
  readonly statBase: number;
  readonly statRowsPerCpu: number;
  hook: SchedHook | null = null;

  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly regions: LockDomainRegions,
    readonly classes: LockClassTable,
    readonly options: LockOptions,
    cpuCount: number,
  ) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
    this.cpuCount = cpuCount;
    this.cpuBase = wordIndex(regions.lockCpus);
    this.waiterBase = wordIndex(regions.lockWaiters);
    this.heldBase = wordIndex(regions.heldLocks);
    this.heldSinceBase = doubleIndex(regions.heldSince);
    this.statBase = doubleIndex(regions.lockStat);
    this.statRowsPerCpu = classes.count * 2;
    if (classes.count > HELD_INFO_CLASS_MASK + 1) throw new Error('too many lock classes for HELD_LOCK.info');
    if (this.i32.length >= HELD_LOCK_SAMPLED) throw new Error('buffer too large for HELD_LOCK.lock');
    if (options.holdSampleShift < 0 || options.holdSampleShift > 30) throw new Error('bad holdSampleShift');
  }

  cpuWord(cpu: number, field: number): number {
    return this.cpuBase + cpu * LOCK_CPU.STRIDE + field;
  }

  waiterWord(cpu: number, field: number): number {
    return this.waiterBase + cpu * LOCK_WAITER.STRIDE + field;
  }

  heldWord(cpu: number, depth: number, field: number): number {
    return this.heldBase + (cpu * MAX_HELD_LOCKS + depth) * HELD_LOCK.STRIDE + field;
  }

  cpuState(cpu: number): number {
    return Atomics.load(this.i32, this.cpuWord(cpu, LOCK_CPU.state));
  }

  /** Binds the calling JS thread to a CPU slot; a slot runs on one thread at a time. */
  attachCpu(cpu: number): LockCpu {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) throw new Error(`no cpu ${cpu}`);
    const previous = Atomics.compareExchange(
      this.i32,
      this.cpuWord(cpu, LOCK_CPU.state),
      CPU_OFFLINE,
      CPU_ONLINE,
    );
    if (previous !== CPU_OFFLINE) {
      throw new Error(
        `cpu ${cpu} is ${previous === CPU_DEAD ? 'dead' : 'already running on another thread'}`,
      );
    }
    if (this.heldDepth(cpu) !== 0)
      throw new Error(`cpu ${cpu} is offline but holds ${this.describeHeld(cpu)}`);
    this.i32[this.cpuWord(cpu, LOCK_CPU.waitingOn)] = -1;
    return new LockCpu(this, cpu);
  }

  /** The lock a CPU is blocked on (its word index), or -1. */
  waitingOn(cpu: number): number {
    return Atomics.load(this.i32, this.cpuWord(cpu, LOCK_CPU.waitingOn));
  }

  /**
   * How many locks a CPU holds: its first empty held-lock slot. Read from another CPU it may be stale
   * (reports only); read after the CPU's thread has stopped, it is exact.
   */
  heldDepth(cpu: number): number {
    let depth = 0;
    while (depth < MAX_HELD_LOCKS && this.i32[this.heldWord(cpu, depth, HELD_LOCK.lock)] !== HELD_EMPTY)
      depth++;
    return depth;
  }

  /** The lock word of a CPU's held-lock entry at `depth`. */
  heldLock(cpu: number, depth: number): number {
    return heldTagLock(this.i32[this.heldWord(cpu, depth, HELD_LOCK.lock)]);
  }

  /** The info word (heldInfo()) of a CPU's held-lock entry at `depth`. */
  heldInfoAt(cpu: number, depth: number): number {
    return this.i32[this.heldWord(cpu, depth, HELD_LOCK.info)];
  }

  /** CPUs whose held-lock stacks contain the lock, with the mode each holds it in. */
  holdersOf(lockWord: number): { cpu: number; mode: number }[] {
    const holders: { cpu: number; mode: number }[] = [];
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      const depth = this.heldDepth(cpu);
      for (let d = 0; d < depth; d++) {
        if (this.heldLock(cpu, d) === lockWord) {
          holders.push({ cpu, mode: heldInfoMode(this.heldInfoAt(cpu, d)) });
        }
      }
    }
    return holders;
  }

  /** The locks a CPU holds, outermost first, as text. */
  describeHeld(cpu: number): string {
    const depth = this.heldDepth(cpu);
    const parts: string[] = [];
    for (let d = 0; d < depth; d++) {
      const info = this.heldInfoAt(cpu, d);
      const mode = heldInfoMode(info) === MODE_READ ? 'R' : 'W';
      parts.push(`${this.classes.name(heldInfoClass(info))}-${mode} @${this.heldLock(cpu, d)}`);
    }
    return parts.length === 0 ? 'no locks' : parts.join(', ');
  }

  statIndex(cpu: number, row: number, field: number): number {
    return this.statBase + (cpu * this.statRowsPerCpu + row) * LOCK_STAT.STRIDE + field;
  }

  resetLockStat(): void {
    const start = this.statIndex(0, 0, 0);
    this.f64.fill(0, start, start + this.cpuCount * this.statRowsPerCpu * LOCK_STAT.STRIDE);
  }
}

/** lock_stat row of a class: the write (or only) row, and the read row of an rwsem. */
export function statRow(classId: number, mode: number): number {
  return classId * 2 + mode;
}

/**
 * Offset of a class's lock_stat row from the first row of a CPU: what a lock passes to
 * LockCpu.acquired()/released(), computed once when the lock is built.
 */
export function statOffset(classId: number, mode: number): number {
  return statRow(classId, mode) * STAT_STRIDE;
}

/** The class of a statOffset(). */
function statOffsetClass(stat: number): number {
  return Math.floor(stat / STAT_STRIDE / 2);
}

/**
 * One CPU as seen by the thread running it: its held-lock stack, its lock_stat rows and the
 * bookkeeping every lock does on acquire and release.
 */
export class LockCpu {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly statFirst: number;
  private readonly heldFirst: number;
  private readonly sinceFirst: number;
  private readonly sampleMask: number;
  private readonly lockStat: boolean;
  /** lockdep is on for this domain (read on every acquire, so kept beside the CPU). */
  readonly lockdep: boolean;
  /** Owner tag stored in lock words: never 0, so 0 can mean "free". */
  readonly tag: number;
  depth = 0;

  constructor(
    readonly dom: LockDomain,
    readonly id: number,
  ) {
    this.i32 = dom.i32;
    this.f64 = dom.f64;
    this.statFirst = dom.statIndex(id, 0, 0);
    this.heldFirst = dom.heldWord(id, 0, 0);
    this.sinceFirst = dom.heldSinceBase + id * MAX_HELD_LOCKS;
    this.sampleMask = (1 << dom.options.holdSampleShift) - 1;
    this.lockStat = dom.options.lockStat;
    this.lockdep = dom.options.lockdep;
    this.tag = id + 1;
  }

  // acquired() and released() are the fast paths every lock inlines into its callers; what is rare
  // (a bounce, a sampled hold, an out-of-order release, a broken invariant) is out of line, as the
  // kernel keeps its slow paths noinline. TurboFan inlines at most 920 bytes of bytecode into one
  // function on Node 20: with the rare paths inline, a mutex pair did not fit and released() stayed a
  // call (docs/dev/hot-paths.md).

  /**
   * Records an acquisition: lock_stat counts and the held-lock stack. `stat` is the lock's
   * statOffset(class, mode) and `info` its heldInfo(class, mode, flags), both fixed per lock.
   */
  acquired(lockWord: number, lastCpuWord: number, stat: number, info: number): void {
    const depth = this.depth;
    if (depth >= HELD_DEPTH_LIMIT) this.overflow();
    const i32 = this.i32;
    let tag = lockWord + HELD_TAG_BIAS;
    // `=== true`: a bare boolean field costs TurboFan a full ToBoolean sequence on every acquire.
    if (this.lockStat === true) {
      const row = this.statFirst + stat;
      const f64 = this.f64;
      const acquisitions = f64[row + STAT_ACQUISITIONS] + 1;
      f64[row + STAT_ACQUISITIONS] = acquisitions;
      if (i32[lastCpuWord] !== this.id) this.acqBounce(row, lastCpuWord);
      // Hold times are sampled: the row's first acquisition on this CPU and every 2^holdSampleShift-th
      // after it (the count is exact below 2^53, and its low bits survive the int32 truncation).
      if (((acquisitions - 1) & this.sampleMask) === 0) tag = this.startHold(depth, tag);
    }
    // Plain stores: other CPUs read the stack only for reports (where a stale entry is harmless) and
    // after this CPU is dead (its thread has stopped, which orders its stores before the reaper's loads).
    const entry = this.heldFirst + depth * HELD_STRIDE;
    i32[entry + HELD_LOCK_FIELD] = tag;
    i32[entry + HELD_INFO_FIELD] = info;
    this.depth = depth + 1;
  }

  /** Removes a lock from the held-lock stack and records its hold time when it was sampled. */
  released(lockWord: number, stat: number): void {
    const top = this.depth - 1;
    const entry = this.heldFirst + top * HELD_STRIDE;
    if (top < 0 || this.i32[entry + HELD_LOCK_FIELD] !== lockWord + HELD_TAG_BIAS) {
      this.releasedSlow(lockWord, stat);
      return;
    }
    this.i32[entry + HELD_LOCK_FIELD] = HELD_EMPTY;
    this.depth = top;
  }

  private overflow(): never {
    throw new Error(`cpu ${this.id}: held-lock stack overflow`);
  }

  /** acq-bounces: the lock was last acquired on another CPU. */
  private acqBounce(row: number, lastCpuWord: number): void {
    this.f64[row + STAT_ACQ_BOUNCES]++;
    this.i32[lastCpuWord] = this.id;
  }

  /** Starts timing the hold of the lock about to sit at `depth`; returns its entry tag, marked sampled. */
  private startHold(depth: number, tag: number): number {
    this.f64[this.sinceFirst + depth] = performance.now();
    return tag | HELD_LOCK_SAMPLED;
  }

  /** Ends the sampled hold of the lock at `depth`. */
  private endHold(depth: number, stat: number): void {
    this.recordHold(stat, performance.now() - this.f64[this.sinceFirst + depth]);
  }

  /**
   * released() of a sampled hold, of a lock that is not the innermost held one (hand-over-hand), or of a
   * lock the CPU does not hold.
   */
  private releasedSlow(lockWord: number, stat: number): void {
    const i32 = this.i32;
    const depth = this.find(lockWord);
    if (depth < 0) {
      throw new Error(
        `cpu ${this.id}: releases ${this.dom.classes.name(statOffsetClass(stat))} @${lockWord}, which it does not hold`,
      );
    }
    if ((i32[this.heldFirst + depth * HELD_STRIDE + HELD_LOCK_FIELD] & HELD_LOCK_SAMPLED) !== 0) {
      this.endHold(depth, stat);
    }
    // Close the gap the lock leaves in the stack, then empty the old top slot.
    const top = this.depth - 1;
    for (let d = depth; d < top; d++) {
      const dst = this.heldFirst + d * HELD_STRIDE;
      for (let f = 0; f < HELD_STRIDE; f++) i32[dst + f] = i32[dst + HELD_STRIDE + f];
      this.f64[this.sinceFirst + d] = this.f64[this.sinceFirst + d + 1];
    }
    i32[this.heldFirst + top * HELD_STRIDE + HELD_LOCK_FIELD] = HELD_EMPTY;
    this.depth = top;
  }

  /** Depth of the innermost entry of a lock in this CPU's stack, or -1. */
  private find(lockWord: number): number {
    for (let d = this.depth - 1; d >= 0; d--) {
      if (this.heldLock(d) === lockWord) return d;
    }
    return -1;
  }

  /** Changes the mode of a held lock in place (downgrade_write). */
  changeMode(lockWord: number, mode: number): void {
    const d = this.find(lockWord);
    if (d < 0) throw new Error(`cpu ${this.id}: changes mode of lock @${lockWord}, which it does not hold`);
    const entry = this.heldFirst + d * HELD_STRIDE;
    const info = this.i32[entry + HELD_INFO_FIELD];
    this.i32[entry + HELD_INFO_FIELD] = heldInfo(heldInfoClass(info), mode, heldInfoFlags(info));
    // The hold in the old mode ends here: stop sampling it rather than charge it to the new mode.
    this.i32[entry + HELD_LOCK_FIELD] = lockWord + HELD_TAG_BIAS;
  }

  /** Mode the lock is held in by this CPU, or -1. */
  heldMode(lockWord: number): number {
    const d = this.find(lockWord);
    return d < 0 ? -1 : heldInfoMode(this.dom.heldInfoAt(this.id, d));
  }

  heldClass(depth: number): number {
    return heldInfoClass(this.dom.heldInfoAt(this.id, depth));
  }

  heldFlags(depth: number): number {
    return heldInfoFlags(this.dom.heldInfoAt(this.id, depth));
  }

  heldLock(depth: number): number {
    return this.dom.heldLock(this.id, depth);
  }

  /**
   * A contended acquisition began; con-bounces when the lock was last taken on another CPU. `stat`
   * is the lock's statOffset(class, mode), as for acquired().
   */
  contended(lastCpuWord: number, stat: number): void {
    if (!this.lockStat) return;
    const row = this.statFirst + stat;
    this.f64[row + LOCK_STAT.contentions]++;
    if (this.i32[lastCpuWord] !== this.id) this.f64[row + LOCK_STAT.conBounces]++;
  }

  /** A contended acquisition ended after waitMs; slept says whether it had to sleep. */
  waited(stat: number, waitMs: number, slept: boolean): void {
    if (!this.lockStat) return;
    const row = this.statFirst + stat;
    if (slept) this.f64[row + LOCK_STAT.sleeps]++;
    const first = this.f64[row + LOCK_STAT.waitTotalUs] === 0;
    this.addTime(
      row + LOCK_STAT.waitMinUs,
      row + LOCK_STAT.waitMaxUs,
      row + LOCK_STAT.waitTotalUs,
      waitMs,
      first,
    );
  }

  private recordHold(stat: number, holdMs: number): void {
    const row = this.statFirst + stat;
    const first = this.f64[row + LOCK_STAT.holdSamples] === 0;
    this.addTime(
      row + LOCK_STAT.holdMinUs,
      row + LOCK_STAT.holdMaxUs,
      row + LOCK_STAT.holdTotalUs,
      holdMs,
      first,
    );
    this.f64[row + LOCK_STAT.holdSamples]++;
  }

  /** Adds a time in ms to a lock_stat row's min/max/total columns (in µs); `first` when it has none yet. */
  private addTime(min: number, max: number, total: number, ms: number, first: boolean): void {
    const us = ms * 1000;
    const f64 = this.f64;
    if (first || us < f64[min]) f64[min] = us;
    if (us > f64[max]) f64[max] = us;
    f64[total] += us;
  }

  setWaitingOn(lockWord: number, classId: number): void {
    this.i32[this.dom.cpuWord(this.id, LOCK_CPU.waitingClass)] = classId;
    Atomics.store(this.i32, this.dom.cpuWord(this.id, LOCK_CPU.waitingOn), lockWord);
  }

  clearWaitingOn(): void {
    Atomics.store(this.i32, this.dom.cpuWord(this.id, LOCK_CPU.waitingOn), -1);
  }

  /** Leaves the CPU slot; it must hold no lock. */
  detach(): void {
    if (this.depth !== 0)
      throw new Error(`cpu ${this.id} detaches holding ${this.dom.describeHeld(this.id)}`);
    Atomics.store(this.i32, this.dom.cpuWord(this.id, LOCK_CPU.state), CPU_OFFLINE);
  }
}
