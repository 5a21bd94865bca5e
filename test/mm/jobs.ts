// Jobs that test workers run on simulated CPUs (see src/workers/cpu_worker.ts).

import { MADV_DONTNEED, MAP_FIXED, type Machine, SigSegv } from '../../src/index.js';

const PAGE = 4096;

export interface Region {
  pid: number;
  addr: number;
  pages: number;
}

/** Every CPU waits here until `count` CPUs arrived, so that they really run at the same time. */
function barrier(control: Int32Array, word: number, count: number): void {
  Atomics.add(control, word, 1);
  Atomics.notify(control, word);
  const deadline = Date.now() + 10_000;
  for (let seen = Atomics.load(control, word); seen < count; seen = Atomics.load(control, word)) {
    if (Date.now() > deadline) throw new Error('barrier timed out');
    Atomics.wait(control, word, seen, 50);
  }
}

/** Touches every page of the region, in an order that depends on the CPU. */
export function touchAll(
  machine: Machine,
  cpu: number,
  a: Region & { control: Int32Array; cpus: number },
): number {
  const t = machine.process(a.pid).thread(cpu);
  barrier(a.control, 0, a.cpus);
  const order = Array.from({ length: a.pages }, (_, i) => i);
  if (cpu % 2 === 1) order.reverse();
  let sum = 0;
  for (const page of order) {
    if (cpu % 3 === 0) t.store32(a.addr + page * PAGE, 1);
    else sum += t.load32(a.addr + page * PAGE);
  }
  return sum;
}

/** Fills the region with `pattern`, drops it with MADV_DONTNEED, again, for durationMs. */
export function dontneedLoop(
  machine: Machine,
  cpu: number,
  a: Region & { pattern: number; durationMs: number; control: Int32Array; cpus: number },
): number {
  const t = machine.process(a.pid).thread(cpu);
  barrier(a.control, 0, a.cpus);
  const deadline = performance.now() + a.durationMs;
  let rounds = 0;
  while (performance.now() < deadline) {
    t.fill(a.addr, a.pages * PAGE, a.pattern);
    const ret = t.madvise(a.addr, a.pages * PAGE, MADV_DONTNEED);
    if (ret !== 0) throw new Error(`madvise returned ${ret}`);
    rounds++;
  }
  Atomics.store(a.control, 1, 1); // readers stop
  return rounds;
}

export interface ReadCheckResult {
  reads: number;
  segv: number;
  bad: string | null;
}

/** Reads the region until told to stop; every byte must be one of `allowed`. */
export function readCheck(
  machine: Machine,
  cpu: number,
  a: Region & { allowed: number[]; control: Int32Array; cpus: number; segvAllowed: boolean },
): ReadCheckResult {
  const t = machine.process(a.pid).thread(cpu);
  const allowed = new Uint8Array(256);
  for (const value of a.allowed) allowed[value] = 1;
  barrier(a.control, 0, a.cpus);
  const result: ReadCheckResult = { reads: 0, segv: 0, bad: null };
  while (Atomics.load(a.control, 1) === 0 && result.bad === null) {
    try {
      const bytes = t.read(a.addr, a.pages * PAGE);
      result.reads++;
      for (let i = 0; i < bytes.length; i++) {
        if (allowed[bytes[i]] === 0) {
          result.bad = `byte ${bytes[i]} at offset ${i} of read ${result.reads}`;
          break;
        }
      }
    } catch (error) {
      if (!(error instanceof SigSegv) || !a.segvAllowed) throw error;
      result.segv++;
    }
  }
  return result;
}

/** Maps the region at its fixed address, fills it, unmaps it, for durationMs. */
export function mapUnmapLoop(
  machine: Machine,
  cpu: number,
  a: Region & { pattern: number; durationMs: number; control: Int32Array; cpus: number },
): number {
  const t = machine.process(a.pid).thread(cpu);
  barrier(a.control, 0, a.cpus);
  const deadline = performance.now() + a.durationMs;
  let rounds = 0;
  while (performance.now() < deadline) {
    if (t.mmap(a.pages * PAGE, { addr: a.addr, flags: MAP_FIXED }) !== a.addr) throw new Error('mmap failed');
    t.fill(a.addr, a.pages * PAGE, a.pattern);
    if (t.munmap(a.addr, a.pages * PAGE) !== 0) throw new Error('munmap failed');
    rounds++;
  }
  Atomics.store(a.control, 1, 1);
  return rounds;
}
