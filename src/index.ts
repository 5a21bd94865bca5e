// vrange-lab: the public API.

export { type ArchKind, ArchRangeError } from './arch/index.js';
export { resolveHwProfile } from './hw/cache.js';
export {
  describeHwProfile,
  HW_EVENTS,
  type HwCharges,
  type HwEvent,
  type HwProfile,
  hwConfigOf,
  NO_HW_PROFILE,
} from './hw/profile.js';
export type { MachineConfig, MachineConfigInput, Mutations } from './mm/config.js';
export type { Cpu } from './mm/cpu.js';
export type { MachineHandle } from './mm/kernel.js';
export { Machine, Process } from './mm/machine.js';
export { UseAfterFreeError } from './mm/mmu.js';
export { OutOfMemoryError, SigBus, Signal, SigSegv } from './mm/signals.js';
export type { MmapOptions, ProcessRef, Thread } from './mm/thread.js';
export * from './mm/uapi.js';
export { ValidationError, type ValidationSummary } from './mm/validate.js';
export { type Vmstat, vmstatDelta } from './mm/vmstat.js';
