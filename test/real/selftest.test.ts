// Goal: on this kernel the advice does what the policies rely on — DONTNEED'd memory reads zero,
// MADV_FREE'd memory written again keeps its data, WIPEONFORK/KEEPONFORK split and merge the VMA
// (lines of /proc/self/maps) and wipe only the child's copy — and the harness's arena purges by the
// model's rule.
import { beforeAll, describe, expect, it } from 'vitest';
import { runNative } from '../../src/real/harness.js';
import { BUILT } from './built.js';

interface Check {
  name: string;
  status: string;
  detail: string;
}

describe.skipIf(!BUILT)('vrange-harness selftest (skipped when the harness is not built)', () => {
  let checks: Check[] = [];
  beforeAll(async () => {
    const json = (await runNative(['selftest'], 60_000)) as { checks: Check[]; passed: boolean };
    checks = json.checks;
  });
  const check = (name: string): Check => {
    const found = checks.find((c) => c.name === name);
    if (found === undefined) throw new Error(`selftest has no check ${name}`);
    return found;
  };

  it("DONTNEED'd memory reads back zero", () => {
    expect(check('dontneed_reads_zero')).toMatchObject({
      status: 'passed',
      detail: expect.stringMatching(/0 bytes not zero/),
    });
  });

  it("MADV_FREE'd memory written again keeps the new data", () => {
    expect(check('madv_free_rewrite_kept')).toMatchObject({ status: 'passed' });
  });

  it('vmaflag splits the VMA in three and merges it back (/proc/self/maps)', () => {
    const c = check('vmaflag_split_merge');
    expect(c.status, c.detail).toBe('passed');
    const [before, split, merged] = (c.detail.match(/\d+/g) ?? []).map(Number);
    expect(split).toBe(before + 2);
    expect(merged).toBe(before);
  });

  it("a child forked over a WIPEONFORK range reads zeros there; the parent's data is intact", () => {
    expect(check('wipeonfork_child_zero').status).toBe('passed');
  });

  it('the arena purges on every free at -1 and keeps active >> 3 dirty pages at 3', () => {
    const c = check('arena_purge_rule');
    expect(c.status, c.detail).toBe('passed');
  });
});
