// Deriving the hardware profile from microbenchmarks (calibrate on components, validate on the
// whole): each event's cost is one native measurement, or the difference of two that differ by
// that event alone. End-to-end results never enter here.

import {
  HW_PROFILE_FORMAT,
  type HwCost,
  type HwEvent,
  type HwProfile,
  type HwProfileHost,
} from './profile.js';

/** One native per-operation measurement (the harness's `micro`): median and range over repetitions. */
export interface MicroMeasurement {
  name: string;
  medianNs?: number;
  minNs?: number;
  maxNs?: number;
  /** Why it was not measured; absent or null when it was. */
  unavailable?: string | null;
}

/**
 * The native measurements each event is derived from: cost = (sum of coefficient x measurement) /
 * divide. Most are one measurement, or the difference of two that differ by that event alone.
 */
interface Derivation {
  terms: readonly (readonly [name: string, coefficient: number])[];
  /** Divide the sum by this (e.g. a toggle is two shootdowns, split over sender and receiver). */
  divide: number;
  text: string;
}

export const DERIVATIONS: Record<HwEvent, Derivation> = {
  syscall: { terms: [['null_syscall', 1]], divide: 1, text: 'null_syscall (getppid) per call' },
  fault: {
    terms: [
      ['zero_page_read_fault', 1],
      ['populate_read_fresh', -1],
      ['populate_read_populated', 2],
    ],
    divide: 1,
    text: "zero_page_read_fault - (populate_read_fresh - 2 x populate_read_populated): the zero-page read fault less its handler, which MADV_POPULATE_READ runs without the trap (less its two page-table lookups per page): the exception's entry and exit, whose handler the model runs in software",
  },
  ipiSend: {
    terms: [
      ['mprotect_toggle_remote_thread', 1],
      ['mprotect_toggle_alone', -1],
    ],
    divide: 4,
    text: '(mprotect_toggle_remote_thread - mprotect_toggle_alone) / 2 shootdowns per toggle, half to the sender',
  },
  ipiHandler: {
    terms: [
      ['mprotect_toggle_remote_thread', 1],
      ['mprotect_toggle_alone', -1],
    ],
    divide: 4,
    text: '(mprotect_toggle_remote_thread - mprotect_toggle_alone) / 2 shootdowns per toggle, half to the receiver',
  },
  tlbRefill: {
    terms: [
      ['copy_512k_after_flush', 1],
      ['copy_512k_warm_tlb', -1],
    ],
    divide: 256,
    text: 'copy_512k_after_flush - copy_512k_warm_tlb per translation (a 512 KiB memcpy right after a full TLB flush, against one through a warm TLB: 128 source and 128 destination pages refilled inside a sequential copy)',
  },
  dirtyAssist: {
    terms: [
      ['copy_512k_after_free', 1],
      ['copy_512k_after_flush', -1],
    ],
    divide: 128,
    text: 'copy_512k_after_free - copy_512k_after_flush per destination page (both refill every translation; after MADV_FREE the copy also sets the accessed and dirty bits of the 128 pages it cleaned)',
  },
};

/** Native measurements the scale factor is derived from, beside the model's own. */
export const SCALE_NATIVE = 'copy_512k';

function lookup(
  micro: MicroMeasurement[],
  name: string,
): Required<Pick<MicroMeasurement, 'medianNs' | 'minNs' | 'maxNs'>> {
  const m = micro.find((x) => x.name === name);
  if (m === undefined)
    throw new Error(`calibrate: the harness did not measure ${name} (rebuild it: npm run build:native)`);
  if (
    (m.unavailable !== undefined && m.unavailable !== null) ||
    m.medianNs === undefined ||
    m.minNs === undefined ||
    m.maxNs === undefined
  ) {
    throw new Error(`calibrate: ${name} is unavailable on this host: ${m.unavailable ?? 'no figures'}`);
  }
  return { medianNs: m.medianNs, minNs: m.minNs, maxNs: m.maxNs };
}

/** One event's cost; a sum that comes out negative (noise) is 0, and says so. */
export function deriveCost(micro: MicroMeasurement[], event: HwEvent): HwCost {
  const d = DERIVATIONS[event];
  let ns = 0;
  // The spread: every term at the end of its range that lowers the sum, then every one that raises it.
  let lo = 0;
  let hi = 0;
  for (const [name, coefficient] of d.terms) {
    const m = lookup(micro, name);
    ns += coefficient * m.medianNs;
    lo += coefficient * (coefficient > 0 ? m.minNs : m.maxNs);
    hi += coefficient * (coefficient > 0 ? m.maxNs : m.minNs);
  }
  ns /= d.divide;
  const clamped = ns < 0 ? '; the difference was negative (noise), so 0' : '';
  return {
    ns: Math.max(0, ns),
    minNs: Math.max(0, lo / d.divide),
    maxNs: Math.max(0, hi / d.divide),
    derivation: d.text + clamped,
  };
}

/**
 * The whole profile. `modelCopyNs` is the model's 512 KiB user copy through its simulated MMU,
 * measured in the same calibration: the factor keeps hardware events in the real kernel's
 * proportion to the model's software, which runs that much slower than native.
 */
export function deriveProfile(
  micro: MicroMeasurement[],
  modelCopyNs: number,
  host: HwProfileHost,
  measuredAt: string,
): HwProfile {
  const native = lookup(micro, SCALE_NATIVE);
  const factor = Math.max(1, modelCopyNs / native.medianNs);
  const costs = {} as Record<HwEvent, HwCost>;
  for (const event of Object.keys(DERIVATIONS) as HwEvent[]) costs[event] = deriveCost(micro, event);
  return {
    format: HW_PROFILE_FORMAT,
    name: 'host',
    host,
    measuredAt,
    costs,
    scale: {
      factor,
      derivation:
        `the model's 512 KiB user copy through its MMU (${Math.round(modelCopyNs)} ns) over the native ` +
        `${SCALE_NATIVE} (${Math.round(native.medianNs)} ns), at least 1`,
    },
  };
}
