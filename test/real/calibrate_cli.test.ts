// Goal: calibrate and fidelity behave like the real commands (one-line reasons, exit 2, a missing
// harness named), calibrate writes a profile that --hw-profile reads back, and compare without a
// profile or a harness falls back to none and says so.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readProfileFile } from '../../src/hw/cache.js';
import { HW_EVENTS } from '../../src/hw/profile.js';
import { BUILT } from './built.js';

const run = promisify(execFile);
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const MISSING = { VRANGE_HARNESS: '/nonexistent/vrange-harness' };

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      timeout: 120_000,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('calibrate and fidelity command lines', () => {
  it('refuse bad input and a missing harness with one line and exit 2', async () => {
    for (const [args, env, pattern] of [
      [['fidelity', '--chunk-sizes', '1000'], {}, /multiples of 4096/],
      [['fidelity', '--thread-counts', 'x'], {}, /expected an integer/],
      [['calibrate', '--repetitions', '0'], {}, /expected an integer from 1/],
      [['calibrate'], MISSING, /npm run build:native/],
      [['fidelity'], MISSING, /npm run build:native/],
    ] as const) {
      const outcome = await cli([...args], env);
      expect(outcome.code, `${args.join(' ')}: ${outcome.stderr}`).toBe(2);
      expect(outcome.stderr.trim().split('\n')[0]).toMatch(pattern);
      expect(outcome.stdout).toBe('');
    }
  });

  it('compare with no profile and no harness runs the pure model and says so', async () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'vlc-'));
    const outcome = await cli(
      [
        'compare',
        '--no-real',
        '--policies',
        'dontneed',
        '--thread-counts',
        '1',
        '--pressure',
        '0',
        '-S',
        '0.2',
      ],
      { ...MISSING, VRANGE_LAB_CACHE: cache },
    );
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toMatch(/no hardware profile and no native harness/);
    expect(outcome.stdout).toMatch(/^hw profile: none/m);
    expect(existsSync(path.join(cache, 'hw-profile.json'))).toBe(false);
  });

  it.skipIf(!BUILT)('calibrate writes a profile that ebizzy --hw-profile runs with', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vlc-'));
    const file = path.join(dir, 'p.json');
    const outcome = await cli(['calibrate', '--repetitions', '1', '--out', file]);
    expect(outcome.code, outcome.stderr).toBe(0);
    const profile = readProfileFile(file);
    for (const e of HW_EVENTS) expect(profile.costs[e].ns).toBeGreaterThanOrEqual(0);
    expect(profile.costs.syscall.ns).toBeGreaterThan(0);
    expect(profile.scale.factor).toBeGreaterThanOrEqual(1);
    const run = await cli([
      'ebizzy',
      '--hw-profile',
      file,
      '-t',
      '1',
      '--cpus',
      '1',
      '-S',
      '0.2',
      '--memory',
      '64',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`hw profile: ${file}; ns charged per event: syscall`);
  });
});
