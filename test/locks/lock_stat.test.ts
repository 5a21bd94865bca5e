// Goal: lock_stat's rows count exactly what was taken, per class and mode, and its hold-time sampling
// keeps its documented promise: the first acquisition of a row on a CPU and every 2^holdSampleShift-th
// after it are timed, so a class taken even once has a hold time. One thread drives two CPU slots.

import { describe, expect, it } from 'vitest';
import { type LockStatRow, readLockStat, renderLockStat } from '../../src/locks/index.js';
import { MUTEX, makeLab, RWSEM, SPIN } from './helpers.js';

function row(rows: LockStatRow[], name: string): LockStatRow {
  const found = rows.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no lock_stat row ${name}`);
  return found;
}

describe('lock_stat', () => {
  it('counts per class and mode, trylocks included, and times the first hold of each row', () => {
    const lab = makeLab(2);
    const cpu = lab.cpu(0);
    const mutex = lab.mutex(MUTEX);
    const sem = lab.rwsem(RWSEM);
    for (let i = 0; i < 5; i++) {
      mutex.lock(cpu);
      mutex.unlock(cpu);
    }
    expect(mutex.trylock(cpu)).toBe(true);
    mutex.unlock(cpu);
    sem.downRead(cpu);
    sem.upRead(cpu);
    sem.downWrite(cpu);
    sem.upWrite(cpu);
    expect(sem.downReadTrylock(cpu)).toBe(true);
    sem.upRead(cpu);
    const rows = readLockStat(lab.dom);
    expect(row(rows, 'test_mutex').acquisitions).toBe(6);
    expect(row(rows, 'test_rwsem-R').acquisitions).toBe(2);
    expect(row(rows, 'test_rwsem-W').acquisitions).toBe(1);
    expect(row(rows, 'test_spinlock').acquisitions).toBe(0);
    // Default sampling is 1 in 256: below that, only each row's first acquisition is timed.
    for (const name of ['test_mutex', 'test_rwsem-R', 'test_rwsem-W']) {
      expect(row(rows, name).holdSamples).toBe(1);
      expect(row(rows, name).holdMaxUs).toBeGreaterThanOrEqual(row(rows, name).holdMinUs);
    }
    expect(row(rows, 'test_spinlock').holdSamples).toBe(0);
    // The first acquisition on a CPU is an acq-bounce: the lock was last taken elsewhere (nowhere).
    expect(row(rows, 'test_mutex').acqBounces).toBe(1);
  });

  it('samples the first and every 2^shift-th acquisition of a row on each CPU', () => {
    const lab = makeLab(2, { holdSampleShift: 2 });
    const spin = lab.spinlock(SPIN);
    const cpus = [lab.cpu(0), lab.cpu(1)];
    // 10 on cpu 0 (timed: 1st, 5th, 9th), 4 on cpu 1 (timed: 1st), interleaved in runs of two.
    const takes = [0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0];
    for (const c of takes) {
      spin.lock(cpus[c]);
      spin.unlock(cpus[c]);
    }
    const spinRow = row(readLockStat(lab.dom), 'test_spinlock');
    expect(spinRow.acquisitions).toBe(14);
    expect(spinRow.holdSamples).toBe(3 + 1);
    // Each switch of CPU is a bounce: 0 -> 1 -> 0 -> 1 -> 0, plus the first acquisition.
    expect(spinRow.acqBounces).toBe(5);
  });

  it('times every hold with shift 0 and none with lock_stat off', () => {
    const every = makeLab(1, { holdSampleShift: 0 });
    const off = makeLab(1, { lockStat: false });
    for (const lab of [every, off]) {
      const cpu = lab.cpu(0);
      for (let i = 0; i < 7; i++) {
        lab.mutex(MUTEX).lock(cpu);
        lab.mutex(MUTEX).unlock(cpu);
      }
    }
    const everyRow = row(readLockStat(every.dom), 'test_mutex');
    expect(everyRow.holdSamples).toBe(7);
    expect(everyRow.holdTotalUs).toBeGreaterThan(0);
    const offRow = row(readLockStat(off.dom), 'test_mutex');
    expect(offRow.acquisitions).toBe(0);
    expect(offRow.holdSamples).toBe(0);
  });

  it('renders the version 0.4 layout with one line per acquired row, and resets', () => {
    const lab = makeLab(1);
    const cpu = lab.cpu(0);
    lab.rwsem(RWSEM).downRead(cpu);
    lab.rwsem(RWSEM).upRead(cpu);
    const text = renderLockStat(lab.dom);
    const lines = text.split('\n');
    expect(lines[0]).toBe('lock_stat version 0.4');
    const header = lines.find((l) => l.includes('class name'));
    expect(header?.trim().split(/\s+/).slice(2)).toEqual([
      'con-bounces',
      'contentions',
      'waittime-min',
      'waittime-max',
      'waittime-total',
      'waittime-avg',
      'acq-bounces',
      'acquisitions',
      'holdtime-min',
      'holdtime-max',
      'holdtime-total',
      'holdtime-avg',
    ]);
    const data = lines.filter((l) => l.trimStart().startsWith('test_'));
    expect(data).toHaveLength(1);
    const fields = data[0].trim().split(/\s+/);
    expect(fields[0]).toBe('test_rwsem-R:');
    expect(fields).toHaveLength(13);
    expect(Number(fields[8])).toBe(1);
    lab.dom.resetLockStat();
    expect(readLockStat(lab.dom).every((r) => r.acquisitions === 0 && r.holdSamples === 0)).toBe(true);
  });
});
