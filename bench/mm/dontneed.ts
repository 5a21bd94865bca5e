// 3. MADV_DONTNEED and refault, per call and per page.

import { REAL_KERNEL } from '../../src/experiment/reference.js';
import { MADV_DONTNEED, Machine } from '../../src/index.js';
import { PAGE_SIZE } from '../../src/layout/layout.js';
import { touchPages } from '../../src/workloads/bench_jobs.js';
import { medianMs, table } from '../report.js';
import { fmt, type MmSection, madvise, mappedRange, newBench, partTimed, type Sizes } from './common.js';

interface DontneedRow {
  pages: number;
  callsPerSample: number;
  madviseUsPerCall: number;
  madviseNsPerPage: number;
  refaultUsPerCall: number;
  refaultNsPerPage: number;
}

interface DontneedReport {
  rows: DontneedRow[];
  floorNsPerPage: number;
  /** Uint8Array.set(zero page) of 4 KiB on a SharedArrayBuffer: how the fault path zeroes a frame. */
  sharedSetNsPerPage: number;
  /** Uint8Array.fill(0) of 4 KiB on a SharedArrayBuffer: what that avoids. */
  sharedFillNsPerPage: number;
  refaultTargetNsPerPage: number;
  refaultTargetMet: boolean;
}

async function dontneedCost(sizes: Sizes): Promise<DontneedReport> {
  const span = Math.max(...sizes.dontneedRanges);
  const machine = Machine.create({ memoryMiB: 64, cpus: 1, maxProcesses: 2, vaMiB: 64 });
  const { t, base } = mappedRange(machine, span);
  const bench = newBench(sizes);
  // The floor: what any page's worth of work costs in plain JS on this host.
  const zero = new Uint8Array(span * PAGE_SIZE);
  const src = new Uint8Array(span * PAGE_SIZE).fill(7);
  const dst = new Uint8Array(span * PAGE_SIZE);
  bench.add('floor', () => {
    for (let off = 0; off < span * PAGE_SIZE; off += PAGE_SIZE) {
      zero.fill(0, off, off + PAGE_SIZE);
      dst.set(src.subarray(off, off + PAGE_SIZE), off);
    }
  });
  // Zeroing 4 KiB of shared memory as the frames are: the fault path copies a zero page (set);
  // fill is what it avoids (V8's fill takes a slow path on a SharedArrayBuffer).
  const shared = new Uint8Array(new SharedArrayBuffer(span * PAGE_SIZE));
  const zeroPage = new Uint8Array(PAGE_SIZE);
  bench.add('shared set', () => {
    for (let off = 0; off < span * PAGE_SIZE; off += PAGE_SIZE) shared.set(zeroPage, off);
  });
  bench.add('shared fill', () => {
    for (let off = 0; off < span * PAGE_SIZE; off += PAGE_SIZE) shared.fill(0, off, off + PAGE_SIZE);
  });
  for (const pages of sizes.dontneedRanges) {
    const calls = span / pages;
    partTimed(
      bench,
      `madvise ${pages}`,
      () => touchPages(t, base, span, 1),
      () => {
        for (let c = 0; c < calls; c++) madvise(t, base + c * pages * PAGE_SIZE, pages, MADV_DONTNEED);
      },
    );
    // The refault of every range: one user-mode stretch writing one word per page.
    partTimed(
      bench,
      `refault ${pages}`,
      () => madvise(t, base, span, MADV_DONTNEED),
      () => touchPages(t, base, span, 2),
    );
  }
  await bench.run();
  machine.detach();
  machine.validate();
  const floorNsPerPage = (medianMs(bench, 'floor') * 1e6) / span;
  const sharedFillNsPerPage = (medianMs(bench, 'shared fill') * 1e6) / span;
  const sharedSetNsPerPage = (medianMs(bench, 'shared set') * 1e6) / span;
  const rows = sizes.dontneedRanges.map((pages): DontneedRow => {
    const calls = span / pages;
    const madviseMs = medianMs(bench, `madvise ${pages}`);
    const refaultMs = medianMs(bench, `refault ${pages}`);
    return {
      pages,
      callsPerSample: calls,
      madviseUsPerCall: (madviseMs * 1000) / calls,
      madviseNsPerPage: (madviseMs * 1e6) / span,
      refaultUsPerCall: (refaultMs * 1000) / calls,
      refaultNsPerPage: (refaultMs * 1e6) / span,
    };
  });
  const refaultTargetNsPerPage = 2 * REAL_KERNEL.mm.refaultPageUs[1] * 1000;
  return {
    rows,
    floorNsPerPage,
    sharedFillNsPerPage,
    sharedSetNsPerPage,
    refaultTargetNsPerPage,
    refaultTargetMet: rows.every((r) => r.refaultNsPerPage <= refaultTargetNsPerPage),
  };
}

function dontneedMarkdown(d: DontneedReport): string {
  const [cLo, cHi] = REAL_KERNEL.mm.dontneedCallUs;
  const [pLo, pHi] = REAL_KERNEL.mm.dontneedPageNs;
  const [rLo, rHi] = REAL_KERNEL.mm.refaultPageUs;
  const worst = Math.max(...d.rows.map((r) => r.refaultNsPerPage));
  return [
    '## 3. MADV_DONTNEED + refault, single CPU (tinybench medians)',
    '',
    'Each sample covers the same 2048 touched pages: (a) MADV_DONTNEED over them in calls of the given',
    'range, timed alone (the refault that prepares the next sample is not timed); (b) the refault of',
    'all of them, one written word per page in one stretch of user mode (fault, allocation, zero-fill).',
    '',
    table(
      [
        'range (pages)',
        'madvise µs/call',
        'madvise ns/page',
        'real kernel madvise µs/call (est.)',
        'refault µs/range',
        'refault ns/page',
        'refault x floor',
      ],
      d.rows.map((r) => [
        r.pages,
        r.madviseUsPerCall.toFixed(2),
        r.madviseNsPerPage.toFixed(0),
        `${(cLo + (r.pages * pLo) / 1000).toFixed(2)}–${(cHi + (r.pages * pHi) / 1000).toFixed(2)}`,
        r.refaultUsPerCall.toFixed(2),
        r.refaultNsPerPage.toFixed(0),
        (r.refaultNsPerPage / d.floorNsPerPage).toFixed(1),
      ]),
    ),
    '',
    `- floor (same run): plain JS 4 KiB zero-fill + 4 KiB copy on a Uint8Array: ${d.floorNsPerPage.toFixed(0)} ns per page.`,
    `- same run, on a SharedArrayBuffer-backed Uint8Array as the frames are: set() of a 4 KiB zero page (how the fault path zeroes a frame) ${d.sharedSetNsPerPage.toFixed(0)} ns per page; fill(0) of 4 KiB ${d.sharedFillNsPerPage.toFixed(0)} ns (V8's slow path for shared memory, which the fault path avoids).`,
    `- real kernel, measured on this machine (given, not measured by this benchmark): DONTNEED ${cLo}–${cHi} µs per call + ${pLo}–${pHi} ns per page; refault (fault + allocate + zero) ${rLo}–${rHi} µs per page.`,
    `- target: simulated refault per page within 2x of the real kernel's (<= ${fmt(d.refaultTargetNsPerPage)} ns against its upper figure; <= ${fmt(2 * rLo * 1000)} ns against its lower): ${
      d.refaultTargetMet ? 'met' : 'NOT met'
    } (worst ${worst.toFixed(0)} ns per page = ${(worst / (rHi * 1000)).toFixed(2)}x the upper and ${(worst / (rLo * 1000)).toFixed(2)}x the lower real figure).`,
  ].join('\n');
}

export const dontneedSection: MmSection = {
  order: 3,
  label: '3. dontneed',
  key: 'dontneed',
  async run({ sizes }) {
    const report = await dontneedCost(sizes);
    return { result: report, markdown: dontneedMarkdown(report) };
  },
};
