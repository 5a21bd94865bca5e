// Purge policies: how the allocator gives dirty pages back to the kernel, and what it must do
// before it hands purged pages out again (DESIGN §1's table).
//   dontneed   madvise(MADV_DONTNEED): pages zapped now, reuse reads zeros (known zero).
//   madv_free  madvise(MADV_FREE): pages discarded only under pressure; reuse needs no call, and
//              reads either the old data or zeros (not known zero).
//   vrange     vrange(VOLATILE, FULL) / vrange(NOVOLATILE, FULL) before reuse: 1 = purged (zeros).
//   vma        mvolatile / mnovolatile: the same semantics through VMA flags.
//   none       never purges.

import type { Thread } from '../mm/thread.js';
import { MADV_DONTNEED, MADV_FREE, VRANGE_FULL, VRANGE_NOVOLATILE, VRANGE_VOLATILE } from '../mm/uapi.js';
import { PG_LAZY, PG_VOLATILE, PG_ZERO } from './chunk.js';

/** How the allocator gives freed memory back (docs/design.md, section 5). */
export type PurgePolicy = 'dontneed' | 'vma' | 'vrange' | 'madv_free' | 'none';
export const PURGE_POLICIES: readonly PurgePolicy[] = ['dontneed', 'vma', 'vrange', 'madv_free', 'none'];

export interface PurgeMechanism {
  readonly policy: PurgePolicy;
  /** State of a purged page (PG_ZERO, PG_LAZY or PG_VOLATILE); -1 when the policy never purges. */
  readonly purgedState: number;
  /** The purge syscall for a dirty span: 0 or -errno. */
  purge(t: Thread, addr: number, length: number): number;
  /** Unmarks volatile pages before reuse: 0 (data intact), 1 (purged: reads zeros), or -errno. */
  unmark(t: Thread, addr: number, length: number): number;
}

function noUnmark(policy: PurgePolicy): (t: Thread, addr: number, length: number) => number {
  return (_t, addr) => {
    throw new Error(
      `purge(${policy}): no page is ever volatile, yet 0x${addr.toString(16)} is to be unmarked`,
    );
  };
}

const MECHANISMS: Readonly<Record<PurgePolicy, PurgeMechanism>> = {
  dontneed: {
    policy: 'dontneed',
    purgedState: PG_ZERO,
    purge: (t, addr, length) => t.madvise(addr, length, MADV_DONTNEED),
    unmark: noUnmark('dontneed'),
  },
  madv_free: {
    policy: 'madv_free',
    purgedState: PG_LAZY,
    purge: (t, addr, length) => t.madvise(addr, length, MADV_FREE),
    unmark: noUnmark('madv_free'),
  },
  vrange: {
    policy: 'vrange',
    purgedState: PG_VOLATILE,
    purge: (t, addr, length) => t.vrange(addr, length, VRANGE_VOLATILE, VRANGE_FULL),
    unmark: (t, addr, length) => t.vrange(addr, length, VRANGE_NOVOLATILE, VRANGE_FULL),
  },
  vma: {
    policy: 'vma',
    purgedState: PG_VOLATILE,
    purge: (t, addr, length) => t.mvolatile(addr, length),
    unmark: (t, addr, length) => t.mnovolatile(addr, length),
  },
  none: {
    policy: 'none',
    purgedState: -1,
    purge: (_t, addr) => {
      throw new Error(`purge(none): the policy never purges, yet 0x${addr.toString(16)} is to be purged`);
    },
    unmark: noUnmark('none'),
  },
};

export function purgeMechanism(policy: PurgePolicy): PurgeMechanism {
  const mechanism = MECHANISMS[policy];
  if (mechanism === undefined) throw new RangeError(`arena: unknown purge policy ${JSON.stringify(policy)}`);
  return mechanism;
}
