// The public face of the simulated machine: what experiments script against.
//
//   const machine = Machine.create({ memoryMiB: 64, cpus: 2 });
//   const proc = machine.createProcess();
//   const t = proc.mainThread();              // CPU 0, driven from the calling JS thread
//   const addr = t.mmap(1 << 20);
//   t.write(addr, new Uint8Array([1, 2, 3]));
//
// A Machine object belongs to one JS thread; workers attach their own to the same memory with
// Machine.attach(machine.handle) and run threads on the CPUs they are given.

import { type LockStatRow, lockdepReports, readLockStat } from '../locks/index.js';
import type { MachineConfig, MachineConfigInput } from './config.js';
import { Cpu } from './cpu.js';
import { Kernel, type MachineHandle } from './kernel.js';
import { MmuGather } from './mmu_gather.js';
import { zoneFree } from './page_alloc.js';
import { exitMm, livePids, mmAlloc, mmOfPid } from './process.js';
import { procfsRead, readVmstat } from './procfs.js';
import { Thread } from './thread.js';
import { type ValidationSummary, validateMachine } from './validate.js';
import type { Vmstat } from './vmstat.js';

export class Machine {
  private readonly cpus = new Map<number, Cpu>();

  private constructor(readonly kernel: Kernel) {}

  static create(config: MachineConfigInput = {}): Machine {
    return new Machine(Kernel.create(config));
  }

  static attach(handle: MachineHandle): Machine {
    return new Machine(Kernel.attach(handle));
  }

  /** Memory and config: post it to a worker, which calls Machine.attach(handle). */
  get handle(): MachineHandle {
    return this.kernel.handle;
  }

  get config(): MachineConfig {
    return this.kernel.config;
  }

  /** The CPU `id`, run by the calling JS thread from now on (until detach()). */
  cpu(id: number): Cpu {
    let cpu = this.cpus.get(id);
    if (cpu === undefined) {
      if (!Number.isInteger(id) || id < 0 || id >= this.kernel.geometry.cpuSlots) {
        throw new RangeError(
          `no cpu ${id}: the machine has cpus 0-${this.config.cpus - 1} (and kswapd on ${this.config.cpus})`,
        );
      }
      cpu = new Cpu(this.kernel, id, (c) => new MmuGather(c));
      this.cpus.set(id, cpu);
    }
    return cpu;
  }

  createProcess(): Process {
    const slot = mmAlloc(this.kernel);
    if (slot === null) throw new Error(`process table full (maxProcesses ${this.config.maxProcesses})`);
    return new Process(this, slot[0], slot[1]);
  }

  process(pid: number): Process {
    const mm = mmOfPid(this.kernel, pid);
    if (mm < 0) throw new Error(`no process ${pid}`);
    return new Process(this, mm, pid);
  }

  pids(): number[] {
    return livePids(this.kernel);
  }

  procfs(path: string): string {
    return procfsRead(this.kernel, path);
  }

  vmstat(): Vmstat {
    return readVmstat(this.kernel);
  }

  /** Free pages in the zone (MemFree without the per-CPU lists): cheap, for load generators. */
  freePages(): number {
    return zoneFree(this.kernel);
  }

  lockStat(): LockStatRow[] {
    return readLockStat(this.kernel.dom);
  }

  resetLockStat(): void {
    this.kernel.dom.resetLockStat();
  }

  lockdepReports(): string[] {
    return lockdepReports(this.kernel.dom);
  }

  /** Whole-machine validation; the machine must be quiescent. Throws ValidationError. */
  validate(): ValidationSummary {
    return validateMachine(this.kernel);
  }

  /** Gives back every CPU this JS thread runs. */
  detach(): void {
    for (const cpu of this.cpus.values()) cpu.detach();
    this.cpus.clear();
  }
}

export class Process {
  constructor(
    readonly machine: Machine,
    /** Slot of its mm in the process table. */
    readonly mm: number,
    readonly pid: number,
  ) {}

  /** A thread of this process on CPU `cpu` (default 0) of the calling JS thread. */
  mainThread(cpu = 0): Thread {
    return this.thread(cpu);
  }

  thread(cpu: number): Thread {
    return new Thread(this.machine.cpu(cpu), this.mm, this.pid, this.machine);
  }

  /** exit: unmaps everything and frees the process slot, running on CPU `cpu`. */
  exit(cpu = 0): void {
    exitMm(this.machine.cpu(cpu), this.mm);
  }
}
