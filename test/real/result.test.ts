// Goal: the harness's JSON is checked field by field before it becomes a RealRunResult or a
// MicroResult — a missing or mistyped field, per-thread records that do not add up, or a result for
// another policy is an error naming what is wrong, never a NaN in a report.
import { describe, expect, it } from 'vitest';
import { defaultEbizzy } from '../../src/experiment/defaults.js';
import { ARENA_KEYS, realRunResult } from '../../src/real/ebizzy.js';
import { microResult } from '../../src/real/micro.js';
import type { RealRunConfig } from '../../src/real/types.js';

const CONFIG: RealRunConfig = {
  ebizzy: { ...defaultEbizzy(1), threads: 2 },
  policy: 'vmaflag',
  processes: 1,
  lgDirtyMult: -1,
  seed: 1,
};
const PLATFORM = {
  sysname: 'Linux',
  kernel: '6.18.0',
  machine: 'x86_64',
  cpusOnline: 2,
  advice: { MADV_DONTNEED: true, MADV_FREE: true, MADV_WIPEONFORK: true },
};
const ARENA = Object.fromEntries(ARENA_KEYS.map((k) => [k, 1]));

function ebizzyJson(): Record<string, unknown> {
  return {
    format: 'vrange-harness/1',
    command: 'ebizzy',
    config: { policy: 'vmaflag' },
    records: 30,
    elapsedSeconds: 1.5,
    recordsPerSecond: 20,
    perThread: [10, 20],
    searches: 30,
    vmstat: { pgfault: 5, pglazyfreed: 3 },
    vmstatMissing: ['nr_tlb_remote_flush'],
    arena: ARENA,
    platform: PLATFORM,
  };
}

describe("the harness's JSON", () => {
  it('becomes a RealRunResult with the model fields, the host kernel and the analogue note', () => {
    const result = realRunResult(CONFIG, ebizzyJson());
    expect(result).toMatchObject({ records: 30, perThread: [10, 20], purgedPages: 3, lockStat: [] });
    expect(result.host).toMatchObject({ kernel: '6.18.0', cpusOnline: 2 });
    expect(result.analogue).toMatch(/analogue of vma/);
  });

  it.each([
    [
      'per-thread records that do not add up',
      (j: Record<string, unknown>) => (j.perThread = [10, 21]),
      /add up/,
    ],
    [
      'a per-thread count missing',
      (j: Record<string, unknown>) => (j.perThread = [30]),
      /1 per-thread counts for 2/,
    ],
    ['another policy', (j: Record<string, unknown>) => (j.config = { policy: 'dontneed' }), /policy differs/],
    ['a missing field', (j: Record<string, unknown>) => delete j.elapsedSeconds, /elapsedSeconds/],
    ['a string for a count', (j: Record<string, unknown>) => (j.records = '30'), /records is not a count/],
    [
      'a vmstat value that is not a number',
      (j: Record<string, unknown>) => (j.vmstat = { pgfault: 'x' }),
      /vmstat.pgfault/,
    ],
    ['another document', (j: Record<string, unknown>) => (j.command = 'micro'), /a micro result, not ebizzy/],
  ])('rejects %s', (_what, mutate, pattern) => {
    const json = ebizzyJson();
    mutate(json);
    expect(() => realRunResult(CONFIG, json)).toThrow(pattern);
  });

  it('micro: measured and unavailable measurements are typed; a missing median is an error', () => {
    const json = {
      format: 'vrange-harness/1',
      command: 'micro',
      pinned: true,
      platform: PLATFORM,
      measurements: [
        {
          name: 'null_syscall',
          per: 'call',
          what: 'getppid()',
          medianNs: 300,
          minNs: 200,
          maxNs: 400,
          repetitions: 7,
          opsPerRepetition: 9,
        },
        { name: 'futex_pingpong', per: 'round trip', what: 'futex', unavailable: 'futex is Linux-only' },
      ],
    };
    const result = microResult(json);
    expect(result.measurements[0]).toMatchObject({ medianNs: 300, unavailable: null });
    expect(result.measurements[1].unavailable).toBe('futex is Linux-only');
    delete (json.measurements[0] as Record<string, unknown>).medianNs;
    expect(() => microResult(json)).toThrow(/measurements\[0\]\.medianNs/);
  });
});
