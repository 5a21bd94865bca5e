// ebizzy's own options (LTP ebizzy 0.3's letters and defaults) and the machine options, shared by
// the commands that run ebizzy.

import type { Command } from 'commander';
import { defaultRunConfig } from '../experiment/defaults.js';
import type { EbizzyOptions, RunConfig } from '../experiment/types.js';
import { resolveHwProfile } from '../hw/cache.js';
import { hwConfigOf } from '../hw/profile.js';
import { DEFAULT_TLB_ENTRIES, MAX_TLB_ENTRIES, type VrangeVariant } from '../mm/config.js';
import { bytes, integer, policy, positiveNumber, powerOfTwo, vrangeVariant } from './options.js';

/** Defaults a command may change (compare and sweep run many short measurements). */
export interface EbizzyDefaults {
  seconds?: number;
  memoryMiB?: number;
  lgDirtyMult?: number;
  /** --hw-profile's default: none for single runs, host for compare. */
  hwProfile?: string;
}

/**
 * ebizzy's options and, unless `machine` is false (the real kernel's commands), the simulated
 * machine's (--cpus, --memory).
 */
export function addEbizzyOptions(command: Command, defaults: EbizzyDefaults = {}, machine = true): Command {
  const base = defaultRunConfig();
  const d = {
    ...base,
    memoryMiB: defaults.memoryMiB ?? base.memoryMiB,
    lgDirtyMult: defaults.lgDirtyMult ?? base.lgDirtyMult,
    ebizzy: { ...base.ebizzy, seconds: defaults.seconds ?? base.ebizzy.seconds },
  };
  command
    .option('-n, --chunks <n>', 'number of memory chunks', integer(1, 1 << 16), d.ebizzy.chunks)
    .option('-s, --chunk-size <bytes>', 'chunk size in bytes (k/m suffix allowed)', bytes, d.ebizzy.chunkSize)
    .option('-S, --seconds <s>', 'seconds to run each measurement', positiveNumber, d.ebizzy.seconds)
    .option('-t, --threads <n>', 'threads per process (default: 2 x CPUs, as ebizzy)', integer(1, 4096))
    .option('-m, --always-mmap', 'mmap/munmap the copy buffer for every record instead of malloc/free', false)
    .option('-M, --never-mmap', 'never mmap for allocations (see docs/ebizzy.md)', false)
    .option('-R, --random-size', 'random copy size instead of the chunk size', false)
    .option('-p, --mprotect-even', 'mprotect the even chunks read-only', false)
    .option('-P, --holes', 'one-page holes between chunks (chunks are mmapped)', false)
    .option('-T, --touch-only', 'touch one word per page instead of copying and searching', false)
    .option('-l, --byte-loop', 'copy with a loop (32-bit words) instead of memcpy', false)
    .option('-z, --linear-search', 'linear search instead of binary search', false);
  if (machine) command.option('--cpus <n>', 'simulated CPUs for the ebizzy threads', integer(1, 256), d.cpus);
  command.option(
    '--processes <n>',
    machine ? 'simulated processes, each with -t threads' : 'processes, each with -t threads',
    integer(1, 256),
    d.processes,
  );
  if (machine) {
    command
      .option(
        '--fork',
        'fork the processes from one parent that filled the chunks: they share them copy-on-write',
        false,
      )
      .option('--memory <MiB>', 'simulated physical memory', integer(8, 3072), d.memoryMiB)
      .option(
        '--tlb-entries <n>',
        "entries of each simulated CPU's TLB (a power of two; direct-mapped)",
        powerOfTwo(1, MAX_TLB_ENTRIES),
        DEFAULT_TLB_ENTRIES,
      );
  }
  command
    .option(
      '--lg-dirty-mult <n>',
      'allocator: purge when dirty > active >> n; -1 purges on every free',
      integer(-1, 30),
      d.lgDirtyMult,
    )
    .option('--seed <n>', "seed of the threads' random generators", integer(0, 0xffffffff), d.seed);
  // The simulated kernel's vrange rules: the real kernel has no vrange.
  if (machine)
    command
      .option(
        '--vrange-variant <rules>',
        "vrange syscall rules: lab (mmap_sem read, mapped ranges only, adjacent ranges merged) or v7 (the RFC v7 patch's)",
        vrangeVariant,
        d.vrangeVariant,
      )
      .option(
        '--hw-profile <profile>',
        'hardware events charged: none (pure software), host (the profile vrange-lab calibrate measured) or a profile file',
        defaults.hwProfile ?? 'none',
      );
  return command;
}

/** What addEbizzyOptions parses: ebizzy's options (-t optional: 2 x CPUs) and the machine's. */
export interface EbizzyCliOptions extends Omit<EbizzyOptions, 'threads'> {
  threads?: number;
  cpus: number;
  processes: number;
  fork?: boolean;
  memory: number;
  tlbEntries?: number;
  lgDirtyMult: number;
  seed: number;
  vrangeVariant: VrangeVariant;
  hwProfile?: string;
  policy?: string;
  pressure?: number;
}

/** The run configuration, field by field: commander's other keys never reach a result. */
export function runConfigFrom(o: EbizzyCliOptions): RunConfig {
  return {
    ebizzy: ebizzyOptionsFrom(o, 2 * o.cpus),
    policy: o.policy === undefined ? 'vrange' : policy(o.policy),
    processes: o.processes,
    ...(o.fork === true ? { fork: true } : {}),
    cpus: o.cpus,
    memoryMiB: o.memory,
    tlbEntries: o.tlbEntries ?? DEFAULT_TLB_ENTRIES,
    pressureMiB: o.pressure ?? 0,
    lgDirtyMult: o.lgDirtyMult,
    seed: o.seed,
    vrangeVariant: o.vrangeVariant,
    hw: hwConfigOf(resolveHwProfile(o.hwProfile ?? 'none')),
  };
}

/** ebizzy's own options, field by field; `threads` when -t was not given. */
export function ebizzyOptionsFrom(o: Omit<EbizzyCliOptions, 'cpus'>, threads: number): EbizzyOptions {
  return {
    chunks: o.chunks,
    chunkSize: o.chunkSize,
    seconds: o.seconds,
    threads: o.threads ?? threads,
    alwaysMmap: o.alwaysMmap,
    neverMmap: o.neverMmap,
    randomSize: o.randomSize,
    mprotectEven: o.mprotectEven,
    holes: o.holes,
    touchOnly: o.touchOnly,
    byteLoop: o.byteLoop,
    linearSearch: o.linearSearch,
  };
}
