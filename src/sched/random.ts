// The scheduler's seeded random numbers: xorshift32, whose whole state is one 32-bit word, so it
// lives in the shared buffer and every CPU that holds the run token continues the same sequence.

/** A non-zero xorshift32 state from any 32-bit seed (a murmur3 finaliser spreads nearby seeds). */
export function seedState(seed: number): number {
  let h = (seed ^ 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h | 0;
}

/** One xorshift32 step (Marsaglia 13/17/5); never returns 0 for a non-zero state. */
export function xorshift32(state: number): number {
  let x = state | 0;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x | 0;
}

/** A value in [0, bound) from a state (modulo bias is irrelevant for bounds this small). */
export function below(state: number, bound: number): number {
  return (state >>> 0) % bound;
}
