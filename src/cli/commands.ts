// The vrange-lab commands: ebizzy (one run), compare (every policy, without and with pressure),
// sweep (the scalability curve, shardable), merge (join sweep shards).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { REAL_KERNEL, SEED_RESULTS, seedRatio } from '../experiment/reference.js';
import {
  contentions,
  formatNumber,
  formatRate,
  hostLine,
  renderRun,
  textTable,
  tlbNote,
  toCsv,
  variantNote,
} from '../experiment/report.js';
import { checkRunConfig, runEbizzy } from '../experiment/runner.js';
import {
  mergeSweeps,
  missingPoints,
  parseShard,
  pointConfig,
  readSweepFile,
  SWEEP_FORMAT,
  type SweepFile,
  shardPoints,
  sortResults,
  sweepPoints,
} from '../experiment/sweep.js';
import { PURGE_POLICIES, type PurgePolicy, type RunConfig, type RunResult } from '../experiment/types.js';
import { describeHwConfig } from '../hw/profile.js';
import { ensureHostProfile } from '../real/calibrate.js';
import { runRealEbizzy } from '../real/ebizzy.js';
import { HarnessMissingError, harnessBuilt } from '../real/harness.js';
import { medianRun, type PairedPoint, type PairedRow, pairedRows, runPaired } from '../real/paired.js';
import { renderPaired } from '../real/paired_render.js';
import type { RealRunResult } from '../real/types.js';
import { busyCpus } from '../workers/host.js';
import { addEbizzyOptions, type EbizzyCliOptions, runConfigFrom } from './ebizzy_options.js';
import { integer, integerList, policy, policyList } from './options.js';
import { progress } from './progress.js';

function writeOut(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  });
}

/** Runs configs one after another with one progress bar over all of them. */
async function runAll(configs: RunConfig[], label: string): Promise<RunResult[]> {
  for (const config of configs) checkRunConfig(config);
  const total = configs.reduce((s, c) => s + c.ebizzy.seconds, 0);
  const bar = progress(total, label);
  const results: RunResult[] = [];
  let done = 0;
  try {
    for (const [i, config] of configs.entries()) {
      const status = `${i + 1}/${configs.length} ${config.policy} t=${config.ebizzy.threads}${config.pressureMiB > 0 ? ` p=${config.pressureMiB}` : ''}`;
      results.push(
        await runEbizzy(config, {
          onProgress: (s) =>
            bar.update(done + s.elapsedSeconds, `${status} ${formatRate(s.records, s.elapsedSeconds)} rec/s`),
        }),
      );
      done += config.ebizzy.seconds;
      bar.update(done, status);
    }
  } finally {
    bar.stop();
  }
  return results;
}

/** wantReal for a command: a harness asked for and not built ends with one line, exit status 2. */
function wantRealOf(command: Command, flag: boolean | undefined): boolean {
  try {
    return wantReal(flag);
  } catch (error) {
    return command.error(`vrange-lab: ${(error as Error).message}`, {
      exitCode: 2,
      code: 'vrange-lab.usage',
    });
  }
}

/**
 * Whether a command runs the real kernel beside the model: --real asks for it (a harness that is
 * not built is then an error), --no-real declines, neither means "when the harness is built".
 */
function wantReal(flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (flag === true && !harnessBuilt()) throw new HarnessMissingError();
  return harnessBuilt();
}

/** Seconds per run of compare with real rows when -S is not given: keeps `npm start` about a minute. */
export const REAL_COMPARE_SECONDS = 1;
/** Repetitions of each model and real run (--repetitions). */
export const REAL_REPETITIONS = 3;

/** Model and real runs interleaved, `repetitions` each, with one progress bar over them all. */
export async function runPairedWithProgress(
  points: PairedPoint[],
  configOf: (point: PairedPoint) => RunConfig,
  repetitions: number,
  label: string,
): Promise<{ rows: PairedRow[]; model: RunResult[][]; real: RealRunResult[][] }> {
  const configs = points.map(configOf);
  for (const config of configs) checkRunConfig(config);
  const runsPerRep = points.length + points.filter((p) => p.policy !== 'vrange').length;
  const total = repetitions * runsPerRep * configs[0].ebizzy.seconds;
  const bar = progress(total, label);
  let done = 0;
  try {
    const runs = await runPaired(points, configOf, repetitions, {
      runModel: async (config, status) => {
        const result = await runEbizzy(config, {
          onProgress: (p) =>
            bar.update(done + p.elapsedSeconds, `${status} ${formatRate(p.records, p.elapsedSeconds)} rec/s`),
        });
        done += config.ebizzy.seconds;
        return result;
      },
      runReal: async (config, status) => {
        bar.update(done, status);
        const result = await runRealEbizzy(config);
        done += config.ebizzy.seconds;
        return result;
      },
    });
    return { rows: pairedRows(runs), model: runs.map((r) => r.model), real: runs.map((r) => r.real) };
  } finally {
    bar.stop();
  }
}

export function ebizzyCommand(): Command {
  return addEbizzyOptions(
    new Command('ebizzy')
      .description('one ebizzy run on the simulated machine: records/s, vmstat deltas, lock_stat')
      .option('--policy <policy>', `purge policy: ${PURGE_POLICIES.join(', ')}`, policy, 'vrange')
      .option(
        '--pressure <MiB>',
        'background memory pressure (a process keeping this much touched)',
        integer(0, 3071),
        0,
      )
      .option('--json', 'print the result as JSON', false)
      .option('--no-validate', 'skip the whole-machine validation after the run'),
  ).action(async (o: EbizzyCliOptions & { json: boolean; validate: boolean }) => {
    const config = runConfigFrom(o);
    checkRunConfig(config);
    const bar = progress(config.ebizzy.seconds, 'ebizzy');
    let result: RunResult;
    try {
      result = await runEbizzy(config, {
        validate: o.validate,
        onProgress: (s) => bar.update(s.elapsedSeconds, `${formatRate(s.records, s.elapsedSeconds)} rec/s`),
      });
    } finally {
      bar.stop();
    }
    console.log(o.json ? JSON.stringify(result, null, 2) : renderRun(result));
  });
}

/**
 * compare and sweep: short runs on a 64 MiB machine, the allocator purging on every free (as the
 * real-kernel reference measurement: jemalloc 5.3 with immediate purging).
 */
export const COMPARE_DEFAULTS = { seconds: 4, memoryMiB: 64, lgDirtyMult: -1 };

export interface CompareRow {
  policy: PurgePolicy;
  threads: number;
  plain: RunResult;
  pressured: RunResult | null;
}

export function renderCompare(rows: CompareRow[], pressureMiB: number): string {
  const out: string[] = [];
  const threadCounts = [...new Set(rows.map((r) => r.threads))];
  for (const threads of threadCounts) {
    const group = rows.filter((r) => r.threads === threads);
    const base = group.find((r) => r.policy === 'dontneed');
    const ratio = (value: number, of: number | undefined) =>
      of === undefined || of === 0 ? '-' : `x${(value / of).toFixed(2)}`;
    const sample = group[0].pressured ?? group[0].plain;
    out.push(
      `ebizzy, ${threads} thread(s) on ${threads} simulated CPU(s), ${sample.config.ebizzy.seconds} s per run, ${sample.config.memoryMiB} MiB memory${tlbNote(sample.config.tlbEntries)}, lg_dirty_mult ${sample.config.lgDirtyMult}${variantNote(sample.config.vrangeVariant)}`,
      hostLine(sample.host, busyCpus(sample.config.cpus, sample.config.pressureMiB)),
      describeHwConfig(sample.config.hw),
      textTable(
        [
          'policy',
          'records/s',
          'vs dontneed',
          `records/s, pressure ${pressureMiB} MiB`,
          'vs dontneed',
          'purged pages',
          'shootdowns/rec',
        ],
        group.map((r) => [
          r.policy,
          formatNumber(r.plain.recordsPerSecond),
          ratio(r.plain.recordsPerSecond, base?.plain.recordsPerSecond),
          r.pressured ? formatNumber(r.pressured.recordsPerSecond) : '-',
          r.pressured ? ratio(r.pressured.recordsPerSecond, base?.pressured?.recordsPerSecond) : '-',
          r.pressured ? formatNumber(r.pressured.purgedPages) : '-',
          formatNumber(r.plain.vmstat.nr_tlb_remote_flush / Math.max(r.plain.records, 1), 2),
        ]),
      ),
      '',
    );
  }
  out.push(
    `reference (not measured by this tool): ${REAL_KERNEL.source}: dontneed ${formatNumber(REAL_KERNEL.oneThread.dontneed)} / madv_free ${formatNumber(REAL_KERNEL.oneThread.madv_free)} records/s at 1 thread (x${(REAL_KERNEL.oneThread.madv_free / REAL_KERNEL.oneThread.dontneed).toFixed(2)}), ` +
      `${formatNumber(REAL_KERNEL.twoThreads.dontneed)} / ${formatNumber(REAL_KERNEL.twoThreads.madv_free)} at 2 threads; ${SEED_RESULTS.source}: vrange x${seedRatio(false).toFixed(2)} of dontneed, x${seedRatio(true).toFixed(2)} with pressure.`,
  );
  return out.join('\n');
}

export function compareCommand(): Command {
  return addEbizzyOptions(
    new Command('compare')
      .description(
        'every purge policy side by side, without and with memory pressure, with the ratio to dontneed',
      )
      .option('--policies <list>', 'policies to compare', policyList, [...PURGE_POLICIES])
      .option(
        '--thread-counts <list>',
        'thread counts (one simulated CPU per thread)',
        integerList(1, 256),
        [1],
      )
      .option(
        '--pressure <MiB>',
        'memory pressure for the second column: the most the pressure process may hold (0: skip it)',
        integer(0, 3071),
        56,
      )
      .option('--json', 'print the results as JSON', false)
      .option('--out <dir>', 'also write compare.json and compare.csv there')
      .option(
        '--real',
        `run the real kernel (native harness) beside the model, interleaved; without -S, ${REAL_COMPARE_SECONDS} s per run (default: when the harness is built)`,
      )
      .option('--no-real', 'the model only')
      .option(
        '--repetitions <n>',
        'with real rows: repetitions of each model and real run (medians with min-max)',
        integer(1, 99),
        REAL_REPETITIONS,
      ),
    { ...COMPARE_DEFAULTS, hwProfile: 'host' },
  ).action(
    async (
      o: EbizzyCliOptions & {
        policies: PurgePolicy[];
        threadCounts: number[];
        pressure: number;
        json: boolean;
        out?: string;
        real?: boolean;
        repetitions: number;
      },
      command: Command,
    ) => {
      const real = wantRealOf(command, o.real);
      if (real && command.getOptionValueSource('seconds') === 'default') o.seconds = REAL_COMPARE_SECONDS;
      o.hwProfile = await ensureHostProfile(o.hwProfile ?? 'host', (line) => console.error(line));
      const base = runConfigFrom({ ...o, pressure: 0 });
      const configOf = (point: PairedPoint, pressureMiB: number) =>
        pointConfig(base, { index: 0, policy: point.policy, threads: point.threads, pressureMiB }, true);
      const points: PairedPoint[] = o.threadCounts.flatMap((threads) =>
        o.policies.map((policy) => ({ policy, threads })),
      );
      // With real rows, the plain runs are the model's side of the interleaved pairs.
      const paired = real
        ? await runPairedWithProgress(points, (p) => configOf(p, 0), o.repetitions, 'compare (model, real)')
        : null;
      const configs: RunConfig[] = [];
      for (const point of points) {
        for (const pressureMiB of o.pressure > 0 ? [0, o.pressure] : [0]) {
          if (paired === null || pressureMiB > 0) configs.push(configOf(point, pressureMiB));
        }
      }
      const results = [...(paired?.model.flat() ?? []), ...(await runAll(configs, 'compare'))];
      const rows: CompareRow[] = points.map((point, i) => {
        const mine = results.filter(
          (r) => r.config.policy === point.policy && r.config.ebizzy.threads === point.threads,
        );
        return {
          policy: point.policy,
          threads: point.threads,
          plain: paired === null ? mine.find((r) => r.config.pressureMiB === 0)! : medianRun(paired.model[i]),
          pressured: mine.find((r) => r.config.pressureMiB > 0) ?? null,
        };
      });
      const text =
        paired === null
          ? renderCompare(rows, o.pressure)
          : `${renderCompare(rows, o.pressure)}\n(records/s without pressure: the median of the ${o.repetitions} model runs below)\n\n${renderPaired(paired.rows, o.repetitions, o.seconds)}`;
      const json =
        paired === null ? results : { model: results, real: paired.real.flat(), paired: paired.rows };
      if (o.out !== undefined) {
        const written = writeOut(o.out, {
          'compare.json': `${JSON.stringify(json, null, 2)}\n`,
          'compare.csv': toCsv(results),
          'compare.txt': `${text}\n`,
        });
        console.error(`written: ${written.join(', ')}`);
      }
      if (!real && o.real === undefined)
        console.error('real kernel: the native harness is not built (npm run build:native): model rows only');
      console.log(o.json ? JSON.stringify(json, null, 2) : text);
    },
  );
}

async function writeSweep(dir: string, stem: string, file: SweepFile, title: string): Promise<string[]> {
  return writeOut(dir, {
    [`${stem}.json`]: `${JSON.stringify(file, null, 2)}\n`,
    [`${stem}.csv`]: toCsv(file.results),
    [`${stem}.svg`]: await (await charts()).renderSvg(file.results, title, file.real ?? []),
  });
}

function sweepTitle(file: SweepFile): string {
  const host = file.results[0]?.host;
  return `ebizzy records/s by thread count (${file.base.ebizzy.seconds} s per point, ${file.base.memoryMiB} MiB${host ? `, host ${host.cores} cores` : ''})`;
}

/** vega and vega-lite load only for the commands that draw (stress and ebizzy start faster). */
function charts(): Promise<typeof import('../experiment/charts.js')> {
  return import('../experiment/charts.js');
}

async function sweepSummary(file: SweepFile): Promise<string> {
  const { renderAscii } = await charts();
  const missing = missingPoints(file);
  return [
    renderAscii(file.results, process.stdout.isTTY === true, file.real ?? []),
    '',
    describeHwConfig(file.base.hw),
    '',
    textTable(
      [
        'policy',
        'threads',
        'pressure MiB',
        'records/s',
        'mmap_sem-W cont.',
        'vrange_lock cont.',
        'shootdowns',
        'note',
      ],
      file.results.map((r) => [
        r.config.policy,
        String(r.config.ebizzy.threads),
        String(r.config.pressureMiB),
        formatNumber(r.recordsPerSecond),
        formatNumber(contentions(r, 'mmap_sem-W')),
        formatNumber(contentions(r, 'vrange_lock')),
        formatNumber(r.vmstat.nr_tlb_remote_flush),
        r.oversubscribed ? `oversubscribed (${r.host.cores} cores)` : '',
      ]),
    ),
    missing.length > 0
      ? `\n${missing.length} of ${file.points.length} points not in this file (other shards).`
      : '',
    file.paired !== undefined && file.paired.length > 0
      ? `\n${renderPaired(file.paired, file.paired[0].model.samples.length, file.base.ebizzy.seconds)}`
      : '',
  ].join('\n');
}

export function sweepCommand(): Command {
  return addEbizzyOptions(
    new Command('sweep')
      .description(
        'the scalability curve: records/s and lock contention per thread count, as CSV, JSON, SVG and a terminal chart',
      )
      .option(
        '--thread-counts <list>',
        'thread counts (one simulated CPU per thread)',
        integerList(1, 256),
        [1, 2, 4, 8],
      )
      .option('--policies <list>', 'policies', policyList, [
        'dontneed',
        'vma',
        'vrange',
        'madv_free',
      ] as PurgePolicy[])
      .option('--pressures <list>', 'memory pressures in MiB (0: none)', integerList(0, 3071), [0])
      .option(
        '--shard <i/n>',
        'run only every n-th point, starting at the i-th (1-based), for a batch scheduler',
      )
      .option('--out <dir>', 'directory for sweep.json/.csv/.svg', 'sweep-results')
      .option('--json', 'print the sweep file as JSON instead of the summary', false)
      .option(
        '--real',
        'run the real kernel (native harness) beside the model at the points without pressure, interleaved',
        false,
      )
      .option(
        '--repetitions <n>',
        'with --real: repetitions of each model and real run (medians with min-max)',
        integer(1, 99),
        REAL_REPETITIONS,
      ),
    COMPARE_DEFAULTS,
  ).action(
    async (
      o: EbizzyCliOptions & {
        threadCounts: number[];
        policies: PurgePolicy[];
        pressures: number[];
        shard?: string;
        out: string;
        json: boolean;
        real: boolean;
        repetitions: number;
      },
      command: Command,
    ) => {
      const shard = o.shard === undefined ? { index: 1, count: 1 } : parseShard(o.shard);
      const real = o.real && wantRealOf(command, true);
      const base = runConfigFrom({ ...o, pressure: 0 });
      const points = sweepPoints(o.policies, o.threadCounts, o.pressures);
      const mine = shardPoints(points, shard);
      // With --real, the points without pressure are measured as interleaved model/real pairs.
      const pairedPoints = real ? mine.filter((p) => p.pressureMiB === 0) : [];
      const paired =
        pairedPoints.length > 0
          ? await runPairedWithProgress(
              pairedPoints,
              (p) => pointConfig(base, { ...p, index: 0, pressureMiB: 0 }, true),
              o.repetitions,
              `sweep ${shard.index}/${shard.count} (model, real)`,
            )
          : null;
      const results = await runAll(
        mine.filter((p) => !pairedPoints.includes(p)).map((p) => pointConfig(base, p, true)),
        `sweep ${shard.index}/${shard.count}`,
      );
      if (paired !== null) results.push(...paired.model.map((runs) => medianRun(runs)));
      const file: SweepFile = {
        format: SWEEP_FORMAT,
        base,
        points,
        shards: [shard],
        results: sortResults(results),
      };
      if (paired !== null) {
        file.real = paired.real.filter((runs) => runs.length > 0).map((runs) => medianRun(runs));
        file.paired = paired.rows;
      }
      const stem = shard.count === 1 ? 'sweep' : `sweep.shard-${shard.index}-of-${shard.count}`;
      const written = await writeSweep(o.out, stem, file, sweepTitle(file));
      console.error(`written: ${written.join(', ')}`);
      console.log(o.json ? JSON.stringify(file, null, 2) : await sweepSummary(file));
    },
  );
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description('join sweep shard files (sweep --shard i/n) into one sweep.json/.csv/.svg')
    .argument('<files...>', 'sweep JSON files')
    .option('--out <dir>', 'output directory', 'sweep-results')
    .option('--json', 'print the merged file as JSON', false)
    .action(async (files: string[], o: { out: string; json: boolean }) => {
      const merged = mergeSweeps(files.map(readSweepFile));
      const written = await writeSweep(o.out, 'sweep', merged, sweepTitle(merged));
      console.error(`written: ${written.join(', ')}`);
      console.log(o.json ? JSON.stringify(merged, null, 2) : await sweepSummary(merged));
    });
}
