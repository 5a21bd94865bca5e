// Scheduling decisions: the trace ring's entries, their names, and the running trace hash.
//
// The trace hash is 32-bit FNV-1a folded over every decision in order, each decision being the
// five 32-bit words (step, from, to, point, lock) fed as little-endian bytes. It depends only on the
// decisions, which depend only on the seed, the strategy and the code: the same seed on the same
// commit gives the same hash, and traceHashOf() recomputes it from a full list of decisions.

import { SchedPoint } from '../locks/index.js';

/** Decision points: the lock library's SchedPoint values, plus the run's start and a CPU's exit. */
export const TracePoint = {
  ...SchedPoint,
  /** The main thread hands the first CPU the token. */
  start: 5,
  /** A CPU leaves the run and hands the token on. */
  finish: 6,
} as const;
export type TracePoint = (typeof TracePoint)[keyof typeof TracePoint];

const POINT_NAMES = ['acquire', 'acquired', 'release', 'wait', 'access', 'start', 'finish'];

export interface SchedDecision {
  /** 1 for the start, then one per decision. */
  step: number;
  /** The CPU that held the token (-1 for the start). */
  from: number;
  /** The CPU given the token (-1 when the last CPU finished). */
  to: number;
  point: TracePoint;
  /** The lock word of a lock point, the page of an access point, -1 for start and finish. */
  lockWord: number;
}

export const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function foldWord(hash: number, word: number): number {
  let h = hash;
  for (let shift = 0; shift < 32; shift += 8) {
    h ^= (word >>> shift) & 0xff;
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** The hash after one more decision (hash and result are unsigned 32-bit). */
export function foldDecision(
  hash: number,
  step: number,
  from: number,
  to: number,
  point: number,
  lockWord: number,
): number {
  let h = foldWord(hash, step);
  h = foldWord(h, from);
  h = foldWord(h, to);
  h = foldWord(h, point);
  return foldWord(h, lockWord);
}

/** The trace hash of a run from all of its decisions, first to last. */
export function traceHashOf(decisions: readonly SchedDecision[]): number {
  let h = FNV_OFFSET_BASIS;
  for (const d of decisions) h = foldDecision(h, d.step, d.from, d.to, d.point, d.lockWord);
  return h;
}

export function pointName(point: number): string {
  return POINT_NAMES[point] ?? `point${point}`;
}

/** One line per decision, e.g. "#812 cpu 1 -> cpu 0 at wait @96". */
export function formatDecision(d: SchedDecision): string {
  const to = d.to < 0 ? 'none' : `cpu ${d.to}`;
  if (d.point === TracePoint.start) return `#${d.step} start -> ${to}`;
  if (d.point === TracePoint.finish) return `#${d.step} cpu ${d.from} finishes -> ${to}`;
  return `#${d.step} cpu ${d.from} -> ${to} at ${pointName(d.point)} @${d.lockWord}`;
}
