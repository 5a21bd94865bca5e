// Lock scenarios a simulated CPU runs on the lock lab: the workloads of the lock library's tests
// (mutual exclusion, reader sharing, fairness, robustness) and benchmarks (throughput, hand-off).
// Data words are indices into the lab's data region, chosen by the caller.

import type { AnyLock, LockCpu, LockLab } from '../locks/index.js';
import { Mutex, RwSemaphore, reapDeadCpu, SchedPoint, Spinlock } from '../locks/index.js';
import { DeterministicScheduler } from '../sched/index.js';
import { bump, waitAtLeast } from './control.js';

export type LockMode = 'write' | 'read';

export type LockScenario =
  /** Plain (non-atomic) read-modify-write of data[counter] under the lock; 'none' takes no lock. */
  | {
      kind: 'increment';
      lock: number;
      mode: LockMode | 'none' | 'trylock';
      iterations: number;
      counter: number;
    }
  /** Holds the lock for read until `arrivals` readers are inside at once (or timeoutMs passes). */
  | { kind: 'readersMeet'; lock: number; arrivals: number; counter: number; timeoutMs: number }
  /** Readers and writers checking each other's presence inside the critical section. */
  | { kind: 'rwExclusion'; lock: number; iterations: number; writeEvery: number; words: RwWords }
  /** Takes and drops the lock in `mode` until data[stop] is set; counts rounds. */
  | { kind: 'stream'; lock: number; mode: LockMode; stop: number; active: number }
  /** Waits until data[active] >= need, then times one acquisition in `mode` and sets data[stop]. */
  | { kind: 'timedAcquire'; lock: number; mode: LockMode; active: number; need: number; stop: number }
  /** Takes the lock, sets data[signal], waits for data[release], then leaves as `after` says. */
  | {
      kind: 'hold';
      lock: number;
      mode: LockMode;
      signal: number;
      release: number;
      after: 'unlock' | 'throw' | 'exit';
    }
  /** One acquisition and release. */
  | { kind: 'lockOnce'; lock: number; mode: LockMode }
  /** Takes `outer` then `inner`, releases both; `iterations` times (default once). */
  | { kind: 'nested'; outer: number; inner: number; iterations?: number }
  /**
   * Plain read-modify-write of data[counter] under the lock with a scheduling point (an access
   * boundary) between the read and the write: under the deterministic scheduler the CPU may be
   * switched out inside its critical section. 'none' takes no lock (the control: updates are lost).
   */
  | { kind: 'preemptIncrement'; lock: number; mode: 'write' | 'none'; iterations: number; counter: number }
  /**
   * Runs `run` under the deterministic scheduler (sched/): waits for its first turn, installs the
   * hook, leaves the run at the end. The main thread registers the CPU and calls start(). `run` must
   * reach a scheduling point wherever it waits for another CPU (readersMeet, hold, stream,
   * timedAcquire, throughput and pingpong wait outside the hooks and would hold the token).
   */
  | { kind: 'scheduled'; run: LockScenario }
  /** downgrade_write, with a check that no writer got in between. */
  | { kind: 'downgrade'; lock: number; counter: number }
  /** Benchmark: lock/unlock pairs in `mode` for durationMs; also trylock and raw-Atomics floors. */
  | { kind: 'throughput'; lock: number; mode: LockMode; durationMs: number; start: number; cpus: number }
  /** Benchmark: two CPUs bounce data[word] with Atomics.wait/notify; `side` 0 starts. */
  | { kind: 'pingpong'; word: number; side: 0 | 1; rounds: number };

export interface RwWords {
  writerInside: number;
  readersInside: number;
  violations: number;
  maxReaders: number;
}

export interface ScenarioResult {
  cpu: number;
  count: number;
  elapsedMs: number;
  value?: number;
}

function acquire(lock: AnyLock, cpu: LockCpu, mode: LockMode): void {
  if (lock instanceof RwSemaphore) {
    if (mode === 'read') lock.downRead(cpu);
    else lock.downWrite(cpu);
  } else {
    lock.lock(cpu);
  }
}

function release(lock: AnyLock, cpu: LockCpu, mode: LockMode): void {
  if (lock instanceof RwSemaphore) {
    if (mode === 'read') lock.upRead(cpu);
    else lock.upWrite(cpu);
  } else {
    lock.unlock(cpu);
  }
}

function tryAcquire(lock: AnyLock, cpu: LockCpu): boolean {
  if (lock instanceof RwSemaphore) return lock.downWriteTrylock(cpu);
  return lock.trylock(cpu);
}

export function runLockScenario(lab: LockLab, cpu: LockCpu, s: LockScenario): ScenarioResult {
  const data = lab.data;
  const t0 = performance.now();
  const done = (count: number, value?: number): ScenarioResult => ({
    cpu: cpu.id,
    count,
    elapsedMs: performance.now() - t0,
    value,
  });
  switch (s.kind) {
    case 'increment': {
      const lock = lab.locks[s.lock];
      for (let i = 0; i < s.iterations; i++) {
        if (s.mode === 'none') {
          data[s.counter] = data[s.counter] + 1;
        } else if (s.mode === 'trylock') {
          while (!tryAcquire(lock, cpu)) Atomics.wait(data, s.counter + 1, 0, 0);
          data[s.counter] = data[s.counter] + 1;
          release(lock, cpu, 'write');
        } else {
          acquire(lock, cpu, s.mode);
          data[s.counter] = data[s.counter] + 1;
          release(lock, cpu, s.mode);
        }
      }
      return done(s.iterations);
    }
    case 'readersMeet': {
      const lock = lab.rwsem(s.lock);
      lock.downRead(cpu);
      bump(data, s.counter);
      const met = waitAtLeast(data, s.counter, s.arrivals, s.timeoutMs);
      lock.upRead(cpu);
      return done(met ? 1 : 0);
    }
    case 'rwExclusion': {
      const lock = lab.rwsem(s.lock);
      const w = s.words;
      for (let i = 0; i < s.iterations; i++) {
        if (i % s.writeEvery === 0) {
          lock.downWrite(cpu);
          if (Atomics.exchange(data, w.writerInside, 1) !== 0) Atomics.add(data, w.violations, 1);
          for (let check = 0; check < 64; check++) {
            if (Atomics.load(data, w.readersInside) !== 0) Atomics.add(data, w.violations, 1);
          }
          Atomics.store(data, w.writerInside, 0);
          lock.upWrite(cpu);
        } else {
          lock.downRead(cpu);
          const inside = Atomics.add(data, w.readersInside, 1) + 1;
          // Re-check the invariant throughout the critical section, not only on entry.
          for (let check = 0; check < 64; check++) {
            if (Atomics.load(data, w.writerInside) !== 0) Atomics.add(data, w.violations, 1);
          }
          let max = Atomics.load(data, w.maxReaders);
          while (inside > max) {
            const seen = Atomics.compareExchange(data, w.maxReaders, max, inside);
            if (seen === max) break;
            max = seen;
          }
          Atomics.sub(data, w.readersInside, 1);
          lock.upRead(cpu);
        }
      }
      return done(s.iterations);
    }
    case 'stream': {
      const lock = lab.locks[s.lock];
      let rounds = 0;
      bump(data, s.active);
      while (Atomics.load(data, s.stop) === 0) {
        acquire(lock, cpu, s.mode);
        rounds++;
        release(lock, cpu, s.mode);
      }
      return done(rounds);
    }
    case 'timedAcquire': {
      const lock = lab.locks[s.lock];
      if (!waitAtLeast(data, s.active, s.need, 10_000)) throw new Error('the lock stream never started');
      const start = performance.now();
      acquire(lock, cpu, s.mode);
      const waitedMs = performance.now() - start;
      release(lock, cpu, s.mode);
      Atomics.store(data, s.stop, 1);
      return done(1, waitedMs);
    }
    case 'hold': {
      const lock = lab.locks[s.lock];
      acquire(lock, cpu, s.mode);
      bump(data, s.signal);
      waitAtLeast(data, s.release, 1, 60_000);
      if (s.after === 'throw') throw new Error(`cpu ${cpu.id} crashed inside its critical section`);
      if (s.after === 'exit') process.exit(3);
      release(lock, cpu, s.mode);
      return done(1);
    }
    case 'lockOnce': {
      const lock = lab.locks[s.lock];
      acquire(lock, cpu, s.mode);
      release(lock, cpu, s.mode);
      return done(1);
    }
    case 'nested': {
      const outer = lab.locks[s.outer];
      const inner = lab.locks[s.inner];
      const iterations = s.iterations ?? 1;
      for (let i = 0; i < iterations; i++) {
        acquire(outer, cpu, 'write');
        acquire(inner, cpu, 'write');
        release(inner, cpu, 'write');
        release(outer, cpu, 'write');
      }
      return done(iterations);
    }
    case 'preemptIncrement': {
      const lock = lab.locks[s.lock];
      // The counter's word in the buffer names the access point in the trace.
      const counterWord = lab.layout.data.byteOffset / 4 + s.counter;
      for (let i = 0; i < s.iterations; i++) {
        if (s.mode === 'write') acquire(lock, cpu, 'write');
        const value = data[s.counter];
        const hook = lab.dom.hook;
        if (hook !== null) hook(cpu.id, SchedPoint.access, counterWord);
        data[s.counter] = value + 1;
        if (s.mode === 'write') release(lock, cpu, 'write');
      }
      return done(s.iterations);
    }
    case 'scheduled':
      return runScheduled(lab, cpu, s.run);
    case 'downgrade': {
      const lock = lab.rwsem(s.lock);
      lock.downWrite(cpu);
      const mark = data[s.counter] + 1;
      data[s.counter] = mark;
      lock.downgradeWrite(cpu);
      // Re-check throughout the read side, not only once: a writer let in would change the mark.
      let stillMine = 1;
      for (let check = 0; check < 64; check++) {
        if (Atomics.load(data, s.counter) !== mark) stillMine = 0;
      }
      lock.upRead(cpu);
      return done(1, stillMine);
    }
    case 'throughput':
      return done(...throughput(lab, cpu, s));
    case 'pingpong': {
      // The word counts turns: side 0 moves on even values, side 1 on odd ones.
      for (let round = 0; round < s.rounds; round++) {
        const turn = 2 * round + s.side;
        for (let seen = Atomics.load(data, s.word); seen !== turn; seen = Atomics.load(data, s.word)) {
          Atomics.wait(data, s.word, seen, 1000);
        }
        Atomics.store(data, s.word, turn + 1);
        Atomics.notify(data, s.word);
      }
      return done(s.rounds);
    }
  }
}

/** One CPU's part of a deterministic run (see DeterministicScheduler). */
function runScheduled(lab: LockLab, cpu: LockCpu, run: LockScenario): ScenarioResult {
  const sched = new DeterministicScheduler(lab.dom, lab.layout);
  try {
    sched.enter(cpu.id);
    lab.dom.hook = sched.hook;
    return runLockScenario(lab, cpu, run);
  } catch (error) {
    // Reaped while it still holds the token, so the next CPU meets OWNER_DIED at the same step in
    // every replay (the worker's own reap afterwards finds it done).
    reapDeadCpu(lab.dom, cpu.id, error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    lab.dom.hook = null;
    sched.finish(cpu.id);
  }
}

function throughput(
  lab: LockLab,
  cpu: LockCpu,
  s: Extract<LockScenario, { kind: 'throughput' }>,
): [number, number] {
  const lock = lab.locks[s.lock];
  const data = lab.data;
  // Start together: every CPU has joined before anyone measures.
  bump(data, s.start);
  if (!waitAtLeast(data, s.start, s.cpus, 10_000)) throw new Error('throughput: not every CPU started');
  const deadline = performance.now() + s.durationMs;
  let pairs = 0;
  if (lock instanceof Mutex || lock instanceof Spinlock) {
    while (performance.now() < deadline) {
      for (let i = 0; i < 256; i++) {
        lock.lock(cpu);
        lock.unlock(cpu);
      }
      pairs += 256;
    }
  } else if (s.mode === 'read') {
    while (performance.now() < deadline) {
      for (let i = 0; i < 256; i++) {
        lock.downRead(cpu);
        lock.upRead(cpu);
      }
      pairs += 256;
    }
  } else {
    while (performance.now() < deadline) {
      for (let i = 0; i < 256; i++) {
        lock.downWrite(cpu);
        lock.upWrite(cpu);
      }
      pairs += 256;
    }
  }
  return [pairs, s.durationMs];
}
