// The experiment's data: what one ebizzy run is configured with and what it reports. Every module
// of the experiment (runner, CLI, sweep, charts, merge) speaks these types.

import type { PurgePolicy } from '../alloc/purge.js';
import type { ArchKind } from '../arch/arch.js';
import type { HwConfig } from '../hw/profile.js';
import type { LockStatRow } from '../locks/index.js';
import type { VrangeVariant } from '../mm/config.js';
import type { Vmstat } from '../mm/vmstat.js';
import type { HostInfo } from '../workers/host.js';
import type { EbizzyOptions } from '../workloads/ebizzy_options.js';

// Declared on the lowest floor that uses them (docs/design.md, section 2); the experiment speaks them.
export { PURGE_POLICIES, type PurgePolicy } from '../alloc/purge.js';
export type { HostInfo } from '../workers/host.js';
export type { EbizzyOptions } from '../workloads/ebizzy_options.js';

export interface RunConfig {
  ebizzy: EbizzyOptions;
  policy: PurgePolicy;
  /** Simulated processes, each with `ebizzy.threads` threads. */
  processes: number;
  /**
   * The processes are forked from one parent that filled the chunks (and then only waits), so they
   * share the chunks copy-on-write; otherwise each fills chunks of its own. Absent: false.
   */
  fork?: boolean;
  /** Simulated CPUs (worker threads) for the ebizzy threads. */
  cpus: number;
  memoryMiB: number;
  /** Entries of each CPU's TLB (MachineConfig.tlbEntries); absent: the machine's default. */
  tlbEntries?: number;
  /** Background memory pressure: a process mapping and touching this much (0: none). */
  pressureMiB: number;
  /** jemalloc's lg_dirty_mult (3: purge when dirty > active/8); -1: purge on every free. */
  lgDirtyMult: number;
  seed: number;
  /** The vrange syscall's rules: the lab's or RFC v7's (docs/design.md, "Deviations from RFC v7"). */
  vrangeVariant: VrangeVariant;
  /** The hardware profile charged (src/hw); absent: none, the pure software model. */
  hw?: HwConfig;
  /** The machine's byte primitives (MachineConfig.arch); 'wasm' when absent. */
  arch?: ArchKind;
}

export interface RunResult {
  config: RunConfig;
  host: HostInfo;
  /** Simulated CPUs (ebizzy + pressure + kswapd) above the host's cores: oversubscription. */
  oversubscribed: boolean;
  records: number;
  elapsedSeconds: number;
  recordsPerSecond: number;
  /** Records of each ebizzy thread, process-major. */
  perThread: number[];
  /** vmstat counter increases over the measured interval. */
  vmstat: Vmstat;
  /** lock_stat rows of the locks that matter (mmap_sem-R/-W, vrange_lock, ptl, zone_lock...). */
  lockStat: LockStatRow[];
  /** Pages discarded by reclaim (vrange purges + lazyfree discards). */
  purgedPages: number;
}

/** One point of a sweep and its result (null until run). */
export interface SweepPoint {
  index: number;
  policy: PurgePolicy;
  threads: number;
  pressureMiB: number;
}
