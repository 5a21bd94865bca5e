// The hardware profile: derived from microbenchmarks by fixed differences, parsed with one-line
// reasons, charged as native cost x scale, and `none` charges nothing.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProfileFile, resolveHwProfile, writeProfileFile } from '../../src/hw/cache.js';
import { spendNs } from '../../src/hw/charge.js';
import { deriveCost, deriveProfile, type MicroMeasurement } from '../../src/hw/derive.js';
import {
  chargesOf,
  HW_EVENTS,
  HwProfileError,
  NO_HW_CHARGES,
  NO_HW_PROFILE,
  parseHwProfile,
} from '../../src/hw/profile.js';

const m = (name: string, medianNs: number, minNs = medianNs, maxNs = medianNs): MicroMeasurement => ({
  name,
  medianNs,
  minNs,
  maxNs,
});

const MICRO: MicroMeasurement[] = [
  m('null_syscall', 100, 90, 120),
  m('zero_page_read_fault', 700, 650, 800),
  m('populate_read_fresh', 450, 400, 500),
  m('populate_read_populated', 130, 120, 140),
  m('mprotect_toggle_alone', 2000),
  m('mprotect_toggle_remote_thread', 10000, 9000, 12000),
  m('read_populated', 5),
  m('read_after_free', 105),
  m('rewrite_after_free', 305),
  m('copy_512k', 20000),
  m('copy_512k_warm_tlb', 14000),
  m('copy_512k_after_flush', 14000 + 256 * 40),
  m('copy_512k_after_free', 14000 + 256 * 40 + 128 * 150),
];
const HOST = { hostname: 'h', kernel: 'Linux 6.18', cpuModel: 'cpu', cores: 2, node: 'v20' };

describe('hardware profile', () => {
  it('derives each event from its measurements, with the spread of the difference', () => {
    expect(deriveCost(MICRO, 'syscall')).toMatchObject({ ns: 100, minNs: 90, maxNs: 120 });
    expect(deriveCost(MICRO, 'ipiSend')).toMatchObject({ ns: 2000, minNs: 1750, maxNs: 2500 });
    // 700 - (450 - 2 x 130); the spread from 650 - 500 + 2 x 120 to 800 - 400 + 2 x 140.
    expect(deriveCost(MICRO, 'fault')).toMatchObject({ ns: 510, minNs: 390, maxNs: 680 });
    expect(deriveCost(MICRO, 'tlbRefill').ns).toBe(40);
    expect(deriveCost(MICRO, 'dirtyAssist').ns).toBe(150);
  });

  it('clamps a negative difference to 0 and says so', () => {
    const noisy = MICRO.map((x) =>
      x.name === 'copy_512k_after_flush' ? m('copy_512k_after_flush', 13000) : x,
    );
    const cost = deriveCost(noisy, 'tlbRefill');
    expect(cost.ns).toBe(0);
    expect(cost.derivation).toContain('negative');
  });

  it('refuses an unmeasured or unavailable input by name', () => {
    expect(() => deriveCost([], 'syscall')).toThrow(/null_syscall/);
    expect(() => deriveCost([{ name: 'null_syscall', unavailable: 'no' }], 'syscall')).toThrow(/unavailable/);
  });

  it('scales charges by the model copy over the native one, never below 1', () => {
    const slow = deriveProfile(MICRO, 50000, HOST, 'now');
    expect(slow.scale.factor).toBe(2.5);
    expect(chargesOf(slow).syscall).toBe(250);
    expect(deriveProfile(MICRO, 10000, HOST, 'now').scale.factor).toBe(1);
  });

  it('charges nothing under none', () => {
    for (const e of HW_EVENTS) expect(NO_HW_CHARGES[e]).toBe(0);
    expect(resolveHwProfile('none')).toBe(NO_HW_PROFILE);
  });

  it('round-trips a profile through a file and rejects bad ones with the field', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hw-'));
    const file = path.join(dir, 'p.json');
    const profile = deriveProfile(MICRO, 30000, HOST, 'now');
    writeProfileFile(profile, file);
    expect(chargesOf(readProfileFile(file))).toEqual(chargesOf(profile));
    const bad = JSON.parse(JSON.stringify(profile));
    bad.costs.fault.ns = -1;
    expect(() => parseHwProfile(bad, 'x')).toThrow(/costs.fault.ns/);
    expect(() => parseHwProfile({ format: 'other' }, 'x')).toThrow(HwProfileError);
    writeFileSync(file, '{');
    expect(() => readProfileFile(file)).toThrow(/not JSON/);
    expect(() => resolveHwProfile(path.join(dir, 'missing.json'))).toThrow(/cannot read/);
  });

  it('spends at least the time charged', () => {
    const start = performance.now();
    spendNs(2e6);
    expect(performance.now() - start).toBeGreaterThanOrEqual(2);
    spendNs(0);
    spendNs(-5);
  });
});
