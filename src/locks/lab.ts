// The lock lab: the lock library alone in a shared buffer, with a fixed set of locks and plain data
// words for them to protect. The lock library's tests and benchmarks run on it; the machine builds
// its own domain the same way (see mm/machine.ts).

import { LAB_LOCK_STRIDE_WORDS, type LockLabLayout, planLockLab, wordIndex } from '../layout/layout.js';
import { type AnyLock, lockOfClass } from './any.js';
import { type LockClassSpec, LockClassTable } from './classes.js';
import { DEFAULT_LOCK_OPTIONS, type LockCpu, LockDomain, type LockOptions } from './domain.js';
import { Mutex } from './mutex.js';
import { RwSemaphore } from './rwsem.js';
import { Spinlock } from './spinlock.js';

export type { AnyLock };

export interface LockLabConfig {
  cpus: number;
  classes: LockClassSpec[];
  /** One lock per entry, of its class's kind. */
  locks: string[];
  dataWords: number;
  options?: Partial<LockOptions>;
  lockdepTextBytes?: number;
  /** Deterministic scheduler trace ring entries (DEFAULT_SCHED_TRACE_ENTRIES when absent). */
  schedTraceEntries?: number;
}

/** What a worker needs to attach: the buffer and the plain-data config. */
export interface LockLabHandle {
  buffer: SharedArrayBuffer;
  config: LockLabConfig;
}

function planLab(config: LockLabConfig, classes: LockClassTable): LockLabLayout {
  return planLockLab({
    cpus: config.cpus,
    classCount: classes.count,
    lockdepTextBytes: config.lockdepTextBytes ?? 64 * 1024,
    lockCount: config.locks.length,
    dataWords: config.dataWords,
    schedTraceEntries: config.schedTraceEntries,
  });
}

export class LockLab {
  readonly dom: LockDomain;
  readonly layout: LockLabLayout;
  readonly locks: AnyLock[];
  readonly data: Int32Array;

  private constructor(readonly handle: LockLabHandle) {
    const { config, buffer } = handle;
    const classes = new LockClassTable(config.classes);
    this.layout = planLab(config, classes);
    if (buffer.byteLength !== this.layout.byteLength)
      throw new Error('lock lab: buffer does not match its config');
    this.dom = new LockDomain(
      buffer,
      this.layout,
      classes,
      { ...DEFAULT_LOCK_OPTIONS, ...config.options },
      config.cpus,
    );
    const first = wordIndex(this.layout.locks);
    this.locks = config.locks.map((className, i) =>
      lockOfClass(this.dom, first + i * LAB_LOCK_STRIDE_WORDS, classes.id(className)),
    );
    this.data = new Int32Array(buffer, this.layout.data.byteOffset, config.dataWords);
  }

  static create(config: LockLabConfig): LockLab {
    const layout = planLab(config, new LockClassTable(config.classes));
    const lab = new LockLab({ buffer: new SharedArrayBuffer(layout.byteLength), config });
    for (const lock of lab.locks) lock.init();
    return lab;
  }

  static attach(handle: LockLabHandle): LockLab {
    return new LockLab(handle);
  }

  cpu(id: number): LockCpu {
    return this.dom.attachCpu(id);
  }

  mutex(i: number): Mutex {
    const lock = this.locks[i];
    if (!(lock instanceof Mutex)) throw new Error(`lock ${i} is not a mutex`);
    return lock;
  }

  spinlock(i: number): Spinlock {
    const lock = this.locks[i];
    if (!(lock instanceof Spinlock)) throw new Error(`lock ${i} is not a spinlock`);
    return lock;
  }

  rwsem(i: number): RwSemaphore {
    const lock = this.locks[i];
    if (!(lock instanceof RwSemaphore)) throw new Error(`lock ${i} is not an rwsem`);
    return lock;
  }
}
