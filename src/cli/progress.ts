// Progress on stderr for long runs: a bar when stderr is a terminal, nothing otherwise (so that
// pipes and CI logs stay clean).

import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the bar to `done` of `total` units with a short status text. */
  update(done: number, status: string): void;
  stop(): void;
}

export function progress(total: number, label: string, enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {status}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { status: '' });
  return {
    update(done: number, status: string) {
      bar.update(Math.min(done, total), { status });
    },
    stop() {
      bar.stop();
    },
  };
}
