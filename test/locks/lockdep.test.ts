// Goal: lockdep reports an ABBA order taken by two CPUs at different times (no deadlock needed),
// with both call sites, and stays silent for a consistent order; it checks the kernel's declared
// lock order too.

import { afterEach, describe, expect, it } from 'vitest';
import { KERNEL_LOCK_CLASSES, LockLab, lockdepReports } from '../../src/locks/index.js';
import { LabRunner, LOCK_A, LOCK_B } from './helpers.js';

let runner: LabRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

describe('lockdep', () => {
  it('reports A->B on one CPU then B->A on another, with both call sites', async () => {
    runner = LabRunner.create(2, { lockdep: true });
    await runner.run(0, { kind: 'nested', outer: LOCK_A, inner: LOCK_B });
    expect(lockdepReports(runner.lab.dom)).toEqual([]);
    await runner.run(1, { kind: 'nested', outer: LOCK_B, inner: LOCK_A });
    const reports = lockdepReports(runner.lab.dom);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/possible circular locking dependency/);
    expect(reports[0]).toMatch(/cpu 1 is trying to acquire class_a .* while holding class_b/);
    expect(reports[0]).toMatch(/first class_a -> class_b at:/);
    // Both call sites are the scenario code that took the locks.
    expect(reports[0].match(/lock_scenarios/g)?.length).toBeGreaterThanOrEqual(2);
    // Reported once: the same inversion again adds nothing.
    await runner.run(0, { kind: 'nested', outer: LOCK_B, inner: LOCK_A });
    expect(lockdepReports(runner.lab.dom)).toHaveLength(1);
  });

  it('stays silent when every CPU takes the locks in the same order', async () => {
    runner = LabRunner.create(2, { lockdep: true });
    await Promise.all(
      [0, 1].map((cpu) => runner!.run(cpu, { kind: 'nested', outer: LOCK_A, inner: LOCK_B })),
    );
    await runner.run(0, { kind: 'nested', outer: LOCK_A, inner: LOCK_B });
    expect(lockdepReports(runner.lab.dom)).toEqual([]);
  });

  it('checks the declared kernel order and recursion, but not trylocks', () => {
    const names = KERNEL_LOCK_CLASSES.map((c) => c.name);
    const lab = LockLab.create({
      cpus: 1,
      classes: [...KERNEL_LOCK_CLASSES],
      locks: [...names, 'ptl'],
      dataWords: 1,
      options: { lockdep: true },
    });
    const cpu = lab.cpu(0);
    const [mmapSem, vrangeLock, , ptl, , , , zone, ptl2] = names.map((_, i) => i).concat(names.length);
    // In order: silent.
    lab.rwsem(mmapSem).downRead(cpu);
    lab.mutex(vrangeLock).lock(cpu);
    lab.spinlock(ptl).lock(cpu);
    lab.spinlock(zone).lock(cpu);
    lab.spinlock(zone).unlock(cpu);
    lab.spinlock(ptl).unlock(cpu);
    lab.mutex(vrangeLock).unlock(cpu);
    expect(lockdepReports(lab.dom)).toEqual([]);
    // A trylock against the order is allowed (reclaim's mmap_sem trylock).
    lab.spinlock(zone).lock(cpu);
    expect(lab.mutex(vrangeLock).trylock(cpu)).toBe(true);
    lab.mutex(vrangeLock).unlock(cpu);
    expect(lockdepReports(lab.dom)).toEqual([]);
    // A blocking acquire against it is reported.
    lab.mutex(vrangeLock).lock(cpu);
    lab.mutex(vrangeLock).unlock(cpu);
    lab.spinlock(zone).unlock(cpu);
    expect(lockdepReports(lab.dom)).toHaveLength(1);
    expect(lockdepReports(lab.dom)[0]).toMatch(
      /lock order violation: cpu 0 takes vrange_lock \(rank 1\) while holding zone_lock/,
    );
    // Two locks of one class nested: recursive locking.
    lab.spinlock(ptl).lock(cpu);
    lab.spinlock(ptl2).lock(cpu);
    lab.spinlock(ptl2).unlock(cpu);
    lab.spinlock(ptl).unlock(cpu);
    lab.rwsem(mmapSem).upRead(cpu);
    expect(lockdepReports(lab.dom)[1]).toMatch(/possible recursive locking detected: cpu 0 takes ptl/);
  });
});
