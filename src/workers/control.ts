// Control words shared between the main thread and the CPUs' worker threads: counters that a side
// bumps (and wakes the other on) and that the other waits to reach a value, within a bound.

/** Adds one to a control word and wakes whoever waits on it. */
export function bump(control: Int32Array, word: number): void {
  Atomics.add(control, word, 1);
  Atomics.notify(control, word);
}

/**
 * Waits until the word is at least value; false when timeoutMs passed first. Sleeps in slices of at
 * most sliceMs, so a waker that changed the word without notifying is still noticed.
 */
export function waitAtLeast(
  control: Int32Array,
  word: number,
  value: number,
  timeoutMs: number,
  sliceMs = 50,
): boolean {
  const deadline = performance.now() + timeoutMs;
  for (let seen = Atomics.load(control, word); seen < value; seen = Atomics.load(control, word)) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(control, word, seen, Math.min(left, sliceMs));
  }
  return true;
}
