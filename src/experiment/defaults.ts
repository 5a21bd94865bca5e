// Defaults: LTP ebizzy 0.3's options, and the experiment's machine.

import os from 'node:os';
import type { EbizzyOptions, RunConfig } from './types.js';

export function defaultEbizzy(cpus: number): EbizzyOptions {
  return {
    chunks: 10,
    chunkSize: 512 * 1024,
    seconds: 10,
    threads: 2 * cpus,
    alwaysMmap: false,
    neverMmap: false,
    randomSize: false,
    mprotectEven: false,
    holes: false,
    touchOnly: false,
    byteLoop: false,
    linearSearch: false,
  };
}

export function defaultRunConfig(): RunConfig {
  const cpus = Math.max(1, Math.min(os.availableParallelism(), 64));
  return {
    ebizzy: defaultEbizzy(cpus),
    policy: 'vrange',
    processes: 1,
    cpus,
    memoryMiB: 256,
    pressureMiB: 0,
    lgDirtyMult: 3,
    seed: 1,
    vrangeVariant: 'lab',
  };
}
