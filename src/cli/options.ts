// Option parsing for the CLI: every bad value becomes a one-line reason and a non-zero exit.

import { InvalidArgumentError } from 'commander';
import { PURGE_POLICIES, type PurgePolicy } from '../experiment/types.js';
import { VRANGE_VARIANTS, type VrangeVariant } from '../mm/config.js';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
}

/** A power of two from min to max (the TLB's entries: it is direct-mapped, indexed by a mask). */
export function powerOfTwo(min: number, max: number) {
  const one = integer(min, max);
  return (text: string): number => {
    const value = one(text);
    if ((value & (value - 1)) !== 0) throw new InvalidArgumentError(`expected a power of two, got "${text}"`);
    return value;
  };
}

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new InvalidArgumentError(`expected a positive number, got "${text}"`);
  return value;
}

/** A size in bytes, with an optional k/m/g suffix (ebizzy's -s takes bytes). */
export function bytes(text: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(text.trim());
  if (match === null)
    throw new InvalidArgumentError(`expected a size in bytes (optionally with k, m or g), got "${text}"`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    match[2].toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  return Number(match[1]) * scale;
}

export function policy(text: string): PurgePolicy {
  if (!(PURGE_POLICIES as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`expected one of ${PURGE_POLICIES.join(', ')}, got "${text}"`);
  }
  return text as PurgePolicy;
}

export function vrangeVariant(text: string): VrangeVariant {
  if (!(VRANGE_VARIANTS as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`expected one of ${VRANGE_VARIANTS.join(', ')}, got "${text}"`);
  }
  return text as VrangeVariant;
}

export function policyList(text: string): PurgePolicy[] {
  return text.split(',').map((p) => policy(p.trim()));
}

export function integerList(min: number, max: number) {
  const one = integer(min, max);
  return (text: string): number[] => {
    const values = text.split(',').map((v) => one(v.trim()));
    if (values.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
    return [...new Set(values)];
  };
}
