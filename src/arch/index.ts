// arch: the hardware's byte primitives (arch/x86/lib), for the kernel and the user-access path.
//
// The kernel stays TypeScript; only bulk byte work lives here. The kernel's by-frame wrappers
// (clearPage, copyPage) are in src/mm/highmem.ts. By physical address (byte offset in the frames region), for user copies: k.arch.memcpy/memset/
// memcmp and the record searches.

import type { Arch, ArchKind } from './arch.js';
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
