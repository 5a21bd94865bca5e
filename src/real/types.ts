// The real kernel's side of an experiment: what `vrange-lab real ebizzy` is configured with and what
// it reports. A RealRunResult has the model's RunResult fields (config.ebizzy, records,
// recordsPerSecond, perThread, vmstat, host...) so that both sit side by side; vmstat holds the
// host's /proc/vmstat counters that exist on this kernel, and lockStat is empty (the host kernel's
// lock_stat needs CONFIG_LOCK_STAT and root).

import type { EbizzyOptions, HostInfo, PurgePolicy } from '../experiment/types.js';

/** Policies the real kernel has; vmaflag is the analogue of the model's vma (mvolatile) design. */
export type RealPolicy = 'none' | 'dontneed' | 'madv_free' | 'vmaflag';
export const REAL_POLICIES: readonly RealPolicy[] = ['none', 'dontneed', 'madv_free', 'vmaflag'];

/** What the model's policies are on the real kernel: the same call, an analogue, or nothing. */
export const REAL_COUNTERPART: Readonly<Record<PurgePolicy, RealPolicy | null>> = {
  none: 'none',
  dontneed: 'dontneed',
  madv_free: 'madv_free',
  vma: 'vmaflag',
  vrange: null,
};

/** The one-line note printed beside every vmaflag figure. */
export const VMAFLAG_ANALOGUE =
  'vmaflag is an analogue of vma (mvolatile): MADV_WIPEONFORK on free, MADV_KEEPONFORK on reuse (mmap_lock write, VMA split and merge; no page is discarded)';

/** Why a model policy has no (exact) real-kernel run. */
export function noRealCounterpart(policy: PurgePolicy): string | null {
  if (policy === 'vrange')
    return 'vrange has no real-kernel counterpart: it was never merged into Linux (the model alone runs it)';
  if (policy === 'vma')
    return 'vma (vrange v5 mvolatile) was never merged into Linux; its real-kernel analogue is --policy vmaflag';
  return null;
}

export interface RealRunConfig {
  ebizzy: EbizzyOptions;
  policy: RealPolicy;
  /** Forked processes, each with `ebizzy.threads` threads. */
  processes: number;
  /** jemalloc's lg_dirty_mult (3: purge when dirty > active/8); -1: purge on every free. */
  lgDirtyMult: number;
  seed: number;
}

export interface RealHostInfo extends HostInfo {
  /** uname's release, e.g. 6.18.44. */
  kernel: string;
  /** uname's sysname. */
  sysname: string;
  cpusOnline: number;
  /** Advice this build of the harness has (Linux-only advice is absent elsewhere). */
  advice: Record<string, boolean>;
}

/** The harness's arena, summed over the threads (the model's ArenaStats names). */
export interface RealArenaCounters {
  purgePasses: number;
  purgeCalls: number;
  purgeErrors: number;
  pagesPurged: number;
  unmarkCalls: number;
  unmarkErrors: number;
  runsFromDirty: number;
  runsFromFree: number;
  chunkMmaps: number;
  chunkMunmaps: number;
  hugeMmaps: number;
}

export interface RealRunResult {
  kernel: 'real';
  config: RealRunConfig;
  host: RealHostInfo;
  /** Threads of the run above the host's cores. */
  oversubscribed: boolean;
  records: number;
  elapsedSeconds: number;
  recordsPerSecond: number;
  /** Records of each thread, process-major. */
  perThread: number[];
  /** Searches done (every record but with -T); each found its key or the run failed. */
  searches: number;
  /** /proc/vmstat increases over the measured interval (system-wide: other processes count too). */
  vmstat: Record<string, number>;
  /** Counters this kernel does not have (nr_tlb_* need CONFIG_DEBUG_TLBFLUSH). */
  vmstatMissing: string[];
  lockStat: never[];
  /** Pages the kernel discarded (pglazyfreed). */
  purgedPages: number;
  arena: RealArenaCounters;
  /** Set for vmaflag: what it stands for. */
  analogue: string | null;
}

export interface MicroMeasurement {
  name: string;
  /** What one operation is: call, page, toggle, pair, round trip. */
  per: string;
  what: string;
  /** null when measured. */
  unavailable: string | null;
  medianNs: number;
  minNs: number;
  maxNs: number;
  repetitions: number;
  opsPerRepetition: number;
}

export interface MicroResult {
  kernel: 'real';
  host: RealHostInfo;
  /** Two-thread measurements ran pinned to two CPUs. */
  pinned: boolean;
  measurements: MicroMeasurement[];
}
