// The "done when" of issue 12: `vrange-lab real ebizzy --policy dontneed|madv_free -t 1` against an
// independent loop of the same shape (native/agreement/plain_loop.c: copy a 512 KiB chunk into a
// page-aligned buffer, binary-search it, apply the purge policy; no code shared with the harness),
// interleaved in one run (harness, loop, harness, loop, ...) so both see the host at the same time.
// Agreement: the median of the per-repetition ratios harness/loop within 25% of 1. Writes
// bench/results/real-<cores>core/agreement.{md,json} (npm run bench:real).

import { integer, positiveNumber } from '../src/cli/options.js';
import { defaultEbizzy } from '../src/experiment/defaults.js';
import { runRealEbizzy } from '../src/real/ebizzy.js';
import { BUILD_HINT, nativeBinary, runNative } from '../src/real/harness.js';
import type { RealPolicy } from '../src/real/types.js';
import { benchCommandLine } from './cli.js';
import { hostInfo, hostMarkdown, median, saveResults, table } from './report.js';

const { options } = benchCommandLine<{ repetitions: number; seconds: number; write: boolean }>(
  'bench:real',
  "Issue 12's agreement check: real ebizzy -t 1 (dontneed, madv_free) against an independent plain C loop of the same shape, interleaved; writes bench/results/real-<cores>core/agreement.{md,json}.",
  (command) =>
    command
      .option('--repetitions <n>', 'interleaved repetitions per policy', integer(1, 100), 5)
      .option('--seconds <s>', 'length of each run', positiveNumber, 3),
);
const { repetitions, seconds } = options;
if (nativeBinary() === null || nativeBinary('plain-loop') === null) {
  console.error(`bench:real: the native harness is not built: ${BUILD_HINT}`);
  process.exit(2);
}

const TOLERANCE = 0.25;
const policies: RealPolicy[] = ['dontneed', 'madv_free'];
const host = hostInfo();
const samples: Record<string, { harness: number[]; loop: number[] }> = {};
let kernel = '';
const started = Date.now();
for (let rep = 1; rep <= repetitions; rep++) {
  for (const policy of policies) {
    const harness = await runRealEbizzy({
      ebizzy: { ...defaultEbizzy(1), threads: 1, seconds },
      policy,
      processes: 1,
      lgDirtyMult: -1,
      seed: rep,
    });
    kernel = `${harness.host.sysname} ${harness.host.kernel}`;
    const loop = (await runNative([policy, String(seconds)], (seconds + 60) * 1000, 'plain-loop')) as {
      recordsPerSecond: number;
    };
    samples[policy] ??= { harness: [], loop: [] };
    samples[policy].harness.push(harness.recordsPerSecond);
    samples[policy].loop.push(loop.recordsPerSecond);
    console.error(
      `${policy} rep ${rep}: harness ${Math.round(harness.recordsPerSecond)}, loop ${Math.round(loop.recordsPerSecond)} records/s`,
    );
  }
}
const minutes = (Date.now() - started) / 60_000;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const range = (v: number[]) => `${fmt(Math.min(...v))}–${fmt(Math.max(...v))}`;
const results = policies.map((policy) => {
  const { harness, loop } = samples[policy];
  const ratios = harness.map((h, i) => h / loop[i]);
  const ratio = median(ratios);
  return {
    policy,
    harness: { median: median(harness), samples: harness },
    loop: { median: median(loop), samples: loop },
    ratio: { median: ratio, min: Math.min(...ratios), max: Math.max(...ratios), samples: ratios },
    agrees: Math.abs(ratio - 1) <= TOLERANCE,
  };
});
const rows = results.map((r) => [
  r.policy,
  fmt(r.harness.median),
  range(r.harness.samples),
  fmt(r.loop.median),
  range(r.loop.samples),
  `x${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)})`,
  r.agrees ? 'yes' : 'NO',
]);
const markdown = [
  '# Real ebizzy against an independent loop (issue 12, done when)',
  '',
  hostMarkdown(host),
  `- kernel: ${kernel}`,
  `- runs: ${repetitions} interleaved repetitions per policy (harness, loop, ...), ${seconds} s each, 1 thread, ebizzy defaults, purge on every free; ${minutes.toFixed(1)} minutes in all`,
  '- the loop: native/agreement/plain_loop.c (512 KiB chunk copied into one page-aligned buffer, binary search, madvise of the buffer), no code shared with the harness',
  '',
  table(
    [
      'policy',
      'harness records/s',
      'min–max',
      'loop records/s',
      'min–max',
      'harness/loop (median, min–max)',
      `within ${TOLERANCE * 100}%`,
    ],
    rows,
  ),
  '',
].join('\n');
console.log(markdown);
saveResults(
  options.write,
  `real-${host.cores}core/agreement`,
  { host, kernel, repetitions, seconds, tolerance: TOLERANCE, results },
  markdown,
);
