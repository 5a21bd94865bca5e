export { reasonName, SchedFailReason, SchedulerError } from './errors.js';
export { loweredPriority, type PctPlan, planPct } from './pct.js';
export { below, seedState, xorshift32 } from './random.js';
export {
  DEFAULT_PCT,
  DEFAULT_SCHED_LIMITS,
  DeterministicScheduler,
  SCHED_DONE,
  SCHED_FAILED,
  SCHED_IDLE,
  SCHED_RUNNING,
  type SchedLimits,
  type SchedStrategy,
} from './scheduler.js';
export {
  FNV_OFFSET_BASIS,
  foldDecision,
  formatDecision,
  pointName,
  type SchedDecision,
  TracePoint,
  traceHashOf,
} from './trace.js';
