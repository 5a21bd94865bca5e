// A user thread: one process's code running on one simulated CPU. Its syscalls return values or
// -errno, as the kernel's do; its memory accesses throw SigSegv / SigBus carrying the address.
//
// Every access call is one stay in user mode (enter, access, leave); inUser() keeps the thread in
// user mode across many accesses (a syscall inside still leaves it, as a real one enters the kernel).

import { spendNs } from '../hw/charge.js';
import type { Cpu } from './cpu.js';
import { sysFork } from './fork.js';
import { sysMadvise } from './madvise.js';
import { sysMmap, sysMunmap } from './mmap.js';
import { inUser, userCopy, userFill, userLoad32, userRead, userStore32, userWrite } from './mmu.js';
import { sysMprotect } from './mprotect.js';
import { sysMnovolatile, sysMvolatile } from './mvolatile.js';
import { enterUser, exitUser } from './tlb.js';
import { PROT_READ, PROT_WRITE } from './uapi.js';
import { userFindRecord } from './user_search.js';
import { sysVrange } from './vrange.js';

export interface MmapOptions {
  /** Address hint, or the address with MAP_FIXED. */
  addr?: number;
  prot?: number;
  flags?: number;
}

/** A process as fork returns it (machine.ts's Process is one; declared here so as not to import it). */
export interface ProcessRef {
  readonly pid: number;
  mainThread(cpu?: number): Thread;
  thread(cpu: number): Thread;
  exit(cpu?: number): void;
}

/** Where a thread finds a process by pid (machine.ts's Machine). */
export interface ProcessTable {
  process(pid: number): ProcessRef;
}

export class Thread {
  constructor(
    readonly cpu: Cpu,
    /** The process's mm slot. */
    readonly mm: number,
    readonly pid: number,
    /** The machine's process table, through which fork returns the child. */
    readonly processes?: ProcessTable,
  ) {}

  get cpuId(): number {
    return this.cpu.id;
  }

  /** Runs a syscall body in the kernel: out of user mode for its duration. */
  private syscall(body: () => number): number {
    const cpu = this.cpu;
    // The trap's entry and exit (with the host's mitigations), charged before the body runs.
    if (cpu.k.hwCharged) spendNs(cpu.k.hw.syscall);
    if (cpu.userMm !== this.mm) return body();
    exitUser(cpu);
    try {
      return body();
    } finally {
      enterUser(cpu, this.mm);
    }
  }

  mmap(length: number, options: MmapOptions = {}): number {
    const { addr = 0, prot = PROT_READ | PROT_WRITE, flags = 0 } = options;
    return this.syscall(() => sysMmap(this.cpu, this.mm, addr, length, prot, flags));
  }

  munmap(addr: number, length: number): number {
    return this.syscall(() => sysMunmap(this.cpu, this.mm, addr, length));
  }

  mprotect(addr: number, length: number, prot: number): number {
    return this.syscall(() => sysMprotect(this.cpu, this.mm, addr, length, prot));
  }

  madvise(addr: number, length: number, advice: number): number {
    return this.syscall(() => sysMadvise(this.cpu, this.mm, addr, length, advice));
  }

  /**
   * fork(): the child process, whose memory is a copy-on-write copy of this one's (src/mm/fork.ts),
   * or -EAGAIN when the process table is full. The child runs nothing until given a thread.
   */
  fork(): ProcessRef | number {
    const pid = this.syscall(() => sysFork(this.cpu, this.mm));
    if (pid < 0) return pid;
    if (this.processes === undefined)
      throw new Error(`thread of pid ${this.pid}: fork needs the process table`);
    return this.processes.process(pid);
  }

  vrange(addr: number, length: number, mode: number, behavior = 0): number {
    return this.syscall(() => sysVrange(this.cpu, this.mm, addr, length, mode, behavior));
  }

  mvolatile(addr: number, length: number): number {
    return this.syscall(() => sysMvolatile(this.cpu, this.mm, addr, length));
  }

  mnovolatile(addr: number, length: number): number {
    return this.syscall(() => sysMnovolatile(this.cpu, this.mm, addr, length));
  }

  read(addr: number, length: number): Uint8Array {
    return userRead(this.cpu, this.mm, addr, length);
  }

  write(addr: number, bytes: Uint8Array): void {
    userWrite(this.cpu, this.mm, addr, bytes);
  }

  fill(addr: number, length: number, value: number): void {
    userFill(this.cpu, this.mm, addr, length, value);
  }

  /** memcpy within the process. */
  copy(dst: number, src: number, length: number): void {
    userCopy(this.cpu, this.mm, dst, src, length);
  }

  /**
   * ebizzy's search: the index of one of `count` 8-byte records at addr (sorted by key, the low 32
   * bits, for the binary search) whose key is `key`, or -1; `linear` scans them in order instead.
   */
  findRecord(addr: number, count: number, key: number, linear = false): number {
    return userFindRecord(this.cpu, this.mm, addr, count, key, linear);
  }

  load32(addr: number): number {
    return userLoad32(this.cpu, this.mm, addr);
  }

  store32(addr: number, value: number): void {
    userStore32(this.cpu, this.mm, addr, value);
  }

  /** Stays in user mode for the whole body (many accesses, one entry). */
  inUser<T>(body: () => T): T {
    return inUser(this.cpu, this.mm, body);
  }
}
