// Goal: compare/sweep --real interleave the model and the real kernel (model, real, model, real...)
// for every repetition, never run vrange on the real kernel, run vma's analogue vmaflag, and
// summarise records/s, ratio to dontneed, scaling and model/real per repetition as median (min-max).
import { describe, expect, it } from 'vitest';
import { renderAscii } from '../../src/experiment/charts.js';
import { defaultRunConfig } from '../../src/experiment/defaults.js';
import type { RunConfig, RunResult } from '../../src/experiment/types.js';
import { type PairedPoint, pairedRows, runPaired, spread } from '../../src/real/paired.js';
import type { RealRunConfig, RealRunResult } from '../../src/real/types.js';

/** Fake runs whose records/s encode policy, threads and repetition, so ratios are known. */
const RATE: Record<string, number> = { dontneed: 100, madv_free: 300, vma: 200, vmaflag: 400, vrange: 500 };

function configOf(point: PairedPoint): RunConfig {
  const base = defaultRunConfig();
  return { ...base, policy: point.policy, ebizzy: { ...base.ebizzy, threads: point.threads, seconds: 1 } };
}

describe('model and real kernel, paired', () => {
  it('interleaves model and real per repetition, skips vrange on the real kernel, maps vma to vmaflag', async () => {
    const order: string[] = [];
    const reps: Record<string, number> = {};
    const next = (key: string) => {
      reps[key] = (reps[key] ?? 0) + 1;
      return reps[key];
    };
    const points: PairedPoint[] = [
      { policy: 'dontneed', threads: 1 },
      { policy: 'vma', threads: 1 },
      { policy: 'vrange', threads: 1 },
      { policy: 'dontneed', threads: 2 },
      { policy: 'vma', threads: 2 },
      { policy: 'vrange', threads: 2 },
    ];
    const runs = await runPaired(points, configOf, 3, {
      runModel: async (config: RunConfig) => {
        order.push(`model ${config.policy}`);
        const rep = next(`m${config.policy}${config.ebizzy.threads}`);
        return { config, recordsPerSecond: RATE[config.policy] * config.ebizzy.threads * rep } as RunResult;
      },
      runReal: async (config: RealRunConfig) => {
        order.push(`real ${config.policy}`);
        const rep = next(`r${config.policy}${config.ebizzy.threads}`);
        return {
          config,
          recordsPerSecond: 2 * RATE[config.policy] * config.ebizzy.threads * rep,
        } as RealRunResult;
      },
    });
    const oneRep = ['model dontneed', 'real dontneed', 'model vma', 'real vmaflag', 'model vrange'];
    expect(order).toEqual(Array(6).fill(oneRep).flat());
    const rows = pairedRows(runs);
    const vma2 = rows.find((r) => r.policy === 'vma' && r.threads === 2)!;
    expect(vma2.realPolicy).toBe('vmaflag');
    expect(vma2.model).toMatchObject({ median: 800, min: 400, max: 1200 });
    expect(vma2.modelVsDontneed?.median).toBeCloseTo(2);
    expect(vma2.realVsDontneed?.median).toBeCloseTo(4);
    expect(vma2.modelScaling?.median).toBeCloseTo(2);
    expect(vma2.modelOverReal?.median).toBeCloseTo(200 / 800);
    const vrange = rows.find((r) => r.policy === 'vrange' && r.threads === 1)!;
    expect(vrange.real).toBeNull();
    expect(vrange.modelOverReal).toBeNull();
    expect(vrange.modelScaling).toBeNull();
  });

  it('spread: median of odd and even counts, min and max', () => {
    expect(spread([3, 1, 2])).toMatchObject({ median: 2, min: 1, max: 3 });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
    expect(() => spread([])).toThrow();
  });

  it("the terminal chart draws the real kernel's lines beside the model's", () => {
    const model = [1, 2].map((threads) => ({
      ...({} as RunResult),
      config: { ...configOf({ policy: 'dontneed', threads }), pressureMiB: 0 },
      recordsPerSecond: 1000 * threads,
    }));
    const real = [1, 2].map(
      (threads) =>
        ({
          config: { ...configOf({ policy: 'dontneed', threads }), policy: 'vmaflag' },
          recordsPerSecond: 3000 * threads,
        }) as unknown as RealRunResult,
    );
    const chart = renderAscii(model, false, real);
    expect(chart).toMatch(/dontneed {2}vmaflag \(analogue of vma\), real kernel/);
    expect(chart).toMatch(/6,000/);
  });
});
