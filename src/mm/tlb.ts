// TLBs and TLB shootdown with lazy TLB (DESIGN §5).
//
// Protocol (Dekker-style, relying on the sequential consistency of Atomics):
//  - per mm a flush generation tlbGen; per CPU activeMm (the mm whose user code it runs, or none),
//    flushReq (a count of flush requests raised by others) and flushAck (requests it has served);
//  - enterUser(mm): store activeMm = mm, then load tlbGen; if it differs from the generation the TLB
//    was filled under (or the TLB holds another mm), flush the TLB first;
//  - exitUser(): store activeMm = none, then serve any request raised meanwhile. A CPU uses no user
//    translation in the kernel, so it never has to answer a flush while it waits for a lock;
//  - flushTlbMm(mm), after the caller's PTE changes are visible: ++tlbGen; then for every other CPU
//    whose activeMm is mm, raise its flushReq and wait until its flushAck reaches that request or its
//    activeMm is no longer mm;
//  - at every access boundary a CPU compares flushReq with flushAck and, if behind, flushes and acks.
// Either a CPU entering user mode sees the new tlbGen, or the flusher sees it active and waits for
// it: no frame is freed while any CPU may still use a stale translation to it.

import { spendNs } from '../hw/charge.js';
import { CPU_SHOOTDOWN, TLB_ENTRY } from '../layout/layout.js';
import { HungTaskError, SchedPoint } from '../locks/index.js';
import type { Cpu } from './cpu.js';
import { NO_MM } from './kernel.js';
import { VM } from './vmstat.js';

/** Enters user mode for mm (a per-call window of the access API). */
export function enterUser(cpu: Cpu, mm: number): void {
  const i32 = cpu.i32;
  // Publishes that we may use mm's translations; pairs with the activeMm loads in flushTlbMm().
  Atomics.store(i32, cpu.activeMmWord, mm);
  const gen = Atomics.load(i32, cpu.k.tlbGenWord(mm));
  if (cpu.tlbMm !== mm || cpu.tlbGenSeen !== gen) {
    localFlush(cpu);
    cpu.tlbMm = mm;
    cpu.tlbGenSeen = gen;
    i32[cpu.tlbMmWord] = mm;
    i32[cpu.tlbGenSeenWord] = gen;
  }
  cpu.userMm = mm;
  cpu.userEntries++;
}

/** Leaves user mode: from here the CPU uses no user translation and no flusher waits for it. */
export function exitUser(cpu: Cpu): void {
  cpu.userMm = NO_MM;
  // Pairs with the flusher's flushReq raise: either it sees us gone, or we see its request here.
  Atomics.store(cpu.i32, cpu.activeMmWord, NO_MM);
  checkFlush(cpu);
}

/** Serves a pending flush request, seen by an ordered load: on leaving user mode. */
export function checkFlush(cpu: Cpu): void {
  if (Atomics.load(cpu.i32, cpu.flushReqWord) !== cpu.flushAck) serveFlush(cpu);
}

/**
 * The access boundary's poll: is a flush request pending? A plain load, as hardware samples its
 * interrupt line between instructions. The flusher waits for the acknowledgement, so the poll must
 * see a request eventually but in no particular order with other accesses (an aligned Int32Array
 * read of shared memory never tears). The ordered check that the Dekker pairing with flushTlbMm()
 * relies on is exitUser()'s. Atomics.load would cost ~10 ns per page on Node 20, a plain load ~1.
 */
export function flushPending(cpu: Cpu): boolean {
  return cpu.i32[cpu.flushReqWord] !== cpu.flushAck;
}

/** Serves the request flushPending() saw (and any raised since). */
export function serveFlush(cpu: Cpu): void {
  const i32 = cpu.i32;
  const request = Atomics.load(i32, cpu.flushReqWord);
  // The interrupt's entry, handler and exit, before the acknowledgement the sender waits for.
  if (cpu.k.hwCharged) spendNs(cpu.k.hw.ipiHandler);
  localFlush(cpu);
  // The TLB is empty now: it is valid for whatever generation the mm has reached.
  if (cpu.tlbMm !== NO_MM) {
    cpu.tlbGenSeen = Atomics.load(i32, cpu.k.tlbGenWord(cpu.tlbMm));
    i32[cpu.tlbGenSeenWord] = cpu.tlbGenSeen;
  }
  cpu.flushAck = request;
  // Publishes the acknowledgement; pairs with the flushAck loads in flushTlbMm().
  Atomics.store(i32, cpu.flushAckWord, request);
  Atomics.notify(i32, cpu.flushAckWord);
  cpu.count(VM.nr_tlb_remote_flush_received);
}

/** Drops every entry of this CPU's TLB. */
export function localFlush(cpu: Cpu): void {
  const i32 = cpu.i32;
  const filled = cpu.tlbFilled;
  const first = cpu.tlbFirst + TLB_ENTRY.vpn;
  for (let i = 0; i < cpu.tlbFilledCount; i++) i32[first + filled[i] * TLB_ENTRY.STRIDE] = -1;
  cpu.tlbFilledCount = 0;
  cpu.count(VM.nr_tlb_local_flush_all);
}

/**
 * flush_tlb_mm: after PTE changes of mm are visible, makes sure no CPU still uses a translation
 * from before them. The caller is in the kernel (not in user mode) and may hold locks: the CPUs it
 * waits for are in user mode, where they hold no kernel lock and answer at their next access.
 */
export function flushTlbMm(cpu: Cpu, mm: number): void {
  const k = cpu.k;
  const i32 = cpu.i32;
  if (cpu.userMm !== NO_MM) throw new Error(`cpu ${cpu.id}: flushTlbMm from user mode`);
  Atomics.add(i32, k.tlbGenWord(mm), 1);
  if (cpu.tlbMm === mm) {
    localFlush(cpu);
    cpu.tlbMm = NO_MM;
    i32[cpu.tlbMmWord] = NO_MM;
  }
  // Raise every request first (the IPIs go out together), then wait for each answer.
  const targets = cpu.shootTargets;
  let n = 0;
  for (let other = 0; other < k.geometry.cpuSlots; other++) {
    if (other === cpu.id || Atomics.load(i32, k.shootWord(other, CPU_SHOOTDOWN.activeMm)) !== mm) continue;
    targets[2 * n] = other;
    targets[2 * n + 1] = Atomics.add(i32, k.shootWord(other, CPU_SHOOTDOWN.flushReq), 1) + 1;
    n++;
  }
  if (n === 0) return;
  cpu.count(VM.nr_tlb_remote_flush, n);
  // Sending the IPIs (one multicast), charged before the wait for their answers.
  if (k.hwCharged) spendNs(k.hw.ipiSend);
  if (k.config.mutations.skipShootdownWait) return;
  const startMs = performance.now();
  for (let t = 0; t < n; t++) waitForAck(cpu, targets[2 * t], mm, targets[2 * t + 1], startMs);
  cpu.count(VM.tlb_shootdown_wait_us, (performance.now() - startMs) * 1000);
}

function waitForAck(cpu: Cpu, other: number, mm: number, ticket: number, startMs: number): void {
  const k = cpu.k;
  const i32 = cpu.i32;
  const activeWord = k.shootWord(other, CPU_SHOOTDOWN.activeMm);
  const ackWord = k.shootWord(other, CPU_SHOOTDOWN.flushAck);
  const hook = k.dom.hook;
  for (let spins = 0; ; spins++) {
    const ack = Atomics.load(i32, ackWord);
    if (((ack - ticket) | 0) >= 0) return;
    if (Atomics.load(i32, activeWord) !== mm) return;
    if (hook !== null) {
      if (hook(cpu.id, SchedPoint.wait, ackWord)) continue;
    } else if (spins < k.config.locks.spinLimit) {
      continue;
    }
    Atomics.wait(i32, ackWord, ack, k.config.locks.waitSliceMs);
    const waitedMs = performance.now() - startMs;
    if (waitedMs > k.config.locks.hungTaskTimeoutMs) {
      throw new HungTaskError(
        `INFO: cpu ${cpu.id} blocked for more than ${Math.round(waitedMs)} ms in a TLB shootdown of mm ${mm}: ` +
          `cpu ${other} runs its user code and has not acknowledged flush request ${ticket}; ` +
          `cpu ${cpu.id} holds: ${k.dom.describeHeld(cpu.id)}`,
        cpu.id,
        ackWord,
      );
    }
  }
}
