// The lab's vrange rules against RFC v7's (npm run bench:variant): ebizzy with the vrange policy,
// the two variants interleaved in every repetition, records/s and the mmap_sem and vrange_lock
// traffic per record. docs/design.md, "Deviations from RFC v7", says what differs.

import { integer, integerList, positiveNumber } from '../src/cli/options.js';
import { defaultRunConfig } from '../src/experiment/defaults.js';
import { runEbizzy } from '../src/experiment/runner.js';
import type { RunConfig, RunResult } from '../src/experiment/types.js';
import type { VrangeVariant } from '../src/mm/config.js';
import { benchCommandLine } from './cli.js';
import { hostInfo, hostMarkdown, median, oversubscribed, saveResults, table } from './report.js';

const { options } = benchCommandLine<{
  repetitions: number;
  seconds: number;
  threads: number[];
  write: boolean;
}>(
  'bench:variant',
  "ebizzy (vrange policy) under the lab's vrange rules and RFC v7's, interleaved: records/s, mmap_sem-R acquisitions and vrange_lock contentions per record. Writes bench/results/vrange-variant-<cores>core.{md,json}.",
  (command) =>
    command
      .option('--repetitions <n>', 'interleaved repetitions per variant and thread count', integer(1, 100), 3)
      .option('--seconds <s>', 'length of each ebizzy run', positiveNumber, 3)
      .option('--threads <list>', 'thread counts (one simulated CPU each)', integerList(1, 64), [1, 2]),
);
const { repetitions, seconds, threads: threadCounts } = options;
const variants: VrangeVariant[] = ['lab', 'v7'];

interface Sample {
  recordsPerSecond: number;
  mmapReadPerRecord: number;
  vrangeLockContentions: number;
}

function sampleOf(result: RunResult): Sample {
  const row = (name: string) => result.lockStat.find((r) => r.name === name);
  return {
    recordsPerSecond: result.recordsPerSecond,
    mmapReadPerRecord: (row('mmap_sem-R')?.acquisitions ?? 0) / Math.max(result.records, 1),
    vrangeLockContentions: row('vrange_lock')?.contentions ?? 0,
  };
}

const host = hostInfo();
const base: RunConfig = { ...defaultRunConfig(), policy: 'vrange', memoryMiB: 64, lgDirtyMult: -1 };
const samples: Record<string, Sample[]> = {};
for (const threads of threadCounts) {
  for (let rep = 0; rep < repetitions; rep++) {
    // Interleaved, and the order flips every repetition, so that drift on the host hits both alike.
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const vrangeVariant of order) {
      const config: RunConfig = {
        ...base,
        vrangeVariant,
        cpus: threads,
        seed: rep + 1,
        ebizzy: { ...base.ebizzy, threads, seconds },
      };
      const key = `${vrangeVariant}/${threads}`;
      samples[key] ??= [];
      samples[key].push(sampleOf(await runEbizzy(config)));
      console.error(`${key} rep ${rep + 1}: ${Math.round(samples[key][rep].recordsPerSecond)} records/s`);
    }
  }
}

const values = (key: string, field: keyof Sample) => samples[key].map((s) => s[field]);
const rows = threadCounts.flatMap((threads) =>
  variants.map((variant) => {
    const key = `${variant}/${threads}`;
    const rates = values(key, 'recordsPerSecond');
    const labMedian = median(values(`lab/${threads}`, 'recordsPerSecond'));
    return [
      threads,
      variant,
      Math.round(median(rates)).toLocaleString('en-US'),
      `${Math.round(Math.min(...rates)).toLocaleString('en-US')}–${Math.round(Math.max(...rates)).toLocaleString('en-US')}`,
      `x${(median(rates) / labMedian).toFixed(3)}`,
      median(values(key, 'mmapReadPerRecord')).toFixed(2),
      Math.round(median(values(key, 'vrangeLockContentions'))).toLocaleString('en-US'),
      oversubscribed(threads, host) ? 'oversubscribed' : '',
    ];
  }),
);
const markdown = [
  "# vrange rules: the lab's against RFC v7's (medians)",
  '',
  hostMarkdown(host),
  `- ebizzy, vrange policy, ${repetitions} interleaved repetitions of ${seconds} s per variant and thread count (order flipped each repetition); ebizzy defaults (10 chunks of 512 KiB), allocator purging on every free, 64 MiB machine, no pressure, one simulated CPU per thread`,
  "- lab: mmap_sem taken for read and the range checked to be mapped, length rounded up, adjacent ranges merged; v7: none of these (docs/design.md, 'Deviations from RFC v7')",
  '',
  table(
    [
      'threads',
      'rules',
      'median records/s',
      'range',
      'vs lab',
      'mmap_sem-R acquisitions per record',
      'vrange_lock contentions',
      'note',
    ],
    rows,
  ),
].join('\n');
console.log(markdown);
saveResults(
  options.write,
  `vrange-variant-${host.cores}core`,
  { host, repetitions, seconds, threadCounts, samples },
  markdown,
);
