// Goal: `vrange-lab real` behaves like the rest of the command line — --help everywhere, and bad
// input (unknown policy, vrange/vma asked of the real kernel, 0 threads, a size that is not a page
// multiple, non-numbers), a harness that is not built, or bad input to the harness itself, each end
// with one line saying why and exit status 2.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nativeBinary } from '../../src/real/harness.js';
import { BUILT } from './built.js';

const run = promisify(execFile);
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(file, args, { timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  exec(process.execPath, ['--import', 'tsx', MAIN, ...args], env);

function expectOneLine(outcome: Outcome, pattern: RegExp): void {
  expect(outcome.code, outcome.stderr).toBe(2);
  const lines = outcome.stderr.trim().split('\n');
  expect(lines, outcome.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(outcome.stdout).toBe('');
}

describe('vrange-lab real: command line', () => {
  it('prints help for real, real ebizzy and real micro', async () => {
    const helps = await Promise.all(
      [['real'], ['real', 'ebizzy'], ['real', 'micro']].map((a) => cli([...a, '--help'])),
    );
    for (const help of helps) {
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Usage: vrange-lab real/);
    }
    expect(helps[1].stdout).toMatch(/vmaflag: the analogue of vma/);
  });

  it.each([
    [['--policy', 'foo'], /expected one of none, dontneed, madv_free, vmaflag/],
    [['--policy', 'vrange'], /vrange has no real-kernel counterpart: it was never merged/],
    [['--policy', 'vma'], /analogue is --policy vmaflag/],
    [['--policy', 'dontneed', '-t', '0'], /expected an integer from 1/],
    [['--policy', 'dontneed', '-s', '5000'], /multiple of the 4096-byte page/],
    [['--policy', 'dontneed', '-S', 'abc'], /expected a positive number/],
    [['--policy', 'dontneed', '-n', 'ten'], /expected an integer/],
    [['--policy', 'dontneed', '--processes', '1.5'], /expected an integer/],
    [['-t', '1'], /--policy/],
  ])('real ebizzy %j: one line, exit 2', async (args, pattern) => {
    expectOneLine(await cli(['real', 'ebizzy', ...args]), pattern);
  });

  it('real micro with a non-number: one line, exit 2', async () => {
    expectOneLine(await cli(['real', 'micro', '--repetitions', 'x']), /expected an integer/);
  });

  it('a harness that is not built: one line saying how to build it, exit 2', async () => {
    const env = { VRANGE_HARNESS: '/nonexistent/vrange-harness' };
    expectOneLine(await cli(['real', 'micro'], env), /npm run build:native/);
    expectOneLine(
      await cli(['real', 'ebizzy', '--policy', 'none', '-S', '0.1'], env),
      /npm run build:native/,
    );
  });

  it('compare --real with no harness built: the reason first, exit 2', async () => {
    const outcome = await cli(['compare', '--real', '--hw-profile', 'none', '-S', '0.1'], {
      VRANGE_HARNESS: '/nonexistent/vrange-harness',
    });
    // compare keeps the model commands' "(add --help for usage)" line after the reason.
    expect(outcome.code).toBe(2);
    expect(outcome.stderr.split('\n')[0]).toMatch(/harness is not built: run `npm run build:native`/);
    expect(outcome.stdout).toBe('');
  });

  it.skipIf(!BUILT)(
    'compare --real prints model and real rows side by side, vmaflag as the analogue',
    async () => {
      const outcome = await cli([
        'compare',
        '--real',
        '--hw-profile',
        'none',
        '--policies',
        'dontneed,vma,vrange',
        '--pressure',
        '0',
        '--repetitions',
        '1',
        ...['-S', '0.3', '-n', '2', '-s', '64k', '--memory', '16'],
      ]);
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toMatch(/model and real kernel side by side: 1 repetitions each, interleaved/);
      expect(outcome.stdout).toMatch(/^vma +vmaflag \(analogue\) +[\d,]+ \([\d,]+-[\d,]+\) +[\d,]+ /m);
      expect(outcome.stdout).toMatch(/^vrange +none \(never merged\) +[\d,]+ .* - +- /m);
      expect(outcome.stdout).toMatch(/note: vrange has no real-kernel counterpart/);
    },
  );

  it.skipIf(!BUILT).each([
    [['ebizzy', '--policy', 'foo'], /expected one of/],
    [['ebizzy', '--policy', 'vrange'], /never merged/],
    [['ebizzy', '--policy', 'none', '-t', '0'], /-t: expected an integer from 1/],
    [['ebizzy', '--policy', 'none', '-s', '5000'], /multiple of the 4096-byte page/],
    [['ebizzy', '--policy', 'none', '-S', '1x'], /-S: expected a positive number/],
    [['ebizzy', '--policy', 'none', '--bogus'], /unknown option/],
    [['micro', '--repetitions', '0'], /--repetitions: expected an integer/],
    [['frobnicate'], /unknown command/],
  ])('the harness itself, %j: one line, exit 2', async (args, pattern) => {
    expectOneLine(await exec(nativeBinary()!, args), pattern);
  });
});
