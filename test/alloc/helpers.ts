// Shared set-up for allocator tests: a small debug machine and an arena on its first process.

import { Arena, type ArenaOptions } from '../../src/alloc/index.js';
import type { PurgePolicy } from '../../src/experiment/types.js';
import { Machine, type MachineConfigInput, type Process, type Thread } from '../../src/index.js';
import { rssPages } from '../../src/mm/procfs.js';

export const PAGE = 4096;
export const KIB = 1024;
export const MIB = 1024 * 1024;
export const POLICIES: readonly PurgePolicy[] = ['dontneed', 'madv_free', 'vrange', 'vma', 'none'];

export function allocMachine(config: MachineConfigInput = {}): Machine {
  return Machine.create({ memoryMiB: 32, cpus: 2, debug: true, ...config });
}

export interface Setup {
  machine: Machine;
  proc: Process;
  t: Thread;
  arena: Arena;
}

export function setup(options: ArenaOptions, config: MachineConfigInput = {}): Setup {
  const machine = allocMachine(config);
  const proc = machine.createProcess();
  const t = proc.mainThread();
  return { machine, proc, t, arena: new Arena(t, options) };
}

export function rss(machine: Machine, proc: Process): number {
  return rssPages(machine.kernel, proc.mm);
}

/** Destroys the arena and exits the process; checks the machine and that nothing stayed resident. */
export function teardown({ machine, proc, arena }: Setup): void {
  arena.destroy();
  machine.validate();
  if (rss(machine, proc) !== 0) throw new Error(`RSS ${rss(machine, proc)} pages after destroy`);
  proc.exit();
  machine.validate();
}

/** A byte pattern that differs per block and per offset. */
export function pattern(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (seed * 131 + i * 7 + 1) & 0xff;
  return out;
}

export function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}
