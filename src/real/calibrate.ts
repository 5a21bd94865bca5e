// vrange-lab calibrate: the host's hardware profile from microbenchmarks only. The harness times
// the kernel paths natively (`micro`); the model's own 512 KiB user copy is timed here, in the same
// run, for the scale factor. End-to-end results never enter (docs/fidelity.md).

import os from 'node:os';
import type { ArchKind } from '../arch/arch.js';
import { cachedHostProfile, hostProfilePath, writeProfileFile } from '../hw/cache.js';
import { deriveProfile } from '../hw/derive.js';
import type { HwProfile } from '../hw/profile.js';
import { Machine } from '../mm/machine.js';
import type { Thread } from '../mm/thread.js';
import { BUILD_HINT, harnessBuilt } from './harness.js';
import { runRealMicro } from './micro.js';
import { spread } from './paired.js';
import type { MicroResult } from './types.js';

/** ebizzy's chunk: the user copy both the scale factor and bench:mm time. */
export const USER_COPY_BYTES = 512 * 1024;

/**
 * A process of a fresh machine of `arch` (debug off, profile none) with two touched buffers of
 * USER_COPY_BYTES: what the model's user copy is timed on, here and in bench:mm.
 */
export function userCopyBuffers(arch: ArchKind = 'wasm'): {
  machine: Machine;
  t: Thread;
  dst: number;
  src: number;
} {
  const machine = Machine.create({ memoryMiB: 64, cpus: 1, maxProcesses: 2, vaMiB: 64, arch });
  const t = machine.createProcess().mainThread();
  const src = t.mmap(USER_COPY_BYTES);
  const dst = t.mmap(USER_COPY_BYTES);
  if (src < 0 || dst < 0) throw new Error('user copy buffers: mmap failed');
  t.fill(src, USER_COPY_BYTES, 0x5a);
  t.fill(dst, USER_COPY_BYTES, 0);
  return { machine, t, dst, src };
}

/**
 * The model's 512 KiB user copy through its MMU (t.copy, arch wasm, profile none): ns per copy of
 * each of `rounds` rounds, after `warmup` untimed copies (without them the first rounds ran before
 * V8 had optimised the copy loop, and a calibration's median came out anywhere from 16 to 41 us).
 */
export function modelCopySamples(rounds = 15, copiesPerRound = 40, warmup = 400): number[] {
  const { machine, t, dst, src } = userCopyBuffers();
  for (let i = 0; i < warmup; i++) t.copy(dst, src, USER_COPY_BYTES);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    for (let i = 0; i < copiesPerRound; i++) t.copy(dst, src, USER_COPY_BYTES);
    samples.push(((performance.now() - start) * 1e6) / copiesPerRound);
  }
  machine.detach();
  return samples;
}

/** The lowest of the sets' medians (see calibrate): noise on a shared host only adds time. */
export function modelCopyNs(sets: number[][]): number {
  return Math.min(...sets.map((set) => spread(set).median));
}

export interface Calibration {
  profile: HwProfile;
  micro: MicroResult;
  modelCopyNs: number;
  /** Where the profile was written. */
  file: string;
}

/** Measures, derives and writes the profile (to `file`, default the per-user cache). */
export async function calibrate(repetitions: number, file = hostProfilePath()): Promise<Calibration> {
  // The model's copy is timed in two sets, before and after the native microbenchmarks, each in a
  // fresh machine, and the lower median counts: a set sometimes ran ~2x slow throughout (a
  // calibration at 2fed47e took 29.0 us where five others within minutes took 13.6-19.8 us).
  const before = modelCopySamples();
  const micro = await runRealMicro(repetitions);
  const copyNs = modelCopyNs([before, modelCopySamples()]);
  const host = {
    hostname: os.hostname(),
    kernel: `${micro.host.sysname} ${micro.host.kernel}`,
    cpuModel: micro.host.cpuModel,
    cores: micro.host.cores,
    node: micro.host.node,
  };
  const profile = deriveProfile(micro.measurements, copyNs, host, new Date().toISOString());
  writeProfileFile(profile, file);
  return { profile, micro, modelCopyNs: copyNs, file };
}

/**
 * --hw-profile host for compare and npm start: calibrates first when the host has no profile yet
 * and the harness is built; without the harness, falls back to none. Says which on `log`.
 */
export async function ensureHostProfile(spec: string, log: (line: string) => void): Promise<string> {
  if (spec !== 'host' || cachedHostProfile() !== null) return spec;
  if (!harnessBuilt()) {
    log(
      `vrange-lab: no hardware profile and no native harness to measure one: hw profile none (${BUILD_HINT})`,
    );
    return 'none';
  }
  log('vrange-lab: no hardware profile for this host yet: calibrating (vrange-lab calibrate) ...');
  const c = await calibrate(5);
  log(`vrange-lab: hardware profile written to ${c.file}`);
  return spec;
}
