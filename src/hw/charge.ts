// Spending a hardware event's time on the simulated CPU that incurs it. The CPU really is busy for
// that long, in the context where the hardware would be (holding whatever locks the path holds
// there), so the contention it causes is real; it is never a sleep.

/**
 * Busy for `ns` nanoseconds of the host's clock. performance.now() costs tens of ns per call on
 * this host, so charges far below 100 ns overshoot by about one call; the profile's events are all
 * larger than that.
 */
export function spendNs(ns: number): void {
  if (!(ns > 0)) return;
  const endMs = performance.now() + ns / 1e6;
  while (performance.now() < endMs) {
    // Busy: the time is the event's.
  }
}
