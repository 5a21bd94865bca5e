// Worker side of a simulated CPU: one task runs one job (a function of some module) on one CPU of
// a machine attached from the task's memory. The job's module is named by URL so that tests can run
// their own scenarios; the CLI's workloads live in src/workloads.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { reapCpu } from '../mm/cpu.js';
import type { MachineHandle } from '../mm/kernel.js';
import { Machine } from '../mm/machine.js';

export interface CpuTask {
  handle: MachineHandle;
  cpu: number;
  /** URL of the module exporting the job. */
  module: string;
  /** Name of the exported job: (machine, cpu, args) => result. */
  job: string;
  args: unknown;
}

export type Job<A = unknown, R = unknown> = (machine: Machine, cpu: number, args: A) => R | Promise<R>;

const modules = new Map<string, Promise<Record<string, unknown>>>();

/**
 * Loads a job module. A .ts module (tests run from sources) is loaded through require: piscina
 * loads this worker through require too, and on Node 20 tsx's ESM hooks do not reach worker
 * threads while its require hook does.
 */
function load(url: string): Promise<Record<string, unknown>> {
  let module = modules.get(url);
  if (module === undefined) {
    module = url.endsWith('.ts')
      ? Promise.resolve(createRequire(url)(fileURLToPath(url)) as Record<string, unknown>)
      : (import(url) as Promise<Record<string, unknown>>);
    modules.set(url, module);
  }
  return module;
}

export default async function run(task: CpuTask): Promise<unknown> {
  const module = await load(task.module);
  const job = module[task.job];
  if (typeof job !== 'function') throw new Error(`${task.module} exports no job ${task.job}`);
  const machine = Machine.attach(task.handle);
  machine.cpu(task.cpu);
  try {
    const result = await (job as Job)(machine, task.cpu, task.args);
    machine.detach();
    return result;
  } catch (error) {
    const report = reapCpu(machine.kernel, task.cpu, error instanceof Error ? error.message : String(error));
    if (error instanceof Error) error.message = `${error.message}\n${report}`;
    throw error;
  }
}
