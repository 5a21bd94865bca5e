// Goal: under real concurrency — worker CPUs marking and un-marking while a pressure process and
// kswapd force purges — NOVOLATILE never says "not purged" for lost data, SIGBUS happens only in
// volatile ranges, and afterwards the validator passes with no frame leaked; for vrange and for the
// vma policy. And the suite can fail: purging without re-validating the victim is caught.

import { describe, expect, it } from 'vitest';
import { Machine, type MachineConfigInput } from '../../src/index.js';
import { CpuPool } from '../../src/workers/cpus.js';
import { KERNEL_JOBS } from '../../src/workloads/kernel_jobs.js';
import { JOBS, settleWithKswapd } from './helpers.js';
import type { LazyfreeRoundsResult, VolatileRoundsResult } from './jobs.js';

const PAGE = 4096;
const MIB = 1 << 20;

interface Outcome<R> {
  results: R[];
  machine: Machine;
  validation: Error | null;
}

/**
 * Two worker CPUs run `job` (with `jobArgs`) on a 256-page region each of one process, while a hog
 * process on a third CPU keeps memory short and kswapd reclaims on a fourth; then the machine is
 * validated.
 */
async function run<R>(
  job: 'volatileRounds' | 'lazyfreeRounds',
  jobArgs: object,
  durationMs: number,
  config: MachineConfigInput = {},
): Promise<Outcome<R>> {
  const machine = Machine.create({
    memoryMiB: 16,
    cpus: 3,
    maxProcesses: 4,
    vaMiB: 64,
    debug: true,
    ...config,
  });
  const cpus = new CpuPool(machine, 4);
  try {
    const proc = machine.createProcess();
    const hog = machine.createProcess();
    const pages = 256;
    const setup = proc.mainThread();
    const regions = [setup.mmap(pages * PAGE), setup.mmap(pages * PAGE)];
    // Leaves less free memory than the two regions need together: every round can force a purge.
    const hogPages = (14 * MIB) / PAGE;
    const hogAddr = hog.mainThread().mmap(hogPages * PAGE);
    machine.detach();
    const control = new Int32Array(new SharedArrayBuffer(64));
    const kswapd = cpus.run<number>(3, KERNEL_JOBS, 'kswapd');
    const workers = regions.map((addr, cpu) =>
      cpus.run<R>(cpu, JOBS, job, {
        ...jobArgs,
        pid: proc.pid,
        addr,
        pages,
        durationMs,
        control,
        cpus: 3,
      }),
    );
    const hogRun = cpus.run(2, JOBS, 'pressure', {
      pid: hog.pid,
      addr: hogAddr,
      pages: hogPages,
      durationMs,
      control,
      cpus: 3,
    });
    const results = await settleWithKswapd(machine, kswapd, workers, [hogRun]);
    let validation: Error | null = null;
    try {
      machine.validate();
    } catch (error) {
      validation = error as Error;
    }
    return { results, machine, validation };
  } finally {
    await cpus.close();
  }
}

/** Rounds each worker CPU completes in the volatileRounds tests (VolatileRoundsArgs.minRounds). */
const MIN_ROUNDS = 12;

describe('volatile ranges under concurrency and memory pressure', () => {
  for (const policy of ['vrange', 'vma'] as const) {
    it(`${policy}: purges happen, no data is lost unreported, the machine stays valid`, async () => {
      const { results, machine, validation } = await run<VolatileRoundsResult>(
        'volatileRounds',
        { policy, minRounds: MIN_ROUNDS },
        2500,
      );
      const violations = results.flatMap((r) => r.violations);
      expect(violations).toEqual([]);
      expect(validation).toBeNull();
      const rounds = results.reduce((n, r) => n + r.rounds, 0);
      const purged = results.reduce((n, r) => n + r.purgedRounds, 0);
      // Each CPU completes minRounds unless the machine is stuck (see VolatileRoundsArgs).
      expect(rounds).toBeGreaterThanOrEqual(2 * MIN_ROUNDS);
      // Reclaim really purged volatile memory while the rounds ran.
      expect(purged).toBeGreaterThan(0);
      expect(machine.vmstat().pgvrange_discard).toBeGreaterThan(0);
    });
  }

  it('counter-test: purging without re-validating the victim is caught', async () => {
    let caught = false;
    const seen: string[] = [];
    // The race needs a NOVOLATILE to land between reclaim picking its victim and locking it.
    for (let attempt = 0; attempt < 4 && !caught; attempt++) {
      const { results, validation } = await run<VolatileRoundsResult>(
        'volatileRounds',
        { policy: 'vrange', minRounds: MIN_ROUNDS },
        2500,
        { mutations: { skipPurgeRevalidation: true } },
      );
      const violations = results.flatMap((r) => r.violations);
      seen.push(...violations.slice(0, 2), ...(validation ? [validation.message.split('\n')[1]] : []));
      caught = violations.length > 0 || validation !== null;
      if (caught) console.log(`caught on attempt ${attempt + 1}: ${seen[0]}`);
    }
    expect(caught, `what the checks saw: ${seen.join(' | ')}`).toBe(true);
  });
});

describe('MADV_FREE under concurrency and memory pressure', () => {
  it('pages freed lazily twice in a row while kswapd discards them: data or zeros, no freed frame left on the LRU', async () => {
    const { results, machine, validation } = await run<LazyfreeRoundsResult>('lazyfreeRounds', {}, 2500);
    expect(results.map((r) => r.bad)).toEqual([null, null]);
    // Reclaim really discarded lazily freed pages while the rounds ran.
    expect(machine.vmstat().pglazyfreed).toBeGreaterThan(0);
    expect(validation).toBeNull();
  });
});
