// vrange-lab fidelity: the model, charging the host's hardware profile, and the real kernel in one
// interleaved run; every ratio to dontneed and every 1->N scaling factor with the model's relative
// error and a verdict (src/real/fidelity.ts, docs/fidelity.md).

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { defaultRunConfig } from '../experiment/defaults.js';
import { formatNumber, textTable } from '../experiment/report.js';
import { pointConfig } from '../experiment/sweep.js';
import type { PurgePolicy, RunConfig } from '../experiment/types.js';
import { resolveHwProfile } from '../hw/cache.js';
import { describeHwConfig, hwConfigOf } from '../hw/profile.js';
import { PAGE_SIZE } from '../layout/layout.js';
import { ensureHostProfile } from '../real/calibrate.js';
import {
  ABSOLUTE_FACTOR,
  type FidelityRow,
  type FidelitySummary,
  fidelityRows,
  RATIO_TOLERANCE,
  summarise,
} from '../real/fidelity.js';
import { HarnessMissingError, harnessBuilt } from '../real/harness.js';
import type { PairedPoint } from '../real/paired.js';
import { type HostInfo, hostInfo } from '../workers/host.js';
import { runPairedWithProgress } from './commands.js';
import { bytes, integer, integerList, positiveNumber } from './options.js';
import { guarded, realSubcommand } from './real_command.js';

export const FIDELITY_POLICIES: readonly PurgePolicy[] = ['dontneed', 'madv_free', 'none', 'vma'];

function chunkSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => bytes(s.trim()));
  for (const s of sizes) {
    if (s === 0 || s % PAGE_SIZE !== 0)
      throw new InvalidArgumentError(`chunk sizes must be positive multiples of ${PAGE_SIZE}, got ${s}`);
  }
  return [...new Set(sizes)];
}

interface FidelityOptions {
  threadCounts: number[];
  chunkSizes: number[];
  seconds: number;
  repetitions: number;
  memory: number;
  hwProfile: string;
  out?: string;
  json: boolean;
}

export interface FidelityReport {
  host: HostInfo;
  kernel: string;
  hw: RunConfig['hw'];
  threadCounts: number[];
  chunkSizes: number[];
  secondsPerRun: number;
  repetitions: number;
  rows: FidelityRow[];
  summary: FidelitySummary;
}

function pct(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
}

export function renderFidelity(r: FidelityReport): string {
  const lines = [
    `fidelity: model (hw profile) against the real kernel, one interleaved run; ${r.repetitions} repetitions of ${r.secondsPerRun} s per point, medians`,
    `host: ${r.host.cores} cores (${r.host.cpuModel}), node ${r.host.node}, kernel ${r.kernel}; ${Math.max(...r.threadCounts) > r.host.cores ? 'thread counts above the cores are oversubscribed' : 'no run is oversubscribed'}`,
    describeHwConfig(r.hw),
    `targets: ratios within ${RATIO_TOLERANCE * 100}%, 1->N scaling in the same direction, records/s within ${ABSOLUTE_FACTOR}x; vma is held to vmaflag (analogue)`,
  ];
  for (const size of r.chunkSizes) {
    const mine = r.rows.filter((x) => x.chunkSize === size);
    lines.push(
      '',
      `chunk size ${size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`}:`,
      textTable(
        ['policy', 'threads', 'metric', 'model', 'real', 'error', 'verdict'],
        mine.map((x) => [
          x.policy === 'vma' ? 'vma/vmaflag' : x.policy,
          String(x.threads),
          x.metric,
          x.metric === 'records/s' ? formatNumber(x.model) : `x${x.model.toFixed(2)}`,
          x.metric === 'records/s' ? formatNumber(x.real) : `x${x.real.toFixed(2)}`,
          pct(x.relativeError),
          x.ok ? 'ok' : `MISS (${x.why})`,
        ]),
      ),
    );
  }
  const s = r.summary;
  lines.push(
    '',
    `within target: ${s.ok} of ${s.checks} checks (vs dontneed ${s.byMetric['vs dontneed'].ok}/${s.byMetric['vs dontneed'].checks}, ` +
      `scaling ${s.byMetric.scaling.ok}/${s.byMetric.scaling.checks}, records/s ${s.byMetric['records/s'].ok}/${s.byMetric['records/s'].checks})`,
  );
  return lines.join('\n');
}

async function runFidelity(o: FidelityOptions): Promise<FidelityReport> {
  if (!harnessBuilt()) throw new HarnessMissingError();
  const hwSpec = await ensureHostProfile(o.hwProfile, (line) => console.error(line));
  const hw = hwConfigOf(resolveHwProfile(hwSpec));
  const defaults = defaultRunConfig();
  const points: PairedPoint[] = o.threadCounts.flatMap((threads) =>
    FIDELITY_POLICIES.map((policy) => ({ policy, threads })),
  );
  const rows: FidelityRow[] = [];
  let kernel = 'unknown';
  for (const chunkSize of o.chunkSizes) {
    const base: RunConfig = {
      ...defaults,
      ebizzy: { ...defaults.ebizzy, chunkSize, seconds: o.seconds },
      memoryMiB: o.memory,
      lgDirtyMult: -1,
      hw,
    };
    const configOf = (p: PairedPoint) =>
      pointConfig(base, { index: 0, policy: p.policy, threads: p.threads, pressureMiB: 0 }, true);
    const label = `fidelity ${chunkSize >> 10} KiB (model, real)`;
    const paired = await runPairedWithProgress(points, configOf, o.repetitions, label);
    rows.push(...fidelityRows(chunkSize, paired.rows));
    const real = paired.real.flat()[0];
    if (real !== undefined) kernel = `${real.host.sysname} ${real.host.kernel}`;
  }
  return {
    host: hostInfo(),
    kernel,
    hw,
    threadCounts: o.threadCounts,
    chunkSizes: o.chunkSizes,
    secondsPerRun: o.seconds,
    repetitions: o.repetitions,
    rows,
    summary: summarise(rows),
  };
}

export function fidelityCommand(): Command {
  const command = realSubcommand('fidelity')
    .description(
      'the model (with the host hardware profile) and the real kernel interleaved: ratios to dontneed and 1->N scaling, with the error and a verdict per row',
    )
    .option('--thread-counts <list>', 'thread counts (comma-separated)', integerList(1, 256), [1, 2])
    .option('--chunk-sizes <list>', 'ebizzy chunk sizes (k/m suffix allowed)', chunkSizes, [
      64 << 10,
      512 << 10,
      4 << 20,
    ])
    .option('-S, --seconds <s>', 'seconds per run', positiveNumber, 1)
    .option('--repetitions <n>', 'repetitions of each model and real run', integer(1, 99), 3)
    .option('--memory <MiB>', 'simulated physical memory', integer(16, 3072), 128)
    .option(
      '--hw-profile <profile>',
      "the model's hardware profile: host (calibrating first if needed), none or a file",
      'host',
    )
    .option('--out <dir>', 'also write fidelity.json and fidelity.txt there')
    .option('--json', 'print the report as JSON', false);
  return command.action(async (o: FidelityOptions) =>
    guarded(command, async () => {
      const report = await runFidelity(o);
      const text = renderFidelity(report);
      if (o.out !== undefined) {
        mkdirSync(o.out, { recursive: true });
        writeFileSync(path.join(o.out, 'fidelity.json'), `${JSON.stringify(report, null, 2)}\n`);
        writeFileSync(path.join(o.out, 'fidelity.txt'), `${text}\n`);
      }
      console.log(o.json ? JSON.stringify(report, null, 2) : text);
    }),
  );
}
