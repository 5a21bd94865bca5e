// Errors a lock wait can end in. Both are broken invariants of the simulated kernel: the waiter
// stops instead of hanging, and the text says who held what. Below them, the throwers of the lock
// API's own broken invariants.

import type { LockCpu } from './domain.js';

export class LockError extends Error {}

/** A wait outlasted the hung-task bound (kernel: "INFO: task ... blocked for more than N seconds"). */
export class HungTaskError extends LockError {
  override name = 'HungTaskError';
  constructor(
    readonly report: string,
    readonly cpu: number,
    readonly lockWord: number,
  ) {
    super(report);
  }
}

/** The lock's owner died holding it (robust futex: EOWNERDEAD); the data it protects is suspect. */
export class OwnerDiedError extends LockError {
  override name = 'OwnerDiedError';
  constructor(
    readonly report: string,
    readonly cpu: number,
    readonly lockWord: number,
  ) {
    super(report);
  }
}

/** A lock-order problem found by lockdep, raised where the config asks lockdep to be fatal. */
export class LockdepError extends LockError {
  override name = 'LockdepError';
}

// Broken invariants of the lock API, thrown from out-of-line functions so that the unlock and assert
// paths that check them stay small enough for TurboFan to inline (docs/dev/hot-paths.md).

/** A CPU releases a lock that another CPU (ownerCpu, -1 for none) holds. */
export function unlockNotOwner(cpu: LockCpu, classId: number, lockWord: number, ownerCpu: number): never {
  throw new Error(`cpu ${cpu.id} unlocks ${cpu.dom.classes.name(classId)} @${lockWord} owned by ${ownerCpu}`);
}

/** An assertion that the CPU holds the lock (`how`: "held", "write-locked") failed. */
export function notHeld(cpu: LockCpu, classId: number, lockWord: number, how: string): never {
  throw new Error(`${cpu.dom.classes.name(classId)} @${lockWord} is not ${how} by cpu ${cpu.id}`);
}
