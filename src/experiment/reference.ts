// Figures measured elsewhere that the model is held against (not produced by this tool).

/** The vrange RFC's ebizzy results (12 CPUs, jemalloc modified to use vrange), records/s. */
export const SEED_RESULTS = {
  source: 'vrange RFC (Minchan Kim, 2013), ebizzy on 12 CPUs',
  noPressure: { dontneed: 52_389, vrange: 203_414 },
  withPressure: { dontneed: 40_746, vrange: 174_910 },
} as const;

/**
 * The real kernel on this project's 2-core machine (ebizzy defaults, jemalloc 5.3 purging on every
 * free, 5 s, medians), as given in issue 5.
 */
export const REAL_KERNEL = {
  source:
    'Linux on the 2-core dev machine: ebizzy defaults, jemalloc 5.3 purging on every free, 5 s, medians',
  oneThread: { dontneed: 7_297, madv_free: 23_215 },
  twoThreads: { dontneed: 10_796, madv_free: 15_376 },
  cgroup256MiB: { dontneed: 3_880, madv_free: 12_178 },
  /** Per call and per page, on the same machine (given with the task; bench:mm compares with them). */
  mm: {
    dontneedCallUs: [0.7, 0.85],
    dontneedPageNs: [65, 78],
    refaultPageUs: [0.7, 1.3],
  },
} as const;

export function seedRatio(pressure: boolean): number {
  const r = pressure ? SEED_RESULTS.withPressure : SEED_RESULTS.noPressure;
  return r.vrange / r.dontneed;
}
