// Goal: the real ebizzy is the model's workload — every search finds its key under every policy
// and option, threads and forked processes each report their records, the arena purges on every
// free at lg_dirty_mult -1 and reuses dirty runs at 3, and the result has the model's fields.
import { describe, expect, it } from 'vitest';
import { defaultEbizzy } from '../../src/experiment/defaults.js';
import { runRealEbizzy } from '../../src/real/ebizzy.js';
import { REAL_POLICIES, type RealRunConfig } from '../../src/real/types.js';
import { BUILT } from './built.js';

function config(
  overrides: Partial<Omit<RealRunConfig, 'ebizzy'>> & { ebizzy?: Partial<RealRunConfig['ebizzy']> },
): RealRunConfig {
  return {
    policy: 'dontneed',
    processes: 1,
    lgDirtyMult: -1,
    seed: 7,
    ...overrides,
    ebizzy: {
      ...defaultEbizzy(1),
      threads: 1,
      chunks: 4,
      chunkSize: 64 * 1024,
      seconds: 0.3,
      ...overrides.ebizzy,
    },
  };
}

describe.skipIf(!BUILT)('real ebizzy (skipped when the harness is not built)', () => {
  it.each(REAL_POLICIES)(
    'every search finds its key under %s, in 2 processes x 2 threads',
    async (policy) => {
      const result = await runRealEbizzy(config({ policy, processes: 2, ebizzy: { threads: 2 } }));
      expect(result.perThread).toHaveLength(4);
      for (const n of result.perThread) expect(n).toBeGreaterThan(0);
      expect(result.searches).toBe(result.records);
      expect(result.recordsPerSecond).toBeCloseTo(result.records / result.elapsedSeconds, 6);
      expect(result.analogue === null).toBe(policy !== 'vmaflag');
    },
  );

  it.each([
    ['-R', { randomSize: true }],
    ['-l', { byteLoop: true }],
    ['-z', { linearSearch: true }],
    ['-p', { mprotectEven: true }],
    ['-P', { holes: true }],
    ['-m', { alwaysMmap: true }],
  ])('every search finds its key with %s', async (_flag, ebizzy) => {
    const result = await runRealEbizzy(config({ policy: 'madv_free', ebizzy }));
    expect(result.records).toBeGreaterThan(0);
    expect(result.searches).toBe(result.records);
  });

  it('-T touches instead of searching', async () => {
    const result = await runRealEbizzy(config({ ebizzy: { touchOnly: true } }));
    expect(result.records).toBeGreaterThan(0);
    expect(result.searches).toBe(0);
  });

  it('purges on every free at -1 (one madvise per record) and not at all with none', async () => {
    const every = await runRealEbizzy(config({ policy: 'dontneed' }));
    // A record counts once its buffer is freed (and purged): exactly one purge per record.
    expect(every.arena.purgeCalls).toBe(every.records);
    expect(every.arena.pagesPurged).toBe(every.arena.purgeCalls * 16);
    const none = await runRealEbizzy(config({ policy: 'none' }));
    expect(none.arena.purgeCalls).toBe(0);
    expect(none.arena.runsFromDirty).toBeGreaterThan(0);
  });

  it('vmaflag unmarks (KEEPONFORK) each purged run it reuses', async () => {
    const result = await runRealEbizzy(config({ policy: 'vmaflag' }));
    // The thread's first buffer comes from a fresh chunk; every later one reuses the purged run.
    expect(result.arena.unmarkCalls).toBeGreaterThan(0);
    expect(result.arena.purgeCalls - result.arena.unmarkCalls).toBe(1);
  });

  it('reports /proc/vmstat deltas and the host kernel', async () => {
    const result = await runRealEbizzy(config({ policy: 'dontneed' }));
    expect(result.vmstat.pgfault).toBeGreaterThan(0);
    expect(result.host.kernel).not.toBe('');
    expect(result.lockStat).toEqual([]);
  });
});
