// Goal: the ebizzy workload does what ebizzy does on every purge policy — records counted exactly,
// the allocator's purges reaching the kernel as the policy says — with LTP's random-number bug fixed,
// and the machine valid afterwards.

import { describe, expect, it } from 'vitest';
import { defaultEbizzy } from '../../src/experiment/defaults.js';
import { runEbizzy } from '../../src/experiment/runner.js';
import type { PurgePolicy, RunConfig } from '../../src/experiment/types.js';
import { EbizzyRandom } from '../../src/workloads/ebizzy.js';

function config(policy: PurgePolicy, extra: Partial<RunConfig> = {}): RunConfig {
  return {
    ebizzy: { ...defaultEbizzy(1), threads: 1, seconds: 0.6, chunks: 4, chunkSize: 64 * 1024 },
    policy,
    processes: 1,
    cpus: 1,
    memoryMiB: 32,
    pressureMiB: 0,
    lgDirtyMult: -1,
    seed: 7,
    vrangeVariant: 'lab',
    ...extra,
  };
}

describe('ebizzy', () => {
  it("fixes LTP's generator: seeded, varied, reproducible", () => {
    const a = new EbizzyRandom(42);
    const b = new EbizzyRandom(42);
    const draws = Array.from({ length: 100 }, () => a.next(10));
    expect(Array.from({ length: 100 }, () => b.next(10))).toEqual(draws);
    expect(new Set(draws).size).toBeGreaterThan(5);
    // LTP's rand_num() (state *= 1103515245 + 12345) stuck at 0 from seed 0; this one does not:
    // seeded 0 it draws varied chunks and keys, and different seeds draw different sequences.
    const zero = new EbizzyRandom(0);
    const fromZero = Array.from({ length: 100 }, () => zero.next(10));
    expect(new Set(fromZero).size).toBeGreaterThan(5);
    expect(fromZero.some((x) => x !== 0)).toBe(true);
    const other = new EbizzyRandom(43);
    expect(Array.from({ length: 100 }, () => other.next(10))).not.toEqual(draws);
  });

  const expectations: [PurgePolicy, string][] = [
    ['dontneed', 'madvise_dontneed'],
    ['madv_free', 'pglazyfree'],
    ['vrange', 'vrange_volatile'],
    ['vma', 'mvolatile'],
  ];
  for (const [policy, counter] of expectations) {
    it(`${policy}: records counted per thread, purges reach the kernel as ${counter}`, async () => {
      const result = await runEbizzy(config(policy, { processes: 2 }));
      expect(result.records).toBeGreaterThan(0);
      expect(result.perThread).toHaveLength(2);
      expect(result.perThread.reduce((a, b) => a + b, 0)).toBe(result.records);
      expect(result.recordsPerSecond).toBeCloseTo(result.records / result.elapsedSeconds, 6);
      expect(result.vmstat[counter as keyof typeof result.vmstat]).toBeGreaterThan(0);
    });
  }

  it("vrange under v7's rules: its calls take no mmap_sem, the machine validates after the run", async () => {
    const mmapReads = (r: Awaited<ReturnType<typeof runEbizzy>>) =>
      r.lockStat.find((row) => row.name === 'mmap_sem-R')?.acquisitions ?? 0;
    const lab = await runEbizzy(config('vrange'));
    const v7 = await runEbizzy(config('vrange', { vrangeVariant: 'v7' }));
    for (const r of [lab, v7]) expect(r.vmstat.vrange_volatile).toBeGreaterThan(0);
    const calls = (r: typeof lab) => r.vmstat.vrange_volatile + r.vmstat.vrange_novolatile;
    expect(mmapReads(lab)).toBeGreaterThanOrEqual(calls(lab));
    expect(mmapReads(v7)).toBeLessThan(calls(v7));
    expect(v7.config.vrangeVariant).toBe('v7');
  });

  it('none: no purge syscalls at all', async () => {
    const result = await runEbizzy(config('none'));
    expect(result.records).toBeGreaterThan(0);
    expect(
      result.vmstat.madvise_dontneed +
        result.vmstat.pglazyfree +
        result.vmstat.vrange_volatile +
        result.vmstat.mvolatile,
    ).toBe(0);
  });

  it('under memory pressure: kswapd is kept busy, ebizzy keeps going, nothing runs out of memory', async () => {
    const result = await runEbizzy(
      config('vrange', {
        memoryMiB: 16,
        pressureMiB: 15,
        ebizzy: { ...defaultEbizzy(1), threads: 1, seconds: 1, chunks: 4, chunkSize: 512 * 1024 },
      }),
    );
    expect(result.records).toBeGreaterThan(0);
    expect(result.vmstat.kswapd_wakeup).toBeGreaterThan(0);
    expect(result.vmstat.oom_kill).toBe(0);
  });

  it('--fork: the processes are forked from the parent that filled the chunks and share them', async () => {
    // 3 processes x 4 chunks of 64 KiB: 192 chunk pages each when every process fills its own.
    const used = (r: { vmstat: { nr_total_pages: number; nr_free_pages: number; nr_pcp_pages: number } }) =>
      r.vmstat.nr_total_pages - r.vmstat.nr_free_pages - r.vmstat.nr_pcp_pages;
    const own = await runEbizzy(config('vrange', { processes: 3 }));
    const forked = await runEbizzy(config('vrange', { processes: 3, fork: true }));
    expect(forked.perThread).toHaveLength(3);
    for (const n of forked.perThread) expect(n).toBeGreaterThan(0);
    // Every record copies and searches a shared chunk: a wrong byte would have stopped the run.
    expect(forked.vmstat.oom_kill).toBe(0);
    // One set of chunks for all (the parent's, shared read-only), instead of one per process.
    console.log(`ebizzy 3 processes: ${used(own)} pages in use, ${used(forked)} with --fork`);
    expect(used(own) - used(forked)).toBeGreaterThanOrEqual(2 * 64 - 16);
  });

  it('rejects a bad configuration before starting anything', async () => {
    await expect(runEbizzy(config('vrange', { pressureMiB: 32 }))).rejects.toThrow(/pressure/);
    await expect(
      runEbizzy(config('vrange', { ebizzy: { ...defaultEbizzy(1), chunkSize: 100 } })),
    ).rejects.toThrow(/multiple of the 8-byte record/);
  });
});
