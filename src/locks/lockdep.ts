// lockdep: run-time lock-order validation (debug mode).
//
// Every blocking acquire is checked against the locks its CPU already holds:
//  - the declared kernel order (classes.ts): taking a class ranked above one already held;
//  - recursion: taking a second lock of a class already held;
//  - the learned order graph, shared by all CPUs in the buffer: when class B is taken under class A,
//    the edge A -> B is recorded with its call site; if B already reaches A, the two classes have been
//    taken in both orders — a possible ABBA deadlock — and it is reported with both call sites even
//    though no deadlock happened this time.
// Trylocks cannot deadlock and add no dependency, as in Linux. Each problem is reported once.

import { LOCKDEP, LOCKDEP_MAX_REPORTS, wordIndex } from '../layout/layout.js';
import { HELD_TRYLOCK, type LockCpu, type LockDomain } from './domain.js';

interface LockdepView {
  control: number;
  graph: number;
  reports: number;
  text: Uint8Array;
  classCount: number;
}

const views = new WeakMap<LockDomain, LockdepView>();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function view(dom: LockDomain): LockdepView {
  let v = views.get(dom);
  if (v === undefined) {
    const r = dom.regions;
    v = {
      control: wordIndex(r.lockdep),
      graph: wordIndex(r.lockdepGraph),
      reports: wordIndex(r.lockdepReports),
      text: new Uint8Array(dom.buffer, r.lockdepText.byteOffset, r.lockdepText.byteLength),
      classCount: dom.classes.count,
    };
    views.set(dom, v);
  }
  return v;
}

/** Checks a blocking acquire of classId against the CPU's held locks. Called before waiting. */
export function lockdepAcquire(cpu: LockCpu, classId: number, lockWord: number, trylock: boolean): void {
  if (trylock) return;
  const dom = cpu.dom;
  const v = view(dom);
  if (dom.i32[v.control + LOCKDEP.disabled] !== 0) return;
  const specs = dom.classes.specs;
  for (let d = 0; d < cpu.depth; d++) {
    if ((cpu.heldFlags(d) & HELD_TRYLOCK) !== 0) continue;
    const held = cpu.heldClass(d);
    if (held === classId) {
      report(
        dom,
        v,
        `possible recursive locking detected: cpu ${cpu.id} takes ${dom.classes.name(classId)} @${lockWord} while holding ${dom.classes.name(held)} @${cpu.heldLock(d)}\n${site()}`,
      );
      continue;
    }
    const edge = v.graph + held * v.classCount + classId;
    if (Atomics.load(dom.i32, edge) !== 0) continue; // this order was seen (and checked) before
    const here = site();
    if (!addEdge(dom, v, held, classId, here)) continue; // another CPU recorded it first
    const heldRank = specs[held].rank;
    const rank = specs[classId].rank;
    if (heldRank !== undefined && rank !== undefined && heldRank > rank) {
      report(
        dom,
        v,
        `lock order violation: cpu ${cpu.id} takes ${dom.classes.name(classId)} (rank ${rank}) while holding ${dom.classes.name(held)} (rank ${heldRank}); the order is ${orderText(dom)}, at:\n${here}`,
      );
      continue;
    }
    const path = findPath(dom, v, classId, held);
    if (path === null) continue;
    const first = path[0];
    const firstSite = readText(v, Atomics.load(dom.i32, v.graph + first.from * v.classCount + first.to) - 1);
    const chain = [classId, ...path.map((e) => e.to)].map((c) => dom.classes.name(c)).join(' -> ');
    report(
      dom,
      v,
      [
        'WARNING: possible circular locking dependency detected',
        `cpu ${cpu.id} is trying to acquire ${dom.classes.name(classId)} @${lockWord} while holding ${dom.classes.name(held)} @${cpu.heldLock(d)}, at:`,
        here,
        `but the reverse order was seen before (${chain}), first ${dom.classes.name(first.from)} -> ${dom.classes.name(first.to)} at:`,
        firstSite,
      ].join('\n'),
    );
  }
}

function orderText(dom: LockDomain): string {
  return dom.classes.specs
    .filter((s) => s.rank !== undefined)
    .sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0))
    .map((s) => s.name)
    .join(' -> ');
}

/** Breadth-first search in the learned graph; the edges of a path from -> ... -> to, or null. */
function findPath(
  dom: LockDomain,
  v: LockdepView,
  from: number,
  to: number,
): { from: number; to: number }[] | null {
  const parent = new Int32Array(v.classCount).fill(-1);
  const queue = [from];
  parent[from] = from;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === to) {
      const path: { from: number; to: number }[] = [];
      for (let x = to; x !== from; x = parent[x]) path.unshift({ from: parent[x], to: x });
      return path;
    }
    for (let n = 0; n < v.classCount; n++) {
      if (parent[n] === -1 && dom.i32[v.graph + c * v.classCount + n] !== 0) {
        parent[n] = c;
        queue.push(n);
      }
    }
  }
  return null;
}

/** Records from -> to with its call site; false when the edge was already there. */
function addEdge(dom: LockDomain, v: LockdepView, from: number, to: number, where: string): boolean {
  const edge = v.graph + from * v.classCount + to;
  if (Atomics.load(dom.i32, edge) !== 0) return false;
  return Atomics.compareExchange(dom.i32, edge, 0, textRef(writeText(dom, v, where))) === 0;
}

function report(dom: LockDomain, v: LockdepView, text: string): void {
  const slot = Atomics.add(dom.i32, v.control + LOCKDEP.reportCount, 1);
  if (slot >= LOCKDEP_MAX_REPORTS) return;
  Atomics.store(dom.i32, v.reports + slot, textRef(writeText(dom, v, text)));
}

/** Call site of the acquire: the stack without the lock library's own frames. */
function site(): string {
  const stack = new Error().stack ?? '';
  return stack
    .split('\n')
    .slice(1)
    .filter((line) => !/[/\\]locks[/\\]/.test(line))
    .slice(0, 8)
    .join('\n');
}

/** Appends text to the shared pool: [4-byte length][UTF-8]; returns its offset, or -1 when full. */
function writeText(dom: LockDomain, v: LockdepView, text: string): number {
  const bytes = encoder.encode(text);
  const size = 4 + bytes.length;
  const offset = Atomics.add(dom.i32, v.control + LOCKDEP.textCursor, size);
  if (offset + size > v.text.length) return -1;
  new DataView(v.text.buffer, v.text.byteOffset + offset, 4).setUint32(0, bytes.length, true);
  v.text.set(bytes, offset + 4);
  return offset;
}

/** A nonzero reference to a text offset (-1 when the text was lost to a full pool). */
function textRef(offset: number): number {
  return offset < 0 ? -1 : offset + 1;
}

function readText(v: LockdepView, offset: number): string {
  if (offset < 0) return '  (call site lost: lockdep text pool full)';
  const length = new DataView(v.text.buffer, v.text.byteOffset + offset, 4).getUint32(0, true);
  return decoder.decode(v.text.slice(offset + 4, offset + 4 + length));
}

/** Every report so far, oldest first (the machine's dmesg for lockdep). */
export function lockdepReports(dom: LockDomain): string[] {
  const v = view(dom);
  const count = Math.min(Atomics.load(dom.i32, v.control + LOCKDEP.reportCount), LOCKDEP_MAX_REPORTS);
  const out: string[] = [];
  for (let slot = 0; slot < count; slot++) {
    const offset = Atomics.load(dom.i32, v.reports + slot);
    out.push(offset === 0 ? '(report being written)' : readText(v, offset - 1));
  }
  return out;
}
