// What modelling the page LRU costs (issue 14): this build against a build of the commit before it,
// interleaved in one run. Per round and per build: the refault of a 2 MiB range after MADV_DONTNEED
// (fault + allocation + zero-fill + the LRU add, ns per page), the MADV_DONTNEED that precedes it
// (zap + shootdown + free, now with the LRU removal, ns per page), and ebizzy's records/s under the
// dontneed policy at 1 thread. Every sample runs in a fresh Node process (this script with the
// hidden --probe option) that imports one build's modules from its dist, so that neither build's
// JIT state or heap colours the other's samples.
//
//   git archive <base> | tar -x -C DIR && ln -s $PWD/node_modules DIR/ && (cd DIR && npm run build)
//   npm run build && node dist/bench/lru_cost.js --before DIR [--rounds N] [--seconds S] [--no-write]

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Option } from 'commander';
import { integer, positiveNumber } from '../src/cli/options.js';
import { benchCommandLine } from './cli.js';
import { hostInfo, hostMarkdown, median, saveResults, table } from './report.js';

const { options } = benchCommandLine<{
  before: string;
  rounds: number;
  seconds: number;
  write: boolean;
  probe?: string;
  seed: number;
}>(
  'bench:lru-cost',
  "Issue 14: the cost of the page LRU model, this build against the build in --before (the base commit's, built with npm run build), interleaved: refault and MADV_DONTNEED per page, ebizzy dontneed records/s at 1 thread. Writes bench/results/lru-cost-<cores>core.{md,json}.",
  (command) =>
    command
      .requiredOption('--before <dir>', 'a checkout of the base commit with its dist/ built')
      .option(
        '--rounds <n>',
        'interleaved rounds (each build once per round, order alternating)',
        integer(1, 100),
        7,
      )
      .option('--seconds <s>', 'length of each ebizzy run', positiveNumber, 3)
      // One sample of one build, in a process of its own (what the rounds spawn).
      .addOption(new Option('--probe <dir>').hideHelp())
      .addOption(new Option('--seed <n>').argParser(integer(1, 1000)).default(1).hideHelp()),
);

const PAGE = 4096;
/** The range refaulted per sample: 512 pages (2 MiB), one user-mode stretch touching each page. */
const SPAN = 512;
/** DONTNEED + refault cycles per sample, after WARMUP unmeasured ones; the sample is their median. */
const WARMUP = 100;
const CYCLES = 201;

interface Build {
  name: string;
  dir: string;
  // The modules are another build's: typed loosely on purpose, only the public surface is used.
  // biome-ignore lint/suspicious/noExplicitAny: a module graph loaded at run time
  index: any;
  // biome-ignore lint/suspicious/noExplicitAny: a module graph loaded at run time
  runner: any;
  // biome-ignore lint/suspicious/noExplicitAny: a module graph loaded at run time
  defaults: any;
}

async function load(name: string, dir: string): Promise<Build> {
  const dist = join(dir, 'dist', 'src');
  if (!existsSync(join(dist, 'index.js'))) {
    console.error(`bench:lru-cost: ${dist}/index.js not found (build that checkout with npm run build)`);
    process.exit(1);
  }
  const url = (path: string) => pathToFileURL(join(dist, path)).href;
  return {
    name,
    dir,
    index: await import(url('index.js')),
    runner: await import(url('experiment/runner.js')),
    defaults: await import(url('experiment/defaults.js')),
  };
}

/** ns per page of MADV_DONTNEED of the range and of touching it again (medians of CYCLES cycles). */
function refault(b: Build): { dontneedNs: number; refaultNs: number } {
  const machine = b.index.Machine.create({ memoryMiB: 64, cpus: 1, maxProcesses: 2, vaMiB: 64 });
  const t = machine.createProcess().mainThread(0);
  const base = t.mmap(SPAN * PAGE);
  const touch = (value: number) =>
    t.inUser(() => {
      for (let page = 0; page < SPAN; page++) t.store32(base + page * PAGE, value);
    });
  touch(1);
  for (let cycle = 0; cycle < WARMUP; cycle++) {
    t.madvise(base, SPAN * PAGE, b.index.MADV_DONTNEED);
    touch(cycle);
  }
  const zap: number[] = [];
  const fault: number[] = [];
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const t0 = performance.now();
    if (t.madvise(base, SPAN * PAGE, b.index.MADV_DONTNEED) !== 0) throw new Error('madvise failed');
    const t1 = performance.now();
    touch(cycle + 2);
    const t2 = performance.now();
    zap.push(((t1 - t0) * 1e6) / SPAN);
    fault.push(((t2 - t1) * 1e6) / SPAN);
  }
  machine.detach();
  machine.validate();
  return { dontneedNs: median(zap), refaultNs: median(fault) };
}

async function ebizzy(b: Build, seed: number): Promise<number> {
  const base = b.defaults.defaultRunConfig();
  const config = {
    ...base,
    memoryMiB: 64,
    lgDirtyMult: -1,
    seed,
    policy: 'dontneed',
    cpus: 1,
    ebizzy: { ...base.ebizzy, threads: 1, seconds: options.seconds },
  };
  const result = await b.runner.runEbizzy(config);
  return result.recordsPerSecond as number;
}

interface Sample {
  refaultNs: number;
  dontneedNs: number;
  records: number;
}

if (options.probe !== undefined) {
  const b = await load('probe', options.probe);
  const r = refault(b);
  const sample: Sample = { ...r, records: await ebizzy(b, options.seed) };
  console.log(JSON.stringify(sample));
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
function probe(dir: string, seed: number): Sample {
  const args = [self, '--probe', dir, '--before', dir, '--seconds', String(options.seconds)];
  const out = execFileSync(process.execPath, [...args, '--seed', String(seed), '--no-write'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '') as Sample;
}

const host = hostInfo();
const loadStart = os.loadavg()[0];
const builds = [
  { name: 'before', dir: resolve(options.before) },
  { name: 'after', dir: resolve('.') },
];
for (const b of builds) await load(b.name, b.dir); // both exist and load, before anything is measured
const samples: Record<string, { refaultNs: number[]; dontneedNs: number[]; records: number[] }> = {};
for (const b of builds) samples[b.name] = { refaultNs: [], dontneedNs: [], records: [] };
for (let round = 0; round < options.rounds; round++) {
  const order = round % 2 === 0 ? builds : [...builds].reverse();
  for (const b of order) {
    const r = probe(b.dir, round + 1);
    samples[b.name].refaultNs.push(r.refaultNs);
    samples[b.name].dontneedNs.push(r.dontneedNs);
    samples[b.name].records.push(r.records);
    console.error(
      `round ${round + 1} ${b.name}: refault ${r.refaultNs.toFixed(0)} ns/page, dontneed ${r.dontneedNs.toFixed(0)} ns/page, ebizzy ${Math.round(r.records)} records/s`,
    );
  }
}

const cell = (values: number[], digits = 0) =>
  `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
const change = (key: 'refaultNs' | 'dontneedNs' | 'records') =>
  `${(((median(samples.after[key]) - median(samples.before[key])) / median(samples.before[key])) * 100).toFixed(1)}%`;
const rows = [
  [
    'refault, ns per page',
    cell(samples.before.refaultNs),
    cell(samples.after.refaultNs),
    change('refaultNs'),
  ],
  [
    'MADV_DONTNEED, ns per page',
    cell(samples.before.dontneedNs),
    cell(samples.after.dontneedNs),
    change('dontneedNs'),
  ],
  [
    'ebizzy dontneed, records/s (1 thread)',
    cell(samples.before.records),
    cell(samples.after.records),
    change('records'),
  ],
];
const markdown = [
  '# The cost of the page LRU model (issue 14), before and after, interleaved',
  '',
  hostMarkdown(host),
  "- before = the base commit's build (--before), after = this build",
  `- ${options.rounds} rounds, each build once per round (order alternating), each sample in a fresh Node process; per sample: ${WARMUP} unmeasured then ${CYCLES} measured cycles of MADV_DONTNEED of ${SPAN} pages then one user-mode stretch writing a word per page (their median), on a 64 MiB 1-CPU machine; then one ${options.seconds} s ebizzy run, policy dontneed, 1 thread, allocator purging on every free (64 MiB machine)`,
  '- median of the rounds (min–max); 1 simulated CPU on a 2-core host: not oversubscribed by this run',
  `- host load average (1 min) at the start ${loadStart.toFixed(1)}, at the end ${os.loadavg()[0].toFixed(1)} (this run keeps about 1 busy)`,
  '',
  table(['measure', 'before', 'after', 'change'], rows),
].join('\n');
console.log(markdown);
saveResults(
  options.write,
  `lru-cost-${host.cores}core`,
  { host, options, loadAverage1m: [loadStart, os.loadavg()[0]], samples },
  markdown,
);
