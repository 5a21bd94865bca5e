// 4. Cost per call against range size for vrange, mvolatile, MADV_DONTNEED and MADV_FREE.

import {
  MADV_DONTNEED,
  MADV_FREE,
  Machine,
  type Thread,
  VRANGE_NOVOLATILE,
  VRANGE_VOLATILE,
} from '../../src/index.js';
import { PAGE_SIZE } from '../../src/layout/layout.js';
import { touchPages } from '../../src/workloads/bench_jobs.js';
import { medianMs, table } from '../report.js';
import { fmt, MIB, type MmSection, madvise, mappedRange, newBench, type Sizes } from './common.js';

type SweepOp =
  | 'vrange pair'
  | 'mvolatile pair'
  | 'DONTNEED + refault'
  | 'MADV_FREE + rewrite'
  | typeof FLOOR_OP;
/** No simulator: zeroing the range's pages (set() of a zero page) in a shared buffer as big as the
 *  frames it cycles through — what the host's caches make of the range's size. */
const FLOOR_OP = 'floor: zero 4 KiB per page';
const SWEEP_OPS: SweepOp[] = [
  'vrange pair',
  'mvolatile pair',
  'DONTNEED + refault',
  'MADV_FREE + rewrite',
  FLOOR_OP,
];

interface SweepRow {
  op: SweepOp;
  pages: number;
  usPerCall: number;
  nsPerPage: number;
}

interface SweepReport {
  rows: SweepRow[];
  vrangeFlatRatio: number;
  vrangeMaxUs: number;
  vrangeTargetMet: boolean;
  dontneedNsPerPage: number[];
  dontneedLinear: boolean;
  /** The floor's ns per page over the same sizes (128 pages and more). */
  floorNsPerPage: number[];
}

/** Calls per tinybench sample: enough that a sample is well above the clock's resolution. */
function callsPerSample(op: SweepOp, pages: number): number {
  if (op === 'vrange pair' || op === 'mvolatile pair') return 200;
  return Math.max(1, Math.floor(2048 / pages));
}

function sweepCall(
  op: SweepOp,
  t: Thread,
  base: number,
  pages: number,
  span: number,
  floor: Uint8Array,
): () => void {
  const length = pages * PAGE_SIZE;
  // Calls that touch the pages work on the next `pages` pages of the span each time, round robin, so
  // that every range size sweeps the same footprint and meets the same cache state: reusing the
  // first pages ran the small sizes cache-hot (DONTNEED + refault at 128 pages then measured 556 ns
  // per page against 934 at 16384). The pairs, which touch no page, keep to one range.
  let next = 0;
  const rotate = (): number => {
    const at = next;
    next = (next + pages) % span;
    return at;
  };
  switch (op) {
    case FLOOR_OP: {
      const zeroPage = new Uint8Array(PAGE_SIZE);
      return () => {
        const start = rotate() * PAGE_SIZE;
        for (let off = start; off < start + length; off += PAGE_SIZE) floor.set(zeroPage, off);
      };
    }
    case 'vrange pair':
      return () => {
        if (t.vrange(base, length, VRANGE_VOLATILE) !== 0) throw new Error('vrange(VOLATILE) failed');
        if (t.vrange(base, length, VRANGE_NOVOLATILE) !== 0) throw new Error('vrange(NOVOLATILE) failed');
      };
    case 'mvolatile pair':
      return () => {
        if (t.mvolatile(base, length) !== 0) throw new Error('mvolatile failed');
        if (t.mnovolatile(base, length) !== 0) throw new Error('mnovolatile failed');
      };
    case 'DONTNEED + refault':
      return () => {
        const at = base + rotate() * PAGE_SIZE;
        madvise(t, at, pages, MADV_DONTNEED);
        touchPages(t, at, pages, 3);
      };
    case 'MADV_FREE + rewrite':
      return () => {
        const at = base + rotate() * PAGE_SIZE;
        madvise(t, at, pages, MADV_FREE);
        touchPages(t, at, pages, 4);
      };
  }
}

async function rangeSweep(sizes: Sizes): Promise<SweepReport> {
  const span = Math.max(...sizes.sweepRanges);
  const machine = Machine.create({
    memoryMiB: Math.max(64, (2 * span * PAGE_SIZE) / MIB),
    cpus: 1,
    maxProcesses: 2,
    vaMiB: Math.max(64, (2 * span * PAGE_SIZE) / MIB),
  });
  // Every range starts one page into a mapping that goes on past it: mvolatile splits at both ends.
  const { t, base } = mappedRange(machine, span);
  const bench = newBench(sizes);
  const floor = new Uint8Array(new SharedArrayBuffer(span * PAGE_SIZE));
  // MADV_FREE after the others: the pages it leaves on the lazyfree LRU would make later zaps dearer.
  for (const op of SWEEP_OPS) {
    for (const pages of sizes.sweepRanges) {
      const call = sweepCall(op, t, base, pages, span, floor);
      const n = callsPerSample(op, pages);
      bench.add(`${op} ${pages}`, () => {
        for (let i = 0; i < n; i++) call();
      });
    }
  }
  await bench.run();
  machine.detach();
  machine.validate();
  const rows = SWEEP_OPS.flatMap((op) =>
    sizes.sweepRanges.map((pages): SweepRow => {
      const perCallMs = medianMs(bench, `${op} ${pages}`) / callsPerSample(op, pages);
      return { op, pages, usPerCall: perCallMs * 1000, nsPerPage: (perCallMs * 1e6) / pages };
    }),
  );
  const vrange = rows.filter((r) => r.op === 'vrange pair').map((r) => r.usPerCall);
  const vrangeFlatRatio = Math.max(...vrange) / Math.min(...vrange);
  const vrangeMaxUs = Math.max(...vrange);
  // Linear: for ranges of 128 pages and more the cost per page stays within 1.5x.
  const dontneedNsPerPage = rows
    .filter((r) => r.op === 'DONTNEED + refault' && r.pages >= 128)
    .map((r) => r.nsPerPage);
  const floorNsPerPage = rows.filter((r) => r.op === FLOOR_OP && r.pages >= 128).map((r) => r.nsPerPage);
  return {
    floorNsPerPage,
    rows,
    vrangeFlatRatio,
    vrangeMaxUs,
    vrangeTargetMet: vrangeFlatRatio <= 1.5 && vrangeMaxUs < 2,
    dontneedNsPerPage,
    dontneedLinear:
      dontneedNsPerPage.length >= 2 && Math.max(...dontneedNsPerPage) / Math.min(...dontneedNsPerPage) <= 1.5,
  };
}

function sweepMarkdown(s: SweepReport, sizes: Sizes): string {
  const cell = (op: SweepOp, pages: number) => {
    const r = s.rows.find((x) => x.op === op && x.pages === pages)!;
    return `${r.usPerCall < 10 ? r.usPerCall.toFixed(2) : fmt(r.usPerCall, 1)} (${r.nsPerPage < 10 ? r.nsPerPage.toFixed(2) : fmt(r.nsPerPage)})`;
  };
  return [
    '## 4. Cost per call against range size (single CPU, no memory pressure, pages touched first)',
    '',
    'µs per call (ns per page in brackets), tinybench medians. A pair is mark + unmark. Every range',
    'starts one page into a larger mapping. DONTNEED + refault and MADV_FREE + rewrite include the',
    'write of one word per page after the madvise. The floor row runs no simulator: set() of a 4 KiB zero',
    'page for each page of the range, in a shared buffer (the fault path zeroes frames the same way).',
    `The rows that touch pages take the next range of the ${sizes.sweepRanges.at(-1)}-page span on every call, round`,
    'robin, so that every size sweeps the same footprint; the pairs repeat one range.',
    '',
    table(
      ['operation', ...sizes.sweepRanges.map((p) => `${p} pages`)],
      SWEEP_OPS.map((op) => [op, ...sizes.sweepRanges.map((p) => cell(op, p))]),
    ),
    '',
    `- target: vrange pair flat in range size (within 1.5x from ${sizes.sweepRanges[0]} to ${sizes.sweepRanges.at(-1)} pages) and under 2 µs: ${
      s.vrangeTargetMet ? 'met' : 'NOT met'
    } (max/min ${s.vrangeFlatRatio.toFixed(2)}, worst ${s.vrangeMaxUs.toFixed(2)} µs).`,
    `- target: DONTNEED + refault growing linearly (ns per page within 1.5x for ranges of 128 pages and more: ${s.dontneedNsPerPage
      .map((n) => n.toFixed(0))
      .join(
        ', ',
      )}): ${s.dontneedLinear ? 'met' : 'NOT met'}. Over the same sizes the floor row, which runs no simulator, goes ${s.floorNsPerPage
      .map((n) => n.toFixed(0))
      .join(', ')} ns per page over the same footprint.`,
  ].join('\n');
}

export const rangeSweepSection: MmSection = {
  order: 4,
  label: '4. range sweep',
  key: 'rangeSweep',
  async run({ sizes }) {
    const report = await rangeSweep(sizes);
    return { result: report, markdown: sweepMarkdown(report, sizes) };
  },
};
