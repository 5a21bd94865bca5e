// The hardware profile: what the events a JavaScript model cannot execute cost on a real CPU (trap
// and syscall entry/exit, IPI delivery and its handler, the TLB refill after a flush, the dirty-bit
// assist). Measured by microbenchmarks on the host kernel (`vrange-lab calibrate`), never fitted to
// the end-to-end workloads that validate the model. `none` (every cost 0) is the pure software
// model, which the tests use.

/** The events the model charges, in the order a profile prints them. */
export const HW_EVENTS = ['syscall', 'fault', 'ipiSend', 'ipiHandler', 'tlbRefill', 'dirtyAssist'] as const;
export type HwEvent = (typeof HW_EVENTS)[number];

/** Where the model charges each event (printed with a profile, and in docs/fidelity.md). */
export const HW_EVENT_SITES: Record<HwEvent, string> = {
  syscall: 'every syscall, on entry, in the syscall context',
  fault: 'every page fault, on entry to the fault handler',
  ipiSend: 'a TLB shootdown that interrupts other CPUs, once on the sender before it waits',
  ipiHandler: 'each CPU that answers a shootdown request, in its flush handler',
  tlbRefill: 'the first translation of a page after a TLB flush',
  dirtyAssist: 'the first write through a clean PTE (the hardware sets the dirty bit)',
};

export const HW_PROFILE_FORMAT = 'vrange-lab-hw-profile/1';

/** One event's native cost on the host, with the spread of its inputs and how it was derived. */
export interface HwCost {
  ns: number;
  minNs: number;
  maxNs: number;
  derivation: string;
}

export interface HwProfileHost {
  hostname: string;
  kernel: string;
  cpuModel: string;
  cores: number;
  node: string;
}

export interface HwProfile {
  format: typeof HW_PROFILE_FORMAT;
  /** 'none', 'host' or the file it was read from. */
  name: string;
  host: HwProfileHost | null;
  measuredAt: string | null;
  /** Native costs, ns per event. */
  costs: Record<HwEvent, HwCost>;
  /**
   * Charged time = native cost x factor, so that hardware events keep their proportion to the
   * model's software, which microbenchmarks show runs `factor` times slower than native.
   */
  scale: { factor: number; derivation: string };
}

/** What a machine spends per event, ns: carried in the machine config to every worker. */
export type HwCharges = Record<HwEvent, number>;

export class HwProfileError extends Error {
  override name = 'HwProfileError';
}

function zeroCost(): HwCost {
  return { ns: 0, minNs: 0, maxNs: 0, derivation: 'none: the pure software model' };
}

export const NO_HW_PROFILE: HwProfile = {
  format: HW_PROFILE_FORMAT,
  name: 'none',
  host: null,
  measuredAt: null,
  costs: Object.fromEntries(HW_EVENTS.map((e) => [e, zeroCost()])) as Record<HwEvent, HwCost>,
  scale: { factor: 1, derivation: 'none' },
};

export const NO_HW_CHARGES: HwCharges = chargesOf(NO_HW_PROFILE);

/** The ns the model spends per event under a profile. */
export function chargesOf(profile: HwProfile): HwCharges {
  return Object.fromEntries(
    HW_EVENTS.map((e) => [e, profile.costs[e].ns * profile.scale.factor]),
  ) as HwCharges;
}

/** Checks a charges object (a machine config field) and throws a one-line reason if it is bad. */
export function checkCharges(charges: HwCharges): void {
  for (const e of HW_EVENTS) {
    const ns = charges[e];
    if (typeof ns !== 'number' || !Number.isFinite(ns) || ns < 0 || ns > 1e9) {
      throw new RangeError(`machine config: hw.${e} must be a number of ns from 0 to 1e9, got ${ns}`);
    }
  }
}

function finite(value: unknown, what: string, source: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new HwProfileError(
      `${source}: ${what} must be a non-negative number, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Parses a profile read from JSON; a bad one is a one-line HwProfileError naming the field. */
export function parseHwProfile(json: unknown, source: string): HwProfile {
  if (typeof json !== 'object' || json === null) throw new HwProfileError(`${source}: not a JSON object`);
  const o = json as Record<string, unknown>;
  if (o.format !== HW_PROFILE_FORMAT) {
    throw new HwProfileError(
      `${source}: format is ${JSON.stringify(o.format)}, expected "${HW_PROFILE_FORMAT}" (run vrange-lab calibrate)`,
    );
  }
  const costsIn = o.costs as Record<string, Record<string, unknown>> | undefined;
  if (typeof costsIn !== 'object' || costsIn === null) throw new HwProfileError(`${source}: no costs`);
  const costs = {} as Record<HwEvent, HwCost>;
  for (const e of HW_EVENTS) {
    const c = costsIn[e];
    if (typeof c !== 'object' || c === null) throw new HwProfileError(`${source}: costs.${e} is missing`);
    costs[e] = {
      ns: finite(c.ns, `costs.${e}.ns`, source),
      minNs: finite(c.minNs, `costs.${e}.minNs`, source),
      maxNs: finite(c.maxNs, `costs.${e}.maxNs`, source),
      derivation: String(c.derivation ?? ''),
    };
  }
  const scaleIn = o.scale as Record<string, unknown> | undefined;
  if (typeof scaleIn !== 'object' || scaleIn === null) throw new HwProfileError(`${source}: no scale`);
  const factor = finite(scaleIn.factor, 'scale.factor', source);
  if (factor <= 0 || factor > 100)
    throw new HwProfileError(`${source}: scale.factor ${factor} is out of (0, 100]`);
  return {
    format: HW_PROFILE_FORMAT,
    name: source,
    host: (o.host as HwProfileHost | null) ?? null,
    measuredAt: typeof o.measuredAt === 'string' ? o.measuredAt : null,
    costs,
    scale: { factor, derivation: String(scaleIn.derivation ?? '') },
  };
}

/** One line for a result's header: the profile a machine ran with and what each event costs it. */
export function describeHwConfig(hw: HwConfig | undefined): string {
  if (hw === undefined || Object.values(hw.charges).every((ns) => ns === 0)) {
    return `hw profile: ${hw?.profile ?? 'none'} (pure software model: no hardware event charged)`;
  }
  const charged = HW_EVENTS.map((e) => `${e} ${Math.round(hw.charges[e])}`).join(', ');
  return `hw profile: ${hw.profile}; ns charged per event: ${charged}`;
}

/** The same line for a profile, with the host it was measured on and its scale factor. */
export function describeHwProfile(profile: HwProfile): string {
  const line = describeHwConfig(hwConfigOf(profile));
  if (profile.host === null) return line;
  return `${line} (measured on ${profile.host.hostname}, ${profile.host.kernel}; scale x${profile.scale.factor.toFixed(2)})`;
}

/** The profile's table, a line per event, for `calibrate` and reports. */
export function formatHwProfile(profile: HwProfile): string[] {
  const lines = [describeHwProfile(profile)];
  for (const e of HW_EVENTS) {
    const c = profile.costs[e];
    lines.push(
      `  ${e.padEnd(11)} ${c.ns.toFixed(0).padStart(6)} ns native (${c.minNs.toFixed(0)}-${c.maxNs.toFixed(0)}), ` +
        `charged at ${HW_EVENT_SITES[e]}; ${c.derivation}`,
    );
  }
  lines.push(`  scale       x${profile.scale.factor.toFixed(3)}: ${profile.scale.derivation}`);
  return lines;
}

/** A machine's hardware profile (MachineConfig.hw): its name, printed with every result, and the ns per event. */
export interface HwConfig {
  profile: string;
  charges: HwCharges;
}

/** The machine config's `hw` field for a profile (Machine.create({ hw: hwConfigOf(profile) })). */
export function hwConfigOf(profile: HwProfile): HwConfig {
  return { profile: profile.name, charges: chargesOf(profile) };
}
