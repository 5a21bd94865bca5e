// `vrange-lab real micro`: per-operation costs on the host kernel (native/src/micro.c).

import { runNative } from './harness.js';
import { realHostInfo } from './host.js';
import type { MicroMeasurement, MicroResult } from './types.js';
import { array, bool, count, finite, harnessDocument, object, string } from './validate.js';

function measurement(value: unknown, i: number): MicroMeasurement {
  const where = `measurements[${i}]`;
  const m = object(value, where);
  const base = {
    name: string(m, 'name', where),
    per: string(m, 'per', where),
    what: string(m, 'what', where),
  };
  if (m.unavailable !== undefined) {
    return {
      ...base,
      unavailable: string(m, 'unavailable', where),
      medianNs: Number.NaN,
      minNs: Number.NaN,
      maxNs: Number.NaN,
      repetitions: 0,
      opsPerRepetition: 0,
    };
  }
  return {
    ...base,
    unavailable: null,
    medianNs: finite(m, 'medianNs', where),
    minNs: finite(m, 'minNs', where),
    maxNs: finite(m, 'maxNs', where),
    repetitions: count(m, 'repetitions', where),
    opsPerRepetition: count(m, 'opsPerRepetition', where),
  };
}

export function microResult(json: unknown): MicroResult {
  const o = harnessDocument(json, 'micro');
  return {
    kernel: 'real',
    host: realHostInfo(o.platform),
    pinned: bool(o, 'pinned', 'micro'),
    measurements: array(o, 'measurements', 'micro').map(measurement),
  };
}

export async function runRealMicro(repetitions: number): Promise<MicroResult> {
  return microResult(await runNative(['micro', '--repetitions', String(repetitions)], 600_000));
}
