// The MMU and user memory access (DESIGN §5). Simulated user code never touches frames directly:
// it calls these functions, which run in user mode for the mm and, at every page boundary,
//  1. serve a pending TLB-flush request (one Atomics.load),
//  2. look the page up in the CPU's TLB,
//  3. on a miss walk the PTE (Atomics.load) and fill the TLB; a write sets DIRTY in the PTE with a
//     compareExchange, as hardware does,
//  4. on a non-present or write-protected PTE leave user mode and enter the fault handler.
// A frame number obtained here stays valid until this CPU next acknowledges a flush (at a later
// boundary, or on leaving user mode), so the bytes are copied with no lock held.

import { MM, PAGE, PAGE_SIZE, TLB_ENTRY } from '../layout/layout.js';
import { SchedPoint } from '../locks/index.js';
import type { Cpu } from './cpu.js';
import { handleMmFault } from './memory.js';
import { PTE_DIRTY, PTE_FRAME_SHIFT, PTE_PRESENT, PTE_PROTNONE, PTE_WRITE } from './pgtable.js';
import { SigSegv } from './signals.js';
import { checkFlush, enterUser, exitUser } from './tlb.js';
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

/** The access boundary: flush requests are served here, and a scheduler may switch CPUs. */
function boundary(cpu: Cpu, vpn: number): void {
  checkFlush(cpu);
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
  const k = cpu.k;
  const i32 = cpu.i32;
  if (vpn < 0 || vpn >= k.geometry.vaPages) {
    cpu.count(VM.sigsegv);
    throw new SigSegv(address, 'maperr');
  }
  const word = k.pteWord(mm, vpn);
  for (;;) {
    let pte = Atomics.load(i32, word);
    if ((pte & (PTE_PRESENT | PTE_PROTNONE)) === PTE_PRESENT && (!write || (pte & PTE_WRITE) !== 0)) {
      if (write && (pte & PTE_DIRTY) === 0) {
        // The hardware's locked set of the dirty bit: fails if reclaim changed the PTE meanwhile.
        if (Atomics.compareExchange(i32, word, pte, pte | PTE_DIRTY) !== pte) continue;
        pte |= PTE_DIRTY;
      }
      const frame = pte >>> PTE_FRAME_SHIFT;
      i32[entry + TLB_ENTRY.vpn] = vpn;
      i32[entry + TLB_ENTRY.pte] = pte;
      i32[entry + TLB_ENTRY.gen] = frameGen(cpu, frame);
      return frame;
    }
    // A fault: the handler may sleep on locks, so leave user mode while it runs.
    exitUser(cpu);
    try {
      handleMmFault(cpu, mm, vpn, write, address);
    } finally {
      enterUser(cpu, mm);
    }
  }
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

function checkSpan(cpu: Cpu, address: number, length: number): void {
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

/** A page of one byte value, copied from: TypedArray.fill on a shared buffer is ~10x slower in V8. */
let patternPage = new Uint8Array(PAGE_SIZE);
let patternValue = 0;

/** memset. */
export function userFill(cpu: Cpu, mm: number, address: number, length: number, value: number): void {
  const frames = cpu.k.frames;
  const byte = value & 0xff;
  if (byte !== patternValue) {
    patternPage = new Uint8Array(PAGE_SIZE).fill(byte);
    patternValue = byte;
  }
  const pattern = patternPage;
  forEachPage(cpu, mm, address, length, true, (base, _done, n) =>
    frames.set(n === PAGE_SIZE ? pattern : pattern.subarray(0, n), base),
  );
}

/** memcpy within one address space (the ranges must not overlap). */
export function userCopy(cpu: Cpu, mm: number, dst: number, src: number, length: number): void {
  checkSpan(cpu, dst, length);
  checkSpan(cpu, src, length);
  const frames = cpu.k.frames;
  const debug = cpu.k.config.debug;
  inUser(cpu, mm, () => {
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
      const dstGen = debug ? frameGen(cpu, dstFrame) : 0;
      const srcGen = debug ? frameGen(cpu, srcFrame) : 0;
      const srcBase = srcFrame * PAGE_SIZE + srcOffset;
      frames.copyWithin(dstFrame * PAGE_SIZE + dstOffset, srcBase, srcBase + n);
      if (debug) {
        checkStillMapped(cpu, mm, dstVpn, dstFrame, dstGen);
        checkStillMapped(cpu, mm, srcVpn, srcFrame, srcGen);
      }
      done += n;
    }
  });
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
