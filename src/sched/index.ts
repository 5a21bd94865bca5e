export { xorshift32 } from './random.js';
export { DeterministicScheduler, type SchedLimits, type SchedStrategy } from './scheduler.js';
export { formatDecision, type SchedDecision, TracePoint, traceHashOf } from './trace.js';
