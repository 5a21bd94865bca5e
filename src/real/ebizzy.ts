// `vrange-lab real ebizzy`: the model's ebizzy on the host kernel, through the native harness
// (native/src/ebizzy.c), returned in the model's result shape.

import { runNative } from './harness.js';
import { realHostInfo } from './host.js';
import type { RealArenaCounters, RealRunConfig, RealRunResult } from './types.js';
import { VMAFLAG_ANALOGUE } from './types.js';
import { array, count, finite, harnessDocument, numberRecord, object, string } from './validate.js';

/** The harness's command line for a run. */
export function harnessArgs(config: RealRunConfig): string[] {
  const e = config.ebizzy;
  const flags: [boolean, string][] = [
    [e.alwaysMmap, '-m'],
    [e.neverMmap, '-M'],
    [e.randomSize, '-R'],
    [e.mprotectEven, '-p'],
    [e.holes, '-P'],
    [e.touchOnly, '-T'],
    [e.byteLoop, '-l'],
    [e.linearSearch, '-z'],
  ];
  return [
    'ebizzy',
    '--policy',
    config.policy,
    '-t',
    String(e.threads),
    '--processes',
    String(config.processes),
    '-n',
    String(e.chunks),
    '-s',
    String(e.chunkSize),
    '-S',
    String(e.seconds),
    '--lg-dirty-mult',
    String(config.lgDirtyMult),
    '--seed',
    String(config.seed),
    ...flags.filter(([on]) => on).map(([, flag]) => flag),
  ];
}

/** The harness arena's counters, as its JSON names them. */
export const ARENA_KEYS: readonly (keyof RealArenaCounters)[] = [
  'purgePasses',
  'purgeCalls',
  'purgeErrors',
  'pagesPurged',
  'unmarkCalls',
  'unmarkErrors',
  'runsFromDirty',
  'runsFromFree',
  'chunkMmaps',
  'chunkMunmaps',
  'hugeMmaps',
];

/** The harness's ebizzy JSON as a RealRunResult of `config`. */
export function realRunResult(config: RealRunConfig, json: unknown): RealRunResult {
  const o = harnessDocument(json, 'ebizzy');
  const c = object(o.config, 'config');
  if (string(c, 'policy', 'config') !== config.policy) throw new Error('harness JSON: the policy differs');
  const perThread = array(o, 'perThread', 'ebizzy').map((n, i) => count({ n }, 'n', `perThread[${i}]`));
  const threads = config.processes * config.ebizzy.threads;
  if (perThread.length !== threads)
    throw new Error(`harness JSON: ${perThread.length} per-thread counts for ${threads} threads`);
  const records = count(o, 'records', 'ebizzy');
  if (perThread.reduce((s, n) => s + n, 0) !== records)
    throw new Error('harness JSON: the per-thread records do not add up');
  const arenaJson = object(o.arena, 'arena');
  const arena = Object.fromEntries(
    ARENA_KEYS.map((k) => [k, count(arenaJson, k, 'arena')]),
  ) as unknown as RealArenaCounters;
  const vmstat = numberRecord(o, 'vmstat', 'ebizzy');
  const host = realHostInfo(o.platform);
  return {
    kernel: 'real',
    config,
    host,
    oversubscribed: threads > host.cores,
    records,
    elapsedSeconds: finite(o, 'elapsedSeconds', 'ebizzy'),
    recordsPerSecond: finite(o, 'recordsPerSecond', 'ebizzy'),
    perThread,
    searches: count(o, 'searches', 'ebizzy'),
    vmstat,
    vmstatMissing: array(o, 'vmstatMissing', 'ebizzy').map((n, i) =>
      string({ n }, 'n', `vmstatMissing[${i}]`),
    ),
    lockStat: [],
    purgedPages: vmstat.pglazyfreed ?? 0,
    arena,
    analogue: config.policy === 'vmaflag' ? VMAFLAG_ANALOGUE : null,
  };
}

export async function runRealEbizzy(config: RealRunConfig): Promise<RealRunResult> {
  // The run itself, its set-up and teardown, and a margin for a loaded host.
  const timeoutMs = (config.ebizzy.seconds + 120) * 1000;
  return realRunResult(config, await runNative(harnessArgs(config), timeoutMs));
}
