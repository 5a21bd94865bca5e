// Goal: a waiter asleep on a lock is woken by the unlock itself, for every lock kind and rwsem mode. Sleeps are cut
// into slices (options.waitSliceMs) so that owner death and hung tasks are noticed, and a slice
// running out would also end a sleep whose wake-up was lost, hiding the bug. Here a slice lasts a
// minute, longer than the test may run: the waiter gets the lock only if the unlock woke it.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLockStat } from '../../src/locks/index.js';
import type { LockMode } from '../../src/workers/lock_scenarios.js';
import { LabRunner, MUTEX, RWSEM, SPIN } from './helpers.js';

const SLICE_MS = 60_000;

describe('unlock wakes a sleeping waiter', () => {
  let runner: LabRunner;
  beforeAll(() => {
    // No spinning: a waiter goes straight to sleep.
    runner = LabRunner.create(2, {
      spinLimit: 0,
      sleepLockSpinLimit: 0,
      waitSliceMs: SLICE_MS,
      hungTaskTimeoutMs: 2 * SLICE_MS,
    });
  });
  afterAll(() => runner.close());

  const cases: [string, number, LockMode, LockMode, string, number][] = [
    ['mutex', MUTEX, 'write', 'write', 'test_mutex', 20],
    ['spinlock', SPIN, 'write', 'write', 'test_spinlock', 24],
    ['rwsem, a writer waiting for a writer', RWSEM, 'write', 'write', 'test_rwsem-W', 28],
    ['rwsem, a reader waiting for a writer', RWSEM, 'write', 'read', 'test_rwsem-R', 32],
    ['rwsem, a writer waiting for a reader', RWSEM, 'read', 'write', 'test_rwsem-W', 36],
  ];
  for (const [name, lock, holderMode, waiterMode, row, signal] of cases) {
    it(`${name}`, { timeout: SLICE_MS / 3 }, async () => {
      const release = signal + 1;
      const sleepsBefore = readLockStat(runner.lab.dom).find((r) => r.name === row)?.sleeps ?? 0;
      const holder = runner.run(0, {
        kind: 'hold',
        lock,
        mode: holderMode,
        signal,
        release,
        after: 'unlock',
      });
      await runner.waitData(signal, 1);
      const waiter = runner.run(1, { kind: 'lockOnce', lock, mode: waiterMode });
      // The waiter has announced what it waits for; give it time to reach its sleep.
      const word = runner.lab.locks[lock].word;
      const deadline = Date.now() + 5_000;
      while (runner.lab.dom.waitingOn(1) !== word) {
        if (Date.now() > deadline) throw new Error('the waiter never blocked');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      runner.release(release);
      expect((await holder).count).toBe(1);
      expect((await waiter).count).toBe(1);
      const sleepsAfter = readLockStat(runner.lab.dom).find((r) => r.name === row)?.sleeps ?? 0;
      expect(sleepsAfter).toBe(sleepsBefore + 1);
    });
  }
});
