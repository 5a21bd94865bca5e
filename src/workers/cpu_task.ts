// Main-thread side of running a task on a simulated CPU.
//
// A CPU whose code throws reaps itself (its worker marks what it held OWNER_DIED). A CPU whose worker
// thread disappears (terminated, process.exit) cannot: the main thread notices the task's failure
// and reaps it here, so no other CPU waits for locks the dead one held.

import type { Piscina } from 'piscina';
import { type LockDomain, reapDeadCpu } from '../locks/index.js';

export async function runOnCpu<T>(
  pool: Piscina,
  dom: LockDomain,
  cpu: number,
  task: unknown,
  signal?: AbortSignal,
): Promise<T> {
  try {
    return (await pool.run(task, signal === undefined ? {} : { signal })) as T;
  } catch (error) {
    reapDeadCpu(dom, cpu, error instanceof Error ? error.message : String(error));
    throw error;
  }
}
