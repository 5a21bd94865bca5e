// Goal: the machine stays correct with CPUs on real worker threads — racing faults install one
// frame per page, MADV_DONTNEED racing readers never exposes a freed or foreign frame, munmap racing
// access gives SIGSEGV rather than corruption, and afterwards the validator passes with every frame
// accounted for.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../src/index.js';
import { CpuPool } from '../../src/workers/cpus.js';
import { JOBS } from './helpers.js';
import type { ReadCheckResult } from './jobs.js';

const PAGE = 4096;

function control(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(64));
}

describe('concurrency on worker CPUs', () => {
  let machine: Machine;
  let cpus: CpuPool;
  beforeAll(() => {
    machine = Machine.create({ memoryMiB: 32, cpus: 4, maxProcesses: 4, vaMiB: 64, debug: true });
    cpus = new CpuPool(machine, 4);
  });
  afterAll(() => cpus.close());

  it('CPUs faulting the same pages concurrently install exactly one frame per page', async () => {
    const proc = machine.createProcess();
    const t = proc.mainThread();
    const pages = 2048;
    const addr = t.mmap(pages * PAGE);
    machine.detach();
    const c = control();
    const region = { pid: proc.pid, addr, pages, control: c, cpus: 4 };
    await Promise.all([0, 1, 2, 3].map((cpu) => cpus.run(cpu, JOBS, 'touchAll', region)));
    const summary = machine.validate();
    expect(summary.mappedFrames).toBe(pages);
    expect(machine.procfs(`/proc/${proc.pid}/status`)).toMatch(new RegExp(`VmRSS:\\s+${pages * 4} kB`));
    proc.exit();
    machine.detach();
    expect(machine.validate().mappedFrames).toBe(0);
  });

  it('MADV_DONTNEED racing readers: old data or zeros, never a freed or foreign frame', async () => {
    const a = machine.createProcess();
    const b = machine.createProcess();
    const pages = 64;
    const addrA = a.mainThread().mmap(pages * PAGE);
    const addrB = b.mainThread().mmap(pages * PAGE);
    machine.detach();
    const durationMs = 1500;
    /** One CPU drops the pages with MADV_DONTNEED in a loop while the next one reads them. */
    const dontneedVsReader = (cpu: number, pid: number, addr: number, pattern: number) => {
      const region = { pid, addr, pages, control: control(), cpus: 2 };
      return Promise.all([
        cpus.run<number>(cpu, JOBS, 'dontneedLoop', { ...region, pattern, durationMs }),
        cpus.run<ReadCheckResult>(cpu + 1, JOBS, 'readCheck', {
          ...region,
          allowed: [pattern, 0],
          segvAllowed: false,
        }),
      ]);
    };
    const [[roundsA, readA], [roundsB, readB]] = await Promise.all([
      dontneedVsReader(0, a.pid, addrA, 0x11),
      dontneedVsReader(2, b.pid, addrB, 0x22),
    ]);
    expect(readA.bad).toBeNull();
    expect(readB.bad).toBeNull();
    expect(roundsA).toBeGreaterThan(10);
    expect(roundsB).toBeGreaterThan(10);
    expect(readA.reads + readB.reads).toBeGreaterThan(10);
    const stat = machine.vmstat();
    // The readers were in user mode while pages went: shootdowns were really sent and answered.
    expect(stat.nr_tlb_remote_flush).toBeGreaterThan(0);
    expect(stat.nr_tlb_remote_flush_received).toBeGreaterThan(0);
    machine.validate();
    a.exit();
    b.exit();
    machine.detach();
    expect(machine.validate().mappedFrames).toBe(0);
  });

  it('munmap racing access gives SIGSEGV or the data, never corruption', async () => {
    const proc = machine.createProcess();
    const pages = 32;
    const addr = 0x1000000;
    machine.detach();
    const c = control();
    const [rounds, read] = await Promise.all([
      cpus.run<number>(0, JOBS, 'mapUnmapLoop', {
        pid: proc.pid,
        addr,
        pages,
        pattern: 0x33,
        durationMs: 1200,
        control: c,
        cpus: 2,
      }),
      cpus.run<ReadCheckResult>(1, JOBS, 'readCheck', {
        pid: proc.pid,
        addr,
        pages,
        allowed: [0x33, 0],
        control: c,
        cpus: 2,
        segvAllowed: true,
      }),
    ]);
    expect(read.bad).toBeNull();
    expect(rounds).toBeGreaterThan(10);
    expect(read.segv).toBeGreaterThan(0);
    machine.validate();
    proc.exit();
    machine.detach();
  });
});
