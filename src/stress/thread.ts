// One stress thread: a random mix of syscalls and accesses on memory it owns, each checked online
// against its shadow model (shadow.ts):
//  - a read returns the page's data; or SIGBUS only if the page is volatile; or zeros only if the
//    page was lazily freed; never another value (another process's bytes, a stale frame);
//  - a write to a read-only or PROT_NONE page raises SIGSEGV; to a purged volatile page SIGBUS;
//  - un-marking returns 0 only if every page it covers kept its data;
//  - every syscall returns the errno the rules give for the bad calls it is fed.
// Each thread maps only inside its own window of the address space (MAP_FIXED), so it knows exactly
// what is mapped there; threads of one process also read a shared zero region to race first-touch
// faults against each other.

import { PAGE as PAGE_STRUCT } from '../layout/layout.js';
import { OutOfMemoryError, SigBus, SigSegv } from '../mm/signals.js';
import type { ProcessRef, Thread } from '../mm/thread.js';
import {
  EAGAIN,
  EINVAL,
  ENOMEM,
  MADV_DONTNEED,
  MADV_FREE,
  MAP_FIXED,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VRANGE_FULL,
  VRANGE_NOVOLATILE,
  VRANGE_PARTIAL,
  VRANGE_VOLATILE,
} from '../mm/uapi.js';
import { vmaContaining, vmaFlags } from '../mm/vma.js';
import { vrangeList } from '../mm/vrange.js';
import { xorshift32 } from '../sched/index.js';
import { LAZY, NORMAL, PAGE, Region, Shadow, VOLATILE } from './shadow.js';

export type StressPolicy = 'vrange' | 'vma' | 'dontneed' | 'madv_free' | 'all';
export const STRESS_POLICIES: readonly StressPolicy[] = ['vrange', 'vma', 'dontneed', 'madv_free', 'all'];

export const OP_NAMES = [
  'mmap',
  'munmap',
  'mprotect',
  'write',
  'read',
  'mark',
  'unmark',
  'dontneed',
  'free',
  'badcall',
  'shared_read',
  'shared_dontneed',
  'cycle',
  /** fork a child (the thread then drives it too), or end the child it has. */
  'fork',
  /** One operation of the child, on its copy of this thread's window. */
  'child',
] as const;
export type OpName = (typeof OP_NAMES)[number];

export interface Violation {
  seed: number;
  cpu: number;
  pid: number;
  op: OpName;
  /** What the shadow model expected, and what happened. */
  expected: string;
  actual: string;
  /** This thread's recent operations on the page concerned, oldest first. */
  history: string[];
  /** The kernel's view of the page when the violation was seen (PTE, frame, vma, vrange). */
  kernel: string;
  /** Deterministic mode: the last scheduling decisions before the violation. */
  schedule: string[];
}

/** Operations a thread remembers, for the history of a violation. */
const HISTORY = 512;

export interface StressThreadConfig {
  policy: StressPolicy;
  seed: number;
  cpu: number;
  /** This thread's index in its process: it owns the window at windowBase + index * windowBytes. */
  windowBase: number;
  windowPages: number;
  /** Process-wide shared zero region (read by every thread of the process), or 0. */
  sharedAddr: number;
  sharedPages: number;
  /** Byte values this process writes: its own range, so another process's bytes are recognisable. */
  valueBase: number;
  /** A forked child's thread: it does not fork again. */
  isChild?: boolean;
}

const MAX_REGION_PAGES = 32;
/** Spans a thread keeps marked before it un-marks its oldest. */
const MAX_MARKED_SPANS = 4;
const MAX_REGIONS = 12;

/** xorshift32 (the scheduler's): the thread's deterministic generator. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    this.state = xorshift32(this.state) >>> 0;
    return this.state;
  }
  below(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() / 0x100000000 < p;
  }
}

function weights(policy: StressPolicy, isChild: boolean): Record<OpName, number> {
  // A single-design policy puts its weight on marking: that is where its races are.
  const volatile = policy === 'vrange' || policy === 'vma' ? 24 : policy === 'all' ? 12 : 0;
  return {
    // A child lives for about 40 of its parent's operations (half of them its own).
    fork: isChild ? 0 : 1,
    child: isChild ? 0 : 20,
    mmap: 6,
    munmap: 3,
    mprotect: 3,
    write: 18,
    read: 18,
    mark: volatile,
    unmark: volatile,
    dontneed: policy === 'dontneed' ? 10 : 4,
    free: policy === 'madv_free' ? 10 : 4,
    badcall: 2,
    shared_read: 6,
    shared_dontneed: 3,
    // An allocator's pattern: write, mark on free, un-mark on reuse, check — back to back.
    cycle: volatile,
  };
}

export class StressThread {
  readonly shadow = new Shadow();
  readonly counts: Record<OpName, number>;
  readonly violations: Violation[] = [];
  oom = 0;
  private readonly random: Random;
  private readonly table: OpName[] = [];
  /** Which design marks a region volatile (for policy 'all', chosen per region). */
  private readonly markWith = new WeakMap<Region, 'vrange' | 'vma'>();

  constructor(
    readonly t: Thread,
    readonly config: StressThreadConfig,
    /** Context added to a violation (the deterministic scheduler's last decisions). */
    private readonly schedule: () => string[] = () => [],
  ) {
    this.random = new Random(config.seed);
    this.counts = Object.fromEntries(OP_NAMES.map((name) => [name, 0])) as Record<OpName, number>;
    const w = weights(config.policy, config.isChild === true);
    for (const name of OP_NAMES) for (let i = 0; i < w[name]; i++) this.table.push(name);
  }

  /** Ring of recent operations: [step, op, first address, pages, outcome]. */
  private readonly history: [number, OpName, number, number, string][] = [];
  private steps = 0;
  /** The page the current check is about (for the history of a violation). */
  private focus = -1;

  private note(op: OpName, addr: number, pages: number, outcome: string): void {
    if (this.history.length === HISTORY) this.history.shift();
    this.history.push([this.steps, op, addr, pages, outcome]);
  }

  private fail(op: OpName, expected: string, actual: string): void {
    if (this.violations.length >= 20) return;
    const page = this.focus;
    const history = this.history
      .filter(([, , addr, pages]) => page < 0 || (page >= addr && page < addr + pages * PAGE))
      .slice(-12)
      .map(
        ([step, name, addr, pages, outcome]) =>
          `#${step} ${name} 0x${addr.toString(16)}+${pages}p: ${outcome}`,
      );
    this.violations.push({
      seed: this.config.seed,
      cpu: this.config.cpu,
      pid: this.t.pid,
      op,
      expected,
      actual,
      history,
      kernel: page < 0 ? '' : describePage(this.t, page),
      schedule: this.violations.length === 0 ? this.schedule() : [],
    });
  }

  private value(): number {
    return this.config.valueBase + 1 + this.random.below(31);
  }

  /** One random operation. */
  private pending: OpName | null = null;

  /** The operation the next step() will run (drawn now, so that a report can name it). */
  nextOp(): OpName {
    this.pending ??= this.table[this.random.below(this.table.length)];
    return this.pending;
  }

  /** The span the last un-marking returned, checked once more before the next operation. */
  private recheck: [Region, number, number] | null = null;

  step(): OpName {
    const op = this.nextOp();
    this.pending = null;
    this.recheckUnmarked();
    this.counts[op]++;
    this.steps++;
    try {
      this.run(op);
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      // The fault found no memory (pressure): the access did not happen; the model is unchanged.
      this.oom++;
    }
    return op;
  }

  private run(op: OpName): void {
    switch (op) {
      case 'mmap':
        this.doMmap();
        return;
      case 'munmap':
        this.withRange(op, (i, first, count) => this.doMunmap(i, first, count));
        return;
      case 'mprotect':
        this.withRange(op, (i, first, count) => this.doMprotect(i, first, count));
        return;
      case 'write':
        this.withRange(op, (i, first, count) => this.doWrite(this.shadow.regions[i], first, count));
        return;
      case 'read':
        this.withRange(op, (i, first, count) => this.doRead(this.shadow.regions[i], first, count));
        return;
      case 'mark':
        this.withRange(op, (i, first, count) => this.doMark(this.shadow.regions[i], first, count));
        return;
      case 'unmark':
        // Half the time the span marked longest ago (reclaim's oldest victims): the race between
        // un-marking and a purge of the same range is what this checker is most after.
        if (this.random.chance(0.5) && this.unmarkOldest()) return;
        this.withRange(op, (i, first, count) => this.doUnmark(this.shadow.regions[i], first, count));
        return;
      case 'dontneed':
        this.withRange(op, (i, first, count) => this.doDontneed(this.shadow.regions[i], first, count));
        return;
      case 'free':
        this.withRange(op, (i, first, count) => this.doFree(this.shadow.regions[i], first, count));
        return;
      case 'badcall':
        this.doBadCall();
        return;
      case 'shared_read':
        this.doSharedRead();
        return;
      case 'shared_dontneed':
        this.doSharedDontneed();
        return;
      case 'fork':
        this.doFork();
        return;
      case 'child':
        this.doChildStep();
        return;
      case 'cycle':
        this.withRange(op, (i, first, count) => {
          const region = this.shadow.regions[i];
          this.doWrite(region, first, count);
          this.doMark(region, first, count);
          this.doUnmark(region, first, count);
        });
    }
  }

  /** Picks a random region and a random page span of it. */
  private withRange(op: OpName, body: (index: number, first: number, count: number) => void): void {
    const regions = this.shadow.regions;
    if (regions.length === 0) {
      this.doMmap();
      return;
    }
    const index = this.random.below(regions.length);
    const region = regions[index];
    const first = this.random.below(region.pages);
    const count = 1 + this.random.below(region.pages - first);
    this.focus = -1;
    body(index, first, count);
    this.note(op, region.addr + first * PAGE, count, this.outcome);
    this.outcome = 'done';
  }

  /** What the last operation returned, for its history entry. */
  private outcome = 'done';

  private expectRet(op: OpName, what: string, ret: number, expected: number): boolean {
    this.outcome = `returned ${ret}`;
    if (ret === expected) return true;
    this.fail(op, `${what} returns ${expected}`, `returned ${ret}`);
    return false;
  }

  // ----- mappings --------------------------------------------------------------------------------

  /** A free page span of `pages` in this thread's window, or -1. */
  private freeSpan(pages: number): number {
    const { windowBase, windowPages } = this.config;
    for (let attempt = 0; attempt < 8; attempt++) {
      const first = this.random.below(windowPages - pages + 1);
      const addr = windowBase + first * PAGE;
      const end = addr + pages * PAGE;
      if (this.shadow.regions.every((r) => end <= r.addr || addr >= r.end)) return addr;
    }
    return -1;
  }

  private doMmap(): void {
    if (this.shadow.regions.length >= MAX_REGIONS) return;
    const pages = 1 + this.random.below(MAX_REGION_PAGES);
    const addr = this.freeSpan(pages);
    if (addr < 0) return;
    const prot = this.random.chance(0.85) ? PROT_READ | PROT_WRITE : PROT_READ;
    const ret = this.t.mmap(pages * PAGE, { addr, flags: MAP_FIXED, prot });
    if (!this.expectRet('mmap', `mmap(MAP_FIXED 0x${addr.toString(16)}, ${pages} pages)`, ret, addr)) return;
    const region = new Region(addr, pages, prot);
    this.markWith.set(
      region,
      this.config.policy === 'vma' || (this.config.policy === 'all' && this.random.chance(0.5))
        ? 'vma'
        : 'vrange',
    );
    this.shadow.add(region);
  }

  private doMunmap(index: number, first: number, count: number): void {
    const region = this.shadow.regions[index];
    const ret = this.t.munmap(region.addr + first * PAGE, count * PAGE);
    if (!this.expectRet('munmap', 'munmap of an owned span', ret, 0)) return;
    const mark = this.markWith.get(region) ?? 'vrange';
    this.shadow.cut(index, first, count);
    for (const r of this.shadow.regions) if (!this.markWith.has(r)) this.markWith.set(r, mark);
    // The span is unmapped now: touching it must fault.
    this.expectSegv('munmap', region.addr + first * PAGE, false);
  }

  private doMprotect(index: number, first: number, count: number): void {
    const region = this.shadow.regions[index];
    const choices = [PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE];
    const prot = choices[this.random.below(choices.length)];
    const ret = this.t.mprotect(region.addr + first * PAGE, count * PAGE, prot);
    if (!this.expectRet('mprotect', 'mprotect of an owned span', ret, 0)) return;
    const mark = this.markWith.get(region) ?? 'vrange';
    const part = this.shadow.isolate(index, first, count);
    part.prot = prot;
    for (const r of this.shadow.regions) if (!this.markWith.has(r)) this.markWith.set(r, mark);
  }

  // ----- accesses --------------------------------------------------------------------------------

  private expectSegv(op: OpName, addr: number, write: boolean): void {
    try {
      if (write) this.t.store32(addr, 0);
      else this.t.load32(addr);
      this.fail(op, `SIGSEGV at 0x${addr.toString(16)}`, 'the access succeeded');
    } catch (error) {
      if (!(error instanceof SigSegv)) throw error;
      if (error.address !== addr)
        this.fail(op, `SIGSEGV at 0x${addr.toString(16)}`, `SIGSEGV at 0x${error.address.toString(16)}`);
    }
  }

  private doWrite(region: Region, first: number, count: number): void {
    for (let page = first; page < first + count; page++) {
      const addr = region.addr + page * PAGE;
      if ((region.prot & PROT_WRITE) === 0) {
        this.expectSegv('write', addr, true);
        continue;
      }
      const value = this.value();
      try {
        this.t.fill(addr, PAGE, value);
        this.note('write', addr, 1, `wrote ${value}`);
      } catch (error) {
        if (!(error instanceof SigBus)) throw error;
        this.note('write', addr, 1, 'SIGBUS');
        if (region.states[page] !== VOLATILE)
          this.fail(
            'write',
            `no SIGBUS on a ${stateName(region.states[page])} page`,
            `SIGBUS at 0x${error.address.toString(16)}`,
          );
        continue;
      }
      region.values[page] = value;
      if (region.states[page] === LAZY) region.states[page] = NORMAL;
    }
  }

  /** Checks one page's bytes against the model; returns the value it holds (or -1: SIGBUS). */
  private checkPage(op: OpName, region: Region, page: number): number {
    const addr = region.addr + page * PAGE;
    this.focus = addr;
    if ((region.prot & PROT_READ) === 0) {
      this.expectSegv(op, addr, false);
      return -2;
    }
    let bytes: Uint8Array;
    try {
      bytes = this.t.read(addr, PAGE);
    } catch (error) {
      if (!(error instanceof SigBus)) throw error;
      if (region.states[page] !== VOLATILE)
        this.fail(
          op,
          `data of a ${stateName(region.states[page])} page`,
          `SIGBUS at 0x${error.address.toString(16)}`,
        );
      return -1;
    }
    const expected = region.values[page];
    const first = bytes[0];
    const uniform = bytes.every((b) => b === first);
    const allowed = first === expected || (first === 0 && region.states[page] === LAZY);
    if (!uniform || !allowed) {
      const foreign =
        first !== 0 && (first - 1 - this.config.valueBase < 0 || first - 1 - this.config.valueBase >= 31);
      this.fail(
        op,
        `page 0x${addr.toString(16)} (${stateName(region.states[page])}) holds ${expected}${region.states[page] === LAZY ? ' or 0' : ''}`,
        `${uniform ? `holds ${first}` : `mixed bytes (first ${first})`}${foreign ? " — another process's bytes or a stale frame" : ''}`,
      );
      return first;
    }
    if (first === 0 && region.states[page] === LAZY) {
      // Discarded by reclaim: it is a fresh zero page now.
      region.values[page] = 0;
      region.states[page] = NORMAL;
    }
    return first;
  }

  private doRead(region: Region, first: number, count: number): void {
    for (let page = first; page < first + count; page++) this.checkPage('read', region, page);
  }

  // ----- volatility --------------------------------------------------------------------------------

  /** Spans marked volatile, oldest first (entries go stale as regions split or pages change). */
  private readonly marked: [Region, number, number][] = [];

  private unmarkOldest(): boolean {
    while (this.marked.length > 0) {
      const [region, first, count] = this.marked.shift()!;
      if (!this.shadow.regions.includes(region)) continue;
      if (region.states.subarray(first, first + count).every((s) => s === VOLATILE)) {
        this.doUnmark(region, first, count);
        this.note('unmark', region.addr + first * PAGE, count, this.outcome);
        return true;
      }
    }
    return false;
  }

  private doMark(region: Region, first: number, count: number): void {
    // Like an allocator that reuses its oldest freed runs: few ranges stay volatile for long, so
    // reclaim's oldest victims are often the ones being un-marked — the race worth hunting.
    while (this.marked.length >= MAX_MARKED_SPANS && this.unmarkOldest()) {}
    const addr = region.addr + first * PAGE;
    const how = this.markWith.get(region) ?? 'vrange';
    // Lazily freed pages are left out of marks (their two "may be lost" rules would mix).
    for (let page = first; page < first + count; page++) if (region.states[page] === LAZY) return;
    const ret =
      how === 'vrange'
        ? this.t.vrange(
            addr,
            count * PAGE,
            VRANGE_VOLATILE,
            this.random.chance(0.5) ? VRANGE_FULL : VRANGE_PARTIAL,
          )
        : this.t.mvolatile(addr, count * PAGE);
    if (!this.expectRet('mark', `${how === 'vrange' ? 'vrange(VOLATILE)' : 'mvolatile'}`, ret, 0)) return;
    region.states.fill(VOLATILE, first, first + count);
    if (this.marked.length >= 64) this.marked.shift();
    this.marked.push([region, first, count]);
  }

  /**
   * A purge racing with the un-marking can land just after it returned; look at the span again one
   * operation later, when such a purge has had time to finish.
   */
  private recheckUnmarked(): void {
    const span = this.recheck;
    this.recheck = null;
    if (span === null || !this.shadow.regions.includes(span[0]) || (span[0].prot & PROT_READ) === 0) return;
    const [region, first, count] = span;
    try {
      for (let page = first; page < first + count; page++) {
        if (region.states[page] === NORMAL) this.checkPage('unmark', region, page);
      }
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      this.oom++;
    }
  }

  private doUnmark(region: Region, first: number, count: number): void {
    const addr = region.addr + first * PAGE;
    const how = this.markWith.get(region) ?? 'vrange';
    for (let page = first; page < first + count; page++) if (region.states[page] === LAZY) return;
    const ret =
      how === 'vrange'
        ? this.t.vrange(addr, count * PAGE, VRANGE_NOVOLATILE)
        : this.t.mnovolatile(addr, count * PAGE);
    this.outcome = `returned ${ret}`;
    if (ret !== 0 && ret !== 1) {
      this.fail('unmark', 'un-marking returns 0 or 1', `returned ${ret}`);
      return;
    }
    // First the model follows the syscall (a check below may run out of memory half way).
    const wasVolatile: number[] = [];
    for (let page = first; page < first + count; page++) {
      if (region.states[page] !== VOLATILE) continue;
      wasVolatile.push(page);
      // "Not purged": the data must be intact. "Purged": each page holds its data or zeros.
      region.states[page] = ret === 0 ? NORMAL : LAZY;
    }
    if ((region.prot & PROT_READ) === 0) return; // a later read decides
    this.recheck = [region, first, count];
    for (const page of wasVolatile) {
      try {
        if (this.checkPage('unmark', region, page) === -1)
          this.fail('unmark', 'no SIGBUS after un-marking', 'SIGBUS');
      } catch (error) {
        if (!(error instanceof OutOfMemoryError)) throw error;
        this.oom++;
      }
      if (region.states[page] === LAZY && ret === 1 && region.values[page] !== 0) {
        // It kept its data: an ordinary page again (a discarded one became NORMAL 0 in checkPage).
        region.states[page] = NORMAL;
      }
    }
  }

  private doDontneed(region: Region, first: number, count: number): void {
    const ret = this.t.madvise(region.addr + first * PAGE, count * PAGE, MADV_DONTNEED);
    if (!this.expectRet('dontneed', 'madvise(MADV_DONTNEED)', ret, 0)) return;
    // The pages read as zeros now; a volatile page stays volatile (its range is still marked).
    region.values.fill(0, first, first + count);
    for (let page = first; page < first + count; page++)
      if (region.states[page] === LAZY) region.states[page] = NORMAL;
  }

  private doFree(region: Region, first: number, count: number): void {
    for (let page = first; page < first + count; page++) if (region.states[page] === VOLATILE) return;
    const ret = this.t.madvise(region.addr + first * PAGE, count * PAGE, MADV_FREE);
    if (!this.expectRet('free', 'madvise(MADV_FREE)', ret, 0)) return;
    region.states.fill(LAZY, first, first + count);
  }

  // ----- fork ------------------------------------------------------------------------------------

  /** The child this thread forked and drives (on the same CPU), with its own shadow. */
  private child: StressThread | null = null;
  private childProcess: ProcessRef | null = null;

  /**
   * Forks (or ends the child it has). The child's shadow is a copy of this thread's: after fork each
   * side must see its own writes and never the other's (the child writes values of another range).
   * Its pages marked with vrange are not volatile in the child (RFC v7: no ranges at fork): each
   * holds the data, or zeros if it was purged before the fork, which one read right away settles;
   * from then on the page is normal in the child and must keep its data. VMA-marked pages stay
   * volatile (the VMA flags are inherited); lazily freed ones keep "data or zeros".
   */
  private doFork(): void {
    if (this.child !== null) {
      this.endChild();
      return;
    }
    const forked = this.t.fork();
    this.outcome = typeof forked === 'number' ? `returned ${forked}` : `child pid ${forked.pid}`;
    if (typeof forked === 'number') {
      if (forked !== -EAGAIN) this.fail('fork', 'fork returns a child or -EAGAIN', `returned ${forked}`);
      return;
    }
    const config: StressThreadConfig = {
      ...this.config,
      seed: this.random.next() || 1,
      valueBase: (this.config.valueBase + 128) & 0xff,
      isChild: true,
    };
    const child = new StressThread(forked.thread(this.config.cpu), config, this.schedule);
    this.child = child;
    this.childProcess = forked;
    for (const region of this.shadow.regions) {
      const copy = region.slice(0, region.pages);
      const how = this.markWith.get(region) ?? 'vrange';
      child.shadow.add(copy);
      child.markWith.set(copy, how);
      if (how === 'vma') continue;
      for (let page = 0; page < copy.pages; page++) {
        if (copy.states[page] !== VOLATILE) continue;
        copy.states[page] = LAZY;
        child.settle(copy, page);
      }
    }
    this.collectChild();
  }

  /** A page that holds its data or zeros becomes normal with whichever it holds. */
  private settle(region: Region, page: number): void {
    const value = this.checkPage('fork', region, page);
    if (value === 0 || value === region.values[page]) {
      region.values[page] = value;
      region.states[page] = NORMAL;
    }
  }

  private doChildStep(): void {
    const child = this.child;
    if (child === null) return;
    try {
      child.step();
    } finally {
      this.collectChild();
    }
  }

  private endChild(): void {
    const proc = this.childProcess;
    this.collectChild();
    this.child = null;
    this.childProcess = null;
    proc?.exit(this.config.cpu);
  }

  /** The child's violations and out-of-memory count become this thread's. */
  private collectChild(): void {
    const child = this.child;
    if (child === null) return;
    for (const v of child.violations.splice(0)) if (this.violations.length < 20) this.violations.push(v);
    this.oom += child.oom;
    child.oom = 0;
  }

  // ----- errno checks ----------------------------------------------------------------------------

  private doBadCall(): void {
    const region = this.shadow.regions[0];
    const base = region?.addr ?? this.config.windowBase;
    const hole = this.freeSpan(1);
    const cases: [string, () => number, number][] = [
      ['munmap of an unaligned address', () => this.t.munmap(base + 1, PAGE), -EINVAL],
      ['madvise with unknown advice', () => this.t.madvise(base, PAGE, 999), -EINVAL],
      ['vrange of length 0', () => this.t.vrange(base, 0, VRANGE_VOLATILE), -EINVAL],
      ['vrange with a bad mode', () => this.t.vrange(base, PAGE, 7), -EINVAL],
      ['mprotect with bad prot', () => this.t.mprotect(base, PAGE, 64), -EINVAL],
    ];
    if (hole >= 0) {
      cases.push(
        ['mprotect of an unmapped page', () => this.t.mprotect(hole, PAGE, PROT_READ), -ENOMEM],
        ['madvise of an unmapped page', () => this.t.madvise(hole, PAGE, MADV_DONTNEED), -ENOMEM],
        ['vrange of an unmapped page', () => this.t.vrange(hole, PAGE, VRANGE_VOLATILE), -ENOMEM],
      );
    }
    const [what, call, errno] = cases[this.random.below(cases.length)];
    this.expectRet('badcall', what, call(), errno);
  }

  // ----- the shared zero region ------------------------------------------------------------------

  /** Reads the whole shared region in one go: after a drop, the threads race to fault its pages. */
  private doSharedRead(): void {
    if (this.config.sharedPages === 0) return;
    const bytes = this.t.read(this.config.sharedAddr, this.config.sharedPages * PAGE);
    const bad = bytes.findIndex((b) => b !== 0);
    if (bad >= 0) {
      this.focus = this.config.sharedAddr + bad - (bad % PAGE);
      this.fail(
        'shared_read',
        `shared page 0x${this.focus.toString(16)} reads zeros`,
        `byte ${bytes[bad]} at offset ${bad % PAGE}`,
      );
    }
  }

  private doSharedDontneed(): void {
    if (this.config.sharedPages === 0) return;
    const ret = this.t.madvise(this.config.sharedAddr, this.config.sharedPages * PAGE, MADV_DONTNEED);
    this.expectRet('shared_dontneed', 'madvise(MADV_DONTNEED) of the shared region', ret, 0);
  }
}

/** What the kernel holds for a page (read without locks: a diagnostic snapshot). */
function describePage(t: Thread, addr: number): string {
  const k = t.cpu.k;
  const vpn = Math.floor(addr / PAGE);
  const pte = k.i32[k.pteWord(t.mm, vpn)];
  const frame = pte >>> 8;
  const page =
    (pte & 1) !== 0
      ? ` frame ${frame} (flags ${k.i32[k.pageWord(frame, PAGE_STRUCT.flags)]}, anon_vma ${k.i32[k.pageWord(frame, PAGE_STRUCT.anonVma)]}, mapcount ${k.i32[k.pageWord(frame, PAGE_STRUCT.mapcount)]}, vpn 0x${(k.i32[k.pageWord(frame, PAGE_STRUCT.vpn)] >>> 0).toString(16)})`
      : '';
  const vma = vmaContaining(k, t.mm, vpn);
  const ranges = vrangeList(k, t.mm).filter((r) => r.start <= vpn && vpn <= r.last);
  return `pte 0x${(pte >>> 0).toString(16)}${page}; vma flags ${vma < 0 ? 'none' : vmaFlags(k, t.mm, vma)}; vrange ${ranges.map((r) => `${r.start.toString(16)}-${r.last.toString(16)}${r.purged ? ' purged' : ''}`).join(', ') || 'none'}`;
}

function stateName(state: number): string {
  return state === VOLATILE ? 'volatile' : state === LAZY ? 'lazily freed' : 'normal';
}
