// Worker pools (piscina) for simulated CPUs.
//
// The CLI and benchmarks run compiled JavaScript from dist/; tests run the TypeScript sources, and a
// worker started from a .ts file needs tsx's loader (Node 20 cannot start `new Worker('x.ts')`).
// Piscina gets `--import tsx` then, unless this process already runs under tsx.

import { Piscina } from 'piscina';

const runningFromTs = import.meta.url.endsWith('.ts');

export function workerFilename(module: string): string {
  return new URL(`./${module}.${runningFromTs ? 'ts' : 'js'}`, import.meta.url).href;
}

function workerExecArgv(): string[] {
  const underTsx = process.execArgv.some((arg) => arg.includes('tsx'));
  return runningFromTs && !underTsx ? [...process.execArgv, '--import', 'tsx'] : [...process.execArgv];
}

/** A pool of exactly `threads` worker threads running src/workers/<module>. */
export function createPool(module: string, threads: number): Piscina {
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`bad thread count ${threads}`);
  return new Piscina({
    filename: workerFilename(module),
    minThreads: threads,
    maxThreads: threads,
    // One task per thread at a time: a simulated CPU's task owns its thread until it ends.
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
    execArgv: workerExecArgv(),
  });
}
