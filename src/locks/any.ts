// A lock handle of whatever kind its class declares.

import type { LockDomain } from './domain.js';
import { Mutex } from './mutex.js';
import { RwSemaphore } from './rwsem.js';
import { Spinlock } from './spinlock.js';

export type AnyLock = Mutex | Spinlock | RwSemaphore;

export function lockOfClass(dom: LockDomain, word: number, classId: number): AnyLock {
  const kind = dom.classes.specs[classId].kind;
  if (kind === 'mutex') return new Mutex(dom, word, classId);
  if (kind === 'spinlock') return new Spinlock(dom, word, classId);
  return new RwSemaphore(dom, word, classId);
}
