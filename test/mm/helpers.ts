// Shared set-up for machine tests.

import { expect } from 'vitest';
import { Machine, type MachineConfigInput } from '../../src/index.js';
import type { MachineLayout } from '../../src/layout/layout.js';
import { kswapdStop } from '../../src/mm/vmscan.js';

/** A small machine for single-thread semantics (cheap to create, cheap to snapshot). */
export function smallMachine(config: MachineConfigInput = {}): Machine {
  return Machine.create({ memoryMiB: 8, cpus: 2, maxProcesses: 4, vaMiB: 64, debug: true, ...config });
}

/** Regions whose bytes are the machine's state (counters and lock statistics left out). */
export const STATE_REGIONS: readonly (keyof MachineLayout)[] = [
  'zone',
  'mms',
  'mmTlb',
  'vmas',
  'vrangeNodes',
  'vrangeLru',
  'anonLru',
  'lazyfreeLru',
  'lruBatches',
  'ptes',
  'pages',
  'frames',
];

/** A copy of the machine's state (or of some regions of it), to check that a failed syscall changed nothing. */
export function snapshot(
  machine: Machine,
  regions: readonly (keyof MachineLayout)[] = STATE_REGIONS,
): Map<string, Uint8Array> {
  const k = machine.kernel;
  const out = new Map<string, Uint8Array>();
  for (const name of regions) {
    const region = k.layout[name] as { byteOffset: number; byteLength: number };
    out.set(name, new Uint8Array(k.buffer, region.byteOffset, region.byteLength).slice());
  }
  return out;
}

/** Names of the regions that differ between two snapshots. */
export function changedRegions(before: Map<string, Uint8Array>, after: Map<string, Uint8Array>): string[] {
  const changed: string[] = [];
  for (const [name, bytes] of before) {
    const other = after.get(name)!;
    if (
      Buffer.compare(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        Buffer.from(other.buffer, other.byteOffset, other.byteLength),
      ) !== 0
    ) {
      changed.push(name);
    }
  }
  return changed;
}

/** Runs a failing call and checks both its errno and that the machine did not change. */
export function expectUnchanged(machine: Machine, call: () => number): number {
  const before = snapshot(machine);
  const ret = call();
  const changed = changedRegions(before, snapshot(machine));
  if (changed.length > 0) throw new Error(`call returned ${ret} and changed ${changed.join(', ')}`);
  return ret;
}

/** A bad call: its name, the call, and the (negative) errno the rules give for it. */
export type ErrnoCase = [name: string, call: () => number, errno: number];

/** Each call returns its errno and leaves the machine as it was. */
export function expectErrnos(machine: Machine, cases: readonly ErrnoCase[]): void {
  for (const [name, call, errno] of cases) expect(expectUnchanged(machine, call), name).toBe(errno);
}

export const JOBS = new URL('./jobs.ts', import.meta.url).href;

/** The non-empty lines of a /proc file. */
export function procLines(machine: Machine, path: string): string[] {
  return machine
    .procfs(path)
    .split('\n')
    .filter((line) => line.length > 0);
}

/** What the body throws, or undefined when it returns. */
export function thrown(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Waits for every CPU's run (even after one failed) before stopping kswapd, then rethrows the first
 * failure; returns the workers' results.
 */
export async function settleWithKswapd<T>(
  machine: Machine,
  kswapd: Promise<unknown>,
  workers: Promise<T>[],
  others: Promise<unknown>[],
): Promise<T[]> {
  const settled = await Promise.allSettled([...workers, ...others]);
  kswapdStop(machine.kernel);
  await kswapd;
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  return Promise.all(workers);
}
