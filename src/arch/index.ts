// arch: the hardware's byte primitives (arch/x86/lib), for the kernel and the user-access path.
//
// The kernel stays TypeScript; only bulk byte work lives here. By frame number, for kernel paths:
//   clearPage(k, frame)              the anonymous fault's zero-fill (clear_page)
//   copyPage(k, dstFrame, srcFrame)  copy-on-write's copy (copy_page)
// By physical address (byte offset in the frames region), for user copies: k.arch.memcpy/memset/
// memcmp and the record searches.

import type { Kernel } from '../mm/kernel.js';
import { type Arch, type ArchKind, ArchRangeError } from './arch.js';
import { TypedArrayArch } from './typed_array.js';
import { WasmArch } from './wasm.js';

export { ARCH_KINDS, type Arch, type ArchKind, ArchRangeError, RECORD_BYTES } from './arch.js';

/** The primitives of one machine memory; `frames` is its frames region. */
export function createArch(kind: ArchKind, memory: WebAssembly.Memory, frames: Uint8Array): Arch {
  if (frames.buffer !== memory.buffer) throw new Error('arch: frames must be a view of the memory');
  return kind === 'wasm'
    ? new WasmArch(memory, frames.byteOffset, frames.byteLength)
    : new TypedArrayArch(frames);
}

function checkFrame(op: string, k: Kernel, frame: number): void {
  if (!(Number.isInteger(frame) && frame >= 0 && frame < k.geometry.frames))
    throw new ArchRangeError(
      `${op}: no frame ${frame} (the machine has ${k.geometry.frames}) (a kernel bug)`,
    );
}

/** copy_page: frame srcFrame's 4 KiB into frame dstFrame (copy-on-write). */
export function copyPage(k: Kernel, dstFrame: number, srcFrame: number): void {
  checkFrame('copy_page', k, dstFrame);
  checkFrame('copy_page', k, srcFrame);
  k.arch.copyPage(k.frameOffset(dstFrame), k.frameOffset(srcFrame));
}

/** clear_page: zeroes frame `frame`. */
export function clearPage(k: Kernel, frame: number): void {
  checkFrame('clear_page', k, frame);
  k.arch.clearPage(k.frameOffset(frame));
}
