// Goal: the byte-primitive benchmark (bench:mm section 6) measures every variant beside its floor in
// its --quick form and states each target against the ratio it measured (never how fast).

import { expect, it } from 'vitest';
import { archMarkdown, runArchBench } from '../../bench/mm/arch.js';

it('reports every primitive, its floor and the arch js figure, and each target from its ratio', () => {
  const report = runArchBench({ quick: true });
  const names = report.rows.map((r) => r.name);
  for (const what of ['copy_page', 'clear_page', 'user copy 512 KiB']) {
    expect(names.filter((n) => n.startsWith(what))).toHaveLength(2);
  }
  expect(names.filter((n) => n.startsWith('floor:'))).toHaveLength(3);
  for (const row of report.rows) {
    expect(row.medianNs).toBeGreaterThan(0);
    expect(row.minNs).toBeLessThanOrEqual(row.medianNs);
    expect(row.maxNs).toBeGreaterThanOrEqual(row.medianNs);
  }
  expect(report.targets.map((t) => t.limit)).toEqual([1.5, 1.5, 2]);
  for (const t of report.targets) expect(t.met).toBe(t.ratio <= t.limit);
  const markdown = archMarkdown(report);
  expect(markdown).toContain('## 6.');
  expect(markdown.match(/\| (met|NOT met) \|/g)).toHaveLength(3);
});
