// Benchmark results: where they go and what every result records about the host.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from 'tinybench';
import type { HostInfo as RunHostInfo } from '../src/experiment/types.js';
import { hostInfo as runHostInfo } from '../src/workers/host.js';

/** What every run records about the host, plus what a benchmark file states besides. */
export interface HostInfo extends RunHostInfo {
  memoryGiB: number;
  date: string;
  command: string;
  /** The commit measured, and whether the working tree (results aside) differed from it. */
  source: string;
}

/**
 * How this benchmark was started: BENCH_COMMAND when set, else the npm script with its arguments,
 * else node's argv.
 */
function benchCommand(): string {
  if (process.env.BENCH_COMMAND !== undefined) return process.env.BENCH_COMMAND;
  const [file, ...args] = process.argv.slice(1);
  const script = process.env.npm_lifecycle_event;
  if (script?.startsWith('bench'))
    return [`npm run ${script}`, ...(args.length > 0 ? ['--', ...args] : [])].join(' ');
  return ['node', relative(process.cwd(), file), ...args].join(' ');
}

/**
 * The source measured: BENCH_SOURCE when set, else `commit abc1234`, with a note when tracked files
 * other than the results differ from it.
 */
function sourceCommit(): string {
  if (process.env.BENCH_SOURCE !== undefined) return process.env.BENCH_SOURCE;
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: projectRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/results').trim();
    return dirty === '' ? `commit ${commit}` : `commit ${commit} with uncommitted changes`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

export function hostInfo(): HostInfo {
  return {
    ...runHostInfo(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    date: new Date().toISOString(),
    command: benchCommand(),
    source: sourceCommit(),
  };
}

/** Thread counts above the host's cores measure oversubscription, not scaling. */
export function oversubscribed(threads: number, host: HostInfo = hostInfo()): boolean {
  return threads > host.cores;
}

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the benchmark');
    dir = up;
  }
  return dir;
}

/**
 * Writes bench/results/<name>.json and <name>.md, unless `write` is false (--no-write, see
 * benchCommandLine()); says which on stderr.
 */
export function saveResults(write: boolean, name: string, json: unknown, markdown: string): void {
  if (!write) {
    console.error('--no-write: results not written');
    return;
  }
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, `${name}.json`);
  const mdPath = join(dir, `${name}.md`);
  // A name may hold a subdirectory (real-2core/agreement).
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(mdPath, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  console.error(`written: ${jsonPath}, ${mdPath}`);
}

export function hostMarkdown(host: HostInfo): string {
  return [
    `- host: ${host.cores} cores (${host.cpuModel}), ${host.memoryGiB} GiB, ${host.platform}`,
    `- node: ${host.node}`,
    `- date: ${host.date}`,
    `- command: \`${host.command}\``,
    `- source: ${host.source}`,
    // No benchmark sets MachineConfig.hw: the model runs as the pure software model.
    '- hw profile: none (the pure software model; no hardware event charged)',
  ].join('\n');
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median of the samples of a finished tinybench task, in ms. */
export function medianMs(bench: Bench, name: string): number {
  const task = bench.getTask(name);
  if (task === undefined) throw new Error(`no task ${name}`);
  const result = task.result;
  if (result.state !== 'completed') {
    const why = result.state === 'errored' ? `: ${result.error.message}` : '';
    throw new Error(`${name}: ${result.state}${why}`);
  }
  return result.latency.p50;
}
