// Goal: the held-lock stack (the robust list, and what lockdep and the asserts read) stays exact on
// the paths the lock fast paths keep out of line: a release that is not the innermost lock
// (hand-over-hand), a release of a lock the CPU does not hold, a lock taken past the stack's depth,
// and an unlock or assert by a CPU that is not the owner. One thread drives the CPU slots.

import { describe, expect, it } from 'vitest';
import { MAX_HELD_LOCKS } from '../../src/layout/layout.js';
import { type LockCpu, readLockStat } from '../../src/locks/index.js';
import { LOCK_A, LOCK_B, MUTEX, makeLab, RWSEM, SPIN } from './helpers.js';

function held(cpu: LockCpu): number[] {
  const locks: number[] = [];
  for (let d = 0; d < cpu.depth; d++) locks.push(cpu.heldLock(d));
  return locks;
}

describe('held-lock stack', () => {
  it('a hand-over-hand release closes the gap and keeps the other holds, their modes and timings', () => {
    const lab = makeLab(1, { holdSampleShift: 0 });
    const cpu = lab.cpu(0);
    const a = lab.mutex(LOCK_A);
    const sem = lab.rwsem(RWSEM);
    const b = lab.mutex(LOCK_B);
    a.lock(cpu);
    sem.downRead(cpu);
    b.lock(cpu);
    expect(held(cpu)).toEqual([a.word, sem.word, b.word]);
    a.unlock(cpu);
    expect(held(cpu)).toEqual([sem.word, b.word]);
    expect(lab.dom.describeHeld(0)).toBe(`test_rwsem-R @${sem.word}, class_b-W @${b.word}`);
    expect(cpu.heldMode(sem.word)).toBe(1);
    sem.upRead(cpu);
    expect(held(cpu)).toEqual([b.word]);
    b.unlock(cpu);
    expect(cpu.depth).toBe(0);
    expect(lab.dom.describeHeld(0)).toBe('no locks');
    // Every hold was timed (shift 0) and charged to its own row, whatever order it ended in.
    const rows = readLockStat(lab.dom);
    for (const name of ['class_a', 'test_rwsem-R', 'class_b']) {
      const r = rows.find((x) => x.name === name);
      expect(r?.acquisitions, name).toBe(1);
      expect(r?.holdSamples, name).toBe(1);
    }
    // The write row of the rwsem was never taken.
    expect(rows.find((x) => x.name === 'test_rwsem-W')?.acquisitions).toBe(0);
  });

  it('releasing a lock the CPU does not hold throws and leaves its stack as it was', () => {
    const lab = makeLab(2);
    const cpu = lab.cpu(0);
    const other = lab.cpu(1);
    const mutex = lab.mutex(MUTEX);
    const spin = lab.spinlock(SPIN);
    const sem = lab.rwsem(RWSEM);
    mutex.lock(cpu);
    expect(() => sem.upRead(cpu)).toThrow(`cpu 0: releases test_rwsem @${sem.word}, which it does not hold`);
    expect(held(cpu)).toEqual([mutex.word]);
    expect(() => mutex.unlock(other)).toThrow(/does not hold/);
    expect(mutex.owner()).toBe(0);
    spin.lock(cpu);
    expect(() => spin.unlock(other)).toThrow(`cpu 1 unlocks test_spinlock @${spin.word} owned by 0`);
    expect(() => spin.assertHeld(other)).toThrow(`test_spinlock @${spin.word} is not held by cpu 1`);
    spin.unlock(cpu);
    mutex.unlock(cpu);
    sem.downWrite(cpu);
    expect(() => sem.upWrite(other)).toThrow(`test_rwsem @${sem.word} is not write-locked by cpu 1`);
    expect(() => sem.assertWriteLocked(other)).toThrow(/is not write-locked by cpu 1/);
    sem.upWrite(cpu);
    expect(sem.count()).toBe(0);
    expect(cpu.depth).toBe(0);
  });

  it(`taking a lock past ${MAX_HELD_LOCKS} held locks is a broken invariant that leaves the stack whole`, () => {
    const lab = makeLab(1);
    const cpu = lab.cpu(0);
    const sem = lab.rwsem(RWSEM);
    for (let i = 0; i < MAX_HELD_LOCKS; i++) expect(sem.downReadTrylock(cpu)).toBe(true);
    expect(() => lab.mutex(MUTEX).trylock(cpu)).toThrow('cpu 0: held-lock stack overflow');
    expect(cpu.depth).toBe(MAX_HELD_LOCKS);
    expect(held(cpu)).toEqual(new Array(MAX_HELD_LOCKS).fill(sem.word));
    for (let i = 0; i < MAX_HELD_LOCKS; i++) sem.upRead(cpu);
    expect(sem.count()).toBe(0);
    expect(cpu.depth).toBe(0);
  });
});
