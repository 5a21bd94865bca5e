// PCT, probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): each CPU gets a distinct
// random initial priority of at least d; d - 1 change points are drawn uniformly from the first k
// steps; at the i-th change point the running CPU's priority drops to d - 1 - i, below every
// initial one. The scheduler always runs the highest-priority runnable CPU. A bug of depth d is then
// found with probability at least 1 / (n * k^(d-1)) per run.

import { below, xorshift32 } from './random.js';

export interface PctPlan {
  /** priority[i] for cpus[i] (distinct, >= depth). */
  priorities: number[];
  /** Step numbers in [1, stepEstimate], ascending, depth - 1 of them. */
  changePoints: number[];
  /** The random state after drawing the plan. */
  state: number;
}

export function planPct(
  cpus: readonly number[],
  depth: number,
  stepEstimate: number,
  state: number,
): PctPlan {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`pct: bad depth ${depth}`);
  if (!Number.isInteger(stepEstimate) || stepEstimate < 1)
    throw new Error(`pct: bad step estimate ${stepEstimate}`);
  let x = state;
  // Fisher-Yates: order[i] is the rank of cpus[i].
  const order = cpus.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    x = xorshift32(x);
    const j = below(x, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const priorities = order.map((rank) => depth + rank);
  const changePoints: number[] = [];
  for (let i = 0; i < depth - 1; i++) {
    x = xorshift32(x);
    changePoints.push(1 + below(x, stepEstimate));
  }
  changePoints.sort((a, b) => a - b);
  return { priorities, changePoints, state: x };
}

/** The priority the running CPU drops to at change point `index`. */
export function loweredPriority(depth: number, index: number): number {
  return depth - 1 - index;
}
