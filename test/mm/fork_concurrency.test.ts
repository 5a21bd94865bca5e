// Goal: fork's races under real concurrency — a fork while reclaim purges the parent's volatile
// range, COW breaks while the shared pages are being purged, one process un-marking while the
// other's range is purged — never lose data unreported nor show one process the other's bytes, and
// the machine (map counts, rmap, PTEs) validates afterwards, with no lockdep report.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/index.js';
import { CpuPool } from '../../src/workers/cpus.js';
import { KERNEL_JOBS } from '../../src/workloads/kernel_jobs.js';
import { JOBS, settleWithKswapd } from './helpers.js';
import type { ForkRoundsResult } from './jobs.js';

const PAGE = 4096;
const MIB = 1 << 20;
const MIN_ROUNDS = 8;

describe('fork under concurrency and memory pressure', () => {
  it('two parents fork and race their children against reclaim: nothing lost unreported, machine valid', async () => {
    const machine = Machine.create({ memoryMiB: 16, cpus: 3, maxProcesses: 6, vaMiB: 64, debug: true });
    const cpus = new CpuPool(machine, 4);
    try {
      const parents = [machine.createProcess(), machine.createProcess()];
      const hog = machine.createProcess();
      const pages = 256;
      const regions = parents.map((p) => p.mainThread().mmap(pages * PAGE));
      // Leaves less free memory than the regions and their copies need: rounds force purges.
      const hogPages = (14 * MIB) / PAGE;
      const hogAddr = hog.mainThread().mmap(hogPages * PAGE);
      machine.detach();
      const control = new Int32Array(new SharedArrayBuffer(64));
      const durationMs = 2500;
      const kswapd = cpus.run<number>(3, KERNEL_JOBS, 'kswapd');
      const workers = parents.map((p, cpu) =>
        cpus.run<ForkRoundsResult>(cpu, JOBS, 'forkRounds', {
          pid: p.pid,
          addr: regions[cpu],
          pages,
          durationMs,
          minRounds: MIN_ROUNDS,
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
      const stat = machine.vmstat();
      console.log(
        `fork rounds: ${results.map((r) => `${r.rounds} rounds (${r.parentPurged} parent / ${r.childPurged} child purged, ${r.oom} oom)`).join('; ')}; ` +
          `fork ${stat.fork}, cow_fault ${stat.cow_fault}, shared discard ${stat.pgvrange_shared_discard}, shared skip ${stat.pgvrange_shared_skip}`,
      );
      expect(results.flatMap((r) => r.violations)).toEqual([]);
      machine.validate();
      expect(machine.lockdepReports()).toEqual([]);
      for (const r of results) expect(r.rounds).toBeGreaterThanOrEqual(MIN_ROUNDS);
      // The races happened: forks and COW breaks while reclaim met shared volatile pages.
      expect(stat.fork).toBeGreaterThanOrEqual(2 * MIN_ROUNDS);
      expect(stat.cow_fault).toBeGreaterThan(0);
      expect(stat.pgvrange_shared_discard + stat.pgvrange_shared_skip).toBeGreaterThan(0);
      expect(stat.pgvrange_discard).toBeGreaterThan(0);
    } finally {
      await cpus.close();
    }
  });
});
