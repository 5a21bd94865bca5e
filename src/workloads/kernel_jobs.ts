// Kernel threads as jobs for worker CPUs.

import type { Machine } from '../mm/machine.js';
import { kswapdRun } from '../mm/vmscan.js';

/** kswapd on its own CPU: returns when kswapdStop() is called. Returns its reclaim count. */
export function kswapd(machine: Machine, cpu: number): number {
  kswapdRun(machine.cpu(cpu));
  return machine.vmstat().pgdiscard_kswapd;
}

export const KERNEL_JOBS = new URL(import.meta.url).href;
