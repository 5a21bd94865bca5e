// The MMU and user memory access (DESIGN §5). Simulated user code never touches frames directly:
// it calls these functions, which run in user mode for the mm and, at every page boundary,
//  1. serve a pending TLB-flush request (one Atomics.load),
//  2. look the page up in the CPU's TLB,
//  3. on a miss walk the PTE (Atomics.load) and fill the TLB; the walk sets YOUNG (the accessed bit),
//     and a write DIRTY, in the PTE with a compareExchange, as hardware does,
//  4. on a non-present or write-protected PTE leave user mode and enter the fault handler.
// A frame number obtained here stays valid until this CPU next acknowledges a flush (at a later
// boundary, or on leaving user mode), so the bytes are copied with no lock held. Bytes inside the
// machine move through the byte primitives (src/arch: memcpy, memset), one call per run within a
// page; bytes to or from a JS array (read, write) are TypedArray copies, as the JS side of the copy
// lies outside the machine's memory.

import { spendNs } from '../hw/charge.js';
import { MM, PAGE, PAGE_SIZE, TLB_ENTRY } from '../layout/layout.js';
import { SchedPoint } from '../locks/index.js';
import type { Cpu } from './cpu.js';
import { handleMmFault } from './memory.js';
import { PTE_DIRTY, PTE_FRAME_SHIFT, PTE_PRESENT, PTE_PROTNONE, PTE_WRITE, PTE_YOUNG } from './pgtable.js';
import { SigSegv } from './signals.js';
import { enterUser, exitUser, flushPending, serveFlush } from './tlb.js';
import { VM } from './vmstat.js';

const WRITE_OK = PTE_WRITE | PTE_DIRTY;

/** A stale translation was used: the frame was freed while this CPU still mapped it. */
export class UseAfterFreeError extends Error {
  override name = 'UseAfterFreeError';
}

/** Runs body in user mode for mm, unless the CPU is in user mode for it already (a batch). */
export function inUser<T>(cpu: Cpu, mm: number, body: () => T): T {
  if (cpu.userMm === mm) return body();
  enterUser(cpu, mm);
  try {
    return body();
  } finally {
    exitUser(cpu);
  }
}

/** Debug mode, between a translation and its use: a hook (delay injection) may stop here. */
function moving(cpu: Cpu, vpn: number): void {
  const hook = cpu.k.dom.hook;
  if (hook !== null) hook(cpu.id, SchedPoint.moving, vpn);
}

/** The access boundary: flush requests are served here, and a scheduler may switch CPUs. */
export function boundary(cpu: Cpu, vpn: number): void {
  if (flushPending(cpu)) serveFlush(cpu);
  const hook = cpu.k.dom.hook;
  if (hook !== null) hook(cpu.id, SchedPoint.access, vpn);
}

/** Frame backing vpn of mm for a read or write, faulting it in if needed. In user mode. */
export function translate(cpu: Cpu, mm: number, vpn: number, write: boolean, address: number): number {
  const i32 = cpu.i32;
  const entry = cpu.tlbFirst + (vpn & cpu.tlbMask) * TLB_ENTRY.STRIDE;
  if (i32[entry + TLB_ENTRY.vpn] === vpn) {
    const pte = i32[entry + TLB_ENTRY.pte];
    if (!write || (pte & WRITE_OK) === WRITE_OK) {
      const frame = pte >>> PTE_FRAME_SHIFT;
      if (cpu.k.config.debug) checkGeneration(cpu, mm, vpn, frame, i32[entry + TLB_ENTRY.gen]);
      return frame;
    }
  }
  return translateSlow(cpu, mm, vpn, write, address, entry);
}

function translateSlow(
  cpu: Cpu,
  mm: number,
  vpn: number,
  write: boolean,
  address: number,
  entry: number,
): number {
  if (vpn < 0 || vpn >= cpu.k.geometry.vaPages) {
    cpu.count(VM.sigsegv);
    throw new SigSegv(address, 'maperr');
  }
  // A slot a flush emptied: the hardware's page walk refills it. Only these are charged: a conflict
  // miss of the model's direct-mapped TLB would mostly hit in the host's set-associative one.
  if (cpu.k.hwCharged && cpu.i32[entry + TLB_ENTRY.vpn] === -1) spendNs(cpu.k.hw.tlbRefill);
  for (;;) {
    const frame = walk(cpu, mm, vpn, write, entry);
    if (frame >= 0) return frame;
    // A fault: the handler may sleep on locks, so leave user mode while it runs.
    exitUser(cpu);
    // The exception's entry and exit, charged where the handler begins (no lock held yet).
    if (cpu.k.hwCharged) spendNs(cpu.k.hw.fault);
    try {
      handleMmFault(cpu, mm, vpn, write, address);
    } finally {
      enterUser(cpu, mm);
    }
  }
}

/** The page walk of a TLB miss (vpn in range): fills the TLB entry, or returns -1 for a fault. */
function walk(cpu: Cpu, mm: number, vpn: number, write: boolean, entry: number): number {
  const i32 = cpu.i32;
  const word = cpu.k.pteWord(mm, vpn);
  for (;;) {
    let pte = Atomics.load(i32, word);
    if ((pte & (PTE_PRESENT | PTE_PROTNONE)) !== PTE_PRESENT || (write && (pte & PTE_WRITE) === 0)) return -1;
    // The hardware's locked set of the accessed bit on every walk, and of the dirty bit on a write:
    // fails if the kernel changed the PTE meanwhile, and the walk starts over.
    const set = write ? PTE_YOUNG | PTE_DIRTY : PTE_YOUNG;
    if ((pte & set) !== set) {
      if (Atomics.compareExchange(i32, word, pte, pte | set) !== pte) continue;
      // The microcode assist that sets the dirty bit (the accessed bit's is part of the walk's refill).
      if (write && (pte & PTE_DIRTY) === 0 && cpu.k.hwCharged) spendNs(cpu.k.hw.dirtyAssist);
      pte |= set;
    }
    const frame = pte >>> PTE_FRAME_SHIFT;
    if (i32[entry + TLB_ENTRY.vpn] === -1) cpu.tlbFilled[cpu.tlbFilledCount++] = vpn & cpu.tlbMask;
    i32[entry + TLB_ENTRY.vpn] = vpn;
    i32[entry + TLB_ENTRY.pte] = pte;
    i32[entry + TLB_ENTRY.gen] = frameGen(cpu, frame);
    return frame;
  }
}

/**
 * translate() without the fault: the frame from the TLB or a page walk, or -1 where the access
 * would fault (or vpn is outside the address space). Never leaves user mode, so it acknowledges no
 * flush: frames translated before it stay valid. In user mode, outside debug mode.
 */
function translateNoFault(cpu: Cpu, mm: number, vpn: number, write: boolean): number {
  const i32 = cpu.i32;
  const entry = cpu.tlbFirst + (vpn & cpu.tlbMask) * TLB_ENTRY.STRIDE;
  if (i32[entry + TLB_ENTRY.vpn] === vpn) {
    const pte = i32[entry + TLB_ENTRY.pte];
    if (!write || (pte & WRITE_OK) === WRITE_OK) return pte >>> PTE_FRAME_SHIFT;
  }
  if (vpn < 0 || vpn >= cpu.k.geometry.vaPages) return -1;
  return walk(cpu, mm, vpn, write, entry);
}

/**
 * Debug mode, after the bytes moved: the frame must not have been freed while we used it (the
 * free bumps its generation). The shootdown protocol makes this impossible; a broken one shows here.
 */
function checkStillMapped(cpu: Cpu, mm: number, vpn: number, frame: number, gen: number): void {
  if (frameGen(cpu, frame) !== gen) {
    throw new UseAfterFreeError(
      `use after free: frame ${frame} (mm ${mm} page 0x${vpn.toString(16)}) was freed while cpu ${cpu.id} was accessing it`,
    );
  }
}

function frameGen(cpu: Cpu, frame: number): number {
  return cpu.k.i32[cpu.k.pageWord(frame, PAGE.gen)];
}

/** Debug mode's use-after-free detector: the frame must still be the one the TLB entry saw. */
function checkGeneration(cpu: Cpu, mm: number, vpn: number, frame: number, gen: number): void {
  const k = cpu.k;
  const now = frameGen(cpu, frame);
  // A COW-shared frame is mapped by several mms of one anon_vma, all at the same page.
  const owner = k.i32[k.pageWord(frame, PAGE.anonVma)];
  const ownerVpn = k.i32[k.pageWord(frame, PAGE.vpn)];
  if (now !== gen || owner !== k.i32[k.mmWord(mm, MM.anonVma)] || ownerVpn !== vpn) {
    throw new UseAfterFreeError(
      `use after free: cpu ${cpu.id} accessed frame ${frame} through a stale TLB entry for mm ${mm} page 0x${vpn.toString(16)} ` +
        `(entry gen ${gen}, frame gen ${now}, frame now owned by anon_vma ${owner} page 0x${ownerVpn.toString(16)})`,
    );
  }
}

/**
 * One page's run of an access, in user mode: serves the boundary, translates the page of `address`,
 * and hands `use` the physical address of `address` (a byte offset in the frames region); in debug
 * mode it then checks that the frame was not freed while `use` ran. Returns what `use` returns.
 */
export function withUserPage<T>(
  cpu: Cpu,
  mm: number,
  address: number,
  write: boolean,
  use: (phys: number) => T,
): T {
  const vpn = Math.floor(address / PAGE_SIZE);
  boundary(cpu, vpn);
  const frame = translate(cpu, mm, vpn, write, address);
  if (!cpu.k.config.debug) return use(frame * PAGE_SIZE + (address - vpn * PAGE_SIZE));
  const gen = frameGen(cpu, frame);
  moving(cpu, vpn);
  const result = use(frame * PAGE_SIZE + (address - vpn * PAGE_SIZE));
  checkStillMapped(cpu, mm, vpn, frame, gen);
  return result;
}

export function checkSpan(cpu: Cpu, address: number, length: number): void {
  if (!Number.isSafeInteger(address) || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`bad user access: address ${address}, length ${length}`);
  }
  if (address < 0) {
    cpu.count(VM.sigsegv);
    throw new SigSegv(address, 'maperr');
  }
}

/**
 * Walks [address, address + length) page by page in user mode: at each page boundary, serves
 * flushes, translates, and lets `move` copy bytes at `base` (the byte offset in physical memory).
 * In debug mode it then checks that the frame was not freed while the bytes moved.
 */
function forEachPage(
  cpu: Cpu,
  mm: number,
  address: number,
  length: number,
  write: boolean,
  move: (base: number, done: number, bytes: number) => void,
): void {
  checkSpan(cpu, address, length);
  const debug = cpu.k.config.debug;
  inUser(cpu, mm, () => {
    for (let done = 0; done < length; ) {
      const at = address + done;
      const vpn = Math.floor(at / PAGE_SIZE);
      const offset = at - vpn * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - offset, length - done);
      boundary(cpu, vpn);
      const frame = translate(cpu, mm, vpn, write, at);
      const gen = debug ? frameGen(cpu, frame) : 0;
      if (debug) moving(cpu, vpn);
      move(frame * PAGE_SIZE + offset, done, n);
      if (debug) checkStillMapped(cpu, mm, vpn, frame, gen);
      done += n;
    }
  });
}

/** Copies length bytes at address into a new array. */
export function userRead(cpu: Cpu, mm: number, address: number, length: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, length));
  const frames = cpu.k.frames;
  forEachPage(cpu, mm, address, length, false, (base, done, n) =>
    out.set(frames.subarray(base, base + n), done),
  );
  return out;
}

/** Writes bytes at address. */
export function userWrite(cpu: Cpu, mm: number, address: number, bytes: Uint8Array): void {
  const frames = cpu.k.frames;
  forEachPage(cpu, mm, address, bytes.length, true, (base, done, n) =>
    frames.set(bytes.subarray(done, done + n), base),
  );
}

/** memset (the low byte of value). */
export function userFill(cpu: Cpu, mm: number, address: number, length: number, value: number): void {
  const arch = cpu.k.arch;
  const byte = value & 0xff;
  forEachPage(cpu, mm, address, length, true, (base, _done, n) => arch.memset(base, byte, n));
}

/** memcpy within one address space (the ranges must not overlap). */
export function userCopy(cpu: Cpu, mm: number, dst: number, src: number, length: number): void {
  checkSpan(cpu, dst, length);
  checkSpan(cpu, src, length);
  inUser(cpu, mm, () => {
    if (cpu.k.config.debug) copyPages(cpu, mm, dst, src, length);
    else copyRuns(cpu, mm, dst, src, length);
  });
}

/** Debug mode's copy: one primitive call per page run, the frame generations checked around each. */
function copyPages(cpu: Cpu, mm: number, dst: number, src: number, length: number): void {
  const arch = cpu.k.arch;
  for (let done = 0; done < length; ) {
    const to = dst + done;
    const from = src + done;
    const dstVpn = Math.floor(to / PAGE_SIZE);
    const srcVpn = Math.floor(from / PAGE_SIZE);
    const dstOffset = to - dstVpn * PAGE_SIZE;
    const srcOffset = from - srcVpn * PAGE_SIZE;
    const n = Math.min(PAGE_SIZE - dstOffset, PAGE_SIZE - srcOffset, length - done);
    boundary(cpu, dstVpn);
    // A fault while translating one side leaves user mode, which acknowledges flushes: translate
    // both again until neither faulted, so that both frames are current.
    let epoch: number;
    let dstFrame: number;
    let srcFrame: number;
    do {
      epoch = cpu.userEntries;
      dstFrame = translate(cpu, mm, dstVpn, true, to);
      srcFrame = translate(cpu, mm, srcVpn, false, from);
    } while (epoch !== cpu.userEntries);
    const dstGen = frameGen(cpu, dstFrame);
    const srcGen = frameGen(cpu, srcFrame);
    moving(cpu, dstVpn);
    arch.memcpy(dstFrame * PAGE_SIZE + dstOffset, srcFrame * PAGE_SIZE + srcOffset, n);
    checkStillMapped(cpu, mm, dstVpn, dstFrame, dstGen);
    checkStillMapped(cpu, mm, srcVpn, srcFrame, srcGen);
    done += n;
  }
}

/**
 * The copy outside debug mode. Every page still gets its boundary and its translation, but pages
 * that are physically contiguous on both sides (in either direction) are copied in one primitive
 * call, as the hardware copies them in one stream. A translated frame stays valid until this CPU acknowledges a flush, so
 * the pending run is copied before anything that could: serving a flush request, a fault (which
 * leaves user mode), a scheduler's switch point. A signal thus finds every page before the faulting
 * one copied, as memcpy would leave them.
 */
function copyRuns(cpu: Cpu, mm: number, dst: number, src: number, length: number): void {
  const arch = cpu.k.arch;
  let runDst = 0;
  let runSrc = 0;
  let runBytes = 0;
  // Both sides' page and offset, stepped as the copy crosses page boundaries (no division per page).
  let dstVpn = Math.floor(dst / PAGE_SIZE);
  let srcVpn = Math.floor(src / PAGE_SIZE);
  let dstOffset = dst - dstVpn * PAGE_SIZE;
  let srcOffset = src - srcVpn * PAGE_SIZE;
  for (let done = 0; done < length; ) {
    const n = Math.min(PAGE_SIZE - dstOffset, PAGE_SIZE - srcOffset, length - done);
    // The boundary, with the pending run copied before a flush is served. A request raised after
    // this load waits for the next boundary, as one raised just after a boundary always does.
    if (flushPending(cpu)) {
      if (runBytes > 0) arch.memcpy(runDst, runSrc, runBytes);
      runBytes = 0;
      serveFlush(cpu);
    }
    const hook = cpu.k.dom.hook;
    if (hook !== null) {
      if (runBytes > 0) arch.memcpy(runDst, runSrc, runBytes);
      runBytes = 0;
      hook(cpu.id, SchedPoint.access, dstVpn);
    }
    let dstFrame = translateNoFault(cpu, mm, dstVpn, true);
    let srcFrame = dstFrame < 0 ? -1 : translateNoFault(cpu, mm, srcVpn, false);
    if (srcFrame < 0) {
      // A fault ahead: copy what is pending, then translate as copyPages does.
      if (runBytes > 0) arch.memcpy(runDst, runSrc, runBytes);
      runBytes = 0;
      let epoch: number;
      do {
        epoch = cpu.userEntries;
        dstFrame = translate(cpu, mm, dstVpn, true, dst + done);
        srcFrame = translate(cpu, mm, srcVpn, false, src + done);
      } while (epoch !== cpu.userEntries);
    }
    const dstPhys = dstFrame * PAGE_SIZE + dstOffset;
    const srcPhys = srcFrame * PAGE_SIZE + srcOffset;
    if (runBytes > 0 && dstPhys === runDst + runBytes && srcPhys === runSrc + runBytes) {
      runBytes += n;
    } else if (runBytes > 0 && dstPhys + n === runDst && srcPhys + n === runSrc) {
      // The page below the run on both sides (the per-CPU page lists hand out frames downwards);
      // the ranges do not overlap, so the order the bytes move in does not matter.
      runDst = dstPhys;
      runSrc = srcPhys;
      runBytes += n;
    } else {
      if (runBytes > 0) arch.memcpy(runDst, runSrc, runBytes);
      runDst = dstPhys;
      runSrc = srcPhys;
      runBytes = n;
    }
    done += n;
    dstOffset += n;
    if (dstOffset === PAGE_SIZE) {
      dstOffset = 0;
      dstVpn++;
    }
    srcOffset += n;
    if (srcOffset === PAGE_SIZE) {
      srcOffset = 0;
      srcVpn++;
    }
  }
  if (runBytes > 0) arch.memcpy(runDst, runSrc, runBytes);
}

/** A 32-bit little-endian load (any alignment). */
export function userLoad32(cpu: Cpu, mm: number, address: number): number {
  if ((address & 3) !== 0 || !Number.isSafeInteger(address)) {
    const bytes = userRead(cpu, mm, address, 4);
    return bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
  }
  checkSpan(cpu, address, 4);
  return inUser(cpu, mm, () => {
    const vpn = Math.floor(address / PAGE_SIZE);
    boundary(cpu, vpn);
    const base = translate(cpu, mm, vpn, false, address) * PAGE_SIZE + (address - vpn * PAGE_SIZE);
    return cpu.k.frameWords[base >>> 2];
  });
}

/** A 32-bit little-endian store (any alignment). */
export function userStore32(cpu: Cpu, mm: number, address: number, value: number): void {
  if ((address & 3) !== 0 || !Number.isSafeInteger(address)) {
    userWrite(
      cpu,
      mm,
      address,
      new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]),
    );
    return;
  }
  checkSpan(cpu, address, 4);
  inUser(cpu, mm, () => {
    const vpn = Math.floor(address / PAGE_SIZE);
    boundary(cpu, vpn);
    const base = translate(cpu, mm, vpn, true, address) * PAGE_SIZE + (address - vpn * PAGE_SIZE);
    cpu.k.frameWords[base >>> 2] = value;
  });
}
