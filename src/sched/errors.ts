// The one way a deterministic run ends early: a SchedulerError that names the step, the reason and
// the CPUs, raised in every CPU of the run (and by start() on the main thread).

export const SchedFailReason = {
  /** Every active CPU waited, maxIdleRounds rounds in a row, and none made progress. */
  deadlock: 1,
  /** The run took maxSteps decisions. */
  stepLimit: 2,
  /** The token holder reached no scheduling point for tokenWaitMs (it spins outside the hooks, or died). */
  tokenTimeout: 3,
  /** Not every registered CPU entered within tokenWaitMs of start(). */
  startTimeout: 4,
  /** A CPU left the run while another CPU held the token. */
  cpuLost: 5,
} as const;
export type SchedFailReason = (typeof SchedFailReason)[keyof typeof SchedFailReason];

const REASON_NAMES = ['none', 'deadlock', 'step limit', 'token timeout', 'start timeout', 'cpu lost'];

export function reasonName(reason: number): string {
  return REASON_NAMES[reason] ?? `reason ${reason}`;
}

export class SchedulerError extends Error {
  override name = 'SchedulerError';
  constructor(
    readonly report: string,
    readonly reason: SchedFailReason,
    /** The step at which the run was stopped. */
    readonly step: number,
    /** The CPU that stopped it (-1: the main thread). */
    readonly cpu: number,
  ) {
    super(report);
  }
}
