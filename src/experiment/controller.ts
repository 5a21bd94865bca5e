// The run controller: drives a run from the main thread — starts the CPUs, reads snapshots while
// they run, stops them, tears everything down. Its control operations are serialized with
// async-mutex, so a progress reporter (or any second caller) can never interleave a snapshot with
// teardown: each operation sees the run in one state.

import { Mutex } from 'async-mutex';
import type { Machine } from '../mm/machine.js';
import { kswapdStop } from '../mm/vmscan.js';
import type { Vmstat } from '../mm/vmstat.js';
import type { CpuPool } from '../workers/cpus.js';
import { CONTROL } from '../workloads/ebizzy.js';

export type RunPhase = 'created' | 'running' | 'stopped' | 'torn-down';

export interface RunSnapshot {
  phase: RunPhase;
  elapsedSeconds: number;
  records: number;
  vmstat: Vmstat;
}

export class RunController {
  private readonly mutex = new Mutex();
  phase: RunPhase = 'created';
  private startMs = 0;
  private stopMs = 0;
  /** The control words, then one progress word per ebizzy thread. */
  readonly control: Int32Array;

  constructor(
    readonly machine: Machine,
    readonly pool: CpuPool,
    /** ebizzy threads (progress words). */
    readonly threads: number,
  ) {
    this.control = new Int32Array(
      new SharedArrayBuffer((CONTROL.progress + threads) * Int32Array.BYTES_PER_ELEMENT),
    );
  }

  /** Waits until `expected` CPUs are ready, then releases them all at once. */
  start(expected: number, timeoutMs = 120_000): Promise<void> {
    return this.mutex.runExclusive(async () => {
      if (this.phase !== 'created') throw new Error(`run: start in phase ${this.phase}`);
      const deadline = Date.now() + timeoutMs;
      while (Atomics.load(this.control, CONTROL.ready) < expected) {
        if (Date.now() > deadline)
          throw new Error(
            `run: only ${Atomics.load(this.control, CONTROL.ready)} of ${expected} CPUs became ready`,
          );
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      this.machine.resetLockStat();
      this.startMs = performance.now();
      this.phase = 'running';
      Atomics.store(this.control, CONTROL.go, 1);
      Atomics.notify(this.control, CONTROL.go);
    });
  }

  private records(): number {
    let sum = 0;
    for (let i = 0; i < this.threads; i++) sum += Atomics.load(this.control, CONTROL.progress + i);
    return sum;
  }

  private elapsedSeconds(): number {
    if (this.phase === 'created') return 0;
    return ((this.phase === 'running' ? performance.now() : this.stopMs) - this.startMs) / 1000;
  }

  /** Where the run is: records so far and vmstat now (a best-effort read while CPUs run). */
  snapshot(): Promise<RunSnapshot> {
    return this.mutex.runExclusive(() => {
      if (this.phase === 'torn-down') throw new Error('run: snapshot after teardown');
      return {
        phase: this.phase,
        elapsedSeconds: this.elapsedSeconds(),
        records: this.records(),
        vmstat: this.machine.vmstat(),
      };
    });
  }

  /** Tells every CPU to stop; returns the measured interval in seconds. */
  stop(): Promise<number> {
    return this.mutex.runExclusive(() => {
      if (this.phase !== 'running') throw new Error(`run: stop in phase ${this.phase}`);
      this.stopMs = performance.now();
      this.phase = 'stopped';
      Atomics.store(this.control, CONTROL.stop, 1);
      Atomics.notify(this.control, CONTROL.stop);
      return (this.stopMs - this.startMs) / 1000;
    });
  }

  /** Stops kswapd and the worker pool. Idempotent. */
  teardown(): Promise<void> {
    return this.mutex.runExclusive(async () => {
      if (this.phase === 'torn-down') return;
      Atomics.store(this.control, CONTROL.stop, 1);
      kswapdStop(this.machine.kernel);
      this.phase = 'torn-down';
      await this.pool.close();
    });
  }
}
