// Goal: every lock kind gives mutual exclusion across real worker threads — N CPUs doing plain,
// non-atomic increments of one shared word under the lock lose no update — and the same workload
// without a lock does lose updates (the check can fail).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLockStat } from '../../src/locks/index.js';
import type { LockMode } from '../../src/workers/lock_scenarios.js';
import { LabRunner, MUTEX, RWSEM, SPIN } from './helpers.js';

const CPUS = 4;
const ITERATIONS = 40_000;

describe('mutual exclusion under contention', () => {
  let runner: LabRunner;
  beforeAll(() => {
    runner = LabRunner.create(CPUS);
  });
  afterAll(() => runner.close());

  const cases: [string, number, LockMode | 'trylock', number][] = [
    ['mutex', MUTEX, 'write', 0],
    ['spinlock', SPIN, 'write', 4],
    ['rwsem (write)', RWSEM, 'write', 8],
    ['mutex trylock', MUTEX, 'trylock', 12],
  ];
  for (const [name, lock, mode, counter] of cases) {
    it(`${name}: ${CPUS} CPUs x ${ITERATIONS} increments are exact`, async () => {
      const results = await Promise.all(
        Array.from({ length: CPUS }, (_, cpu) =>
          runner.run(cpu, { kind: 'increment', lock, mode, iterations: ITERATIONS, counter }),
        ),
      );
      expect(results.map((r) => r.count)).toEqual(Array(CPUS).fill(ITERATIONS));
      expect(runner.lab.data[counter]).toBe(CPUS * ITERATIONS);
    });
  }

  it('lock_stat adds up: acquisitions = lock calls, contentions <= acquisitions', () => {
    const rows = new Map(readLockStat(runner.lab.dom).map((r) => [r.name, r]));
    const mutex = rows.get('test_mutex')!;
    // Two cases above took the mutex: lock/unlock and trylock.
    expect(mutex.acquisitions).toBe(2 * CPUS * ITERATIONS);
    expect(rows.get('test_spinlock')!.acquisitions).toBe(CPUS * ITERATIONS);
    expect(rows.get('test_rwsem-W')!.acquisitions).toBe(CPUS * ITERATIONS);
    expect(rows.get('test_rwsem-R')!.acquisitions).toBe(0);
    for (const row of rows.values()) {
      expect(row.contentions).toBeLessThanOrEqual(row.acquisitions);
      expect(row.conBounces).toBeLessThanOrEqual(row.contentions);
      expect(row.acqBounces).toBeLessThanOrEqual(row.acquisitions);
      expect(row.sleeps).toBeLessThanOrEqual(row.contentions);
      if (row.contentions > 0) expect(row.waitMaxUs).toBeGreaterThanOrEqual(row.waitMinUs);
      if (row.holdSamples > 0) expect(row.holdMaxUs).toBeGreaterThanOrEqual(row.holdMinUs);
    }
    // 4 CPUs hammering one lock on real threads contend.
    expect(mutex.contentions + rows.get('test_spinlock')!.contentions).toBeGreaterThan(0);
  });

  it('control: without a lock the same increments lose updates', async () => {
    const counter = 16;
    await Promise.all(
      Array.from({ length: CPUS }, (_, cpu) =>
        runner.run(cpu, { kind: 'increment', lock: MUTEX, mode: 'none', iterations: 2_000_000, counter }),
      ),
    );
    expect(runner.lab.data[counter]).toBeLessThan(CPUS * 2_000_000);
  });
});
