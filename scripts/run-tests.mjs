#!/usr/bin/env node
// Runs the vitest suite and ends with the plain summary line CI reads: "N passed, N failed".
// Two phases: the suite without test/stress (test files two at a time), then test/stress alone —
// the stress checks measure how fast races are caught on the machine's cores, so nothing else may
// run beside them. Counts come from vitest's JSON reports (vitest.config.ts names the file).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

// With arguments (`npm test -- test/mm/vrange.test.ts`, `-t name`), one vitest run with just them:
// the phases are for the whole suite, and passing a file to both would run it twice.
const selected = process.argv.slice(2);
const phases =
  selected.length > 0
    ? [{ name: 'selected', report: '.vitest-report.json', args: selected, env: {} }]
    : [
        {
          name: 'suite',
          report: '.vitest-report.json',
          args: ['--exclude', 'test/stress/**'],
          env: { VITEST_SKIP_BUILD: '1' },
        },
        { name: 'stress', report: '.vitest-report-stress.json', args: ['test/stress'], env: {} },
      ];
let passed = 0;
let failed = 0;
let skipped = 0;
let code = 0;
for (const phase of phases) {
  rmSync(phase.report, { force: true });
  const run = spawnSync('npx', ['vitest', 'run', ...phase.args], {
    stdio: 'inherit',
    env: { ...process.env, ...phase.env, VITEST_JSON: phase.report },
  });
  if (existsSync(phase.report)) {
    const json = JSON.parse(readFileSync(phase.report, 'utf8'));
    passed += json.numPassedTests;
    const failedTests =
      json.numFailedTests +
      (json.numFailedTestSuites > 0 && json.numFailedTests === 0 ? json.numFailedTestSuites : 0);
    failed += failedTests;
    skipped += json.numPendingTests + json.numTodoTests;
    if ((run.status ?? 1) !== 0 && failedTests === 0) failed++;
  } else {
    failed++;
  }
  if ((run.status ?? 1) !== 0) code = run.status ?? 1;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(code);
