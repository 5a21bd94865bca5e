// Goal: the machine's memory is one shared WebAssembly.Memory in whole 64 KiB pages, whose buffer is
// the buffer every view uses; a worker attaches to the same memory; a machine that would not fit the
// 4 GiB a 32-bit memory holds, or a bad arch, is refused with a clear error.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/index.js';
import { MAX_MACHINE_BYTES, WASM_PAGE_BYTES } from '../../src/layout/layout.js';

describe('machine memory', () => {
  it('is a shared WebAssembly.Memory of whole pages whose buffer the kernel views', () => {
    const machine = Machine.create({ memoryMiB: 8, cpus: 1, maxProcesses: 2, vaMiB: 16 });
    const k = machine.kernel;
    const { memory } = machine.handle;
    expect(memory).toBeInstanceOf(WebAssembly.Memory);
    expect(memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(memory.buffer).toBe(k.buffer);
    expect(k.frames.buffer).toBe(memory.buffer);
    expect(k.buffer.byteLength % WASM_PAGE_BYTES).toBe(0);
    expect(k.buffer.byteLength).toBe(k.layout.byteLength);
    expect(k.layout.frames.byteOffset + k.layout.frames.byteLength).toBeLessThanOrEqual(k.buffer.byteLength);
  });

  it('attaches a second view (as a worker does) to the same bytes and the same arch', () => {
    const machine = Machine.create({ memoryMiB: 8, cpus: 2, maxProcesses: 2, vaMiB: 16, arch: 'js' });
    const t = machine.createProcess().mainThread(0);
    const addr = t.mmap(4096);
    t.write(addr, new Uint8Array([9, 8, 7]));
    const other = Machine.attach(machine.handle);
    expect(other.kernel.arch.kind).toBe('js');
    expect(other.kernel.frames.buffer).toBe(machine.kernel.buffer);
    other.kernel.arch.memset(0, 0x42, 1);
    expect(machine.kernel.frames[0]).toBe(0x42);
  });

  it('refuses a machine larger than a shared 32-bit WebAssembly memory, naming the limit', () => {
    expect(MAX_MACHINE_BYTES).toBe(2 ** 32);
    // 3 GiB of RAM is allowed, but page tables for 4096 processes of 1 GiB each add 4 GiB more.
    expect(() => Machine.create({ memoryMiB: 3072, maxProcesses: 4096, vaMiB: 1024 })).toThrow(
      /needs \d+ MiB .* more than the 4096 MiB a shared WebAssembly memory holds/,
    );
    expect(() => Machine.create({ memoryMiB: 4096 })).toThrow(/memoryMiB must be an integer from 1 to 3072/);
  });

  it('refuses an arch it does not have', () => {
    expect(() => Machine.create({ memoryMiB: 8, arch: 'simd' as 'wasm' })).toThrow(
      /arch must be wasm or js, got simd/,
    );
  });
});
