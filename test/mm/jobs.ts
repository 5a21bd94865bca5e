// Jobs that test workers run on simulated CPUs (see src/workers/cpu_worker.ts).

import {
  MADV_DONTNEED,
  MADV_FREE,
  MAP_FIXED,
  type Machine,
  OutOfMemoryError,
  SigBus,
  SigSegv,
  type Thread,
} from '../../src/index.js';

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

type LoopArgs = Region & { pattern: number; durationMs: number; control: Int32Array; cpus: number };

/**
 * Once every CPU is at the barrier, runs `round` over and over for durationMs; then (or when a round
 * throws) tells the readers to stop. Returns the rounds done.
 */
function timedRounds(machine: Machine, cpu: number, a: LoopArgs, round: (t: Thread) => void): number {
  const t = machine.process(a.pid).thread(cpu);
  barrier(a.control, 0, a.cpus);
  const deadline = performance.now() + a.durationMs;
  let rounds = 0;
  try {
    while (performance.now() < deadline) {
      round(t);
      rounds++;
    }
  } finally {
    Atomics.store(a.control, 1, 1); // readers stop
  }
  return rounds;
}

/** Fills the region with `pattern`, drops it with MADV_DONTNEED, again, for durationMs. */
export function dontneedLoop(machine: Machine, cpu: number, a: LoopArgs): number {
  return timedRounds(machine, cpu, a, (t) => {
    t.fill(a.addr, a.pages * PAGE, a.pattern);
    const ret = t.madvise(a.addr, a.pages * PAGE, MADV_DONTNEED);
    if (ret !== 0) throw new Error(`madvise returned ${ret}`);
  });
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
export function mapUnmapLoop(machine: Machine, cpu: number, a: LoopArgs): number {
  return timedRounds(machine, cpu, a, (t) => {
    if (t.mmap(a.pages * PAGE, { addr: a.addr, flags: MAP_FIXED }) !== a.addr) throw new Error('mmap failed');
    t.fill(a.addr, a.pages * PAGE, a.pattern);
    if (t.munmap(a.addr, a.pages * PAGE) !== 0) throw new Error('munmap failed');
  });
}

export interface VolatileRoundsArgs extends Region {
  policy: 'vrange' | 'vma';
  durationMs: number;
  /**
   * Rounds to complete even past durationMs (a slow or oversubscribed host must not make the test
   * prove less), up to a hard bound of 10x durationMs that only a stuck machine reaches.
   */
  minRounds: number;
  control: Int32Array;
  cpus: number;
}

export interface VolatileRoundsResult {
  rounds: number;
  purgedRounds: number;
  sigbus: number;
  oom: number;
  violations: string[];
}

/**
 * Rounds of: fill with a round pattern -> mark volatile -> read a few pages (old data or SIGBUS) ->
 * un-mark -> check. Whenever un-marking says "not purged" every byte must be intact; a SIGBUS while
 * volatile means un-marking must say "purged"; after un-marking nothing may SIGBUS, and each page is
 * either intact or zero.
 */
export function volatileRounds(machine: Machine, cpu: number, a: VolatileRoundsArgs): VolatileRoundsResult {
  const t = machine.process(a.pid).thread(cpu);
  const length = a.pages * PAGE;
  const mark = () => (a.policy === 'vrange' ? t.vrange(a.addr, length, 0, 0) : t.mvolatile(a.addr, length));
  const unmark = () =>
    a.policy === 'vrange' ? t.vrange(a.addr, length, 1, 0) : t.mnovolatile(a.addr, length);
  const result: VolatileRoundsResult = { rounds: 0, purgedRounds: 0, sigbus: 0, oom: 0, violations: [] };
  const fail = (what: string) => {
    if (result.violations.length < 10) result.violations.push(`cpu ${cpu} round ${result.rounds}: ${what}`);
  };
  barrier(a.control, 0, a.cpus);
  const start = performance.now();
  const deadline = start + a.durationMs;
  const hardDeadline = start + 10 * a.durationMs;
  for (;;) {
    const now = performance.now();
    if (now >= deadline && (result.rounds >= a.minRounds || now >= hardDeadline)) break;
    const pattern = ((result.rounds * 7 + cpu * 31) % 255) + 1;
    let marked = false;
    try {
      t.fill(a.addr, length, pattern);
      if (mark() !== 0) throw new Error('mark failed');
      marked = true;
      // Volatile for a while: every page reads its data, or raises SIGBUS if it was purged.
      let sawSigbus = false;
      for (let page = 0; page < a.pages; page++) {
        try {
          const word = t.load32(a.addr + page * PAGE);
          if (word !== ((pattern * 0x01010101) | 0))
            fail(`volatile page ${page} reads ${word >>> 0} (pattern ${pattern}) without a SIGBUS`);
        } catch (error) {
          if (!(error instanceof SigBus)) throw error;
          sawSigbus = true;
          result.sigbus++;
        }
      }
      const purged = unmark();
      marked = false;
      if (purged !== 0 && purged !== 1) throw new Error(`unmark returned ${purged}`);
      if (sawSigbus && purged === 0) fail('SIGBUS while volatile, yet un-marking said not purged');
      if (purged === 1) result.purgedRounds++;
      checkAfterUnmark(t, a, pattern, purged, fail);
      result.rounds++;
    } catch (error) {
      // Out of memory (the pressure is meant to be severe): this round proves nothing; start over.
      if (!(error instanceof OutOfMemoryError)) throw error;
      result.oom++;
      if (marked) unmark();
    }
  }
  return result;
}

/** After un-marking, every page is intact, or zero if un-marking reported a purge; never SIGBUS. */
function checkAfterUnmark(
  t: Thread,
  a: Region,
  pattern: number,
  purged: number,
  fail: (what: string) => void,
): void {
  for (let page = 0; page < a.pages; page++) {
    let bytes: Uint8Array;
    try {
      bytes = t.read(a.addr + page * PAGE, PAGE);
    } catch (error) {
      if (error instanceof SigBus) {
        fail(`SIGBUS on page ${page} after un-marking`);
        return;
      }
      throw error;
    }
    const first = bytes[0];
    const ok = first === pattern || (purged === 1 && first === 0);
    if (!ok || !bytes.every((b) => b === first)) {
      fail(`page ${page} holds ${first} (pattern ${pattern}, un-mark said ${purged})`);
      return;
    }
  }
}

/**
 * Touches `pages` pages of its own first (so that memory is short before anyone starts), then keeps
 * dropping and re-touching 1/32 of them a round, for durationMs.
 */
export function pressure(
  machine: Machine,
  cpu: number,
  a: Region & { durationMs: number; control: Int32Array; cpus: number },
): { touches: number; oom: number } {
  const t = machine.process(a.pid).thread(cpu);
  let touches = 0;
  let oom = 0;
  const touch = (first: number, count: number, value: number) => {
    try {
      for (let page = first; page < first + count; page++) t.store32(a.addr + page * PAGE, value);
      touches += count;
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      oom++;
    }
  };
  touch(0, a.pages, 1);
  barrier(a.control, 0, a.cpus);
  const deadline = performance.now() + a.durationMs;
  const slice = Math.max(1, Math.floor(a.pages / 32));
  for (let round = 0; performance.now() < deadline; round++) {
    const first = (round % 32) * slice;
    t.madvise(a.addr + first * PAGE, slice * PAGE, MADV_DONTNEED);
    touch(first, slice, round);
  }
  return { touches, oom };
}

export interface LazyfreeRoundsResult {
  rounds: number;
  zeroPages: number;
  bad: string | null;
}

/**
 * MADV_FREE over and over on the same pages while reclaim discards them: each page reads its
 * pattern or zeros in every byte, never anything else; the machine must never free a frame still
 * on the LRU.
 */
export function lazyfreeRounds(
  machine: Machine,
  cpu: number,
  a: Region & { durationMs: number; control: Int32Array; cpus: number },
): LazyfreeRoundsResult {
  const t = machine.process(a.pid).thread(cpu);
  barrier(a.control, 0, a.cpus);
  const deadline = performance.now() + a.durationMs;
  let rounds = 0;
  let zeroPages = 0;
  while (performance.now() < deadline) {
    const pattern = (rounds % 250) + 1;
    try {
      t.fill(a.addr, a.pages * PAGE, pattern);
      // Twice: the second call finds pages reclaim may just have taken off the LRU.
      for (let call = 1; call <= 2; call++) {
        const ret = t.madvise(a.addr, a.pages * PAGE, MADV_FREE);
        if (ret !== 0) throw new Error(`madvise(MADV_FREE) call ${call} of round ${rounds} returned ${ret}`);
      }
      const bytes = t.read(a.addr, a.pages * PAGE);
      for (let page = 0; page < a.pages; page++) {
        const data = bytes.subarray(page * PAGE, (page + 1) * PAGE);
        const first = data[0];
        if (first !== 0 && first !== pattern)
          return { rounds, zeroPages, bad: `page ${page} holds ${first}, pattern ${pattern}` };
        const other = data.findIndex((b) => b !== first);
        if (other >= 0)
          return {
            rounds,
            zeroPages,
            bad: `page ${page} holds ${first} and ${data[other]} at offset ${other}, pattern ${pattern}`,
          };
        if (first === 0) zeroPages++;
      }
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
    }
    rounds++;
  }
  return { rounds, zeroPages, bad: null };
}

/**
 * Copies `pages` pages from srcAddr to the region with t.copy until told to stop (control word 1),
 * then reports the copies done. The source holds `pattern` throughout.
 */
export function copyLoop(
  machine: Machine,
  cpu: number,
  a: Region & { srcAddr: number; control: Int32Array; cpus: number },
): number {
  const t = machine.process(a.pid).thread(cpu);
  barrier(a.control, 0, a.cpus);
  let copies = 0;
  while (Atomics.load(a.control, 1) === 0) {
    t.copy(a.addr, a.srcAddr, a.pages * PAGE);
    copies++;
  }
  return copies;
}

export interface DropAndReuseArgs {
  pidA: number;
  addrA: number;
  pidB: number;
  addrB: number;
  pages: number;
  durationMs: number;
  control: Int32Array;
  cpus: number;
}

/**
 * For durationMs: drops process A's region with MADV_DONTNEED, then at once refills process B's
 * region on the same CPU (whose faults take the frames A just freed from this CPU's page list) with
 * 0x22, and checks B reads back only 0x22; then drops B's region too. Stops the other CPUs (control
 * word 1) at the end. Returns the rounds and the first wrong byte B saw, if any.
 */
export function dropAndReuse(
  machine: Machine,
  cpu: number,
  a: DropAndReuseArgs,
): { rounds: number; bad: string | null } {
  const ta = machine.process(a.pidA).thread(cpu);
  const tb = machine.process(a.pidB).thread(cpu);
  const bytes = a.pages * PAGE;
  barrier(a.control, 0, a.cpus);
  const deadline = performance.now() + a.durationMs;
  let rounds = 0;
  let bad: string | null = null;
  try {
    while (performance.now() < deadline && bad === null) {
      if (ta.madvise(a.addrA, bytes, MADV_DONTNEED) !== 0) throw new Error('madvise A failed');
      tb.fill(a.addrB, bytes, 0x22);
      const seen = tb.read(a.addrB, bytes);
      const at = seen.findIndex((byte) => byte !== 0x22);
      if (at >= 0) bad = `B's byte ${at} is 0x${seen[at].toString(16)} in round ${rounds}`;
      if (tb.madvise(a.addrB, bytes, MADV_DONTNEED) !== 0) throw new Error('madvise B failed');
      rounds++;
    }
  } finally {
    Atomics.store(a.control, 1, 1);
  }
  return { rounds, bad };
}

export interface ForkRoundsArgs extends Region {
  durationMs: number;
  /** Rounds to complete even past durationMs (see VolatileRoundsArgs.minRounds). */
  minRounds: number;
  control: Int32Array;
  cpus: number;
}

export interface ForkRoundsResult {
  rounds: number;
  /** Rounds in which the parent's, and the child's, un-marking reported a purge. */
  parentPurged: number;
  childPurged: number;
  oom: number;
  violations: string[];
}

/**
 * Rounds of fork racing with reclaim: the parent fills its region with a round pattern and marks it
 * volatile; it forks (a purge may be under way); the child notes what each page holds (the pattern,
 * or zeros where the parent's page was purged before the fork: RFC v7 gives the child no range),
 * marks it volatile too and writes its own pattern over the first quarter (COW breaks, or SIGBUS on
 * a page purged meanwhile) while the parent reads (its data or SIGBUS). Then both un-mark and check:
 * "not purged" means every page kept what that process last saw or wrote, "purged" allows zeros;
 * neither ever sees the other's bytes. The child exits at the end of the round.
 */
export function forkRounds(machine: Machine, cpu: number, a: ForkRoundsArgs): ForkRoundsResult {
  const parent = machine.process(a.pid);
  const t = parent.thread(cpu);
  const length = a.pages * PAGE;
  const result: ForkRoundsResult = { rounds: 0, parentPurged: 0, childPurged: 0, oom: 0, violations: [] };
  const fail = (what: string) => {
    if (result.violations.length < 10) result.violations.push(`cpu ${cpu} round ${result.rounds}: ${what}`);
  };
  const word = (byte: number) => (byte * 0x01010101) | 0;
  barrier(a.control, 0, a.cpus);
  const start = performance.now();
  for (;;) {
    const now = performance.now();
    if (now >= start + a.durationMs && (result.rounds >= a.minRounds || now >= start + 10 * a.durationMs))
      break;
    const pattern = ((result.rounds * 7 + cpu * 31) % 120) + 1;
    const childPattern = pattern + 128;
    let child: ReturnType<Thread['fork']> | null = null;
    let marked = false;
    try {
      t.fill(a.addr, length, pattern);
      if (t.vrange(a.addr, length, 0, 0) !== 0) throw new Error('mark failed');
      marked = true;
      child = t.fork();
      if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
      const c = child.thread(cpu);
      // What each page holds in the child: the pattern, 0 (purged before the fork), -1 (purged later).
      const expected = new Int32Array(a.pages);
      for (let page = 0; page < a.pages; page++) {
        const seen = c.load32(a.addr + page * PAGE);
        if (seen === word(pattern)) expected[page] = pattern;
        else if (seen === 0) expected[page] = 0;
        else fail(`child page ${page} reads ${seen >>> 0} after fork (parent pattern ${pattern})`);
      }
      if (c.vrange(a.addr, length, 0, 0) !== 0) throw new Error('child mark failed');
      let childSigbus = false;
      for (let page = 0; page < a.pages / 4; page++) {
        try {
          c.fill(a.addr + page * PAGE, PAGE, childPattern);
          expected[page] = childPattern;
        } catch (error) {
          if (!(error instanceof SigBus)) throw error;
          childSigbus = true;
          expected[page] = -1;
        }
      }
      let parentSigbus = false;
      for (let page = 0; page < a.pages; page++) {
        try {
          const seen = t.load32(a.addr + page * PAGE);
          if (seen !== word(pattern))
            fail(`parent volatile page ${page} reads ${seen >>> 0} (pattern ${pattern})`);
        } catch (error) {
          if (!(error instanceof SigBus)) throw error;
          parentSigbus = true;
        }
      }
      const childRet = c.vrange(a.addr, length, 1, 0);
      if (childSigbus && childRet !== 1)
        fail(`child: SIGBUS while volatile, un-marking returned ${childRet}`);
      if (childRet === 1) result.childPurged++;
      for (let page = 0; page < a.pages; page++) {
        const seen = c.load32(a.addr + page * PAGE);
        const ok = (expected[page] >= 0 && seen === word(expected[page])) || (childRet === 1 && seen === 0);
        if (!ok)
          fail(
            `child page ${page} reads ${seen >>> 0}, expected ${expected[page]} (un-mark said ${childRet})`,
          );
      }
      child.exit(cpu);
      child = null;
      const parentRet = t.vrange(a.addr, length, 1, 0);
      marked = false;
      if (parentSigbus && parentRet !== 1)
        fail(`parent: SIGBUS while volatile, un-marking returned ${parentRet}`);
      if (parentRet === 1) result.parentPurged++;
      for (let page = 0; page < a.pages; page++) {
        const seen = t.load32(a.addr + page * PAGE);
        if (seen !== word(pattern) && !(parentRet === 1 && seen === 0))
          fail(`parent page ${page} reads ${seen >>> 0} (pattern ${pattern}, un-mark said ${parentRet})`);
      }
      result.rounds++;
    } catch (error) {
      // Out of memory (the pressure is meant to be severe): this round proves nothing; start over.
      if (!(error instanceof OutOfMemoryError)) throw error;
      result.oom++;
      if (child !== null && typeof child !== 'number') child.exit(cpu);
      if (marked) t.vrange(a.addr, length, 1, 0);
    }
  }
  return result;
}
