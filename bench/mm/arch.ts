// The byte primitives (src/arch) against their floor, measured side by side in one run
// (npm run bench:mm, section 6):
//   copy_page and clear_page through the checked wrapper, against the bare memory.copy/memory.fill
//   of the same 4 KiB (target: within 1.5x);
//   a 512 KiB user copy through the simulated MMU (t.copy: a boundary and a translation per page),
//   against one bare memory.copy of 512 KiB (target: within 2x);
// each beside the TypedArray implementation (arch js), the model before the primitives moved.
// Variants run in interleaved rounds of timed batches; each reports its median batch and the spread.

import { instantiateArch } from '../../src/arch/wasm.js';
import type { Machine } from '../../src/index.js';
import { PAGE_SIZE } from '../../src/layout/layout.js';
import { clearPage, copyPage } from '../../src/mm/highmem.js';
import { USER_COPY_BYTES, userCopyBuffers } from '../../src/real/calibrate.js';
import { median, table } from '../report.js';
import { type MmSection, QUICK } from './common.js';

interface Variant {
  name: string;
  /** Operations per timed batch. */
  batch: number;
  run(count: number): void;
}

export interface ArchRow {
  name: string;
  medianNs: number;
  minNs: number;
  maxNs: number;
}

export interface ArchTarget {
  what: string;
  variant: string;
  floor: string;
  ratio: number;
  limit: number;
  met: boolean;
}

export interface ArchReport {
  rounds: number;
  rows: ArchRow[];
  targets: ArchTarget[];
}

function variants(quick: boolean): { list: Variant[]; machines: Machine[] } {
  const wasm = userCopyBuffers('wasm');
  const js = userCopyBuffers('js');
  const k = wasm.machine.kernel;
  const kj = js.machine.kernel;
  // The floor: the same module, called with no argument check, on the same memory and frames.
  const raw = instantiateArch(k.memory);
  const base = k.layout.frames.byteOffset;
  // Frames far from the user buffers: 1 MiB (256 frames) up, so the floors copy what nothing maps.
  const dstFrame = 256;
  const srcFrame = 512;
  const scale = quick ? 0.05 : 1;
  const pageBatch = Math.max(10, Math.round(20_000 * scale));
  const copyBatch = Math.max(2, Math.round(200 * scale));
  const list: Variant[] = [
    {
      name: 'floor: memory.copy 4 KiB',
      batch: pageBatch,
      run: (n) => {
        for (let i = 0; i < n; i++)
          raw.memcpy(base + dstFrame * PAGE_SIZE, base + srcFrame * PAGE_SIZE, PAGE_SIZE);
      },
    },
    {
      name: 'copy_page (arch wasm)',
      batch: pageBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) copyPage(k, dstFrame, srcFrame);
      },
    },
    {
      name: 'copy_page (arch js)',
      batch: pageBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) copyPage(kj, dstFrame, srcFrame);
      },
    },
    {
      name: 'floor: memory.fill 4 KiB',
      batch: pageBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) raw.memset(base + dstFrame * PAGE_SIZE, 0, PAGE_SIZE);
      },
    },
    {
      name: 'clear_page (arch wasm)',
      batch: pageBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) clearPage(k, dstFrame);
      },
    },
    {
      name: 'clear_page (arch js)',
      batch: pageBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) clearPage(kj, dstFrame);
      },
    },
    {
      name: 'floor: memory.copy 512 KiB',
      batch: copyBatch,
      run: (n) => {
        for (let i = 0; i < n; i++)
          raw.memcpy(base + dstFrame * PAGE_SIZE, base + srcFrame * PAGE_SIZE, USER_COPY_BYTES);
      },
    },
    {
      name: 'user copy 512 KiB through the MMU (arch wasm)',
      batch: copyBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) wasm.t.copy(wasm.dst, wasm.src, USER_COPY_BYTES);
      },
    },
    {
      name: 'user copy 512 KiB through the MMU (arch js)',
      batch: copyBatch,
      run: (n) => {
        for (let i = 0; i < n; i++) js.t.copy(js.dst, js.src, USER_COPY_BYTES);
      },
    },
  ];
  return { list, machines: [wasm.machine, js.machine] };
}

export function runArchBench(options: { quick: boolean }): ArchReport {
  const rounds = options.quick ? 3 : 31;
  const { list, machines } = variants(options.quick);
  const samples = new Map<string, number[]>(list.map((v) => [v.name, []]));
  for (const v of list) v.run(v.batch); // warm-up: every variant compiled before the first sample
  for (let round = 0; round < rounds; round++) {
    // Interleaved: every variant once per round, so that a slow spell of the host hits them alike.
    for (const v of list) {
      const t0 = performance.now();
      v.run(v.batch);
      samples.get(v.name)!.push(((performance.now() - t0) * 1e6) / v.batch);
    }
  }
  for (const machine of machines) {
    machine.detach();
    machine.validate();
  }
  const rows = list.map((v): ArchRow => {
    const ns = samples.get(v.name)!;
    return { name: v.name, medianNs: median(ns), minNs: Math.min(...ns), maxNs: Math.max(...ns) };
  });
  const ns = (name: string) => rows.find((r) => r.name === name)!.medianNs;
  const target = (what: string, variant: string, floor: string, limit: number): ArchTarget => {
    const ratio = ns(variant) / ns(floor);
    return { what, variant, floor, ratio, limit, met: ratio <= limit };
  };
  return {
    rounds,
    rows,
    targets: [
      target('copy_page', 'copy_page (arch wasm)', 'floor: memory.copy 4 KiB', 1.5),
      target('clear_page', 'clear_page (arch wasm)', 'floor: memory.fill 4 KiB', 1.5),
      target(
        '512 KiB user copy',
        'user copy 512 KiB through the MMU (arch wasm)',
        'floor: memory.copy 512 KiB',
        2,
      ),
    ],
  };
}

const fmtNs = (ns: number) => ns.toLocaleString('en-US', { maximumFractionDigits: ns < 100 ? 1 : 0 });

export function archMarkdown(r: ArchReport): string {
  return [
    '## 6. Byte primitives (src/arch) against their floor, single CPU',
    '',
    `${r.rounds} interleaved rounds; each sample is one timed batch of the operation, per operation. The`,
    'floors call the same WebAssembly module with no argument check; "arch js" is the TypedArray',
    'implementation the model used before (Machine config arch: js). Debug mode off.',
    '',
    table(
      ['operation', 'median ns/op', 'range'],
      r.rows.map((row) => [row.name, fmtNs(row.medianNs), `${fmtNs(row.minNs)}–${fmtNs(row.maxNs)}`]),
    ),
    '',
    table(
      ['target', 'measured', ''],
      r.targets.map((t) => [
        `${t.what} within ${t.limit}x of ${t.floor.replace('floor: ', '')}`,
        `x${t.ratio.toFixed(2)}`,
        t.met ? 'met' : 'NOT met',
      ]),
    ),
  ].join('\n');
}

/** Section 6 of bench:mm. */
export const archSection: MmSection = {
  order: 6,
  label: '6. byte primitives',
  key: 'arch',
  run: async ({ sizes }) => {
    const result = runArchBench({ quick: sizes === QUICK });
    return { result, markdown: archMarkdown(result) };
  },
};
