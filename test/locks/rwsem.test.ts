// Goal: the rwsem (mmap_sem model) lets readers share, excludes writers, is fair both ways, and
// its trylock and downgrade_write behave like the kernel's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabRunner, makeLab, RWSEM } from './helpers.js';

describe('rwsem on one CPU', () => {
  it('trylock semantics', () => {
    const lab = makeLab(2);
    const a = lab.cpu(0);
    const b = lab.cpu(1);
    const sem = lab.rwsem(RWSEM);
    expect(sem.downReadTrylock(a)).toBe(true);
    expect(sem.downReadTrylock(b)).toBe(true); // readers share
    expect(sem.readers()).toBe(2);
    expect(sem.downWriteTrylock(b)).toBe(false); // readers exclude a writer
    sem.upRead(a);
    sem.upRead(b);
    expect(sem.downWriteTrylock(a)).toBe(true);
    expect(sem.downReadTrylock(b)).toBe(false); // a writer excludes readers
    expect(sem.downWriteTrylock(b)).toBe(false); // and writers
    sem.assertWriteLocked(a);
    expect(() => sem.assertWriteLocked(b)).toThrow(/not write-locked by cpu 1/);
    sem.upWrite(a);
    expect(sem.count()).toBe(0);
  });

  it('downgrade_write turns the writer into a reader and admits other readers, not writers', () => {
    const lab = makeLab(2);
    const a = lab.cpu(0);
    const b = lab.cpu(1);
    const sem = lab.rwsem(RWSEM);
    sem.downWrite(a);
    sem.downgradeWrite(a);
    expect(sem.isWriteLocked()).toBe(false);
    expect(sem.readers()).toBe(1);
    expect(() => sem.assertWriteLocked(a)).toThrow();
    sem.assertLocked(a);
    expect(sem.downReadTrylock(b)).toBe(true);
    expect(sem.downWriteTrylock(b)).toBe(false);
    sem.upRead(b);
    sem.upRead(a);
    expect(sem.count()).toBe(0);
  });

  it('releasing a lock the CPU does not hold is a broken invariant', () => {
    const lab = makeLab(2);
    const a = lab.cpu(0);
    const b = lab.cpu(1);
    const sem = lab.rwsem(RWSEM);
    sem.downWrite(a);
    expect(() => sem.upWrite(b)).toThrow();
    expect(() => sem.upRead(b)).toThrow(/does not hold/);
    sem.upWrite(a);
  });
});

describe('rwsem across worker threads', () => {
  let runner: LabRunner;
  beforeAll(() => {
    runner = LabRunner.create(4);
  });
  afterAll(() => runner.close());

  it('two readers are inside at the same time', async () => {
    const counter = 0;
    const results = await Promise.all(
      [0, 1].map((cpu) =>
        runner.run(cpu, { kind: 'readersMeet', lock: RWSEM, arrivals: 2, counter, timeoutMs: 10_000 }),
      ),
    );
    expect(results.map((r) => r.count)).toEqual([1, 1]);
  });

  it('a writer excludes readers and writers', async () => {
    const words = { writerInside: 4, readersInside: 5, violations: 6, maxReaders: 7 };
    await Promise.all(
      [0, 1, 2, 3].map((cpu) =>
        runner.run(cpu, { kind: 'rwExclusion', lock: RWSEM, iterations: 20_000, writeEvery: 5, words }),
      ),
    );
    expect(runner.lab.data[words.violations]).toBe(0);
    // Readers really shared the lock while this ran (else the check above proves little).
    expect(runner.lab.data[words.maxReaders]).toBeGreaterThan(1);
  });

  it('a writer queued behind a continuous reader stream gets the lock within a bound', async () => {
    const [active, stop] = [10, 11];
    const readers = [0, 1, 2].map((cpu) =>
      runner.run(cpu, { kind: 'stream', lock: RWSEM, mode: 'read', stop, active }),
    );
    const writer = await runner.run(3, {
      kind: 'timedAcquire',
      lock: RWSEM,
      mode: 'write',
      active,
      need: 3,
      stop,
    });
    const rounds = await Promise.all(readers);
    expect(writer.value).toBeLessThan(2_000);
    expect(rounds.every((r) => r.count > 0)).toBe(true);
  });

  it('a reader queued behind a continuous writer stream gets the lock within a bound', async () => {
    const [active, stop] = [12, 13];
    const writers = [0, 1, 2].map((cpu) =>
      runner.run(cpu, { kind: 'stream', lock: RWSEM, mode: 'write', stop, active }),
    );
    const reader = await runner.run(3, {
      kind: 'timedAcquire',
      lock: RWSEM,
      mode: 'read',
      active,
      need: 3,
      stop,
    });
    await Promise.all(writers);
    expect(reader.value).toBeLessThan(2_000);
  });

  it('downgrade lets no writer in between', async () => {
    const counter = 14;
    const results = await Promise.all(
      [0, 1, 2, 3].map((cpu) => runner.run(cpu, { kind: 'downgrade', lock: RWSEM, counter })),
    );
    expect(results.map((r) => r.value)).toEqual([1, 1, 1, 1]);
  });
});
