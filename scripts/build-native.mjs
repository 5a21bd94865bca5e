#!/usr/bin/env node
// Builds the native real-kernel harness (native/src/*.c) into native/build/ with the machine's own
// C compiler ($CC, else cc): no download, no third-party code. Run by `npm install`/`npm ci`
// (postinstall) and by `npm run build:native`. Without a compiler the install still succeeds: one
// line says so, and the `vrange-lab real` commands then say how to build the harness.
// Exit status: 0 built or skipped (postinstall), 1 when asked explicitly (--strict) and it failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const cc = process.env.CC ?? 'cc';
const out = join(root, 'native', 'build');
const flags = ['-std=c11', '-O2', '-pthread', '-Wall', '-Wextra'];

/** One binary from the .c files of one directory. */
function build(name, dir) {
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => join(dir, f));
  return spawnSync(cc, [...flags, '-o', join(out, name), ...sources, '-lm'], { encoding: 'utf8' });
}

mkdirSync(out, { recursive: true });
const targets = [
  ['vrange-harness', join(root, 'native', 'src')],
  ['plain-loop', join(root, 'native', 'agreement')],
];
for (const [name, dir] of targets) {
  const result = build(name, dir);
  if (result.error !== undefined || result.status !== 0) {
    const why =
      result.error !== undefined
        ? `no C compiler (${cc}: ${result.error.message})`
        : `${cc} failed: ${(result.stderr || '').trim().split('\n')[0]}`;
    console.log(
      `vrange-lab: native harness not built (${why}); the model works, \`vrange-lab real\` and --real need it: install a C compiler and run \`npm run build:native\``,
    );
    process.exit(strict ? 1 : 0);
  }
}
console.log(`vrange-lab: native harness built (${cc}): native/build/vrange-harness`);
