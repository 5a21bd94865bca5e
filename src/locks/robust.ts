// Robust-list handling: a CPU that dies (its code threw, or its worker thread was terminated)
// while holding locks. Like the kernel walking a dead thread's robust futex list, whoever notices
// the death walks the dead CPU's held-lock stack and marks each lock OWNER_DIED, which wakes its
// waiters with a report instead of leaving them to wait forever.

import { LOCK_CPU } from '../layout/layout.js';
import { lockOfClass } from './any.js';
import { CPU_DEAD, heldInfoClass, type LockDomain } from './domain.js';

export interface DeadCpuReport {
  cpu: number;
  /** The locks it died holding, or was waiting for, as text. */
  locks: string[];
  text: string;
}

export function markLockOwnerDied(dom: LockDomain, lockWord: number, classId: number): void {
  lockOfClass(dom, lockWord, classId).markOwnerDied();
}

/**
 * Marks a CPU dead and every lock it held (or was queued for) OWNER_DIED. Idempotent. Called by
 * the CPU itself when its code throws, or by the main thread when its worker thread has gone.
 */
export function reapDeadCpu(dom: LockDomain, cpu: number, why: string): DeadCpuReport {
  const i32 = dom.i32;
  const previous = Atomics.exchange(i32, dom.cpuWord(cpu, LOCK_CPU.state), CPU_DEAD);
  const locks: string[] = [];
  const held = dom.describeHeld(cpu);
  const depth = dom.heldDepth(cpu);
  for (let d = 0; d < depth; d++) {
    const lockWord = dom.heldLock(cpu, d);
    const classId = heldInfoClass(dom.heldInfoAt(cpu, d));
    markLockOwnerDied(dom, lockWord, classId);
    locks.push(`${dom.classes.name(classId)} @${lockWord}`);
  }
  const waitingOn = Atomics.load(i32, dom.cpuWord(cpu, LOCK_CPU.waitingOn));
  let waiting = '';
  if (waitingOn >= 0) {
    // It may have been handed the lock, or sit in its queue: either way nobody will release it.
    const classId = i32[dom.cpuWord(cpu, LOCK_CPU.waitingClass)];
    markLockOwnerDied(dom, waitingOn, classId);
    waiting = `; it was waiting for ${dom.classes.name(classId)} @${waitingOn}`;
  }
  const state = previous === CPU_DEAD ? ' (already reaped)' : '';
  const text = `cpu ${cpu} died${state}: ${why}; it held ${held}${waiting}`;
  return { cpu, locks, text };
}
