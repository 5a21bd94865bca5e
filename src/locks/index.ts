export { type AnyLock, lockOfClass } from './any.js';
export { KERNEL_LOCK_CLASSES, type LockClassSpec, LockClassTable, type LockKind } from './classes.js';
export {
  CPU_DEAD,
  CPU_OFFLINE,
  CPU_ONLINE,
  DEFAULT_LOCK_OPTIONS,
  LockCpu,
  LockDomain,
  type LockOptions,
  MODE_READ,
  MODE_WRITE,
  type SchedHook,
  SchedPoint,
} from './domain.js';
export { HungTaskError, LockdepError, LockError, OwnerDiedError } from './errors.js';
export { LockLab, type LockLabConfig, type LockLabHandle } from './lab.js';
export { type LockStatRow, readLockStat, renderLockStat } from './lock_stat.js';
export { lockdepReports } from './lockdep.js';
export { Mutex } from './mutex.js';
export { type DeadCpuReport, markLockOwnerDied, reapDeadCpu } from './robust.js';
export { RwSemaphore } from './rwsem.js';
export { Spinlock } from './spinlock.js';
