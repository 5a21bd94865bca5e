// Errors a lock wait can end in. Both are broken invariants of the simulated kernel: the waiter
// stops instead of hanging, and the text says who held what.

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
