// A simulated CPU as seen by the JS thread running it: its lock state, TLB, per-CPU page list and
// counters. Exactly one thread runs a CPU at a time (LockDomain.attachCpu enforces it), so the
// CPU's private words are read and written without atomics.

import { CPU_PRIVATE, CPU_SHOOTDOWN, LOCK_CPU, PTES_PER_PTL, TLB_ENTRY } from '../layout/layout.js';
import { CPU_OFFLINE, CPU_ONLINE, type LockCpu, reapDeadCpu } from '../locks/index.js';
import { type Kernel, NO_MM } from './kernel.js';
import type { TlbGather } from './mm_types.js';

export class Cpu {
  readonly lock: LockCpu;
  readonly i32: Int32Array;
  readonly activeMmWord: number;
  readonly flushReqWord: number;
  readonly flushAckWord: number;
  readonly tlbMmWord: number;
  readonly tlbGenSeenWord: number;
  /** First TLB entry word of this CPU. */
  readonly tlbFirst: number;
  readonly tlbMask: number;
  /**
   * The slots filled since the last flush, first tlbFilledCount of them: a flush empties only these,
   * so it costs what the TLB holds, not its size (the hardware drops every entry at once).
   */
  readonly tlbFilled: Int32Array;
  tlbFilledCount = 0;
  readonly vmFirst: number;
  readonly rssFirst: number;
  /** Flush requests this CPU has acknowledged (mirrors flushAck). */
  flushAck = 0;
  /** The mm whose translations the TLB holds, and the mm's tlbGen when they were valid. */
  tlbMm = NO_MM;
  tlbGenSeen = 0;
  /** Set while the CPU runs user code of an mm (between enterUser and exitUser). */
  userMm = NO_MM;
  /** Entries to user mode so far: translations made before the latest one may be stale. */
  userEntries = 0;
  /** Scratch for flushTlbMm: (cpu, request) pairs awaiting acknowledgement. */
  readonly shootTargets: Int32Array;
  /** Scratch for MADV_FREE: the frames of one page-table block. */
  readonly lazyfreeBatch = new Int32Array(PTES_PER_PTL);
  /** This CPU's mmu_gather (a CPU runs one unmapping path at a time; reclaim has its own). */
  readonly gather: TlbGather<Cpu>;
  readonly reclaimGather: TlbGather<Cpu>;

  /** newGather builds an mmu_gather for this CPU (machine.ts passes mmu_gather.ts's). */
  constructor(
    readonly k: Kernel,
    readonly id: number,
    newGather: (cpu: Cpu) => TlbGather<Cpu>,
  ) {
    this.lock = k.dom.attachCpu(id);
    this.i32 = k.i32;
    this.activeMmWord = k.shootWord(id, CPU_SHOOTDOWN.activeMm);
    this.flushReqWord = k.shootWord(id, CPU_SHOOTDOWN.flushReq);
    this.flushAckWord = k.shootWord(id, CPU_SHOOTDOWN.flushAck);
    this.tlbMmWord = k.privWord(id, CPU_PRIVATE.tlbMm);
    this.tlbGenSeenWord = k.privWord(id, CPU_PRIVATE.tlbGenSeen);
    this.tlbFirst = k.tlbWord(id, 0, 0);
    this.tlbMask = k.geometry.tlbEntries - 1;
    this.tlbFilled = new Int32Array(k.geometry.tlbEntries);
    // The TLB lives in shared memory: list what the last thread running this CPU left in it.
    for (let slot = 0; slot < k.geometry.tlbEntries; slot++) {
      if (this.i32[this.tlbFirst + slot * TLB_ENTRY.STRIDE + TLB_ENTRY.vpn] !== -1)
        this.tlbFilled[this.tlbFilledCount++] = slot;
    }
    this.vmFirst = k.vmstatIndex(id, 0);
    this.rssFirst = k.rssWord(id, 0);
    this.shootTargets = new Int32Array(2 * k.geometry.cpuSlots);
    this.gather = newGather(this);
    this.reclaimGather = newGather(this);
    // Resume the handshake where the last thread running this CPU left it.
    this.flushAck = Atomics.load(this.i32, this.flushAckWord);
    this.tlbMm = this.i32[this.tlbMmWord];
    this.tlbGenSeen = this.i32[this.tlbGenSeenWord];
    if (Atomics.load(this.i32, this.activeMmWord) !== NO_MM) {
      throw new Error(`cpu ${id}: attached while its activeMm says it runs user code`);
    }
  }

  /** Adds to one of this CPU's vmstat counters (see VM). */
  count(item: number, n = 1): void {
    this.k.f64[this.vmFirst + item] += n;
  }

  rssAdd(mm: number, pages: number): void {
    this.i32[this.rssFirst + mm] += pages;
  }

  /** Leaves the CPU slot (the thread stops running it). */
  detach(): void {
    if (this.userMm !== NO_MM) throw new Error(`cpu ${this.id}: detached in user mode`);
    this.lock.detach();
  }
}

/**
 * A CPU died (its code threw, or its worker thread is gone). If it held no lock it simply goes
 * offline; otherwise every lock it held is marked OWNER_DIED and the CPU stays dead. Either way it
 * leaves user mode, so that no TLB shootdown waits for it. Returns the report text.
 */
export function reapCpu(k: Kernel, cpu: number, why: string): string {
  const i32 = k.i32;
  Atomics.store(i32, k.shootWord(cpu, CPU_SHOOTDOWN.activeMm), NO_MM);
  // Satisfy every flush request raised at it: it will never use a translation again.
  Atomics.store(
    i32,
    k.shootWord(cpu, CPU_SHOOTDOWN.flushAck),
    Atomics.load(i32, k.shootWord(cpu, CPU_SHOOTDOWN.flushReq)),
  );
  Atomics.notify(i32, k.shootWord(cpu, CPU_SHOOTDOWN.flushAck));
  if (k.dom.describeHeld(cpu) === 'no locks' && k.dom.waitingOn(cpu) < 0) {
    Atomics.compareExchange(i32, k.dom.cpuWord(cpu, LOCK_CPU.state), CPU_ONLINE, CPU_OFFLINE);
    return `cpu ${cpu} stopped: ${why}; it held no locks`;
  }
  return reapDeadCpu(k.dom, cpu, why).text;
}
