// Sweeps: a grid of points (policy x threads x pressure) run one after another, sliceable into
// shards for a batch scheduler (--shard i/n runs every n-th point starting at the i-th), and the
// merge of shard files back into one result.

import { readFileSync } from 'node:fs';
import type { PairedRow } from '../real/paired.js';
import type { RealRunResult } from '../real/types.js';
import type { RunConfig, RunResult, SweepPoint } from './types.js';
import { PURGE_POLICIES, type PurgePolicy } from './types.js';

export const SWEEP_FORMAT = 'vrange-lab-sweep/1';

export interface Shard {
  /** 1-based index of this shard. */
  index: number;
  count: number;
}

export interface SweepFile {
  format: typeof SWEEP_FORMAT;
  /** The configuration every point shares; each point sets policy, threads and pressure. */
  base: RunConfig;
  /** Every point of the whole sweep (all shards). */
  points: SweepPoint[];
  /** The shards whose points this file holds. */
  shards: Shard[];
  results: RunResult[];
  /** sweep --real: the real kernel's median run of each point that has a counterpart. */
  real?: RealRunResult[];
  /** sweep --real: model and real side by side, every repetition (src/real/paired.ts). */
  paired?: PairedRow[];
}

export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (match === null) throw new RangeError(`--shard must look like i/n (e.g. 2/4), got "${text}"`);
  const index = Number(match[1]);
  const count = Number(match[2]);
  if (count < 1 || index < 1 || index > count)
    throw new RangeError(`--shard ${text}: i must be between 1 and n`);
  return { index, count };
}

export function sweepPoints(policies: PurgePolicy[], threads: number[], pressures: number[]): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const pressureMiB of pressures) {
    for (const policy of policies) {
      for (const t of threads) points.push({ index: points.length, policy, threads: t, pressureMiB });
    }
  }
  return points;
}

export function shardPoints(points: SweepPoint[], shard: Shard): SweepPoint[] {
  return points.filter((p) => p.index % shard.count === shard.index - 1);
}

/** The run configuration of one point: the base with the point's policy, threads and pressure. */
export function pointConfig(base: RunConfig, point: SweepPoint, cpusFollowThreads: boolean): RunConfig {
  return {
    ...base,
    policy: point.policy,
    pressureMiB: point.pressureMiB,
    cpus: cpusFollowThreads ? point.threads : base.cpus,
    ebizzy: { ...base.ebizzy, threads: point.threads },
  };
}

/** A point's identity in a sweep: policy/threads/pressure. */
function pointKey(policy: PurgePolicy, threads: number, pressureMiB: number): string {
  return `${policy}/${threads}/${pressureMiB}`;
}

function pointOf(result: RunResult): string {
  return pointKey(result.config.policy, result.config.ebizzy.threads, result.config.pressureMiB);
}

function sameBase(a: RunConfig, b: RunConfig): boolean {
  const strip = (c: RunConfig) =>
    JSON.stringify({ ...c, policy: '', pressureMiB: 0, cpus: 0, ebizzy: { ...c.ebizzy, threads: 0 } });
  return strip(a) === strip(b);
}

/** Reads and checks a sweep file. */
export function readSweepFile(path: string): SweepFile {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not a readable JSON file (${(error as Error).message})`);
  }
  const file = json as Partial<SweepFile>;
  if (
    file.format !== SWEEP_FORMAT ||
    !Array.isArray(file.results) ||
    !Array.isArray(file.points) ||
    file.base === undefined
  ) {
    throw new Error(`${path}: not a ${SWEEP_FORMAT} file`);
  }
  for (const r of file.results) {
    if (!PURGE_POLICIES.includes(r.config.policy))
      throw new Error(`${path}: unknown policy ${r.config.policy}`);
  }
  return file as SweepFile;
}

/** Joins shard files of one sweep: same base config and points; no point twice. */
export function mergeSweeps(files: SweepFile[]): SweepFile {
  if (files.length === 0) throw new Error('merge: no files');
  const [first] = files;
  const seen = new Set<string>();
  const results: RunResult[] = [];
  const shards: Shard[] = [];
  for (const file of files) {
    if (!sameBase(file.base, first.base) || JSON.stringify(file.points) !== JSON.stringify(first.points)) {
      throw new Error('merge: the files come from different sweeps (base config or points differ)');
    }
    shards.push(...file.shards);
    for (const result of file.results) {
      const key = pointOf(result);
      if (seen.has(key)) throw new Error(`merge: point ${key} appears twice`);
      seen.add(key);
      results.push(result);
    }
  }
  const merged: SweepFile = {
    format: SWEEP_FORMAT,
    base: first.base,
    points: first.points,
    shards,
    results: sortResults(results),
  };
  if (files.some((f) => f.real !== undefined)) {
    merged.real = files.flatMap((f) => f.real ?? []);
    merged.paired = files.flatMap((f) => f.paired ?? []);
  }
  return merged;
}

export function sortResults(results: RunResult[]): RunResult[] {
  const order = (r: RunResult) => [
    r.config.pressureMiB,
    PURGE_POLICIES.indexOf(r.config.policy),
    r.config.ebizzy.threads,
  ];
  return [...results].sort((a, b) => {
    const x = order(a);
    const y = order(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  });
}

/** Points of the sweep that no result covers yet. */
export function missingPoints(file: SweepFile): SweepPoint[] {
  const done = new Set(file.results.map(pointOf));
  return file.points.filter((p) => !done.has(pointKey(p.policy, p.threads, p.pressureMiB)));
}
