// Model and real kernel in one run: every point (policy, thread count) is measured `repetitions`
// times, the model and the real kernel alternating (model, real, model, real, ...), so that both
// see the same host at the same time. Ratios are taken within a repetition (policy / dontneed,
// t threads / the fewest threads, model / real) and summarised as median with min-max.

import type { PurgePolicy, RunConfig, RunResult } from '../experiment/types.js';
import { runRealEbizzy } from './ebizzy.js';
import { REAL_COUNTERPART, type RealPolicy, type RealRunConfig, type RealRunResult } from './types.js';

export interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function spread(samples: number[]): Spread {
  if (samples.length === 0) throw new Error('spread: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], samples };
}

export interface PairedPoint {
  policy: PurgePolicy;
  threads: number;
}

/** One point's runs, in repetition order; `real` is empty when the policy has no counterpart. */
export interface PairedRuns {
  point: PairedPoint;
  realPolicy: RealPolicy | null;
  model: RunResult[];
  real: RealRunResult[];
}

/** The real kernel's run of a model configuration: same workload, the policy's counterpart. */
export function realConfigOf(config: RunConfig, realPolicy: RealPolicy): RealRunConfig {
  return {
    ebizzy: config.ebizzy,
    policy: realPolicy,
    processes: config.processes,
    lgDirtyMult: config.lgDirtyMult,
    seed: config.seed,
  };
}

export interface PairedHooks {
  /** Runs one model configuration (the caller's runner, with its progress bar). */
  runModel: (config: RunConfig, label: string) => Promise<RunResult>;
  /** Runs one real configuration (default: the harness). */
  runReal?: (config: RealRunConfig, label: string) => Promise<RealRunResult>;
}

export async function runPaired(
  points: PairedPoint[],
  configOf: (point: PairedPoint) => RunConfig,
  repetitions: number,
  hooks: PairedHooks,
): Promise<PairedRuns[]> {
  if (!(Number.isInteger(repetitions) && repetitions >= 1))
    throw new RangeError(`repetitions must be a positive integer, got ${repetitions}`);
  const runReal = hooks.runReal ?? ((config: RealRunConfig) => runRealEbizzy(config));
  const runs: PairedRuns[] = points.map((point) => ({
    point,
    realPolicy: REAL_COUNTERPART[point.policy],
    model: [],
    real: [],
  }));
  for (let rep = 1; rep <= repetitions; rep++) {
    for (const run of runs) {
      const config = configOf(run.point);
      const label = `rep ${rep}/${repetitions} ${run.point.policy} t=${run.point.threads}`;
      run.model.push(await hooks.runModel(config, `model ${label}`));
      if (run.realPolicy !== null)
        run.real.push(await runReal(realConfigOf(config, run.realPolicy), `real ${label}`));
    }
  }
  return runs;
}

export interface PairedRow {
  policy: PurgePolicy;
  realPolicy: RealPolicy | null;
  threads: number;
  model: Spread;
  real: Spread | null;
  modelVsDontneed: Spread | null;
  realVsDontneed: Spread | null;
  /** Records/s at `threads` over records/s at the fewest threads of the run, per repetition. */
  modelScaling: Spread | null;
  realScaling: Spread | null;
  modelOverReal: Spread | null;
}

function ratios(a: number[], b: number[] | undefined): Spread | null {
  if (b === undefined || b.length !== a.length || a.length === 0) return null;
  return spread(a.map((x, i) => x / b[i]));
}

const rates = (results: { recordsPerSecond: number }[]) => results.map((r) => r.recordsPerSecond);

export function pairedRows(runs: PairedRuns[]): PairedRow[] {
  const fewest = Math.min(...runs.map((r) => r.point.threads));
  const find = (policy: PurgePolicy, threads: number) =>
    runs.find((r) => r.point.policy === policy && r.point.threads === threads);
  return runs.map((run) => {
    const { policy, threads } = run.point;
    const model = rates(run.model);
    const real = run.real.length > 0 ? rates(run.real) : undefined;
    const dontneed = find('dontneed', threads);
    const base = find(policy, fewest);
    const realOf = (r: PairedRuns | undefined) =>
      r !== undefined && r.real.length > 0 ? rates(r.real) : undefined;
    return {
      policy,
      realPolicy: run.realPolicy,
      threads,
      model: spread(model),
      real: real === undefined ? null : spread(real),
      modelVsDontneed: dontneed === undefined ? null : ratios(model, rates(dontneed.model)),
      realVsDontneed: real === undefined ? null : ratios(real, realOf(dontneed)),
      modelScaling: threads === fewest || base === undefined ? null : ratios(model, rates(base.model)),
      realScaling: threads === fewest || real === undefined ? null : ratios(real, realOf(base)),
      modelOverReal: real === undefined ? null : ratios(model, real),
    };
  });
}

/** The run of a point whose records/s is the median (a representative for one-result-per-point files). */
export function medianRun<T extends { recordsPerSecond: number }>(results: T[]): T {
  const sorted = [...results].sort((a, b) => a.recordsPerSecond - b.recordsPerSecond);
  return sorted[(sorted.length - 1) >> 1];
}
