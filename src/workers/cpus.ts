// Main-thread side: a pool of worker threads that run jobs on a machine's CPUs.

import type { Piscina } from 'piscina';
import { reapCpu } from '../mm/cpu.js';
import type { Machine } from '../mm/machine.js';
import type { CpuTask } from './cpu_worker.js';
import { createPool } from './pool.js';

export class CpuPool {
  readonly pool: Piscina;

  constructor(
    readonly machine: Machine,
    threads: number,
  ) {
    this.pool = createPool('cpu_worker', threads);
  }

  /**
   * Runs job `job` of module `module` (a URL, e.g. import.meta.url) on CPU `cpu`. If the worker
   * dies the CPU is reaped here, so no other CPU waits on it.
   */
  async run<R>(
    cpu: number,
    module: string,
    job: string,
    args: unknown = {},
    signal?: AbortSignal,
  ): Promise<R> {
    const task: CpuTask = { handle: this.machine.handle, cpu, module, job, args };
    try {
      return (await this.pool.run(task, signal === undefined ? {} : { signal })) as R;
    } catch (error) {
      const report = reapCpu(
        this.machine.kernel,
        cpu,
        error instanceof Error ? error.message.split('\n')[0] : String(error),
      );
      if (error instanceof Error && !error.message.includes(`cpu ${cpu} `))
        error.message = `${error.message}\n${report}`;
      throw error;
    }
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
