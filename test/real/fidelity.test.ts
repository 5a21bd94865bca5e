// The fidelity verdicts: ratios within 25%, scaling in the same direction, records/s within 2x;
// policies without a real counterpart are left out.

import { describe, expect, it } from 'vitest';
import { fidelityRows, summarise } from '../../src/real/fidelity.js';
import type { PairedRow, Spread } from '../../src/real/paired.js';

const s = (median: number): Spread => ({ median, min: median, max: median, samples: [median] });

function paired(over: Partial<PairedRow>): PairedRow {
  return {
    policy: 'madv_free',
    realPolicy: 'madv_free',
    threads: 2,
    model: s(1000),
    real: s(1500),
    modelVsDontneed: s(3),
    realVsDontneed: s(3.6),
    modelScaling: s(1.1),
    realScaling: s(0.9),
    modelOverReal: s(1000 / 1500),
    ...over,
  };
}

describe('fidelity rows', () => {
  it('judges each metric against its target', () => {
    const rows = fidelityRows(65536, [paired({})]);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by['records/s']).toMatchObject({ ok: true, model: 1000, real: 1500 });
    expect(by['vs dontneed'].ok).toBe(true); // -17%
    expect(by.scaling).toMatchObject({ ok: false, why: 'opposite direction' }); // +22% but up against down
    expect(summarise(rows)).toMatchObject({ checks: 3, ok: 2 });
  });

  it('misses a ratio off by more than 25% and records/s outside 2x', () => {
    const rows = fidelityRows(65536, [
      paired({ model: s(700), modelVsDontneed: s(2.6), modelScaling: s(0.5) }),
    ]);
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    expect(by['records/s']).toMatchObject({ ok: false, why: 'outside 2x' });
    expect(by['vs dontneed'].why).toMatch(/more than 25%/);
    expect(by.scaling).toMatchObject({ ok: false, why: 'off by more than 25%' }); // 0.5 vs 0.9: -44%, same direction
  });

  it('leaves out dontneed against itself, the fewest threads scaling and vrange', () => {
    const rows = fidelityRows(65536, [
      paired({
        policy: 'dontneed',
        realPolicy: 'dontneed',
        threads: 1,
        modelScaling: null,
        realScaling: null,
      }),
      paired({ policy: 'vrange', realPolicy: null, real: null }),
    ]);
    expect(rows.map((r) => r.metric)).toEqual(['records/s']);
  });
});
