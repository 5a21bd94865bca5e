// Goal: the memory-management benchmark runs end to end in its --quick form and reports every
// section (a smoke test of the harness: it asserts what was measured, never how fast).

import { expect, it } from 'vitest';
import { runMmBench } from '../../bench/mm.js';

it('bench:mm --quick reports every section', async () => {
  const { json, markdown } = await runMmBench({ quick: true });
  for (const heading of ['## 1.', '## 2.', '## 3.', '## 4.', '## 5.', '## 6.'])
    expect(markdown).toContain(heading);
  expect(json.pageFault).toHaveLength(4);
  expect(json.contention).toHaveLength(4);
  const memory = json.memory as { structPageBytesPerFrame: number; bufferBytes: number };
  expect(memory.structPageBytesPerFrame).toBe(32);
  expect(memory.bufferBytes).toBeGreaterThan(256 * 2 ** 20);
});
