// 2. Memory: the SharedArrayBuffer of the default machine by region.

import { Machine } from '../../src/index.js';
import { PAGE } from '../../src/layout/layout.js';
import { table } from '../report.js';
import { fmt, MIB, type MmSection, sum } from './common.js';

interface MemoryReport {
  memoryMiB: number;
  bufferBytes: number;
  regions: { name: string; bytes: number; percentOfRam: number }[];
  paddingBytes: number;
  framesBytes: number;
  pageTableBytes: number;
  structPageBytes: number;
  structPageBytesPerFrame: number;
  /** Everything but frames, ptes and ptls (struct page included), against simulated RAM. */
  metadataPercent: number;
  /** The same without struct page. */
  metadataWithoutStructPagePercent: number;
  metadataUnder1Percent: boolean;
  structPageAtMost32: boolean;
}

function memoryFootprint(): MemoryReport {
  const machine = Machine.create();
  const layout = machine.kernel.layout;
  const ramBytes = machine.config.memoryMiB * MIB;
  const regions = Object.values(layout)
    .filter((r): r is { name: string; byteOffset: number; byteLength: number } => typeof r === 'object')
    .map((r) => ({ name: r.name, bytes: r.byteLength, percentOfRam: (100 * r.byteLength) / ramBytes }))
    .sort((a, b) => b.bytes - a.bytes);
  const bytes = (name: string) => regions.find((r) => r.name === name)!.bytes;
  const framesBytes = bytes('frames');
  const pageTableBytes = bytes('ptes') + bytes('ptls');
  const structPageBytes = bytes('pages');
  const metadataBytes = layout.byteLength - framesBytes - pageTableBytes;
  const metadataPercent = (100 * metadataBytes) / ramBytes;
  return {
    memoryMiB: machine.config.memoryMiB,
    bufferBytes: layout.byteLength,
    regions,
    paddingBytes: layout.byteLength - sum(regions.map((r) => r.bytes)),
    framesBytes,
    pageTableBytes,
    structPageBytes,
    structPageBytesPerFrame: PAGE.STRIDE * 4,
    metadataPercent,
    metadataWithoutStructPagePercent: (100 * (metadataBytes - structPageBytes)) / ramBytes,
    metadataUnder1Percent: metadataPercent < 1,
    structPageAtMost32: PAGE.STRIDE * 4 <= 32,
  };
}

function memoryMarkdown(m: MemoryReport): string {
  const large = m.regions.filter((r) => !['frames', 'ptes', 'ptls'].includes(r.name)).slice(0, 4);
  const verdict = m.metadataUnder1Percent
    ? `met: ${m.metadataPercent.toFixed(2)}% < 1%`
    : `NOT met: ${m.metadataPercent.toFixed(2)}% of simulated RAM; the largest parts are ${large
        .map((r) => `${r.name} ${fmt(r.bytes / 1024)} KiB (${r.percentOfRam.toFixed(2)}%)`)
        .join(', ')}. Without struct page the rest is ${m.metadataWithoutStructPagePercent.toFixed(2)}%`;
  return [
    `## 2. Memory: SharedArrayBuffer of the default machine (Machine.create(): ${m.memoryMiB} MiB)`,
    '',
    `Buffer: ${fmt(m.bufferBytes)} bytes (${(m.bufferBytes / MIB).toFixed(2)} MiB), alignment padding ${fmt(m.paddingBytes)} bytes.`,
    '',
    table(
      ['region', 'bytes', '% of simulated RAM'],
      m.regions.map((r) => [r.name, fmt(r.bytes), r.percentOfRam.toFixed(3)]),
    ),
    '',
    `- metadata beyond frames and page tables (ptes, ptls), struct page and padding included, under 1% of RAM: ${verdict}.`,
    `- struct page <= 32 bytes per frame: ${m.structPageAtMost32 ? 'met' : 'NOT met'} (${m.structPageBytesPerFrame} bytes).`,
    `- page tables (ptes + ptls): ${(m.pageTableBytes / MIB).toFixed(2)} MiB = ${((100 * m.pageTableBytes) / (m.memoryMiB * MIB)).toFixed(1)}% of RAM: flat, sized for every process slot's whole VA (maxProcesses x vaMiB), not for what is mapped.`,
  ].join('\n');
}

export const memorySection: MmSection = {
  order: 2,
  label: '2. memory',
  key: 'memory',
  async run() {
    const report = memoryFootprint();
    return { result: report, markdown: memoryMarkdown(report) };
  },
};
