// vrange-lab stress: randomized stress with online invariant checking (see src/stress/).

import { Command, InvalidArgumentError } from 'commander';
import { formatNumber, formatRate, hostLine, textTable, tlbNote } from '../experiment/report.js';
import { resolveHwProfile } from '../hw/cache.js';
import { describeHwConfig, hwConfigOf } from '../hw/profile.js';
import { DEFAULT_TLB_ENTRIES, MAX_TLB_ENTRIES, type Mutations, NO_MUTATIONS } from '../mm/config.js';
import { runStress, type StressConfig, type StressReport } from '../stress/runner.js';
import { OP_NAMES, STRESS_POLICIES, type StressPolicy } from '../stress/thread.js';
import { busyCpus } from '../workers/host.js';
import { integer, positiveNumber, powerOfTwo } from './options.js';
import { progress } from './progress.js';

function stressPolicy(text: string): StressPolicy {
  if (!(STRESS_POLICIES as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`expected one of ${STRESS_POLICIES.join(', ')}, got "${text}"`);
  }
  return text as StressPolicy;
}

function faultKind(text: string): 'throw' | 'terminate' {
  if (text !== 'throw' && text !== 'terminate')
    throw new InvalidArgumentError(`expected throw or terminate, got "${text}"`);
  return text;
}

function strategy(text: string): 'random' | 'pct' {
  if (text !== 'random' && text !== 'pct')
    throw new InvalidArgumentError(`expected random or pct, got "${text}"`);
  return text;
}

function mutation(text: string, previous: (keyof Mutations)[] = []): (keyof Mutations)[] {
  if (!(text in NO_MUTATIONS))
    throw new InvalidArgumentError(`expected one of ${Object.keys(NO_MUTATIONS).join(', ')}, got "${text}"`);
  return [...previous, text as keyof Mutations];
}

export function renderStress(report: StressReport): string {
  const c = report.config;
  const lines = [
    `stress: policy ${c.policy}, ${c.cpus} CPU(s) x ${c.processes} process(es), ${c.seconds > 0 ? `${c.seconds} s` : `${c.opsPerThread} ops per thread`}, seed ${c.seed}, ` +
      `${c.memoryMiB} MiB memory${tlbNote(c.tlbEntries)}, pressure ${c.pressureMiB} MiB${c.delayInjection ? ', delay injection' : ''}` +
      `${Object.keys(c.mutations).length > 0 ? `, MUTATIONS ${Object.keys(c.mutations).join(' ')}` : ''}`,
    hostLine(report.host, busyCpus(c.cpus, c.pressureMiB)),
    describeHwConfig(c.hw),
    '',
    textTable(
      ['operation', 'count', 'per second'],
      OP_NAMES.map((name) => [
        name,
        formatNumber(report.ops[name]),
        formatRate(report.ops[name], report.elapsedSeconds),
      ]),
    ),
    `total: ${formatNumber(report.totalOps)} operations in ${report.elapsedSeconds.toFixed(1)} s (${formatNumber(report.opsPerSecond)}/s); ${report.validations} whole-machine validations; ${formatNumber(report.oom)} accesses found no memory`,
  ];
  if (report.vmstat !== null) {
    const v = report.vmstat;
    lines.push(
      `kernel: ${formatNumber(v.pgfault)} faults, ${formatNumber(v.pgvrange_discard)} pages purged (${formatNumber(v.vrange_victim_changed)} victims changed before they were locked), ${formatNumber(v.pglazyfreed)} lazily freed pages discarded, ${formatNumber(v.nr_tlb_remote_flush)} shootdowns, ${formatNumber(v.sigbus)} SIGBUS, ${formatNumber(v.sigsegv)} SIGSEGV`,
    );
  }
  if (report.pressure !== null) {
    const p = report.pressure;
    lines.push(
      `pressure: held up to ${formatNumber(p.peakPages)} pages, faulted ${formatNumber(p.pagesFaulted)} pages in ${formatNumber(p.rounds)} rounds (${p.oom} out of memory)`,
    );
  }
  if (report.traceHash !== null) {
    lines.push(
      `deterministic schedule (${c.strategy}): ${formatNumber(report.schedulingSteps)} decisions, trace hash ${report.traceHash}`,
    );
  }
  for (const v of report.violations) {
    lines.push(
      '',
      `VIOLATION (run --seed ${c.seed}, thread seed ${v.seed}, cpu ${v.cpu}, pid ${v.pid}, ${v.op}): expected ${v.expected}; ${v.actual}`,
    );
    if (v.kernel) lines.push(`  kernel: ${v.kernel}`);
    for (const h of v.history) lines.push(`  ${h}`);
    if (v.schedule.length > 0) {
      lines.push(
        `  last ${v.schedule.length} scheduling decisions before it:`,
        ...v.schedule.map((d) => `    ${d}`),
      );
    }
  }
  for (const e of report.validationErrors) lines.push(`VALIDATION: ${e}`);
  for (const l of report.lockdep) lines.push(`LOCKDEP: ${l}`);
  if (report.crash !== null) lines.push(`CRASH (seed ${c.seed}): ${report.crash}`);
  lines.push(
    '',
    report.passed
      ? 'PASSED: no violation.'
      : c.deterministic
        ? `FAILED: replay exactly with --seed ${c.seed} --deterministic --ops ${c.opsPerThread} --strategy ${c.strategy} --replay 64 (and the same options).`
        : `FAILED: --seed ${c.seed} (and the same options) repeats each thread's operations, not the real threads' interleaving; --deterministic --ops N replays a run exactly.`,
  );
  return lines.join('\n');
}

export function stressCommand(): Command {
  return new Command('stress')
    .description(
      'randomized stress with online invariant checking against per-thread shadow models; exits non-zero on any violation',
    )
    .option(
      '--policy <policy>',
      `which volatility design the mix uses: ${STRESS_POLICIES.join(', ')}`,
      stressPolicy,
      'all' as StressPolicy,
    )
    .option('--cpus <n>', 'simulated CPUs running stress threads', integer(1, 64), 2)
    .option('--processes <n>', 'simulated processes (each CPU runs one thread of each)', integer(1, 64), 2)
    .option('--seconds <s>', 'how long to run', positiveNumber, 10)
    .option('--ops <n>', 'run a fixed number of operations per thread instead of --seconds', integer(1))
    .option('--seed <n>', "seed of every thread's generator", integer(0, 0xffffffff), 1)
    .option('--memory <MiB>', 'simulated physical memory', integer(8, 3072), 16)
    .option(
      '--tlb-entries <n>',
      "entries of each simulated CPU's TLB (a power of two; small ones evict all the time)",
      powerOfTwo(1, MAX_TLB_ENTRIES),
      DEFAULT_TLB_ENTRIES,
    )
    .option(
      '--pressure <MiB>',
      'pressure process (0: none); it keeps free memory at the low watermark',
      integer(0, 3071),
      15,
    )
    .option(
      '--validate-every <ms>',
      'pause every CPU and validate the whole machine this often (0: at the end only)',
      integer(0),
      1000,
    )
    .option(
      '--delay-injection',
      'KCSAN-style random delays at lock and access points, to widen race windows',
      false,
    )
    .option(
      '--deterministic',
      'run every CPU under the deterministic scheduler: the seed fixes the interleaving (needs --ops)',
      false,
    )
    .option('--strategy <name>', 'deterministic scheduling: random (random walk) or pct', strategy, 'random')
    .option(
      '--replay <n>',
      'deterministic run printing the last n scheduling decisions before the first violation',
      integer(1, 10_000),
    )
    .option(
      '--mutation <name>',
      `test only: re-introduce a known race (${Object.keys(NO_MUTATIONS).join(', ')}); repeatable`,
      mutation,
    )
    .option(
      '--inject-fault <kind>',
      'test only: cpu 0 throws inside a critical section (throw) or its worker thread is terminated mid-run (terminate)',
      faultKind,
    )
    .option(
      '--hw-profile <profile>',
      'hardware events charged: none (pure software), host (vrange-lab calibrate) or a profile file',
      'none',
    )
    .option('--json', 'print the report as JSON', false)
    .action(
      async (o: {
        policy: StressPolicy;
        cpus: number;
        processes: number;
        seconds: number;
        ops?: number;
        seed: number;
        memory: number;
        tlbEntries: number;
        pressure: number;
        validateEvery: number;
        delayInjection: boolean;
        deterministic: boolean;
        strategy: 'random' | 'pct';
        replay?: number;
        injectFault?: 'throw' | 'terminate';
        mutation?: (keyof Mutations)[];
        hwProfile: string;
        json: boolean;
      }) => {
        const deterministic = o.deterministic || o.replay !== undefined;
        if (deterministic && o.ops === undefined) {
          throw new Error('--deterministic and --replay need --ops (a run of fixed length), not --seconds');
        }
        if (o.pressure >= o.memory)
          throw new Error(`--pressure (${o.pressure} MiB) must be less than --memory (${o.memory} MiB)`);
        const config: StressConfig = {
          policy: o.policy,
          cpus: o.cpus,
          processes: o.processes,
          seconds: o.ops === undefined ? o.seconds : 0,
          opsPerThread: o.ops ?? 0,
          seed: o.seed,
          memoryMiB: o.memory,
          tlbEntries: o.tlbEntries,
          pressureMiB: o.pressure,
          validateEveryMs: o.validateEvery,
          delayInjection: o.delayInjection,
          mutations: Object.fromEntries((o.mutation ?? []).map((m) => [m, true])),
          deterministic,
          strategy: o.strategy,
          replayDecisions: o.replay ?? 16,
          injectFault: o.injectFault ?? null,
          hw: hwConfigOf(resolveHwProfile(o.hwProfile)),
        };
        const bar = progress(
          config.seconds > 0 ? config.seconds : 1,
          'stress',
          !deterministic && process.stderr.isTTY === true,
        );
        let report: StressReport;
        try {
          report = await runStress(config, (ops, elapsed) =>
            bar.update(config.seconds > 0 ? elapsed : 0, `${formatNumber(ops)} ops`),
          );
        } finally {
          bar.stop();
        }
        console.log(o.json ? JSON.stringify(report, null, 2) : renderStress(report));
        if (!report.passed) process.exitCode = 1;
      },
    );
}
