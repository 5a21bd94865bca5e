// Goal: the benchmarks' command lines behave like the CLI's: --help prints the usage and exits 0,
// and a bad value, an unknown option or a stray argument ends with a one-line reason and a
// non-zero exit before anything is measured or written (bench/results/ is left as it was).

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const RESULTS = join(ROOT, 'bench', 'results');

async function bench(
  script: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench', script), ...args],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A digest of every file under bench/results/, names and contents. */
function resultsDigest(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(RESULTS);
  return hash.digest('hex');
}

describe('benchmark command lines', () => {
  it('print their usage on --help', async () => {
    const cases: [string, RegExp][] = [
      ['locks.ts', /Usage: bench:locks.*--passes <n>.*--no-write/s],
      ['mm.ts', /Usage: bench:mm.*--quick.*--no-write/s],
      ['ebizzy_targets.ts', /Usage: bench:ebizzy.*--repetitions <n>.*--seconds <s>/s],
      ['device/sweep.ts', /Usage: sweep.*<out-dir> \[seconds\] \[part\]/s],
      ['real_agreement.ts', /Usage: bench:real.*--repetitions <n>.*--seconds <s>.*--no-write/s],
      ['lru_cost.ts', /Usage: bench:lru-cost.*--before <dir>.*--rounds <n>.*--no-write/s],
    ];
    const results = await Promise.all(cases.map(([script]) => bench(script, '--help')));
    results.forEach((result, i) => {
      expect(result.code, cases[i][0]).toBe(0);
      expect(result.stdout, cases[i][0]).toMatch(cases[i][1]);
    });
  });

  it('reject bad input with a one-line reason, measuring and writing nothing', async () => {
    const before = resultsDigest();
    const cases: [string, string[], RegExp][] = [
      ['locks.ts', ['--passes', '0'], /--passes.*expected an integer from 1 to 99, got "0"/],
      ['locks.ts', ['--bogus'], /unknown option '--bogus'/],
      ['locks.ts', ['extra'], /too many arguments/],
      ['mm.ts', ['--quick', '--bogus'], /unknown option '--bogus'/],
      ['ebizzy_targets.ts', ['--seconds', '-1'], /expected a positive number, got "-1"/],
      ['ebizzy_targets.ts', ['--repetitions', 'x'], /expected an integer from 1 to 100, got "x"/],
      [
        'device/sweep.ts',
        [join(ROOT, 'no-such-sweep-dir'), '1', 'foo'],
        /expected one of all, compare, got "foo"/,
      ],
      ['device/sweep.ts', [], /missing required argument 'out-dir'/],
      ['real_agreement.ts', ['--seconds', '0'], /expected a positive number, got "0"/],
      ['lru_cost.ts', [], /required option '--before <dir>' not specified/],
      ['lru_cost.ts', ['--before', ROOT, '--rounds', '0'], /expected an integer from 1 to 100, got "0"/],
      ['lru_cost.ts', ['--before', join(ROOT, 'no-such-build')], /no-such-build.*not found/],
    ];
    const results = await Promise.all(cases.map(([script, args]) => bench(script, ...args)));
    results.forEach((result, i) => {
      const what = `${cases[i][0]} ${cases[i][1].join(' ')}`;
      expect(result.code, what).toBe(1);
      expect(result.stderr.split('\n')[0], what).toMatch(cases[i][2]);
      expect(result.stdout, what).toBe('');
    });
    expect(resultsDigest()).toBe(before);
    expect(() => statSync(join(ROOT, 'no-such-sweep-dir'))).toThrow();
  });
});
