// The thread-count sweep for a many-core host (run on the lent 16-core machine): every policy at
// 1, 2, 4, 8, 12 and 16 ebizzy threads (one simulated CPU each), then the compare table (every
// policy without and with pressure) at 1, 2 and 4 threads. Writes vrange-lab sweep files
// (sweep.json, compare.json) after every point, so that a run cut short keeps what it measured;
// `vrange-lab merge <dir>/sweep.json --out <dir>` then draws the CSV, SVG and terminal chart.
//
//   node dist/bench/device/sweep.js <out-dir> [seconds-per-point] [all|compare]

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { InvalidArgumentError } from 'commander';
import { positiveNumber } from '../../src/cli/options.js';
import { defaultRunConfig } from '../../src/experiment/defaults.js';
import { runEbizzy } from '../../src/experiment/runner.js';
import { pointConfig, SWEEP_FORMAT, type SweepFile, sweepPoints } from '../../src/experiment/sweep.js';
import type { PurgePolicy, RunConfig, RunResult } from '../../src/experiment/types.js';
import { benchCommandLine } from '../cli.js';

const PARTS = ['all', 'compare'] as const;
const { args } = benchCommandLine(
  'sweep',
  'The thread-count sweep for a many-core host: every policy at 1-16 ebizzy threads, then the compare table at 1, 2 and 4 threads; writes sweep.json and compare.json after every point.',
  (command) =>
    command
      .argument('<out-dir>', 'directory for sweep.json and compare.json')
      .argument('[seconds]', 'seconds per point', positiveNumber, 5)
      .argument(
        '[part]',
        '"all", or "compare" for the compare table only',
        (text: string) => {
          if (!(PARTS as readonly string[]).includes(text))
            throw new InvalidArgumentError(`expected one of ${PARTS.join(', ')}, got "${text}"`);
          return text;
        },
        'all',
      ),
  { writesResults: false },
);
const [out, seconds, part] = args as [string, number, (typeof PARTS)[number]];
mkdirSync(out, { recursive: true });

const base: RunConfig = { ...defaultRunConfig(), memoryMiB: 64, lgDirtyMult: -1, seed: 1 };
base.ebizzy = { ...base.ebizzy, seconds };
const policies: PurgePolicy[] = ['dontneed', 'vma', 'vrange', 'madv_free'];
const points = sweepPoints(policies, [1, 2, 4, 8, 12, 16], [0]);
const started = Date.now();
const log = (text: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0)} s] ${text}\n`);
log(`host: ${os.availableParallelism()} cores, ${os.cpus()[0]?.model}, node ${process.version}`);

const file: SweepFile = { format: SWEEP_FORMAT, base, points, shards: [{ index: 1, count: 1 }], results: [] };
for (const point of part === 'all' ? points : []) {
  const result = await runEbizzy(pointConfig(base, point, true));
  file.results.push(result);
  writeFileSync(`${out}/sweep.json`, `${JSON.stringify(file, null, 1)}\n`);
  log(`${point.policy} t=${point.threads}: ${Math.round(result.recordsPerSecond)} records/s`);
}

const compare: RunResult[] = [];
for (const threads of [1, 2, 4]) {
  for (const policy of [...policies, 'none' as const]) {
    for (const pressureMiB of [0, 56]) {
      const config: RunConfig = {
        ...base,
        policy,
        cpus: threads,
        pressureMiB,
        ebizzy: { ...base.ebizzy, threads, seconds: Math.min(seconds, 4) },
      };
      const result = await runEbizzy(config);
      compare.push(result);
      writeFileSync(`${out}/compare.json`, `${JSON.stringify(compare, null, 1)}\n`);
      log(
        `compare ${policy} t=${threads} p=${pressureMiB}: ${Math.round(result.recordsPerSecond)} records/s, purged ${result.purgedPages}`,
      );
    }
  }
}
log('done');
