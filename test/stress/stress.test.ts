// Goal: `vrange-lab stress` runs each policy's random mix with online checking and finds nothing
// wrong in the kernel as it is — and it can fail: each test-only mutation that re-introduces a
// known race is caught within 30 s on 2 cores (fork and exit are in the mix: a child's shadow is a
// copy of its parent's, and each side must keep its own data). Every run prints its seed; a --deterministic failure
// replays exactly from it (a run on real threads reuses the seed's generators, not its interleaving).

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

interface Outcome {
  code: number;
  report: {
    passed: boolean;
    totalOps: number;
    violations: unknown[];
    validationErrors: string[];
    crash: string | null;
    lockdep: string[];
    vmstat: Record<string, number> | null;
    config: { tlbEntries?: number };
  } | null;
  text: string;
}

async function stress(...args: string[]): Promise<Outcome> {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'stress', '--json', ...args], {
      timeout: 90_000,
      maxBuffer: 64 << 20,
    });
    return { code: 0, report: JSON.parse(stdout), text: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    let report = null;
    try {
      report = JSON.parse(e.stdout);
    } catch {
      // not a report: the run itself failed
    }
    return { code: typeof e.code === 'number' ? e.code : 1, report, text: `${e.stdout}\n${e.stderr}` };
  }
}

describe('vrange-lab stress on the kernel as it is', () => {
  // The default 2048-entry TLB keeps stale entries longest; `all` runs an 8-entry one, which evicts
  // every few pages, so that page walks and refills race with shootdowns all the time.
  for (const [policy, seed, tlbEntries] of [
    ['vrange', 11, 2048],
    ['vma', 12, 2048],
    ['madv_free', 13, 2048],
    ['dontneed', 14, 2048],
    ['all', 15, 8],
  ] as const) {
    it(`${policy}: a 3 s mixed run with pressure, ${tlbEntries}-entry TLBs, finds no violation (seed ${seed})`, async () => {
      const outcome = await stress(
        '--policy',
        policy,
        '--seconds',
        '3',
        '--seed',
        String(seed),
        '--validate-every',
        '500',
        '--tlb-entries',
        String(tlbEntries),
      );
      expect(outcome.report?.config.tlbEntries).toBe(tlbEntries);
      console.log(
        `stress --policy ${policy} --seed ${seed}: ${outcome.report?.totalOps} ops, passed ${outcome.report?.passed}`,
      );
      expect(outcome.code, outcome.text.slice(0, 2000)).toBe(0);
      expect(outcome.report?.passed).toBe(true);
      expect(outcome.report?.totalOps).toBeGreaterThan(1000);
      // The run exercised what it checks: reclaim purged or discarded pages under the pressure.
      const v = outcome.report!.vmstat!;
      expect(v.pgvrange_discard + v.pglazyfreed).toBeGreaterThan(0);
      // Processes forked and broke copy-on-write while reclaim ran; with marking, reclaim met
      // volatile pages shared with another process (and kept or purged them).
      expect(v.fork).toBeGreaterThan(0);
      expect(v.cow_fault).toBeGreaterThan(0);
      if (policy === 'vrange' || policy === 'vma' || policy === 'all')
        expect(v.pgvrange_shared_skip + v.pgvrange_shared_discard).toBeGreaterThan(0);
    });
  }

  it('with KCSAN-style delay injection: still no violation (seed 21)', async () => {
    const outcome = await stress('--policy', 'all', '--seconds', '3', '--seed', '21', '--delay-injection');
    expect(outcome.code, outcome.text.slice(0, 2000)).toBe(0);
  });
});

describe('deterministic schedules', () => {
  it('the same seed gives the same interleaving, trace hash and result; another seed another hash', async () => {
    const args = ['--policy', 'all', '--ops', '200', '--deterministic'];
    const [a, b, c] = await Promise.all([
      stress(...args, '--seed', '31'),
      stress(...args, '--seed', '31'),
      stress(...args, '--seed', '32'),
    ]);
    for (const o of [a, b, c]) expect(o.code, o.text.slice(0, 2000)).toBe(0);
    const hash = (o: Outcome) => (o.report as unknown as { traceHash: string }).traceHash;
    console.log(`deterministic: seed 31 -> ${hash(a)} twice? ${hash(b)}; seed 32 -> ${hash(c)}`);
    expect(hash(a)).toMatch(/^[0-9a-f]{8}$/);
    expect(hash(b)).toBe(hash(a));
    expect(hash(c)).not.toBe(hash(a));
    // Everything the kernel counted is the same too (but wall-clock time).
    const counters = (o: Outcome) => ({ ...o.report?.vmstat, tlb_shootdown_wait_us: 0 });
    expect(counters(b)).toEqual(counters(a));
  });

  it('--replay prints the scheduling decisions before the violation, the same on every replay', async () => {
    // 1500 ops per thread: the pressure builds, reclaim purges, and the mutation gives violations
    // (400 ops are too few to purge anything; faultWithoutRecheck only trips the validator). Which
    // seeds purge a re-validated victim in that many operations depends on every lock the kernel
    // takes (seeds 4, 7 and 10 stopped doing so when MADV_FREE stopped taking lru_lock for pages
    // already lazily freed), so the test takes the first seed from 1 that does, and replays it.
    const decisions = 8;
    const args = (seed: number) => [
      '--policy',
      'vrange',
      '--ops',
      '1500',
      '--mutation',
      'skipPurgeRevalidation',
      '--replay',
      String(decisions),
      '--seed',
      String(seed),
    ];
    let seed = 1;
    let a = await stress(...args(seed));
    while (((a.report as { violations?: unknown[] } | null)?.violations?.length ?? 0) === 0 && seed < 10)
      a = await stress(...args(++seed));
    console.log(`--replay: seed ${seed} gives a violation to replay`);
    const b = await stress(...args(seed));
    expect(a.code, a.text.slice(0, 2000)).not.toBe(0);
    expect(a.report, a.text.slice(0, 2000)).not.toBeNull();
    expect(b.report, b.text.slice(0, 2000)).not.toBeNull();
    type Replayed = { traceHash: string; violations: { schedule: string[] }[]; validationErrors: string[] };
    const ra = a.report as unknown as Replayed;
    const rb = b.report as unknown as Replayed;
    // There is a violation to replay, and it carries the decisions asked for.
    expect(ra.violations.length).toBeGreaterThan(0);
    expect(ra.violations[0].schedule).toHaveLength(decisions);
    for (const d of ra.violations[0].schedule) expect(d).toMatch(/^#\d+ /);
    expect(rb.traceHash).toBe(ra.traceHash);
    expect(rb.validationErrors).toEqual(ra.validationErrors);
    expect(rb.violations).toEqual(ra.violations);
  });
});

describe('fault injection: a CPU that dies never hangs the run or passes as success', () => {
  for (const kind of ['throw', 'terminate'] as const) {
    it(`cpu 0 ${kind === 'throw' ? 'throws inside a critical section' : 'is terminated mid-run'}: a bounded stop with a report naming the cpu, its lock and the operation`, async () => {
      const start = Date.now();
      const outcome = await stress(
        '--policy',
        'vrange',
        '--seconds',
        '20',
        '--seed',
        '41',
        '--inject-fault',
        kind,
      );
      const seconds = (Date.now() - start) / 1000;
      console.log(
        `--inject-fault ${kind}: exit ${outcome.code} after ${seconds.toFixed(1)} s\n${outcome.report?.crash}`,
      );
      expect(outcome.code).not.toBe(0);
      expect(outcome.report?.passed).toBe(false);
      // Stopped by the failure, well before the 20 s it was asked to run.
      expect(seconds).toBeLessThan(15);
      const crash = outcome.report?.crash ?? '';
      expect(crash).toMatch(/cpu 0 (died|stopped): .*; it (held [a-z_]+-[RW] @\d+|held no locks)/);
      expect(crash).toMatch(/when the run stopped: cpu 0: [a-z_]+/);
    });
  }
});

describe('the checker can fail: every mutation is caught within 30 s', () => {
  for (const mutation of [
    'skipShootdownWait',
    'faultWithoutRecheck',
    'skipPurgeRevalidation',
    'novolatileWithoutLock',
    // fork's planted race: a shared page purged while another mapping of it is not volatile.
    'purgeIgnoresOtherMappings',
  ]) {
    it(`${mutation} is caught`, async () => {
      const start = Date.now();
      const seen: string[] = [];
      let caught = false;
      for (let seed = 1; !caught && Date.now() - start < 30_000; seed++) {
        const seconds = Math.max(1, Math.min(8, Math.floor((30_000 - (Date.now() - start)) / 1000) - 2));
        const args = [
          '--policy',
          'vrange',
          '--seconds',
          String(seconds),
          '--seed',
          String(seed),
          '--mutation',
          mutation,
        ];
        if (seed % 2 === 0) args.push('--delay-injection');
        const outcome = await stress(...args);
        const r = outcome.report;
        // Caught means a report that found something: a rejected option, a crash before the report or
        // the timeout kill exits non-zero too, but without a report that failed.
        caught = outcome.code !== 0 && r !== null && !r.passed;
        seen.push(
          `seed ${seed}: exit ${outcome.code}${r ? `, ${r.violations.length} violations, ${r.validationErrors.length} validation errors, crash ${r.crash ? 'yes' : 'no'}` : `, no report: ${outcome.text.trim().slice(0, 300)}`}`,
        );
      }
      console.log(`${mutation}: ${seen.join('; ')} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
      expect(caught, seen.join('; ')).toBe(true);
    });
  }
});
