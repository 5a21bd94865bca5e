// Bounded sleeping on a lock word: the hung-task detector and the owner-died report.
//
// Every sleep is cut into slices (options.waitSliceMs) so that a waiter notices, within a slice,
// that its lock's owner died or that it has waited past the hung-task bound. Neither is ever waited
// out: both end the wait with an error that names the lock and its holder.

import { type LockCpu, SchedPoint } from './domain.js';
import { HungTaskError, OwnerDiedError } from './errors.js';

/** Sleeps one slice while i32[word] === expected (or yields to the scheduler hook). */
export function sleepSlice(cpu: LockCpu, word: number, expected: number, lockWord: number): void {
  const dom = cpu.dom;
  if (dom.hook?.(cpu.id, SchedPoint.wait, lockWord)) return;
  Atomics.wait(dom.i32, word, expected, dom.options.waitSliceMs);
}

/** Throws the hung-task report once a wait that began at startMs has outlasted the bound. */
export function checkHung(cpu: LockCpu, lockWord: number, classId: number, startMs: number): void {
  const waitedMs = performance.now() - startMs;
  if (waitedMs <= cpu.dom.options.hungTaskTimeoutMs) return;
  const dom = cpu.dom;
  const holders = dom.holdersOf(lockWord);
  const lines = [
    `INFO: task on cpu ${cpu.id} blocked for more than ${Math.round(waitedMs)} ms ` +
      `(hung_task_timeout ${dom.options.hungTaskTimeoutMs} ms) waiting for ${dom.classes.name(classId)} @${lockWord}`,
  ];
  if (holders.length === 0) lines.push('  no CPU records holding it');
  for (const holder of holders) {
    lines.push(
      `  held by cpu ${holder.cpu} (${holder.mode === 1 ? 'read' : 'write'}), which holds: ${dom.describeHeld(holder.cpu)}`,
    );
  }
  lines.push(`  cpu ${cpu.id} holds: ${dom.describeHeld(cpu.id)}`);
  throw new HungTaskError(lines.join('\n'), cpu.id, lockWord);
}

export function ownerDied(cpu: LockCpu, lockWord: number, classId: number, ownerCpu: number): OwnerDiedError {
  const owner = ownerCpu >= 0 ? `cpu ${ownerCpu}` : 'a CPU';
  return new OwnerDiedError(
    `owner died: ${owner} died holding ${cpu.dom.classes.name(classId)} @${lockWord}; cpu ${cpu.id} will not wait for it`,
    cpu.id,
    lockWord,
  );
}
