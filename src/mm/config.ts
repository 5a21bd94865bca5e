// Machine configuration: every limit of the simulated machine, fixed when it is created.

import { ARCH_KINDS, type ArchKind } from '../arch/arch.js';
import { checkCharges, type HwConfig, NO_HW_CHARGES } from '../hw/profile.js';
import { DEFAULT_LOCK_OPTIONS, type LockOptions } from '../locks/index.js';

/** The TLB size of a machine whose config names none (see MachineConfig.tlbEntries). */
export const DEFAULT_TLB_ENTRIES = 2048;
export const MAX_TLB_ENTRIES = 1 << 16;

export interface MachineConfig {
  /** Simulated physical memory. */
  memoryMiB: number;
  /** User CPUs (worker threads). kswapd runs on a CPU slot of its own beyond these. */
  cpus: number;
  maxProcesses: number;
  /** Virtual address space per process. */
  vaMiB: number;
  maxVmasPerMm: number;
  /** vrange interval-tree nodes per process. */
  vrangeNodesPerMm: number;
  /**
   * Entries of each CPU's TLB (power of two, direct-mapped). The default, 2048, is the size of the
   * second-level data TLB of current x86 cores (1536 to 3072 entries for 4 KiB pages), the level a
   * page walk refills: ebizzy's working set (ten 512 KiB chunks and a copy) fits, as it does natively.
   */
  tlbEntries: number;
  /** Per-CPU page lists: pages moved to or from the zone at once, and the most a list keeps. */
  pcpBatch: number;
  pcpHigh: number;
  /** Free-page watermarks (pages); derived from memory size like Linux's min_free_kbytes when absent. */
  watermarks: { min: number; low: number; high: number };
  /**
   * fork and volatile ranges: false (RFC v7) gives the child no volatile ranges, and pages the parent
   * had purged read as zeros in the child; true (the later versions) gives the child a copy of the
   * parent's ranges, purged flags and purged markers included.
   */
  forkInheritsVranges: boolean;
  /**
   * The vrange syscall's rules: 'lab' (this project's, the default) or 'v7' (the RFC v7 patch's:
   * no mmap_sem and no mapping check, length rounded down, only overlapping ranges merged).
   * docs/design.md, "Deviations from RFC v7", lists both.
   */
  vrangeVariant: VrangeVariant;
  /** Debug mode: lockdep, frame-generation checks on every access. */
  debug: boolean;
  /**
   * Who does the bulk byte work (copies, zero-fill, ebizzy's search): 'wasm', the WebAssembly
   * primitives of src/arch (the default), or 'js', TypedArray operations (the slower model of before).
   */
  arch: ArchKind;
  /**
   * The hardware profile this machine charges (src/hw): its name, for every result's header, and the
   * ns each hardware event spends on the CPU that incurs it. 'none' charges nothing (the tests).
   */
  hw: HwConfig;
  locks: LockOptions;
  lockdepTextBytes: number;
  /**
   * Test-only switches that re-introduce known races, so that the stress tests can show they catch
   * them. All off in every real run.
   */
  mutations: Mutations;
}

export type VrangeVariant = 'lab' | 'v7';
export const VRANGE_VARIANTS: readonly VrangeVariant[] = ['lab', 'v7'];

export interface Mutations {
  /** Free unmapped frames without waiting for other CPUs to acknowledge the TLB flush. */
  skipShootdownWait: boolean;
  /** Purge a victim range without re-validating it under vrange_lock. */
  skipPurgeRevalidation: boolean;
  /** VRANGE_NOVOLATILE without taking vrange_lock. */
  novolatileWithoutLock: boolean;
  /** Install a faulted page without re-checking that the PTE did not change meanwhile. */
  faultWithoutRecheck: boolean;
  /** Purge a COW-shared page without checking that every other mapping of it is volatile. */
  purgeIgnoresOtherMappings: boolean;
}

export const NO_MUTATIONS: Mutations = {
  skipShootdownWait: false,
  skipPurgeRevalidation: false,
  novolatileWithoutLock: false,
  faultWithoutRecheck: false,
  purgeIgnoresOtherMappings: false,
};

export type MachineConfigInput = Partial<Omit<MachineConfig, 'locks' | 'watermarks' | 'mutations'>> & {
  locks?: Partial<LockOptions>;
  mutations?: Partial<Mutations>;
  watermarks?: Partial<MachineConfig['watermarks']>;
};

/**
 * Simulated RAM; the whole machine (RAM, page tables, struct page...) must also fit the 4 GiB a
 * shared 32-bit WebAssembly memory holds (MAX_MACHINE_BYTES, checked when the machine is created).
 */
export const MAX_MEMORY_MIB = 3 * 1024;
export const MAX_VA_MIB = 16 * 1024;
export const MAX_CPUS = 256;

/** Linux's min_free_kbytes = sqrt(16 * lowmem_kbytes), clamped, with low/high 1.25x and 1.5x of min. */
export function defaultWatermarks(frames: number): MachineConfig['watermarks'] {
  const kbytes = frames * 4;
  const minKbytes = Math.min(Math.max(Math.floor(Math.sqrt(kbytes * 16)), 128), 262144);
  const min = Math.max(Math.floor(minKbytes / 4), 8);
  return { min, low: min + Math.floor(min / 4), high: min + Math.floor(min / 2) };
}

function positiveInt(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`machine config: ${name} must be an integer from 1 to ${max}, got ${value}`);
  }
}

export function resolveConfig(input: MachineConfigInput = {}): MachineConfig {
  const memoryMiB = input.memoryMiB ?? 256;
  positiveInt('memoryMiB', memoryMiB, MAX_MEMORY_MIB);
  const frames = memoryMiB * 256;
  const defaults = defaultWatermarks(frames);
  const watermarks = { ...defaults, ...input.watermarks };
  const config: MachineConfig = {
    memoryMiB,
    cpus: input.cpus ?? 2,
    maxProcesses: input.maxProcesses ?? 16,
    vaMiB: input.vaMiB ?? 1024,
    maxVmasPerMm: input.maxVmasPerMm ?? 512,
    vrangeNodesPerMm: input.vrangeNodesPerMm ?? 512,
    tlbEntries: input.tlbEntries ?? DEFAULT_TLB_ENTRIES,
    vrangeVariant: input.vrangeVariant ?? 'lab',
    pcpBatch: input.pcpBatch ?? 31,
    pcpHigh: input.pcpHigh ?? 186,
    watermarks,
    forkInheritsVranges: input.forkInheritsVranges ?? false,
    debug: input.debug ?? false,
    arch: input.arch ?? 'wasm',
    hw: input.hw ?? { profile: 'none', charges: NO_HW_CHARGES },
    locks: { ...DEFAULT_LOCK_OPTIONS, lockdep: input.debug ?? false, ...input.locks },
    // lockdep (debug mode) keeps call sites here; without it only a few reports ever need room.
    lockdepTextBytes: input.lockdepTextBytes ?? (input.debug ? 256 * 1024 : 16 * 1024),
    mutations: { ...NO_MUTATIONS, ...input.mutations },
  };
  checkCharges(config.hw.charges);
  if (!ARCH_KINDS.includes(config.arch))
    throw new RangeError(`machine config: arch must be ${ARCH_KINDS.join(' or ')}, got ${config.arch}`);
  positiveInt('cpus', config.cpus, MAX_CPUS);
  if (!VRANGE_VARIANTS.includes(config.vrangeVariant)) {
    throw new RangeError(`machine config: vrangeVariant must be one of ${VRANGE_VARIANTS.join(', ')}`);
  }
  positiveInt('maxProcesses', config.maxProcesses, 4096);
  positiveInt('vaMiB', config.vaMiB, MAX_VA_MIB);
  positiveInt('maxVmasPerMm', config.maxVmasPerMm, 1 << 20);
  positiveInt('vrangeNodesPerMm', config.vrangeNodesPerMm, 1 << 20);
  positiveInt('tlbEntries', config.tlbEntries, MAX_TLB_ENTRIES);
  if ((config.tlbEntries & (config.tlbEntries - 1)) !== 0) {
    throw new RangeError(`machine config: tlbEntries must be a power of two, got ${config.tlbEntries}`);
  }
  positiveInt('pcpBatch', config.pcpBatch, frames);
  positiveInt('pcpHigh', config.pcpHigh, frames);
  if (config.pcpHigh < config.pcpBatch) throw new RangeError('machine config: pcpHigh must be >= pcpBatch');
  const { min, low, high } = watermarks;
  if (
    !(
      Number.isInteger(min) &&
      Number.isInteger(low) &&
      Number.isInteger(high) &&
      0 <= min &&
      min <= low &&
      low <= high &&
      high < frames
    )
  ) {
    throw new RangeError(
      `machine config: watermarks must satisfy 0 <= min <= low <= high < frames (${frames}); got ${min}/${low}/${high}`,
    );
  }
  return config;
}
