// The ebizzy targets of issue 5, measured as medians of interleaved repetitions (npm run bench:ebizzy):
// records/s per policy at 1 and 2 threads (ebizzy defaults, purge on every free, no pressure), the
// ratios to dontneed, and the simulated dontneed against the real kernel measured on this machine.
// Issue 13's target too: `none` with the byte primitives in WebAssembly (arch wasm, the default)
// against the TypedArray implementation (arch js), interleaved in the same rounds.

import type { ArchKind } from '../src/arch/index.js';
import { integer, positiveNumber } from '../src/cli/options.js';
import { defaultRunConfig } from '../src/experiment/defaults.js';
import { REAL_KERNEL } from '../src/experiment/reference.js';
import { runEbizzy } from '../src/experiment/runner.js';
import type { PurgePolicy, RunConfig } from '../src/experiment/types.js';
import { runRealEbizzy } from '../src/real/ebizzy.js';
import { harnessBuilt } from '../src/real/harness.js';
import { realConfigOf } from '../src/real/paired.js';
import { benchCommandLine } from './cli.js';
import { hostInfo, hostMarkdown, median, oversubscribed, saveResults, table } from './report.js';

const { options } = benchCommandLine<{ repetitions: number; seconds: number; write: boolean }>(
  'bench:ebizzy',
  "Issue 5's ebizzy targets: records/s of every purge policy at 1 and 2 threads in interleaved repetitions, the ratios to dontneed and the real kernel's; and issue 13's: none with the WebAssembly byte primitives against the TypedArray ones (arch js) in the same rounds. Writes bench/results/ebizzy-targets-<cores>core.{md,json}.",
  (command) =>
    command
      .option('--repetitions <n>', 'interleaved repetitions per policy and thread count', integer(1, 100), 5)
      .option('--seconds <s>', 'length of each ebizzy run', positiveNumber, 5),
);
const { repetitions, seconds } = options;
const policies: PurgePolicy[] = ['dontneed', 'vma', 'vrange', 'madv_free', 'none'];
/** Every policy with the default arch, and `none` once more with arch js (issue 13's "before"). */
const variants: { policy: PurgePolicy; arch: ArchKind; key: string }[] = [
  ...policies.map((policy) => ({ policy, arch: 'wasm' as const, key: policy })),
  { policy: 'none', arch: 'js', key: 'none (arch js)' },
];
/** ebizzy's `none` loop natively on this host, as issue 13 gives it (not measured here). */
const NATIVE_NONE_ONE_THREAD = 151_000;

/** The native loop measured in the same rounds: the harness's ebizzy with no purge, when it is built. */
const NATIVE_KEY = 'none (real kernel, native)';
const measureNative = harnessBuilt();

const host = hostInfo();
const base: RunConfig = { ...defaultRunConfig(), memoryMiB: 64, lgDirtyMult: -1, seed: 1 };
const samples: Record<string, number[]> = {};
for (const threads of [1, 2]) {
  for (let rep = 0; rep < repetitions; rep++) {
    // Interleaved: every variant once per round, so that drift on the host hits them alike.
    for (const { policy, arch, key: name } of variants) {
      const config: RunConfig = {
        ...base,
        policy,
        arch,
        cpus: threads,
        seed: rep + 1,
        ebizzy: { ...base.ebizzy, threads, seconds },
      };
      const result = await runEbizzy(config);
      const key = `${name}/${threads}`;
      samples[key] ??= [];
      samples[key].push(result.recordsPerSecond);
      console.error(`${key} rep ${rep + 1}: ${Math.round(result.recordsPerSecond)}`);
      if (measureNative && policy === 'none' && arch === 'wasm') {
        const native = await runRealEbizzy(realConfigOf(config, 'none'));
        const nativeKey = `${NATIVE_KEY}/${threads}`;
        samples[nativeKey] ??= [];
        samples[nativeKey].push(native.recordsPerSecond);
        console.error(`${nativeKey} rep ${rep + 1}: ${Math.round(native.recordsPerSecond)}`);
      }
    }
  }
}

const med = (key: string, threads: number) => median(samples[`${key}/${threads}`]);
const shown = [...variants.map(({ key }) => key), ...(measureNative ? [NATIVE_KEY] : [])];
const rows = [1, 2].flatMap((threads) =>
  shown.map((key) => [
    threads,
    key,
    Math.round(med(key, threads)).toLocaleString('en-US'),
    `${Math.round(Math.min(...samples[`${key}/${threads}`]))}–${Math.round(Math.max(...samples[`${key}/${threads}`]))}`,
    key === NATIVE_KEY ? '-' : `x${(med(key, threads) / med('dontneed', threads)).toFixed(2)}`,
    oversubscribed(threads, host) ? 'oversubscribed' : '',
  ]),
);
const archRatio = (threads: number) => med('none', threads) / med('none (arch js)', threads);
const archTargets = [
  ...[1, 2].map((threads) => [
    `none at ${threads} thread${threads > 1 ? 's' : ''}: arch wasm >= 3x arch js (same run)`,
    `x${archRatio(threads).toFixed(2)} (${Math.round(med('none', threads)).toLocaleString('en-US')} against ${Math.round(med('none (arch js)', threads)).toLocaleString('en-US')})`,
    archRatio(threads) >= 3 ? 'met' : 'NOT met',
  ]),
  [
    `none at 1 thread >= half the native loop's ${NATIVE_NONE_ONE_THREAD.toLocaleString('en-US')} records/s (given in issue 13)`,
    Math.round(med('none', 1)).toLocaleString('en-US'),
    med('none', 1) >= NATIVE_NONE_ONE_THREAD / 2 ? 'met' : 'NOT met',
  ],
  ...(measureNative
    ? [1, 2].map((threads) => [
        `none at ${threads} thread${threads > 1 ? 's' : ''} >= half the native loop measured in the same rounds (real ebizzy --policy none)`,
        `${Math.round(med('none', threads)).toLocaleString('en-US')} against ${Math.round(med(NATIVE_KEY, threads)).toLocaleString('en-US')} (x${(med('none', threads) / med(NATIVE_KEY, threads)).toFixed(2)})`,
        med('none', threads) >= med(NATIVE_KEY, threads) / 2 ? 'met' : 'NOT met',
      ])
    : [['the native loop in the same rounds', 'not measured: the native harness is not built', '']]),
];
const ratio1 = (p: PurgePolicy) => med(p, 1) / med('dontneed', 1);
const realRatio = REAL_KERNEL.oneThread.madv_free / REAL_KERNEL.oneThread.dontneed;
const within = (r: number) => Math.abs(r - realRatio) / realRatio <= 0.25;
const targets = [
  [
    `vrange/dontneed at 1 thread within 25% of the real kernel madv_free/dontneed (x${realRatio.toFixed(2)})`,
    `x${ratio1('vrange').toFixed(2)}`,
    within(ratio1('vrange')) ? 'met' : 'NOT met',
  ],
  [
    `madv_free/dontneed at 1 thread within 25% of the real kernel (x${realRatio.toFixed(2)})`,
    `x${ratio1('madv_free').toFixed(2)}`,
    within(ratio1('madv_free')) ? 'met' : 'NOT met',
  ],
  [
    `simulated dontneed at 1 thread >= half the real kernel's ${REAL_KERNEL.oneThread.dontneed.toLocaleString('en-US')} records/s`,
    Math.round(med('dontneed', 1)).toLocaleString('en-US'),
    med('dontneed', 1) >= REAL_KERNEL.oneThread.dontneed / 2 ? 'met' : 'NOT met',
  ],
];
const markdown = [
  '# ebizzy targets (medians)',
  '',
  hostMarkdown(host),
  `- ${repetitions} interleaved repetitions of ${seconds} s per policy and thread count; ebizzy defaults (10 chunks of 512 KiB), allocator purging on every free, 64 MiB machine, no pressure, one simulated CPU per thread`,
  "- byte primitives: arch wasm (the default) for every policy; 'none (arch js)' is the TypedArray implementation of before, in the same rounds",
  `- ${measureNative ? "'none (real kernel, native)': the same workload on the host kernel through the native harness, right after the model's none in every round" : 'the native harness is not built: no native rows'}`,
  '',
  table(['threads', 'policy', 'median records/s', 'range', 'vs dontneed', 'note'], rows),
  '',
  '## Targets (issue 5)',
  '',
  table(['target', 'measured', ''], targets),
  '',
  '## Targets (issue 13)',
  '',
  table(['target', 'measured', ''], archTargets),
  '',
  `Real kernel on this machine (given in issue 5, not measured here): ${REAL_KERNEL.source}; dontneed ${REAL_KERNEL.oneThread.dontneed} and madv_free ${REAL_KERNEL.oneThread.madv_free} records/s at 1 thread, ${REAL_KERNEL.twoThreads.dontneed} and ${REAL_KERNEL.twoThreads.madv_free} at 2.`,
].join('\n');
console.log(markdown);
saveResults(
  options.write,
  `ebizzy-targets-${host.cores}core`,
  { host, repetitions, seconds, samples, targets, archTargets },
  markdown,
);
