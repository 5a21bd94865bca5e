// The side-by-side table of model and real kernel (compare --real, sweep --real).

import { formatNumber, textTable } from '../experiment/report.js';
import type { PairedRow, Spread } from './paired.js';
import { noRealCounterpart, VMAFLAG_ANALOGUE } from './types.js';

function rate(s: Spread | null): string {
  return s === null ? '-' : `${formatNumber(s.median)} (${formatNumber(s.min)}-${formatNumber(s.max)})`;
}

function ratio(s: Spread | null): string {
  return s === null ? '-' : `x${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;
}

function realName(row: PairedRow): string {
  if (row.realPolicy === null) return 'none (never merged)';
  return row.realPolicy === 'vmaflag' ? 'vmaflag (analogue)' : row.realPolicy;
}

export function renderPaired(rows: PairedRow[], repetitions: number, seconds: number): string {
  const threadCounts = [...new Set(rows.map((r) => r.threads))];
  const fewest = Math.min(...threadCounts);
  const out = [
    `model and real kernel side by side: ${repetitions} repetitions each, interleaved (model, real, model, real, ...), ${seconds} s per run; median (min-max)`,
  ];
  for (const threads of threadCounts) {
    const group = rows.filter((r) => r.threads === threads);
    const scaling = threads !== fewest;
    const header = [
      'policy',
      'real kernel',
      'model rec/s',
      'real rec/s',
      'model/real',
      'model vs dontneed',
      'real vs dontneed',
    ];
    if (scaling) header.push(`model x of ${fewest} thr`, `real x of ${fewest} thr`);
    out.push(
      '',
      `${threads} thread(s):`,
      textTable(
        header,
        group.map((r) => {
          const cells = [
            r.policy,
            realName(r),
            rate(r.model),
            rate(r.real),
            ratio(r.modelOverReal),
            ratio(r.modelVsDontneed),
            ratio(r.realVsDontneed),
          ];
          if (scaling) cells.push(ratio(r.modelScaling), ratio(r.realScaling));
          return cells;
        }),
      ),
    );
  }
  const policies = new Set(rows.map((r) => r.policy));
  const notes: string[] = [];
  if (policies.has('vma')) notes.push(VMAFLAG_ANALOGUE);
  if (policies.has('vrange')) notes.push(noRealCounterpart('vrange') ?? '');
  out.push('', ...notes.map((n) => `note: ${n}`));
  return out.join('\n');
}
