// Goal: a reference model of the memory syscalls' argument rules, written from the doc comments of
// the sys* functions (and Linux where they are silent), not from their code. For any arguments and
// a shadow of the address space it gives the return values the rules allow and the shadow after a
// successful call. Pure functions over plain data: the fuzzer (fuzz.test.ts) checks the simulator
// against them.
//
// Rules the doc comments leave open, and how this model settles them:
// - A number that is not an integer, or a negative address or length, is not a valid argument:
//   -EINVAL, checked before anything else (mmap's comment lists no rule for a bad hint or a
//   negative length; Linux, with unsigned arguments, cannot see either).
// - Where several documented errors apply to one call and the comment gives no order, any of them
//   is accepted (mmap with MAP_FIXED: unaligned / below mmap_min_addr / past the top).
// - "A split" is a call boundary strictly inside a VMA; every split needs a free VMA slot, as the
//   comments say, even where the flags would not change (Linux splits only where they do).
// - No memory pressure is applied, so nothing is ever purged: NOVOLATILE and mnovolatile return 0.

import {
  EINVAL,
  ENOMEM,
  EPERM,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_NORMAL,
  MAP_FIXED,
  MMAP_MIN_ADDR,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VRANGE_FULL,
  VRANGE_NOVOLATILE,
  VRANGE_PARTIAL,
  VRANGE_VOLATILE,
} from '../../src/index.js';

export const PAGE_BYTES = 4096;

/** Model VMA flags: the model's own encoding, compared with /proc/<pid>/maps, not with kernel words. */
export const F_READ = 1;
export const F_WRITE = 2;
export const F_VOLATILE = 4;

/** A mapping: [start, end) in pages. */
export interface ShadowVma {
  readonly start: number;
  readonly end: number;
  readonly flags: number;
}

/** A volatile range (vrange): [start, last] in pages. */
export interface ShadowRange {
  readonly start: number;
  readonly last: number;
}

/** The address space as the rules see it: mappings (merged as far as flags allow), vranges, data. */
export interface Shadow {
  readonly vmas: readonly ShadowVma[];
  readonly ranges: readonly ShadowRange[];
  /** The byte each written page is filled with, by page; a page not here reads as zeros. */
  readonly data: ReadonlyMap<number, number>;
}

export interface Limits {
  readonly vaPages: number;
  readonly maxVmas: number;
  readonly vrangeNodes: number;
}

export interface Prediction {
  /** Return values the rules allow (errors as -errno). */
  readonly accept: readonly number[];
  /** Which rule decided, for messages and coverage counts. */
  readonly why: string;
  /** The shadow after the call returned ret (>= 0). */
  after(ret: number): Shadow;
}

export const EMPTY_SHADOW: Shadow = { vmas: [], ranges: [], data: new Map() };

const VALID_PROTS = [PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE];
const VALID_ADVICE = [MADV_NORMAL, MADV_DONTNEED, MADV_FREE];
const MIN_PAGE = MMAP_MIN_ADDR / PAGE_BYTES;

function errors(why: string, ...errnos: number[]): Prediction {
  const accept = [...new Set(errnos)].map((errno) => -errno);
  return {
    accept,
    why,
    after: () => {
      throw new Error('rules: no shadow after an error');
    },
  };
}

function success(ret: number, next: Shadow, why = 'done'): Prediction {
  return { accept: [ret], why, after: () => next };
}

/** A non-negative integer that a double holds exactly: what an address or a byte count can be. */
function isCount(x: number): boolean {
  return Number.isSafeInteger(x) && x >= 0;
}

function pageCount(lengthBytes: number): number {
  return Math.ceil(lengthBytes / PAGE_BYTES);
}

export function protFlags(prot: number): number {
  return (prot & PROT_WRITE) !== 0 ? F_READ | F_WRITE : (prot & PROT_READ) !== 0 ? F_READ : 0;
}

// ---- the shadow's operations ----

/** Joins neighbours that touch and have equal flags (the simulator merges VMAs the same way). */
export function canonical(vmas: readonly ShadowVma[]): ShadowVma[] {
  const out: ShadowVma[] = [];
  for (const vma of [...vmas].sort((a, b) => a.start - b.start)) {
    const last = out[out.length - 1];
    if (last !== undefined && last.end === vma.start && last.flags === vma.flags) {
      out[out.length - 1] = { start: last.start, end: vma.end, flags: last.flags };
    } else {
      out.push(vma);
    }
  }
  return out;
}

/** Every page of [start, end) is in some mapping. */
export function mapped(vmas: readonly ShadowVma[], start: number, end: number): boolean {
  let covered = start;
  for (const vma of vmas) {
    if (vma.end <= covered) continue;
    if (vma.start > covered) return false;
    covered = vma.end;
    if (covered >= end) return true;
  }
  return covered >= end;
}

/** Boundaries of [start, end) that fall strictly inside a mapping: each splits it. */
export function splitCount(vmas: readonly ShadowVma[], start: number, end: number): number {
  let n = 0;
  for (const at of [start, end]) if (vmas.some((vma) => vma.start < at && at < vma.end)) n++;
  return n;
}

/** The mappings with [start, end) cut out (pieces outside it kept, not re-merged). */
export function cutOut(vmas: readonly ShadowVma[], start: number, end: number): ShadowVma[] {
  const out: ShadowVma[] = [];
  for (const vma of vmas) {
    if (vma.end <= start || vma.start >= end) {
      out.push(vma);
      continue;
    }
    if (vma.start < start) out.push({ start: vma.start, end: start, flags: vma.flags });
    if (vma.end > end) out.push({ start: end, end: vma.end, flags: vma.flags });
  }
  return out;
}

/** The mappings with the flags of [start, end) (all mapped) changed by change(), merged again. */
export function withFlags(
  vmas: readonly ShadowVma[],
  start: number,
  end: number,
  change: (flags: number) => number,
): ShadowVma[] {
  const out = cutOut(vmas, start, end);
  for (const vma of vmas) {
    const from = Math.max(vma.start, start);
    const to = Math.min(vma.end, end);
    if (from < to) out.push({ start: from, end: to, flags: change(vma.flags) });
  }
  return canonical(out);
}

/** A range sticks out on both sides of [start, last]: taking it out needs a second node. */
export function straddled(ranges: readonly ShadowRange[], start: number, last: number): boolean {
  return ranges.some((r) => r.start < start && r.last > last);
}

/** The ranges with [start, last] taken out: trimmed, or split in two. */
export function rangesWithout(ranges: readonly ShadowRange[], start: number, last: number): ShadowRange[] {
  const out: ShadowRange[] = [];
  for (const r of ranges) {
    if (r.last < start || r.start > last) {
      out.push(r);
      continue;
    }
    if (r.start < start) out.push({ start: r.start, last: start - 1 });
    if (r.last > last) out.push({ start: last + 1, last: r.last });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Ranges that overlap or touch [start, last]: VOLATILE merges them into one. */
function rangesTouching(ranges: readonly ShadowRange[], start: number, last: number): ShadowRange[] {
  return ranges.filter((r) => r.start <= last + 1 && r.last >= start - 1);
}

function rangesWith(ranges: readonly ShadowRange[], start: number, last: number): ShadowRange[] {
  const touching = rangesTouching(ranges, start, last);
  const merged: ShadowRange = {
    start: Math.min(start, ...touching.map((r) => r.start)),
    last: Math.max(last, ...touching.map((r) => r.last)),
  };
  return [...ranges.filter((r) => !touching.includes(r)), merged].sort((a, b) => a.start - b.start);
}

/** Top-down get_unmapped_area: the end of the highest gap (at or above mmap_min_addr) that fits. */
export function topDownStart(vmas: readonly ShadowVma[], pages: number, vaPages: number): number {
  const gaps: [number, number][] = [];
  let previousEnd = MIN_PAGE;
  for (const vma of vmas) {
    gaps.push([previousEnd, vma.start]);
    previousEnd = Math.max(previousEnd, vma.end);
  }
  gaps.push([previousEnd, vaPages]);
  for (const [from, to] of gaps.reverse()) if (to - from >= pages) return to - pages;
  return -1;
}

/** The data with [start, end) gone: unmapped, replaced or zapped pages read as zeros. */
export function dataWithout(
  data: ReadonlyMap<number, number>,
  start: number,
  end: number,
): Map<number, number> {
  return new Map([...data].filter(([page]) => page < start || page >= end));
}

function free(vmas: readonly ShadowVma[], start: number, end: number): boolean {
  return vmas.every((vma) => vma.end <= start || vma.start >= end);
}

// ---- one rule per syscall ----

/**
 * mmap: -EINVAL (zero length, bad prot or flags, MAP_FIXED address not page aligned), -EPERM
 * (MAP_FIXED below mmap_min_addr), -ENOMEM (no room in the address space or the VMA table).
 */
export function mmapRule(
  s: Shadow,
  lim: Limits,
  addr: number,
  length: number,
  prot: number,
  flags: number,
): Prediction {
  if (!isCount(length) || length === 0 || !isCount(addr)) return errors('bad address or length', EINVAL);
  if (!VALID_PROTS.includes(prot)) return errors('bad prot', EINVAL);
  if (flags !== 0 && flags !== MAP_FIXED) return errors('bad flags', EINVAL);
  const pages = pageCount(length);
  const fixed = flags === MAP_FIXED;
  const argumentErrors: number[] = [];
  if (pages > lim.vaPages) argumentErrors.push(ENOMEM);
  if (fixed && addr % PAGE_BYTES !== 0) argumentErrors.push(EINVAL);
  if (fixed && addr < MMAP_MIN_ADDR) argumentErrors.push(EPERM);
  if (fixed && addr + pages * PAGE_BYTES > lim.vaPages * PAGE_BYTES) argumentErrors.push(ENOMEM);
  if (argumentErrors.length > 0) return errors('length or MAP_FIXED address', ...argumentErrors);
  const vmaFlags = protFlags(prot);
  const mapAt = (vmas: readonly ShadowVma[], start: number): Shadow => ({
    vmas: canonical([...vmas, { start, end: start + pages, flags: vmaFlags }]),
    ranges: rangesWithout(s.ranges, start, start + pages - 1),
    data: dataWithout(s.data, start, start + pages),
  });
  if (fixed) {
    const start = addr / PAGE_BYTES;
    const end = start + pages;
    const kept = cutOut(s.vmas, start, end);
    const splitsFit = splitCount(s.vmas, start, end) <= lim.maxVmas - s.vmas.length;
    const newFits = kept.length + 1 <= lim.maxVmas;
    const nodeFits = !straddled(s.ranges, start, end - 1) || s.ranges.length < lim.vrangeNodes;
    if (!splitsFit || !newFits) return errors('VMA table full', ENOMEM);
    if (!nodeFits) return errors('no vrange node for the split', ENOMEM);
    return success(addr, mapAt(kept, start));
  }
  if (s.vmas.length >= lim.maxVmas) return errors('VMA table full', ENOMEM);
  // A hint is used when its range is free; an unaligned one may be rounded up (Linux) or ignored.
  const usable = (start: number) =>
    start >= MIN_PAGE && start + pages <= lim.vaPages && free(s.vmas, start, start + pages);
  const after = (ret: number) => mapAt(s.vmas, ret / PAGE_BYTES);
  if (addr % PAGE_BYTES === 0 && addr !== 0 && usable(addr / PAGE_BYTES))
    return { accept: [addr], why: 'at the hint', after };
  const topDown = topDownStart(s.vmas, pages, lim.vaPages);
  const accept = [topDown < 0 ? -ENOMEM : topDown * PAGE_BYTES];
  const rounded = Math.ceil(addr / PAGE_BYTES);
  if (addr % PAGE_BYTES !== 0 && usable(rounded)) accept.push(rounded * PAGE_BYTES);
  return { accept, why: topDown < 0 ? 'no gap' : 'top down', after };
}

/**
 * munmap: -EINVAL (address not page aligned, zero length, range beyond the address space), -ENOMEM
 * (the split would overflow the VMA table or the vrange node pool). Unmapping nothing succeeds.
 */
export function munmapRule(s: Shadow, lim: Limits, addr: number, length: number): Prediction {
  if (!isCount(addr) || !isCount(length) || length === 0) return errors('bad address or length', EINVAL);
  if (addr % PAGE_BYTES !== 0) return errors('unaligned', EINVAL);
  const start = addr / PAGE_BYTES;
  const end = start + pageCount(length);
  if (end > lim.vaPages) return errors('beyond the address space', EINVAL);
  const splitsFit = splitCount(s.vmas, start, end) <= lim.maxVmas - s.vmas.length;
  const nodeFits = !straddled(s.ranges, start, end - 1) || s.ranges.length < lim.vrangeNodes;
  if (!splitsFit) return errors('VMA table full', ENOMEM);
  if (!nodeFits) return errors('no vrange node for the split', ENOMEM);
  return success(0, {
    vmas: canonical(cutOut(s.vmas, start, end)),
    ranges: rangesWithout(s.ranges, start, end - 1),
    data: dataWithout(s.data, start, end),
  });
}

/**
 * mprotect: 0, -EINVAL (address not page aligned, bad prot), -ENOMEM (part of the range unmapped,
 * or the splits would overflow the VMA table). A zero length succeeds and changes nothing.
 */
export function mprotectRule(s: Shadow, lim: Limits, addr: number, length: number, prot: number): Prediction {
  if (!isCount(addr) || !isCount(length)) return errors('bad address or length', EINVAL);
  if (addr % PAGE_BYTES !== 0) return errors('unaligned', EINVAL);
  if (!VALID_PROTS.includes(prot)) return errors('bad prot', EINVAL);
  if (length === 0) return success(0, s, 'zero length');
  const start = addr / PAGE_BYTES;
  const end = start + pageCount(length);
  if (end > lim.vaPages || !mapped(s.vmas, start, end)) return errors('not mapped', ENOMEM);
  if (splitCount(s.vmas, start, end) > lim.maxVmas - s.vmas.length) return errors('VMA table full', ENOMEM);
  const access = protFlags(prot);
  const vmas = withFlags(s.vmas, start, end, (flags) => (flags & ~(F_READ | F_WRITE)) | access);
  return success(0, { ...s, vmas });
}

/**
 * madvise: 0, -EINVAL (address not page aligned, negative length, unknown advice), -ENOMEM (part of
 * the range not mapped). A zero length succeeds. Mappings and vranges stay; DONTNEED zeroes the data.
 */
export function madviseRule(
  s: Shadow,
  lim: Limits,
  addr: number,
  length: number,
  advice: number,
): Prediction {
  if (!isCount(addr) || !isCount(length)) return errors('bad address or length', EINVAL);
  if (addr % PAGE_BYTES !== 0) return errors('unaligned', EINVAL);
  if (!VALID_ADVICE.includes(advice)) return errors('bad advice', EINVAL);
  if (length === 0) return success(0, s, 'zero length');
  const start = addr / PAGE_BYTES;
  const end = start + pageCount(length);
  if (end > lim.vaPages || !mapped(s.vmas, start, end)) return errors('not mapped', ENOMEM);
  // DONTNEED zaps: the range reads as zeros. FREE keeps the data until reclaim, and none runs here.
  return success(0, advice === MADV_DONTNEED ? { ...s, data: dataWithout(s.data, start, end) } : s);
}

/** vrange's argument rule, shared by mvolatile: [start, last] in pages, or the -EINVAL prediction. */
function vrangeSpan(lim: Limits, addr: number, length: number): [number, number] | Prediction {
  if (!isCount(addr) || !isCount(length) || length === 0) return errors('bad address or length', EINVAL);
  if (addr % PAGE_BYTES !== 0) return errors('unaligned', EINVAL);
  const start = addr / PAGE_BYTES;
  const end = start + pageCount(length);
  if (end > lim.vaPages) return errors('beyond the address space', EINVAL);
  return [start, end - 1];
}

/**
 * vrange: 0 (nothing purged), 1 (NOVOLATILE: a page was purged), -EINVAL (unaligned start, zero or
 * wrapping length, range beyond the address space, bad mode or behavior), -ENOMEM (part of the
 * range not mapped, or no free vrange node). Errors change nothing.
 */
export function vrangeRule(
  s: Shadow,
  lim: Limits,
  addr: number,
  length: number,
  mode: number,
  behavior: number,
): Prediction {
  const span = vrangeSpan(lim, addr, length);
  if (!Array.isArray(span)) return span;
  if (mode !== VRANGE_VOLATILE && mode !== VRANGE_NOVOLATILE) return errors('bad mode', EINVAL);
  if (behavior !== VRANGE_FULL && behavior !== VRANGE_PARTIAL) return errors('bad behavior', EINVAL);
  const [start, last] = span;
  if (!mapped(s.vmas, start, last + 1)) return errors('not mapped', ENOMEM);
  const nodeFree = s.ranges.length < lim.vrangeNodes;
  if (mode === VRANGE_VOLATILE) {
    // A new range needs a node; one that overlaps or touches others reuses theirs.
    if (rangesTouching(s.ranges, start, last).length === 0 && !nodeFree)
      return errors('no vrange node', ENOMEM);
    return success(0, { ...s, ranges: rangesWith(s.ranges, start, last) });
  }
  if (straddled(s.ranges, start, last) && !nodeFree) return errors('no vrange node for the split', ENOMEM);
  return success(0, { ...s, ranges: rangesWithout(s.ranges, start, last) });
}

/**
 * mvolatile / mnovolatile: 0 (mnovolatile: 1 when a page was purged), -EINVAL (as vrange), -ENOMEM
 * (part unmapped, or no room to split).
 */
export function volatilityRule(
  s: Shadow,
  lim: Limits,
  addr: number,
  length: number,
  volatile: boolean,
): Prediction {
  const span = vrangeSpan(lim, addr, length);
  if (!Array.isArray(span)) return span;
  const start = span[0];
  const end = span[1] + 1;
  if (!mapped(s.vmas, start, end)) return errors('not mapped', ENOMEM);
  if (splitCount(s.vmas, start, end) > lim.maxVmas - s.vmas.length) return errors('VMA table full', ENOMEM);
  const vmas = withFlags(s.vmas, start, end, (flags) =>
    volatile ? flags | F_VOLATILE : flags & ~F_VOLATILE,
  );
  return success(0, { ...s, vmas });
}

/** The rules by name, so that a test can swap one for a deliberately wrong one. */
export const RULES = {
  mmap: mmapRule,
  munmap: munmapRule,
  mprotect: mprotectRule,
  madvise: madviseRule,
  vrange: vrangeRule,
  volatility: volatilityRule,
};

export type Rules = typeof RULES;

// ---- reading the simulator's view, to compare with the shadow ----

/** /proc/<pid>/maps as shadow mappings. */
export function parseMaps(text: string): ShadowVma[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const match = /^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])-p 00000000 00:00 0( \[volatile\])?$/.exec(line);
      if (match === null) throw new Error(`rules: unexpected maps line ${JSON.stringify(line)}`);
      const flags =
        (match[3] === 'r' ? F_READ : 0) | (match[4] === 'w' ? F_WRITE : 0) | (match[5] ? F_VOLATILE : 0);
      return {
        start: Number.parseInt(match[1], 16) / PAGE_BYTES,
        end: Number.parseInt(match[2], 16) / PAGE_BYTES,
        flags,
      };
    });
}

/** /proc/<pid>/vrange as shadow ranges (a purged range, "p", does not parse: none is expected). */
export function parseVranges(text: string): ShadowRange[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const match = /^([0-9a-f]+)-([0-9a-f]+) v$/.exec(line);
      if (match === null) throw new Error(`rules: unexpected vrange line ${JSON.stringify(line)}`);
      return {
        start: Number.parseInt(match[1], 16) / PAGE_BYTES,
        last: (Number.parseInt(match[2], 16) + 1) / PAGE_BYTES - 1,
      };
    });
}
