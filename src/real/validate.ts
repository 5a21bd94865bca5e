// Checks of the harness's JSON: a field that is missing or of the wrong type is a broken harness
// (an error naming the field), never a silent NaN in a report.

type Json = Record<string, unknown>;

export function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`harness JSON: ${where} is not an object`);
  return value as Json;
}

export function count(o: Json, key: string, where: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new Error(`harness JSON: ${where}.${key} is not a count`);
  return value;
}

export function finite(o: Json, key: string, where: string): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`harness JSON: ${where}.${key} is not a finite number`);
  return value;
}

export function string(o: Json, key: string, where: string): string {
  const value = o[key];
  if (typeof value !== 'string') throw new Error(`harness JSON: ${where}.${key} is not a string`);
  return value;
}

export function bool(o: Json, key: string, where: string): boolean {
  const value = o[key];
  if (typeof value !== 'boolean') throw new Error(`harness JSON: ${where}.${key} is not a boolean`);
  return value;
}

export function array(o: Json, key: string, where: string): unknown[] {
  const value = o[key];
  if (!Array.isArray(value)) throw new Error(`harness JSON: ${where}.${key} is not an array`);
  return value;
}

/** An object whose values are all numbers (vmstat deltas may be negative: gauges, wrap). */
export function numberRecord(o: Json, key: string, where: string): Record<string, number> {
  const record = object(o[key], `${where}.${key}`);
  for (const [name, value] of Object.entries(record)) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new Error(`harness JSON: ${where}.${key}.${name} is not a number`);
  }
  return record as Record<string, number>;
}

export function harnessDocument(value: unknown, command: string): Json {
  const o = object(value, 'the output');
  if (o.format !== 'vrange-harness/1') throw new Error('harness JSON: not a vrange-harness/1 document');
  if (o.command !== command) throw new Error(`harness JSON: a ${String(o.command)} result, not ${command}`);
  return o;
}
