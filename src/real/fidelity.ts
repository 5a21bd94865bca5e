// The fidelity report: the model (with a hardware profile) held to the real kernel, from one
// interleaved run (src/real/paired.ts). What must match are ratios measured in the same run: each
// policy's records/s over dontneed's, and each thread count's over one thread's; the absolute
// records/s are held to a looser bound. Targets (issue 14): ratios within 25%, the same direction
// of change from the fewest threads to more, absolute within 2x.

import type { PurgePolicy } from '../experiment/types.js';
import type { PairedRow, Spread } from './paired.js';
import type { RealPolicy } from './types.js';

export const RATIO_TOLERANCE = 0.25;
export const ABSOLUTE_FACTOR = 2;

export type FidelityMetric = 'vs dontneed' | 'scaling' | 'records/s';

export interface FidelityRow {
  chunkSize: number;
  policy: PurgePolicy;
  realPolicy: RealPolicy;
  threads: number;
  metric: FidelityMetric;
  model: number;
  real: number;
  /** model / real - 1. */
  relativeError: number;
  ok: boolean;
  /** Why it missed, or '' when ok. */
  why: string;
}

function row(
  base: Omit<FidelityRow, 'model' | 'real' | 'relativeError' | 'ok' | 'why' | 'metric'>,
  metric: FidelityMetric,
  model: Spread,
  real: Spread,
): FidelityRow {
  const m = model.median;
  const r = real.median;
  const relativeError = m / r - 1;
  let why = '';
  if (metric === 'records/s') {
    if (m > r * ABSOLUTE_FACTOR || m < r / ABSOLUTE_FACTOR) why = `outside ${ABSOLUTE_FACTOR}x`;
  } else {
    if (Math.abs(relativeError) > RATIO_TOLERANCE) why = `off by more than ${RATIO_TOLERANCE * 100}%`;
    if (metric === 'scaling' && m > 1 !== r > 1)
      why = why === '' ? 'opposite direction' : `${why}, opposite direction`;
  }
  return { ...base, metric, model: m, real: r, relativeError, ok: why === '', why };
}

/** The checks of one chunk size's paired rows (policies without a real counterpart are left out). */
export function fidelityRows(chunkSize: number, rows: PairedRow[]): FidelityRow[] {
  const out: FidelityRow[] = [];
  for (const p of rows) {
    if (p.realPolicy === null || p.real === null) continue;
    const base = { chunkSize, policy: p.policy, realPolicy: p.realPolicy, threads: p.threads };
    out.push(row(base, 'records/s', p.model, p.real));
    if (p.policy !== 'dontneed' && p.modelVsDontneed !== null && p.realVsDontneed !== null)
      out.push(row(base, 'vs dontneed', p.modelVsDontneed, p.realVsDontneed));
    if (p.modelScaling !== null && p.realScaling !== null)
      out.push(row(base, 'scaling', p.modelScaling, p.realScaling));
  }
  return out;
}

export interface FidelitySummary {
  checks: number;
  ok: number;
  byMetric: Record<FidelityMetric, { checks: number; ok: number }>;
}

export function summarise(rows: FidelityRow[]): FidelitySummary {
  const byMetric = {
    'vs dontneed': { checks: 0, ok: 0 },
    scaling: { checks: 0, ok: 0 },
    'records/s': { checks: 0, ok: 0 },
  };
  for (const r of rows) {
    byMetric[r.metric].checks++;
    if (r.ok) byMetric[r.metric].ok++;
  }
  return { checks: rows.length, ok: rows.filter((r) => r.ok).length, byMetric };
}
