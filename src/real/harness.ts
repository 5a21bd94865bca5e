// Finding and running the native harness (native/build/vrange-harness, built by
// scripts/build-native.mjs): its stdout is one JSON object; exit status 2 is bad input (its
// one-line reason is on stderr), anything else non-zero is a failed run.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HARNESS_NAME = 'vrange-harness';
export const BUILD_HINT = 'run `npm run build:native` (needs a C compiler: cc, or CC=...)';

/** The harness is not built: the real-kernel commands cannot run. */
export class HarnessMissingError extends Error {
  constructor() {
    super(`the native real-kernel harness is not built: ${BUILD_HINT}`);
    this.name = 'HarnessMissingError';
  }
}

/** The harness refused its input (exit status 2). */
export class HarnessUsageError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'HarnessUsageError';
  }
}

/** native/build/ of the package, from src/real (tsx) or dist/src/real (compiled). */
function candidates(name: string): string[] {
  return ['../../native/build/', '../../../native/build/'].map((dir) =>
    fileURLToPath(new URL(`${dir}${name}`, import.meta.url)),
  );
}

/** The path of a native binary ($VRANGE_HARNESS overrides the harness's), or null when not built. */
export function nativeBinary(name = HARNESS_NAME): string | null {
  const override = name === HARNESS_NAME ? process.env.VRANGE_HARNESS : undefined;
  if (override !== undefined && override !== '') return existsSync(override) ? override : null;
  return candidates(name).find((path) => existsSync(path)) ?? null;
}

export function harnessBuilt(): boolean {
  return nativeBinary() !== null;
}

/** Runs a native binary; resolves with its parsed JSON, rejects with a one-line reason. */
export function runNative(args: string[], timeoutMs: number, name = HARNESS_NAME): Promise<unknown> {
  const path = nativeBinary(name);
  if (path === null) return Promise.reject(new HarnessMissingError());
  return new Promise((resolve, reject) => {
    execFile(path, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const reason =
        stderr
          .trim()
          .split('\n')[0]
          ?.replace(/^vrange-harness: /, '') ?? '';
      if (error !== null) {
        const code: unknown = (error as { code?: unknown }).code;
        if (code === 2) reject(new HarnessUsageError(reason));
        else reject(new Error(`${name} ${args[0] ?? ''} failed: ${reason || error.message.split('\n')[0]}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(new Error(`${name} ${args[0] ?? ''} printed no JSON object`));
      }
    });
  });
}
