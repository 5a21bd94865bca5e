// Goal: outside debug mode, where t.copy copies physically contiguous pages in one call after
// translating them all, a copy racing MADV_DONTNEED of its destination never writes a frame that
// was freed meanwhile: another process that reuses the freed frames at once sees only its own data.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Machine } from '../../src/index.js';
import { CpuPool } from '../../src/workers/cpus.js';
import { JOBS } from './helpers.js';

const PAGE = 4096;

let machine: Machine;
let cpus: CpuPool;
beforeAll(() => {
  machine = Machine.create({ memoryMiB: 16, cpus: 2, maxProcesses: 4, vaMiB: 64, debug: false });
  cpus = new CpuPool(machine, 2);
});
afterAll(() => cpus.close());

it('a copy racing MADV_DONTNEED of its destination never writes into a freed frame', async () => {
  const a = machine.createProcess();
  const b = machine.createProcess();
  const pages = 64;
  const ta = a.mainThread();
  const src = ta.mmap(pages * PAGE);
  const dst = ta.mmap(pages * PAGE);
  ta.fill(src, pages * PAGE, 0x11);
  const addrB = b.mainThread().mmap(pages * PAGE);
  machine.detach();
  const control = new Int32Array(new SharedArrayBuffer(64));
  const [copies, dropper] = await Promise.all([
    cpus.run<number>(0, JOBS, 'copyLoop', { pid: a.pid, addr: dst, srcAddr: src, pages, control, cpus: 2 }),
    cpus.run<{ rounds: number; bad: string | null }>(1, JOBS, 'dropAndReuse', {
      pidA: a.pid,
      addrA: dst,
      pidB: b.pid,
      addrB,
      pages,
      durationMs: 1500,
      control,
      cpus: 2,
    }),
  ]);
  expect(dropper.bad).toBeNull();
  expect(copies).toBeGreaterThan(10);
  expect(dropper.rounds).toBeGreaterThan(10);
  // The copier was in user mode while its destination went: shootdowns were sent and answered.
  expect(machine.vmstat().nr_tlb_remote_flush_received).toBeGreaterThan(0);
  expect(ta.read(src, pages * PAGE).every((byte) => byte === 0x11)).toBe(true);
  machine.detach();
  machine.validate();
});
