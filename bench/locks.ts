// Lock benchmarks (npm run bench:locks): uncontended lock+unlock pairs per primitive with lock_stat
// on and off beside the raw Atomics floor measured in the same run; contended throughput at 1, 2
// and 4 CPUs; the wait/notify hand-off latency between two CPUs.

import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { integer } from '../src/cli/options.js';
import { LockLab, type LockOptions, readLockStat } from '../src/locks/index.js';
import { runOnCpu } from '../src/workers/cpu_task.js';
import type { LockLabTask } from '../src/workers/lock_lab_worker.js';
import type { LockMode, ScenarioResult } from '../src/workers/lock_scenarios.js';
import { createPool } from '../src/workers/pool.js';
import { benchCommandLine } from './cli.js';
import { hostInfo, hostMarkdown, median, medianMs, oversubscribed, saveResults, table } from './report.js';

const LOOP = 1000;
const DEFAULT_PASSES = 7;
const FLOOR_ROW = 'raw Atomics floor (compareExchange + store)';
const FLOOR_END_ROW = 'raw Atomics floor again, at the end of the pass';
const PROBE_ROW = 'plain probe: push/pop on an unshared Int32Array, no atomics';
const MUTEX_ROW = 'mutex lock+unlock, lock_stat on';
const READ_ROW = 'rwsem down_read+up_read, lock_stat on';
/**
 * A pass ran in one of the host's slow spells, at least in part, when its plain-instruction probe or
 * either of its floors is this far above the run's lowest (fast passes here stay within 1.1x and
 * 1.07x; slow ones measured 1.5x and 1.18x and more). Relative to the run itself: a run spent
 * entirely in a spell shows none.
 */
const SPELL_PROBE_RATIO = 1.2;
const SPELL_FLOOR_RATIO = 1.1;
/**
 * Issue 2's targets, lock_stat on, each with the same pair's lock_stat-off row: that pair beside the
 * floor in each host state shows how much of a slow spell's cost is lock_stat's.
 */
const TARGETS: [string, string, string, number][] = [
  ['mutex pair', MUTEX_ROW, 'mutex lock+unlock, lock_stat off', 40],
  ['rwsem read pair', READ_ROW, 'rwsem down_read+up_read, lock_stat off', 50],
];
const CLASSES = [
  { name: 'bench_mutex', kind: 'mutex' as const },
  { name: 'bench_spinlock', kind: 'spinlock' as const },
  { name: 'bench_rwsem', kind: 'rwsem' as const },
];

function makeLab(cpus: number, options: Partial<LockOptions>): LockLab {
  return LockLab.create({
    cpus,
    classes: CLASSES,
    locks: CLASSES.map((c) => c.name),
    dataWords: 16,
    options,
  });
}

interface PairRow {
  name: string;
  nsPerPair: number;
}

async function uncontended(): Promise<PairRow[]> {
  const on = makeLab(1, { lockStat: true });
  const off = makeLab(1, { lockStat: false });
  const cpuOn = on.cpu(0);
  const cpuOff = off.cpu(0);
  const floor = new Int32Array(new SharedArrayBuffer(64));
  const bench = new Bench({ time: 400, warmupTime: 100 });
  const floorPairs = () => {
    for (let i = 0; i < LOOP; i++) {
      Atomics.compareExchange(floor, 0, 0, 1);
      Atomics.store(floor, 0, 0);
    }
  };
  bench.add(FLOOR_ROW, floorPairs);
  // How fast the host runs plain instructions right now: a held-stack-like push and pop with no
  // atomic in it. Its cost moves with the host's slow spells more than the floor's does.
  const probe = new Int32Array(64);
  bench.add(PROBE_ROW, () => {
    for (let i = 0; i < LOOP; i++) {
      const depth = probe[0];
      probe[8 + depth] = i;
      probe[0] = depth + 1;
      if (probe[8 + depth] !== i) probe[1]++;
      probe[0] = depth;
      probe[2]++;
    }
  });
  for (const [suffix, lab, cpu] of [
    ['lock_stat on', on, cpuOn],
    ['lock_stat off', off, cpuOff],
  ] as const) {
    const mutex = lab.mutex(0);
    const spin = lab.spinlock(1);
    const sem = lab.rwsem(2);
    bench.add(`mutex lock+unlock, ${suffix}`, () => {
      for (let i = 0; i < LOOP; i++) {
        mutex.lock(cpu);
        mutex.unlock(cpu);
      }
    });
    bench.add(`spinlock lock+unlock, ${suffix}`, () => {
      for (let i = 0; i < LOOP; i++) {
        spin.lock(cpu);
        spin.unlock(cpu);
      }
    });
    bench.add(`rwsem down_read+up_read, ${suffix}`, () => {
      for (let i = 0; i < LOOP; i++) {
        sem.downRead(cpu);
        sem.upRead(cpu);
      }
    });
    bench.add(`rwsem down_write+up_write, ${suffix}`, () => {
      for (let i = 0; i < LOOP; i++) {
        sem.downWrite(cpu);
        sem.upWrite(cpu);
      }
    });
  }
  // Measured again last: a pass whose two floors differ began or ended in one of the host's spells.
  bench.add(FLOOR_END_ROW, floorPairs);
  await bench.run();
  return bench.tasks.map((task) => ({
    name: task.name,
    nsPerPair: (medianMs(bench, task.name) * 1e6) / LOOP,
  }));
}

interface ContendedRow {
  lock: string;
  cpus: number;
  pairsPerSec: number;
  contentions: number;
  sleeps: number;
  oversubscribed: boolean;
}

async function contended(durationMs: number): Promise<ContendedRow[]> {
  const rows: ContendedRow[] = [];
  const pool = createPool('lock_lab_worker', 4);
  const cases: [string, number, LockMode][] = [
    ['mutex', 0, 'write'],
    ['spinlock', 1, 'write'],
    ['rwsem read', 2, 'read'],
    ['rwsem write', 2, 'write'],
  ];
  try {
    for (const [name, lock, mode] of cases) {
      for (const cpus of [1, 2, 4]) {
        const lab = makeLab(cpus, { lockStat: true });
        const results = await Promise.all(
          Array.from({ length: cpus }, (_, cpu) => {
            const task: LockLabTask = {
              handle: lab.handle,
              cpu,
              scenario: { kind: 'throughput', lock, mode, durationMs, start: 0, cpus },
            };
            return runOnCpu<ScenarioResult>(pool, lab.dom, cpu, task);
          }),
        );
        const pairs = results.reduce((sum, r) => sum + r.count, 0);
        const stat = readLockStat(lab.dom).find(
          (r) => r.name.startsWith(CLASSES[lock].name) && r.acquisitions > 0,
        );
        rows.push({
          lock: name,
          cpus,
          pairsPerSec: Math.round(pairs / (durationMs / 1000)),
          contentions: stat?.contentions ?? 0,
          sleeps: stat?.sleeps ?? 0,
          oversubscribed: oversubscribed(cpus),
        });
      }
    }
  } finally {
    await pool.destroy();
  }
  return rows;
}

async function handoff(rounds: number): Promise<number> {
  const pool = createPool('lock_lab_worker', 2);
  try {
    const lab = makeLab(2, {});
    const results = await Promise.all(
      ([0, 1] as const).map((side) => {
        const task: LockLabTask = {
          handle: lab.handle,
          cpu: side,
          scenario: { kind: 'pingpong', word: 0, side, rounds },
        };
        return runOnCpu<ScenarioResult>(pool, lab.dom, side, task);
      }),
    );
    const elapsedMs = Math.max(...results.map((r) => r.elapsedMs));
    return (elapsedMs * 1000) / (2 * rounds);
  } finally {
    await pool.destroy();
  }
}

/** One uncontended pass in a fresh isolate (this module, run as a worker). */
function uncontendedPass(): Promise<PairRow[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { uncontendedPass: true } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`uncontended pass exited with ${code}`)));
  });
}

interface LocksOptions {
  passes: number;
  write: boolean;
}

async function main({ passes: passCount, write }: LocksOptions): Promise<void> {
  const host = hostInfo();
  console.error('uncontended pairs (tinybench)...');
  // Each pass runs in a worker thread of its own, a fresh V8 isolate with its own JIT state, one
  // after the other. This VM has spells (seconds to minutes) in which the host runs plain
  // instructions 1.3-1.9x slower and the Atomics floor 1.2-1.4x slower; the same compiled code then
  // measures 1.5-2x slower (docs/dev/hot-paths.md). Passes spread over ~40 s sample those spells,
  // and each pass's floor, measured beside its pairs, shows which state it ran in.
  const passes: PairRow[][] = [];
  for (let rep = 0; rep < passCount; rep++) {
    passes.push(await uncontendedPass());
    console.error(`  pass ${rep + 1}/${passCount} done`);
  }
  const single = passes[0].map((row, i) => {
    const values = passes.map((pass) => pass[i].nsPerPair);
    return {
      name: row.name,
      nsPerPair: median(values),
      minNs: Math.min(...values),
      maxNs: Math.max(...values),
    };
  });
  const ns = (pass: PairRow[], name: string): number => {
    const row = pass.find((r) => r.name === name);
    if (row === undefined) throw new Error(`no row ${name}`);
    return row.nsPerPair;
  };
  const minProbe = Math.min(...passes.map((pass) => ns(pass, PROBE_ROW)));
  const minFloor = Math.min(...passes.flatMap((pass) => [ns(pass, FLOOR_ROW), ns(pass, FLOOR_END_ROW)]));
  const inSpell = passes.map(
    (pass) =>
      ns(pass, PROBE_ROW) >= SPELL_PROBE_RATIO * minProbe ||
      Math.max(ns(pass, FLOOR_ROW), ns(pass, FLOOR_END_ROW)) >= SPELL_FLOOR_RATIO * minFloor,
  );
  const perPass = passes.map((pass, i) => ({
    pass: i + 1,
    state: inSpell[i] ? ('slow spell' as const) : ('fast' as const),
    floorNs: ns(pass, FLOOR_ROW),
    floorEndNs: ns(pass, FLOOR_END_ROW),
    probeNs: ns(pass, PROBE_ROW),
    mutexNs: ns(pass, MUTEX_ROW),
    readNs: ns(pass, READ_ROW),
  }));
  const byState = (name: string, spell: boolean) => {
    const values = passes.filter((_, i) => inSpell[i] === spell).map((pass) => ns(pass, name));
    return { passes: values.length, medianNs: values.length === 0 ? null : median(values) };
  };
  const targets = TARGETS.map(([what, name, offName, limitNs]) => {
    const medianNs = ns(single, name);
    const metIn = passes.filter((pass) => ns(pass, name) <= limitNs).length;
    const fast = { ...byState(name, false), lockStatOffNs: byState(offName, false).medianNs };
    const slow = { ...byState(name, true), lockStatOffNs: byState(offName, true).medianNs };
    return { what, limitNs, medianNs, met: medianNs <= limitNs, metIn, fast, slow };
  });
  const stateText = (
    s: { passes: number; medianNs: number | null; lockStatOffNs: number | null },
    limitNs: number,
  ) =>
    s.medianNs === null || s.lockStatOffNs === null
      ? 'none'
      : `median ${s.medianNs.toFixed(1)} ns over ${s.passes}, ${s.medianNs <= limitNs ? 'within' : 'NOT within'} the target (lock_stat off: ${s.lockStatOffNs.toFixed(1)} ns)`;
  console.error('contended throughput at 1, 2, 4 CPUs...');
  const multi = await contended(1000);
  console.error('wait/notify hand-off...');
  const handoffUs = await handoff(20_000);
  const floor = single[0].nsPerPair;
  const withFloor = (value: number, passFloor: number) =>
    `${value.toFixed(1)} (${(value / passFloor).toFixed(2)}x)`;
  const markdown = [
    '# Lock benchmarks',
    '',
    hostMarkdown(host),
    '',
    `## Uncontended lock+unlock pair (median of ${passCount} tinybench passes, each in a fresh worker isolate and the median of its samples of ${LOOP} pairs)`,
    '',
    table(
      ['primitive', 'ns per pair', 'range over passes', 'x floor'],
      single.map((r) => [
        r.name,
        r.nsPerPair.toFixed(1),
        `${r.minNs.toFixed(1)}–${r.maxNs.toFixed(1)}`,
        (r.nsPerPair / floor).toFixed(2),
      ]),
    ),
    '',
    `Each pass, with its own floor at its start (x floor in brackets) and at its end, and its plain-instruction probe. A pass whose probe is ${SPELL_PROBE_RATIO}x the run's lowest or more, or either of whose floors is ${SPELL_FLOOR_RATIO}x the lowest or more, ran in one of the host's slow spells, at least in part (relative to this run: a run spent entirely in a spell shows none). A pass whose pairs alone are slow may have met a spell that began and ended between its floors.`,
    '',
    table(
      [
        'pass',
        'host state',
        'floor ns, start',
        'floor ns, end',
        'plain probe ns',
        'mutex ns, lock_stat on',
        'rwsem read ns, lock_stat on',
      ],
      perPass.map((p) => [
        p.pass,
        p.state,
        p.floorNs.toFixed(1),
        p.floorEndNs.toFixed(1),
        p.probeNs.toFixed(2),
        withFloor(p.mutexNs, p.floorNs),
        withFloor(p.readNs, p.floorNs),
      ]),
    ),
    '',
    'Targets (issue 2), with lock_stat on:',
    ...targets.map(
      (t) =>
        `- ${t.what} <= ${t.limitNs} ns: median ${t.medianNs.toFixed(1)} ns, ${t.met ? 'met' : 'NOT met'} (within it in ${t.metIn} of ${passCount} passes); passes in the host's fast state: ${stateText(t.fast, t.limitNs)}; in slow spells: ${stateText(t.slow, t.limitNs)}`,
    ),
    '',
    '## Contended throughput (all CPUs on one lock, 1 s)',
    '',
    table(
      ['lock', 'CPUs', 'pairs/s (all CPUs)', 'contentions', 'slept', 'note'],
      multi.map((r) => [
        r.lock,
        r.cpus,
        r.pairsPerSec.toLocaleString('en-US'),
        r.contentions,
        r.sleeps,
        r.oversubscribed ? `oversubscribed (${host.cores} cores)` : '',
      ]),
    ),
    '',
    `## Hand-off latency\n\nAtomics.wait/notify ping-pong between two CPUs: ${handoffUs.toFixed(2)} µs per hand-off.`,
  ].join('\n');
  console.log(markdown);
  saveResults(
    write,
    `locks-${host.cores}core`,
    { host, uncontended: single, uncontendedPasses: passes, perPass, targets, contended: multi, handoffUs },
    markdown,
  );
}

if (isMainThread) {
  const { options } = benchCommandLine<LocksOptions>(
    'bench:locks',
    `Lock benchmarks: uncontended pairs per primitive (lock_stat on and off) beside the raw Atomics floor, contended throughput at 1, 2 and 4 CPUs, wait/notify hand-off latency. Writes bench/results/locks-<cores>core.{md,json}.`,
    (command) =>
      command.option(
        '--passes <n>',
        'uncontended passes, each in a fresh worker isolate',
        integer(1, 99),
        DEFAULT_PASSES,
      ),
  );
  await main(options);
} else if (workerData?.uncontendedPass === true) parentPort?.postMessage(await uncontended());
