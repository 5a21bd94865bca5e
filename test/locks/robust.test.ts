// Goal: a lock wait never hangs silently — a holder that never releases produces a hung-task report
// naming it, and a CPU that dies holding a lock (throws, or its thread exits) is reported as
// owner-died to its waiters.

import { afterEach, describe, expect, it } from 'vitest';
import { CPU_DEAD, type LockOptions } from '../../src/locks/index.js';
import type { ScenarioResult } from '../../src/workers/lock_scenarios.js';
import { LabRunner, MUTEX, RWSEM, SPIN } from './helpers.js';

const SIGNAL = 20;
const RELEASE = 21;

let runner: LabRunner | undefined;
afterEach(async () => {
  await runner?.close();
  runner = undefined;
});

/**
 * A fresh two-CPU runner whose cpu 0 holds `lock` for writing (once it does, this resolves) until
 * data[RELEASE] is set, and then leaves as `after` says.
 */
async function startHolder(
  options: Partial<LockOptions>,
  lock: number,
  after: 'unlock' | 'throw' | 'exit',
): Promise<{ r: LabRunner; holder: Promise<ScenarioResult> }> {
  runner = LabRunner.create(2, options);
  const r = runner;
  const holder = r.run(0, { kind: 'hold', lock, mode: 'write', signal: SIGNAL, release: RELEASE, after });
  await r.waitData(SIGNAL, 1);
  return { r, holder };
}

/** Waits until the CPU is blocked in a lock wait. */
async function untilWaiting(r: LabRunner, cpu: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (r.lab.dom.waitingOn(cpu) < 0) {
    if (Date.now() > deadline) throw new Error(`cpu ${cpu} never waited`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('hung-task detector', () => {
  for (const [name, lock] of [
    ['mutex', MUTEX],
    ['spinlock', SPIN],
    ['rwsem', RWSEM],
  ] as const) {
    it(`${name}: a holder that never releases is named in the report`, async () => {
      const { r, holder } = await startHolder({ hungTaskTimeoutMs: 300, waitSliceMs: 20 }, lock, 'unlock');
      const waiter = r.run(1, { kind: 'lockOnce', lock, mode: 'write' });
      const error = await waiter.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^INFO: task on cpu 1/);
      expect((error as Error).message).toMatch(/blocked for more than \d+ ms/);
      expect((error as Error).message).toMatch(/held by cpu 0/);
      r.release(RELEASE);
      await holder;
    });
  }
});

describe('owner died', () => {
  for (const after of ['throw', 'exit'] as const) {
    for (const [name, lock] of [
      ['mutex', MUTEX],
      ['spinlock', SPIN],
      ['rwsem', RWSEM],
    ] as const) {
      it(`${name}: a CPU that ${after === 'throw' ? 'throws' : 'exits'} holding the lock is reported to its waiter`, async () => {
        const { r, holder } = await startHolder({ hungTaskTimeoutMs: 20_000, waitSliceMs: 20 }, lock, after);
        // The waiter's rejection is taken at once: it may come before the holder's is awaited.
        const waiter = r.run(1, { kind: 'lockOnce', lock, mode: 'write' }).then(
          () => null,
          (e: unknown) => e,
        );
        await untilWaiting(r, 1);
        r.release(RELEASE);
        await expect(holder).rejects.toThrow();
        const error = await waiter;
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/^owner died: cpu 0 died holding/);
        expect(r.lab.dom.cpuState(0)).toBe(CPU_DEAD);
      });
    }
  }
});
