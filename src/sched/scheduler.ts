// The deterministic scheduler: simulated CPUs still run on their own worker threads, but only the
// CPU holding the run token runs; at every scheduling point (the lock library's hooks and the MMU's
// access boundary) the holder records a decision, chooses the next CPU from the seed, hands it the
// token and sleeps until the token comes back. The same seed on the same commit gives the same
// interleaving, the same trace and the same trace hash.
//
// Life of a run:
//   main thread: reset() (for a reused buffer), register(cpu) for each CPU, start the CPUs' tasks,
//                await start(seed, strategy); afterwards traceHash(), lastDecisions(n)
//   CPU thread:  enter(cpu)  (waits for its first turn), dom.hook = sched.hook, run,
//                finish(cpu) in a finally (leaves the run, hands the token on)
//
// Liveness. A CPU at SchedPoint.wait spins for something another CPU must do: it is marked waiting,
// and non-waiting CPUs are preferred. Any other point is progress and clears every waiting mark (the
// waiters must look again). When every active CPU waits, a new round begins: the marks of all but the
// CPU that just waited are cleared, so each waiter re-checks once per round. maxIdleRounds rounds in a
// row without progress is a deadlock; maxSteps bounds the run; a CPU waiting for the token gives up
// when the step counter has not moved for tokenWaitMs. Each ends the run with a SchedulerError in
// every CPU, never a hang.
//
// Determinism. Decisions read only the shared scheduler words, which only the token holder writes
// (the token's Atomics.store/load order them), never the clock. A wait at a point where the waiter
// is the only active CPU (kswapd idling after the user CPUs finished) is not a decision: the hook
// returns false, the caller sleeps on its word for real, and nothing is recorded, so external wake-ups
// (the main thread stopping kswapd) do not change the trace.

import {
  LOCK_CPU,
  SCHED,
  SCHED_CPU,
  SCHED_DECISION,
  SCHED_MAX_PCT_DEPTH,
  type SchedRegions,
  wordIndex,
} from '../layout/layout.js';
import { type LockDomain, type SchedHook, SchedPoint } from '../locks/index.js';
import { reasonName, SchedFailReason, SchedulerError } from './errors.js';
import { loweredPriority, planPct } from './pct.js';
import { below, seedState, xorshift32 } from './random.js';
import { FNV_OFFSET_BASIS, foldDecision, formatDecision, type SchedDecision, TracePoint } from './trace.js';

export const SCHED_IDLE = 0;
export const SCHED_RUNNING = 1;
export const SCHED_DONE = 2;
export const SCHED_FAILED = 3;

const STRATEGY_RANDOM = 0;
const STRATEGY_PCT = 1;

const NO_CPU = -1;
/** A CPU waiting for the token re-checks the failure state and the timeout this often. */
const TOKEN_SLICE_MS = 100;
/** Decisions quoted in a failure report. */
const REPORT_DECISIONS = 8;

export type SchedStrategy =
  /** Random walk: the next CPU is uniform among the runnable ones. */
  | { kind: 'random' }
  /** PCT with bug depth `depth`; stepEstimate is k, the expected length of the run in decisions. */
  | { kind: 'pct'; depth: number; stepEstimate: number };

export const DEFAULT_PCT: SchedStrategy = { kind: 'pct', depth: 3, stepEstimate: 2000 };

export interface SchedLimits {
  /** Decisions after which the run stops with a step-limit error. */
  maxSteps: number;
  /** Consecutive rounds in which every active CPU waits before the run stops as a deadlock. */
  maxIdleRounds: number;
  /** Wall-clock bound on waiting for the token while the step counter does not move. */
  tokenWaitMs: number;
}

export const DEFAULT_SCHED_LIMITS: SchedLimits = {
  maxSteps: 1_000_000,
  maxIdleRounds: 256,
  tokenWaitMs: 10_000,
};

export class DeterministicScheduler {
  readonly i32: Int32Array;
  readonly cpuCount: number;
  /** Entries of the trace ring. */
  readonly traceEntries: number;
  /** Install as LockDomain.hook in each CPU's thread (after enter()). */
  readonly hook: SchedHook;
  private readonly base: number;
  private readonly cpuBase: number;
  private readonly pctBase: number;
  private readonly traceBase: number;

  constructor(
    readonly dom: LockDomain,
    regions: SchedRegions,
  ) {
    this.i32 = dom.i32;
    this.cpuCount = dom.cpuCount;
    this.base = wordIndex(regions.sched);
    this.cpuBase = wordIndex(regions.schedCpus);
    this.pctBase = wordIndex(regions.schedPct);
    this.traceBase = wordIndex(regions.schedTrace);
    this.traceEntries = regions.schedTrace.byteLength / (SCHED_DECISION.STRIDE * 4);
    if (regions.schedCpus.byteLength < this.cpuCount * SCHED_CPU.STRIDE * 4)
      throw new Error('sched: fewer CPU records than the lock domain has CPUs');
    if (!Number.isInteger(this.traceEntries) || this.traceEntries < 1)
      throw new Error('sched: bad trace ring');
    this.hook = (cpu, point, lockWord) => this.schedule(cpu, point, lockWord);
  }

  // ----- main thread -----------------------------------------------------------------------------

  /** Prepares the buffer for a new run (a fresh buffer needs none). No CPU may be in a run. */
  reset(): void {
    const i32 = this.i32;
    if (Atomics.load(i32, this.word(SCHED.state)) === SCHED_RUNNING && this.load(SCHED.active) !== 0)
      throw new Error('sched: reset during a run');
    for (let f = 0; f < SCHED.FIELDS.length; f++) Atomics.store(i32, this.base + f, 0);
    Atomics.store(i32, this.word(SCHED.token), NO_CPU);
    for (let cpu = 0; cpu < this.cpuCount; cpu++) {
      for (let f = 0; f < SCHED_CPU.FIELDS.length; f++) Atomics.store(i32, this.cpuWord(cpu, f), 0);
    }
  }

  /** A CPU joins the run; before start(), from any thread (normally the main thread). */
  register(cpu: number): void {
    this.checkCpu(cpu);
    const state = Atomics.load(this.i32, this.word(SCHED.state));
    if (state !== SCHED_IDLE) throw new Error(`sched: register(${cpu}) after a run began: reset() first`);
    if (this.i32[this.cpuWord(cpu, SCHED_CPU.active)] !== 0)
      throw new Error(`sched: cpu ${cpu} registered twice`);
    const i32 = this.i32;
    i32[this.cpuWord(cpu, SCHED_CPU.waiting)] = 0;
    i32[this.cpuWord(cpu, SCHED_CPU.priority)] = 0;
    i32[this.cpuWord(cpu, SCHED_CPU.parked)] = 0;
    Atomics.store(i32, this.cpuWord(cpu, SCHED_CPU.active), 1);
    Atomics.add(i32, this.word(SCHED.registered), 1);
    Atomics.add(i32, this.word(SCHED.active), 1);
  }

  /**
   * Starts the run once every registered CPU waits in enter(): seeds the strategy and hands the token
   * to the first CPU it chooses. Resolves when the token is handed out (not when the run ends).
   */
  async start(
    seed: number,
    strategy: SchedStrategy | 'random' | 'pct',
    limits: Partial<SchedLimits> = {},
  ): Promise<void> {
    const i32 = this.i32;
    if (Atomics.load(i32, this.word(SCHED.state)) !== SCHED_IDLE) throw new Error('sched: start() twice');
    if (this.load(SCHED.active) === 0) throw new Error('sched: start() with no CPU registered');
    const plan =
      typeof strategy === 'string'
        ? strategy === 'pct'
          ? DEFAULT_PCT
          : { kind: 'random' as const }
        : strategy;
    const lim = { ...DEFAULT_SCHED_LIMITS, ...limits };
    this.store(SCHED.maxSteps, lim.maxSteps);
    this.store(SCHED.maxIdleRounds, lim.maxIdleRounds);
    this.store(SCHED.tokenWaitMs, lim.tokenWaitMs);
    this.store(SCHED.seed, seed | 0);
    this.store(SCHED.rng, seedState(seed));
    this.store(SCHED.step, 0);
    this.store(SCHED.idleRounds, 0);
    this.store(SCHED.hash, FNV_OFFSET_BASIS | 0);
    if (plan.kind === 'pct') this.setUpPct(plan.depth, plan.stepEstimate);
    else this.store(SCHED.strategy, STRATEGY_RANDOM);

    const deadline = performance.now() + lim.tokenWaitMs;
    while (this.load(SCHED.parked) < this.load(SCHED.active)) {
      if (performance.now() > deadline) {
        const message =
          `deterministic scheduler: only ${this.load(SCHED.parked)} of ${this.load(SCHED.active)} ` +
          `registered CPUs entered within ${lim.tokenWaitMs} ms of start()`;
        throw this.fail(SchedFailReason.startTimeout, NO_CPU, 0, message);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const first = this.choose(NO_CPU, 1);
    this.record(1, NO_CPU, first, TracePoint.start, -1);
    // The token before the state: a parked CPU that sees RUNNING sees its token too.
    Atomics.store(i32, this.word(SCHED.token), first);
    Atomics.store(i32, this.word(SCHED.state), SCHED_RUNNING);
    this.wake(first);
  }

  // ----- CPU threads -----------------------------------------------------------------------------

  /** On the CPU's own thread: waits until the run starts and this CPU has the token. */
  enter(cpu: number): void {
    this.checkCpu(cpu);
    const i32 = this.i32;
    if (Atomics.load(i32, this.cpuWord(cpu, SCHED_CPU.active)) === 0)
      throw new Error(`sched: cpu ${cpu} enters without being registered`);
    if (Atomics.exchange(i32, this.cpuWord(cpu, SCHED_CPU.parked), 1) !== 0)
      throw new Error(`sched: cpu ${cpu} entered twice`);
    Atomics.add(i32, this.word(SCHED.parked), 1);
    this.waitTurn(cpu);
  }

  /**
   * The CPU leaves the run (call it in a finally). Holding the token, it hands it on; the last CPU
   * out ends the run. After a failure, or before the start, it only leaves.
   */
  finish(cpu: number): void {
    this.checkCpu(cpu);
    const i32 = this.i32;
    if (Atomics.exchange(i32, this.cpuWord(cpu, SCHED_CPU.active), 0) === 0) return;
    i32[this.cpuWord(cpu, SCHED_CPU.waiting)] = 0;
    const state = Atomics.load(i32, this.word(SCHED.state));
    const active = Atomics.sub(i32, this.word(SCHED.active), 1) - 1;
    if (state === SCHED_IDLE && Atomics.load(i32, this.cpuWord(cpu, SCHED_CPU.parked)) !== 0)
      Atomics.sub(i32, this.word(SCHED.parked), 1);
    if (state !== SCHED_RUNNING) return;
    const step = this.i32[this.word(SCHED.step)] + 1;
    const holder = Atomics.load(i32, this.word(SCHED.token));
    if (holder !== cpu) {
      // It died elsewhere than at a scheduling point (or never held the token): nobody else could
      // tell the run that it will not come back.
      this.fail(
        SchedFailReason.cpuLost,
        cpu,
        step,
        `cpu ${cpu} left the run while cpu ${holder} held the token`,
      );
      return;
    }
    this.progress();
    if (active === 0) {
      this.record(step, cpu, NO_CPU, TracePoint.finish, -1);
      Atomics.store(i32, this.word(SCHED.token), NO_CPU);
      Atomics.store(i32, this.word(SCHED.state), SCHED_DONE);
      return;
    }
    const next = this.choose(cpu, step);
    this.record(step, cpu, next, TracePoint.finish, -1);
    this.pass(next);
  }

  /**
   * The hook: records a decision, chooses the next CPU, hands it the token and waits for the token
   * to come back. Returns true at SchedPoint.wait (the CPU yielded: its caller must not sleep).
   * The caller holds the token.
   */
  private schedule(cpu: number, point: SchedPoint, lockWord: number): boolean {
    // Not a decision point: the trace and its hash stay what they were without it.
    if (point === SchedPoint.moving) return false;
    const i32 = this.i32;
    this.assertHolder(cpu);
    const waits = point === SchedPoint.wait;
    // The only CPU left waits for something outside the run: not a decision, sleep for real.
    if (waits && i32[this.word(SCHED.active)] === 1) return false;
    const step = i32[this.word(SCHED.step)] + 1;
    if (step > i32[this.word(SCHED.maxSteps)]) {
      throw this.fail(
        SchedFailReason.stepLimit,
        cpu,
        step,
        `the run reached maxSteps (${step - 1} decisions)`,
      );
    }
    if (waits) i32[this.cpuWord(cpu, SCHED_CPU.waiting)] = 1;
    else this.progress();
    if (i32[this.word(SCHED.strategy)] === STRATEGY_PCT) this.pctChangePoints(cpu, step);
    const next = this.choose(cpu, step);
    this.record(step, cpu, next, point, lockWord);
    if (next !== cpu) {
      this.pass(next);
      this.waitTurn(cpu);
    }
    return waits;
  }

  // ----- reading the run -------------------------------------------------------------------------

  /** The trace hash (unsigned 32-bit FNV-1a over every decision so far; see trace.ts). */
  traceHash(): number {
    return Atomics.load(this.i32, this.word(SCHED.hash)) >>> 0;
  }

  /** Decisions taken so far (the start included). */
  steps(): number {
    return Atomics.load(this.i32, this.word(SCHED.step));
  }

  state(): number {
    return Atomics.load(this.i32, this.word(SCHED.state));
  }

  /** The last n decisions (at most the ring's size), oldest first. */
  lastDecisions(n: number): SchedDecision[] {
    const i32 = this.i32;
    const last = Atomics.load(i32, this.word(SCHED.step));
    const count = Math.max(0, Math.min(n, last, this.traceEntries));
    const out: SchedDecision[] = [];
    for (let step = last - count + 1; step <= last; step++) {
      const e = this.traceBase + ((step - 1) % this.traceEntries) * SCHED_DECISION.STRIDE;
      if (i32[e + SCHED_DECISION.step] !== step)
        throw new Error(`sched: trace entry of step ${step} overwritten`);
      out.push({
        step,
        from: i32[e + SCHED_DECISION.from],
        to: i32[e + SCHED_DECISION.to],
        point: i32[e + SCHED_DECISION.point] as TracePoint,
        lockWord: i32[e + SCHED_DECISION.lock],
      });
    }
    return out;
  }

  /** How the run stopped early, or null. */
  failure(): { reason: number; step: number; cpu: number } | null {
    if (this.state() !== SCHED_FAILED) return null;
    return {
      reason: this.load(SCHED.failReason),
      step: this.load(SCHED.failStep),
      cpu: this.load(SCHED.failCpu),
    };
  }

  // ----- choosing --------------------------------------------------------------------------------

  /** A step other than a wait: whatever the waiters wait for may have happened. */
  private progress(): void {
    const i32 = this.i32;
    i32[this.word(SCHED.idleRounds)] = 0;
    for (let c = 0; c < this.cpuCount; c++) i32[this.cpuWord(c, SCHED_CPU.waiting)] = 0;
  }

  private runnable(c: number): boolean {
    return (
      this.i32[this.cpuWord(c, SCHED_CPU.active)] !== 0 && this.i32[this.cpuWord(c, SCHED_CPU.waiting)] === 0
    );
  }

  private countRunnable(): number {
    let n = 0;
    for (let c = 0; c < this.cpuCount; c++) if (this.runnable(c)) n++;
    return n;
  }

  /** The next CPU after `cpu` (-1 at the start) took decision `step`. Caller holds the token. */
  private choose(cpu: number, step: number): number {
    const i32 = this.i32;
    let count = this.countRunnable();
    if (count === 0) {
      // Every active CPU waits: a new round, in which each waiter but this one looks again.
      const rounds = i32[this.word(SCHED.idleRounds)] + 1;
      i32[this.word(SCHED.idleRounds)] = rounds;
      if (rounds > i32[this.word(SCHED.maxIdleRounds)]) {
        throw this.fail(
          SchedFailReason.deadlock,
          cpu,
          step,
          `every CPU waited ${rounds - 1} rounds in a row and none made progress`,
        );
      }
      for (let c = 0; c < this.cpuCount; c++) if (c !== cpu) i32[this.cpuWord(c, SCHED_CPU.waiting)] = 0;
      count = this.countRunnable();
      if (count === 0) throw new Error(`sched: step ${step}: no CPU can run`);
    }
    if (i32[this.word(SCHED.strategy)] === STRATEGY_PCT) return this.highestPriority();
    let pick = 0;
    if (count > 1) {
      const x = xorshift32(i32[this.word(SCHED.rng)]);
      i32[this.word(SCHED.rng)] = x;
      pick = below(x, count);
    }
    for (let c = 0; c < this.cpuCount; c++) {
      if (this.runnable(c) && pick-- === 0) return c;
    }
    throw new Error('sched: unreachable');
  }

  private highestPriority(): number {
    let best = NO_CPU;
    let bestPriority = -1;
    for (let c = 0; c < this.cpuCount; c++) {
      if (!this.runnable(c)) continue;
      const priority = this.i32[this.cpuWord(c, SCHED_CPU.priority)];
      if (priority > bestPriority) {
        best = c;
        bestPriority = priority;
      }
    }
    return best;
  }

  private setUpPct(depth: number, stepEstimate: number): void {
    // d - 1 change points fit the SCHED_MAX_PCT_DEPTH words of sched_pct.
    if (depth > SCHED_MAX_PCT_DEPTH)
      throw new Error(`sched: pct depth ${depth} above ${SCHED_MAX_PCT_DEPTH}`);
    const cpus: number[] = [];
    for (let c = 0; c < this.cpuCount; c++)
      if (this.i32[this.cpuWord(c, SCHED_CPU.active)] !== 0) cpus.push(c);
    const plan = planPct(cpus, depth, stepEstimate, this.load(SCHED.rng));
    for (let i = 0; i < cpus.length; i++) {
      Atomics.store(this.i32, this.cpuWord(cpus[i], SCHED_CPU.priority), plan.priorities[i]);
    }
    for (let i = 0; i < plan.changePoints.length; i++) {
      Atomics.store(this.i32, this.pctBase + i, plan.changePoints[i]);
    }
    this.store(SCHED.rng, plan.state);
    this.store(SCHED.pctDepth, depth);
    this.store(SCHED.pctStepEstimate, stepEstimate);
    this.store(SCHED.pctNextChange, 0);
    this.store(SCHED.strategy, STRATEGY_PCT);
  }

  /** At a change point the running CPU drops below every initial priority. */
  private pctChangePoints(cpu: number, step: number): void {
    const i32 = this.i32;
    const depth = i32[this.word(SCHED.pctDepth)];
    let next = i32[this.word(SCHED.pctNextChange)];
    while (next < depth - 1 && i32[this.pctBase + next] <= step) {
      i32[this.cpuWord(cpu, SCHED_CPU.priority)] = loweredPriority(depth, next);
      next++;
    }
    i32[this.word(SCHED.pctNextChange)] = next;
  }

  // ----- the token -------------------------------------------------------------------------------

  private record(step: number, from: number, to: number, point: number, lockWord: number): void {
    const i32 = this.i32;
    const e = this.traceBase + ((step - 1) % this.traceEntries) * SCHED_DECISION.STRIDE;
    i32[e + SCHED_DECISION.step] = step;
    i32[e + SCHED_DECISION.from] = from;
    i32[e + SCHED_DECISION.to] = to;
    i32[e + SCHED_DECISION.point] = point;
    i32[e + SCHED_DECISION.lock] = lockWord;
    const hash = foldDecision(i32[this.word(SCHED.hash)] >>> 0, step, from, to, point, lockWord);
    Atomics.store(i32, this.word(SCHED.hash), hash | 0);
    Atomics.store(i32, this.word(SCHED.step), step);
  }

  /** Hands the token to `next`. Publishes every store of this turn; pairs with the loads in waitTurn(). */
  private pass(next: number): void {
    Atomics.store(this.i32, this.word(SCHED.token), next);
    this.wake(next);
  }

  private wake(cpu: number): void {
    const turn = this.cpuWord(cpu, SCHED_CPU.turn);
    Atomics.add(this.i32, turn, 1);
    Atomics.notify(this.i32, turn, 1);
  }

  /** Sleeps until this CPU holds the token of a running run; throws when the run failed. */
  private waitTurn(cpu: number): void {
    const i32 = this.i32;
    const turnWord = this.cpuWord(cpu, SCHED_CPU.turn);
    let seenStep = Atomics.load(i32, this.word(SCHED.step));
    let sinceMs = performance.now();
    for (;;) {
      // Read the turn before the token: a hand-off after the token check changes the turn, and the
      // wait below returns at once.
      const turn = Atomics.load(i32, turnWord);
      const state = Atomics.load(i32, this.word(SCHED.state));
      if (state === SCHED_FAILED) throw this.stopped(cpu);
      if (state === SCHED_RUNNING && Atomics.load(i32, this.word(SCHED.token)) === cpu) return;
      Atomics.wait(i32, turnWord, turn, TOKEN_SLICE_MS);
      const step = Atomics.load(i32, this.word(SCHED.step));
      const nowMs = performance.now();
      if (step !== seenStep) {
        seenStep = step;
        sinceMs = nowMs;
        continue;
      }
      const limitMs = i32[this.word(SCHED.tokenWaitMs)] || DEFAULT_SCHED_LIMITS.tokenWaitMs;
      if (nowMs - sinceMs > limitMs && Atomics.load(i32, this.word(SCHED.state)) !== SCHED_FAILED) {
        const holder = Atomics.load(i32, this.word(SCHED.token));
        throw this.fail(
          SchedFailReason.tokenTimeout,
          cpu,
          step,
          `cpu ${cpu} waited ${Math.round(nowMs - sinceMs)} ms for the token and cpu ${holder} reached no ` +
            'scheduling point (it spins or sleeps outside the hooks, or its thread died)',
        );
      }
    }
  }

  private assertHolder(cpu: number): void {
    const i32 = this.i32;
    const state = Atomics.load(i32, this.word(SCHED.state));
    if (state === SCHED_FAILED) throw this.stopped(cpu);
    const holder = Atomics.load(i32, this.word(SCHED.token));
    if (state !== SCHED_RUNNING || holder !== cpu) {
      throw new Error(
        `sched: cpu ${cpu} reached a scheduling point without the run token (held by cpu ${holder})`,
      );
    }
  }

  // ----- failure ---------------------------------------------------------------------------------

  /** Stops the run (the first caller wins) and wakes every CPU; returns the error to throw. */
  private fail(reason: SchedFailReason, cpu: number, step: number, why: string): SchedulerError {
    const i32 = this.i32;
    if (Atomics.compareExchange(i32, this.word(SCHED.failReason), 0, reason) !== 0) return this.stopped(cpu);
    const report = this.report(reason, cpu, step, why);
    Atomics.store(i32, this.word(SCHED.failCpu), cpu);
    Atomics.store(i32, this.word(SCHED.failStep), step);
    // The fail words before the state: whoever sees FAILED reads them complete.
    Atomics.store(i32, this.word(SCHED.state), SCHED_FAILED);
    for (let c = 0; c < this.cpuCount; c++) this.wake(c);
    return new SchedulerError(report, reason, step, cpu);
  }

  /** The error of a CPU that finds the run stopped by another. */
  private stopped(cpu: number): SchedulerError {
    const reason = this.load(SCHED.failReason) as SchedFailReason;
    const step = this.load(SCHED.failStep);
    const by = this.load(SCHED.failCpu);
    return new SchedulerError(
      `deterministic scheduler: cpu ${cpu} stops: the run was stopped at step ${step} ` +
        `(${reasonName(reason)}, seed ${this.load(SCHED.seed) >>> 0}) by ${by < 0 ? 'the main thread' : `cpu ${by}`}`,
      reason,
      step,
      by,
    );
  }

  private report(reason: SchedFailReason, cpu: number, step: number, why: string): string {
    const strategy =
      this.load(SCHED.strategy) === STRATEGY_PCT ? `pct depth ${this.load(SCHED.pctDepth)}` : 'random';
    const by = cpu < 0 ? 'the main thread' : `cpu ${cpu}`;
    const lines = [
      `deterministic scheduler: ${reasonName(reason)} at step ${step} (seed ${this.load(SCHED.seed) >>> 0}, ` +
        `${strategy}), found by ${by}: ${why}`,
    ];
    for (let c = 0; c < this.cpuCount; c++) {
      if (Atomics.load(this.i32, this.cpuWord(c, SCHED_CPU.active)) === 0) continue;
      lines.push(`  ${this.describeCpu(c)}`);
    }
    lines.push('  last decisions:');
    for (const d of this.lastDecisions(REPORT_DECISIONS)) lines.push(`    ${formatDecision(d)}`);
    return lines.join('\n');
  }

  private describeCpu(c: number): string {
    const dom = this.dom;
    const waitingOn = dom.waitingOn(c);
    const state = this.i32[this.cpuWord(c, SCHED_CPU.waiting)] !== 0 ? 'waiting' : 'runnable';
    const lock =
      waitingOn >= 0
        ? ` for ${dom.classes.name(dom.i32[dom.cpuWord(c, LOCK_CPU.waitingClass)])} @${waitingOn}`
        : '';
    return `cpu ${c}: ${state}${lock}; holds ${dom.describeHeld(c)}`;
  }

  // ----- words -----------------------------------------------------------------------------------

  private word(field: number): number {
    return this.base + field;
  }

  private cpuWord(cpu: number, field: number): number {
    return this.cpuBase + cpu * SCHED_CPU.STRIDE + field;
  }

  private load(field: number): number {
    return Atomics.load(this.i32, this.base + field);
  }

  private store(field: number, value: number): void {
    Atomics.store(this.i32, this.base + field, value);
  }

  private checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpuCount) throw new Error(`sched: no cpu ${cpu}`);
  }
}
