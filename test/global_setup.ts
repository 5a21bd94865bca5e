// Builds dist/ once before the suite: tests that exercise the command line as a user runs it (and
// the stress checks, which need the speed of compiled workers) run the compiled CLI.

import { execFileSync } from 'node:child_process';

export default function setup(): void {
  // scripts/run-tests.mjs runs the suite without test/stress first: that phase needs no build.
  if (process.env.VITEST_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
