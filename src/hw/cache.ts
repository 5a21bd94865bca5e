// Where a host's hardware profile is kept (a per-user cache), and how --hw-profile none|host|FILE
// resolves to a profile.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type HwProfile, HwProfileError, NO_HW_PROFILE, parseHwProfile } from './profile.js';

/** $VRANGE_LAB_CACHE, else $XDG_CACHE_HOME/vrange-lab, else ~/.cache/vrange-lab. */
export function cacheDir(): string {
  const own = process.env.VRANGE_LAB_CACHE;
  if (own !== undefined && own !== '') return own;
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache'), 'vrange-lab');
}

export function hostProfilePath(): string {
  return path.join(cacheDir(), 'hw-profile.json');
}

export function readProfileFile(file: string, name = file): HwProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new HwProfileError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HwProfileError(`${file}: not JSON`);
  }
  return { ...parseHwProfile(json, file), name };
}

export function writeProfileFile(profile: HwProfile, file: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(profile, null, 2)}\n`);
}

/** The host's cached profile, or null when `calibrate` has not run yet. */
export function cachedHostProfile(): HwProfile | null {
  const file = hostProfilePath();
  return existsSync(file) ? readProfileFile(file, 'host') : null;
}

/**
 * --hw-profile: 'none', 'host' (the cache; HwProfileError when there is none, saying how to make
 * it) or a file.
 */
export function resolveHwProfile(spec: string): HwProfile {
  if (spec === 'none') return NO_HW_PROFILE;
  if (spec === 'host') {
    const profile = cachedHostProfile();
    if (profile === null) {
      throw new HwProfileError(`no host profile at ${hostProfilePath()}: run vrange-lab calibrate first`);
    }
    return profile;
  }
  return readProfileFile(spec);
}
