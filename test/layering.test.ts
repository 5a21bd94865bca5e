// Goal: src/ keeps its floors (docs/design.md, "Layers"): a module imports only from its own floor or
// below, every directory of src/ has a floor, and no set of modules imports each other in a circle.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The floors, lowest first. Keep this list and the table in docs/design.md the same. */
const FLOORS: readonly string[][] = [
  ['layout'],
  ['arch', 'hw'],
  ['locks'],
  ['sched'],
  ['mm'],
  ['alloc'],
  ['workers'],
  ['workloads'],
  ['stress'],
  ['experiment', 'real'],
  ['cli', 'index.ts'],
];

const SRC = join(import.meta.dirname, '..', 'src');

function floorOf(module: string): number {
  const top = module.split('/')[0];
  return FLOORS.findIndex((names) => names.includes(top));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [relative(SRC, path)] : [];
  });
}

/** Relative specifiers of a module's static imports and re-exports (type-only ones included). */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gms))
    found.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g)) found.push(m[1]);
  return found;
}

function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const targets = importsOf(text).map((spec) =>
      normalize(join(dirname(file), spec))
        .replace(/\.js$/, '.ts')
        .split('\\')
        .join('/'),
    );
    edges.set(file.split('\\').join('/'), targets);
  }
  return edges;
}

/** One import circle, as a path that ends where it starts, or null. */
function findCycle(edges: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle !== null) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle !== null) return cycle;
  }
  return null;
}

describe('layering of src/', () => {
  const edges = graph();

  it('reads the imports it checks', () => {
    expect(edges.size).toBeGreaterThan(50);
    expect(edges.get('mm/machine.ts')).toContain('mm/cpu.ts');
    expect(importsOf("import type { A } from '../a.js';\nexport { B } from './b.js';")).toEqual([
      '../a.js',
      './b.js',
    ]);
  });

  it('gives every module a floor', () => {
    const homeless = [...edges.keys()].filter((file) => floorOf(file) < 0);
    expect(homeless, 'add their directory to FLOORS and to docs/design.md').toEqual([]);
  });

  it('has no import running up a floor', () => {
    const upward: string[] = [];
    for (const [file, targets] of edges) {
      for (const target of targets) {
        if (floorOf(target) > floorOf(file)) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import circle', () => {
    expect(findCycle(edges)).toBeNull();
  });

  it('finds a circle and an upward import when there is one', () => {
    const circle = new Map([
      ['mm/a.ts', ['mm/b.ts']],
      ['mm/b.ts', ['mm/a.ts']],
    ]);
    expect(findCycle(circle)).toEqual(['mm/a.ts', 'mm/b.ts', 'mm/a.ts']);
    expect(floorOf('stress/job.ts')).toBeGreaterThan(floorOf('workloads/pressure.ts'));
  });
});
