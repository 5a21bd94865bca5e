// Signals reach simulated user code as exceptions thrown from the access API, carrying the faulting
// address, so that user code can catch them as a signal handler would.

export class Signal extends Error {
  constructor(
    message: string,
    readonly address: number,
  ) {
    super(message);
  }
}

/** SIGSEGV: no mapping at the address, or an access the mapping's protection forbids. */
export class SigSegv extends Signal {
  override name = 'SigSegv';
  constructor(
    address: number,
    readonly reason: 'maperr' | 'accerr',
  ) {
    super(
      `SIGSEGV at 0x${address.toString(16)} (${reason === 'maperr' ? 'no mapping' : 'protection'})`,
      address,
    );
  }
}

/** SIGBUS: access to a purged page of a range that is still volatile. */
export class SigBus extends Signal {
  override name = 'SigBus';
  constructor(address: number) {
    super(`SIGBUS at 0x${address.toString(16)} (purged volatile page)`, address);
  }
}

/** The fault could not be served: no free memory and nothing reclaimable (no swap). Ends the thread. */
export class OutOfMemoryError extends Error {
  override name = 'OutOfMemoryError';
  constructor(
    readonly address: number,
    readonly cpu: number,
    detail: string,
  ) {
    super(`out of memory: cpu ${cpu} faulting at 0x${address.toString(16)}: ${detail}`);
  }
}
