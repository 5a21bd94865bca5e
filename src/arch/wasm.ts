// The byte primitives in WebAssembly: one instance of arch.wat per machine memory, called after the
// shared argument checks (arch.ts), so the module itself never sees an address outside physical memory.

import { type Arch, checkByte, checkPage, checkRecords, checkRun } from './arch.js';
import { ARCH_WASM_BASE64 } from './arch_wasm.js';

/** The module's exports (arch.wat). Addresses are absolute offsets in the memory; nothing is checked. */
export interface ArchExports {
  copy_page(dst: number, src: number): void;
  clear_page(dst: number): void;
  memcpy(dst: number, src: number, n: number): void;
  memset(dst: number, c: number, n: number): void;
  memcmp(a: number, b: number, n: number): number;
  bsearch_records(base: number, count: number, key: number): number;
  lsearch_records(base: number, count: number, key: number): number;
}

/** Compiled once per JS thread (main or worker); instantiated once per machine memory. */
let compiled: WebAssembly.Module | undefined;

function archModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(ARCH_WASM_BASE64, 'base64'));
  return compiled;
}

/**
 * The module instantiated over `memory`, unchecked: for WasmArch, and for benchmarks that measure the
 * bare memory.copy/memory.fill floor.
 */
export function instantiateArch(memory: WebAssembly.Memory): ArchExports {
  return new WebAssembly.Instance(archModule(), { env: { memory } }).exports as unknown as ArchExports;
}

export class WasmArch implements Arch {
  readonly kind = 'wasm';
  private readonly x: ArchExports;

  /** Physical memory is the region [framesOffset, framesOffset + framesBytes) of memory. */
  constructor(
    memory: WebAssembly.Memory,
    private readonly framesOffset: number,
    private readonly framesBytes: number,
  ) {
    if (framesOffset + framesBytes > memory.buffer.byteLength)
      throw new Error(`arch: frames [${framesOffset}, +${framesBytes}) past the memory's end`);
    this.x = instantiateArch(memory);
  }

  copyPage(dst: number, src: number): void {
    checkPage('copy_page', 'dst', dst, this.framesBytes);
    checkPage('copy_page', 'src', src, this.framesBytes);
    this.x.copy_page(this.framesOffset + dst, this.framesOffset + src);
  }

  clearPage(dst: number): void {
    checkPage('clear_page', 'dst', dst, this.framesBytes);
    this.x.clear_page(this.framesOffset + dst);
  }

  memcpy(dst: number, src: number, n: number): void {
    checkRun('memcpy', 'dst', dst, n, this.framesBytes);
    checkRun('memcpy', 'src', src, n, this.framesBytes);
    this.x.memcpy(this.framesOffset + dst, this.framesOffset + src, n);
  }

  memset(dst: number, byte: number, n: number): void {
    checkByte('memset', byte);
    checkRun('memset', 'dst', dst, n, this.framesBytes);
    this.x.memset(this.framesOffset + dst, byte, n);
  }

  memcmp(a: number, b: number, n: number): number {
    checkRun('memcmp', 'a', a, n, this.framesBytes);
    checkRun('memcmp', 'b', b, n, this.framesBytes);
    return this.x.memcmp(this.framesOffset + a, this.framesOffset + b, n);
  }

  bsearchRecords(base: number, count: number, key: number): number {
    checkRecords('bsearch_records', base, count, key, this.framesBytes);
    return this.x.bsearch_records(this.framesOffset + base, count, key);
  }

  lsearchRecords(base: number, count: number, key: number): number {
    checkRecords('lsearch_records', base, count, key, this.framesBytes);
    return this.x.lsearch_records(this.framesOffset + base, count, key);
  }
}
