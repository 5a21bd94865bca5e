// The experiment's data: what one ebizzy run is configured with and what it reports. Every module
// of the experiment (runner, CLI, sweep, charts, merge) speaks these types.

import type { LockStatRow } from '../locks/index.js';
import type { Vmstat } from '../mm/vmstat.js';

/** How the allocator gives freed memory back (DESIGN §1). */
export type PurgePolicy = 'dontneed' | 'vma' | 'vrange' | 'madv_free' | 'none';
export const PURGE_POLICIES: readonly PurgePolicy[] = ['dontneed', 'vma', 'vrange', 'madv_free', 'none'];

/** LTP ebizzy 0.3's options (same defaults), with the fixes documented in docs/ebizzy.md. */
export interface EbizzyOptions {
  /** -n: chunks (10). */
  chunks: number;
  /** -s: chunk size in bytes (512 KiB). */
  chunkSize: number;
  /** -S: seconds to run (10). */
  seconds: number;
  /** -t: threads per process (2 x CPUs). */
  threads: number;
  /** -m: mmap/munmap every copy instead of malloc/free. */
  alwaysMmap: boolean;
  /** -M: never mmap (glibc M_MMAP_MAX 0); the allocator maps nothing below a chunk anyway, so it only excludes -m. */
  neverMmap: boolean;
  /** -R: random copy size (1 byte to chunkSize). */
  randomSize: boolean;
  /** -p: mprotect the even chunks read-only. */
  mprotectEven: boolean;
  /** -P: one-page holes (touch every other page). */
  holes: boolean;
  /** -T: touch one word per page only instead of copying. */
  touchOnly: boolean;
  /** -l: byte-by-byte copy loop instead of memcpy. */
  byteLoop: boolean;
  /** -z: linear search instead of binary search. */
  linearSearch: boolean;
}

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
  /** Background memory pressure: a process mapping and touching this much (0: none). */
  pressureMiB: number;
  /** jemalloc's lg_dirty_mult (3: purge when dirty > active/8); -1: purge on every free. */
  lgDirtyMult: number;
  seed: number;
}

export interface HostInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
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
