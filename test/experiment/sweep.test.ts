// Goal: sweep points split into shards that cover every point exactly once, and merge joins shard
// files back — refusing duplicates and files from another sweep.

import { describe, expect, it } from 'vitest';
import { defaultRunConfig } from '../../src/experiment/defaults.js';
import {
  mergeSweeps,
  missingPoints,
  parseShard,
  SWEEP_FORMAT,
  type SweepFile,
  shardPoints,
  sweepPoints,
} from '../../src/experiment/sweep.js';
import type { RunResult, SweepPoint } from '../../src/experiment/types.js';

function fakeResult(point: SweepPoint, base = defaultRunConfig()): RunResult {
  // A result shaped like the runner's, with made-up measurements: sweep logic only reads the config.
  return {
    config: {
      ...base,
      policy: point.policy,
      pressureMiB: point.pressureMiB,
      cpus: point.threads,
      ebizzy: { ...base.ebizzy, threads: point.threads },
    },
    host: { cores: 2, cpuModel: 'test', node: process.version, platform: 'test' },
    oversubscribed: point.threads > 2,
    records: 100 * point.threads,
    elapsedSeconds: 1,
    recordsPerSecond: 100 * point.threads,
    perThread: Array(point.threads).fill(100),
    vmstat: {} as RunResult['vmstat'],
    lockStat: [],
    purgedPages: 0,
  };
}

function fileOf(points: SweepPoint[], shard: { index: number; count: number }): SweepFile {
  const base = defaultRunConfig();
  return {
    format: SWEEP_FORMAT,
    base,
    points,
    shards: [shard],
    results: shardPoints(points, shard).map((p) => fakeResult(p, base)),
  };
}

describe('sweep', () => {
  const points = sweepPoints(['dontneed', 'vrange', 'vma'], [1, 2, 4, 8], [0, 32]);

  it('enumerates policy x threads x pressure', () => {
    expect(points).toHaveLength(24);
    expect(new Set(points.map((p) => `${p.policy}/${p.threads}/${p.pressureMiB}`)).size).toBe(24);
  });

  it('shards cover every point exactly once', () => {
    for (const count of [1, 2, 3, 5, 24, 30]) {
      const covered = Array.from({ length: count }, (_, i) =>
        shardPoints(points, { index: i + 1, count }),
      ).flat();
      expect(covered.map((p) => p.index).sort((a, b) => a - b)).toEqual(points.map((p) => p.index));
    }
  });

  it('parses i/n and rejects nonsense', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'x', '1-4', '']) expect(() => parseShard(bad)).toThrow(/--shard/);
  });

  it('merge joins shards back into the whole sweep and knows what is missing', () => {
    const shards = [1, 2, 3].map((index) => fileOf(points, { index, count: 3 }));
    const merged = mergeSweeps(shards);
    expect(merged.results).toHaveLength(24);
    expect(missingPoints(merged)).toEqual([]);
    expect(missingPoints(shards[0])).toHaveLength(16);
    expect(merged.shards).toHaveLength(3);
  });

  it('merge refuses a point twice and files of another sweep', () => {
    const a = fileOf(points, { index: 1, count: 2 });
    expect(() => mergeSweeps([a, a])).toThrow(/appears twice/);
    const other = fileOf(sweepPoints(['dontneed'], [1], [0]), { index: 1, count: 1 });
    expect(() => mergeSweeps([a, other])).toThrow(/different sweeps/);
  });
});
