// Goal: the command line behaves like a tool — --help everywhere, a one-line reason and a non-zero
// exit for bad options, machine-readable --json output from a real (short) run, and sweep shards
// that merge back into one result with CSV and SVG.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const SMALL = ['-S', '0.5', '--cpus', '1', '-t', '1', '-n', '2', '-s', '64k', '--memory', '16'];

describe('vrange-lab command line', () => {
  it('prints help for the program and every command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/ebizzy.*\n.*\n?.*compare/s);
    const commands = ['ebizzy', 'compare', 'sweep', 'merge'];
    const helps = await Promise.all(commands.map((command) => cli(command, '--help')));
    helps.forEach((help, i) => {
      expect(help.code, commands[i]).toBe(0);
      expect(help.stdout).toMatch(/Usage: vrange-lab/);
    });
  });

  it('rejects bad options with a one-line reason and a non-zero exit', async () => {
    const cases = [
      ['ebizzy', '--policy', 'nope'],
      ['ebizzy', '-n', '0'],
      ['ebizzy', '-s', 'lots'],
      ['ebizzy', '--tlb-entries', '100'],
      ['compare', '--tlb-entries', '0'],
      ['sweep', '--shard', '5/4'],
      ['ebizzy', '--pressure', '64', '--memory', '16'],
      ['merge', '/no/such/file.json'],
      ['frobnicate'],
    ];
    const results = await Promise.all(cases.map((args) => cli(...args)));
    results.forEach((result, i) => {
      expect(result.code, cases[i].join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n')[0], cases[i].join(' ')).toMatch(/error|vrange-lab:/);
    });
  });

  it('ebizzy --json is parseable and complete', async () => {
    const result = await cli('ebizzy', ...SMALL, '--policy', 'vrange', '--tlb-entries', '64', '--json');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.records).toBeGreaterThan(0);
    expect(json.config.policy).toBe('vrange');
    expect(json.config.tlbEntries).toBe(64);
    expect(json.host.cores).toBeGreaterThan(0);
    expect(typeof json.oversubscribed).toBe('boolean');
    expect(json.vmstat.vrange_volatile).toBeGreaterThan(0);
    expect(json.lockStat.map((r: { name: string }) => r.name)).toContain('vrange_lock');
  });

  it('sweep shards merge into one sweep with CSV and SVG', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vrange-sweep-'));
    const args = [
      'sweep',
      '-S',
      '0.5',
      '-n',
      '2',
      '-s',
      '64k',
      '--memory',
      '16',
      '--thread-counts',
      '1',
      '--policies',
      'dontneed,vrange',
      '--out',
      dir,
    ];
    const shards = await Promise.all([cli(...args, '--shard', '1/2'), cli(...args, '--shard', '2/2')]);
    for (const shard of shards) expect(shard.code, shard.stderr).toBe(0);
    const merged = await cli(
      'merge',
      join(dir, 'sweep.shard-1-of-2.json'),
      join(dir, 'sweep.shard-2-of-2.json'),
      '--out',
      dir,
      '--json',
    );
    expect(merged.code, merged.stderr).toBe(0);
    const file = JSON.parse(merged.stdout);
    expect(file.results.map((r: { config: { policy: string } }) => r.config.policy).sort()).toEqual([
      'dontneed',
      'vrange',
    ]);
    expect(readFileSync(join(dir, 'sweep.csv'), 'utf8').split('\n')[0]).toMatch(/^policy,threads,/);
    expect(readFileSync(join(dir, 'sweep.svg'), 'utf8')).toMatch(/^<svg/);
  });
});
