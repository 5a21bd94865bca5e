// Goal: the shared-buffer interval tree answers overlap queries exactly like a reference interval
// tree (@flatten-js/interval-tree) under random insert/remove sequences, keeps every red-black and
// augmentation invariant after every step, handles its node pool's edge cases, and its validator
// does catch corruption.

import FlattenIntervalTree, { type IntervalBase } from '@flatten-js/interval-tree';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NIL, VRANGE_NODE, wordIndex } from '../../src/layout/layout.js';
import { LayoutBuilder, WORD_BYTES } from '../../src/layout/struct.js';
import {
  COLOR_BLACK,
  COLOR_FREE,
  COLOR_RED,
  createStandaloneTree,
  type IntervalTree,
  nodeAlloc,
  nodeFree,
  nodeGen,
  nodeLast,
  nodeStart,
  treeCount,
  treeFirst,
  treeInit,
  treeInsert,
  treeIterFirst,
  treeIterNext,
  treeNext,
  treeRemove,
  treeValidate,
} from '../../src/mm/interval_tree.js';

type Triple = [start: number, last: number, node: number];

function field(t: IntervalTree, node: number, name: keyof typeof VRANGE_NODE & string): number {
  return t.nodeBase + node * VRANGE_NODE.STRIDE + (VRANGE_NODE[name] as number);
}

/** Overlapping nodes in iteration order; asserts the order is ascending by (start, id). */
function queryTree(t: IntervalTree, start: number, last: number): Triple[] {
  const out: Triple[] = [];
  for (let node = treeIterFirst(t, start, last); node !== NIL; node = treeIterNext(t, node, start, last)) {
    out.push([nodeStart(t, node), nodeLast(t, node), node]);
  }
  for (let i = 1; i < out.length; i++) {
    const [previousStart, , previousNode] = out[i - 1];
    const [nextStart, , nextNode] = out[i];
    if (previousStart > nextStart || (previousStart === nextStart && previousNode >= nextNode)) {
      throw new Error(`iteration order broken: ${out[i - 1]} before ${out[i]}`);
    }
  }
  return out;
}

function inOrder(t: IntervalTree): number[] {
  const out: number[] = [];
  for (let node = treeFirst(t); node !== NIL; node = treeNext(t, node)) out.push(node);
  return out;
}

/** The reference model's answer, as (start, last, node) triples. */
function modelSearch(model: FlattenIntervalTree<number>, start: number, last: number): Triple[] {
  return model.search<Triple>([start, last], (node: number, key: IntervalBase) => [
    key.low as number,
    key.high as number,
    node,
  ]);
}

function sortTriples(triples: Triple[]): Triple[] {
  return [...triples].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
}

function allocInsert(t: IntervalTree, start: number, last: number): number {
  const node = nodeAlloc(t, start, last);
  if (node === NIL) throw new Error('pool exhausted');
  treeInsert(t, node);
  return node;
}

/** Runs fc.assert with a fixed seed and puts the seed in front of any failure message. */
function assertWithSeed<T>(
  name: string,
  seed: number,
  numRuns: number,
  arb: fc.Arbitrary<T>,
  check: (v: T) => void,
) {
  try {
    fc.assert(fc.property(arb, check), { seed, numRuns });
  } catch (error) {
    throw new Error(`${name} failed with seed ${seed}: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Model-based property tests.

type Op = 'insert' | 'remove' | 'query';
interface Step {
  op: Op;
  start: number;
  length: number;
  pick: number;
  queryStart: number;
  queryLength: number;
}

interface Scenario {
  poolSize: number;
  startMin: number;
  startMax: number;
  steps: Step[];
}

function stepArb(startMin: number, startMax: number): fc.Arbitrary<Step> {
  // Mostly short ranges (overlaps and ties are frequent in a small window), some points, some long.
  const length = fc.oneof(
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 5, arbitrary: fc.integer({ min: 0, max: 8 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: startMax - startMin }) },
  );
  return fc.record({
    op: fc.oneof(
      { weight: 5, arbitrary: fc.constant<Op>('insert') },
      { weight: 3, arbitrary: fc.constant<Op>('remove') },
      { weight: 2, arbitrary: fc.constant<Op>('query') },
    ),
    start: fc.integer({ min: startMin, max: startMax }),
    length,
    pick: fc.nat(),
    queryStart: fc.integer({ min: startMin - 5, max: startMax + 5 }),
    queryLength: length,
  });
}

function scenarioArb(poolSize: number, startMin: number, startMax: number, stepCountMax: number) {
  return fc.record({
    poolSize: fc.constant(poolSize),
    startMin: fc.constant(startMin),
    startMax: fc.constant(startMax),
    // size 'max': fast-check would otherwise keep arrays near 10 elements whatever maxLength says.
    steps: fc.array(stepArb(startMin, startMax), { minLength: 1, maxLength: stepCountMax, size: 'max' }),
  });
}

/** What the scenarios exercised, so that a test can check its generator reached the cases. */
const coverage = { exhaustedCount: 0, liveCountMax: 0, removeCount: 0, queryHitCount: 0 };

function resetCoverage(): void {
  Object.assign(coverage, { exhaustedCount: 0, liveCountMax: 0, removeCount: 0, queryHitCount: 0 });
}

/** Applies the steps to the tree and to the reference model, comparing them after every step. */
function runScenario(scenario: Scenario): void {
  const pool = { firstNode: 0, nodeCount: scenario.poolSize };
  const t = createStandaloneTree(scenario.poolSize);
  const model = new FlattenIntervalTree<number>();
  const live: Triple[] = [];
  scenario.steps.forEach((step, index) => {
    const where = `step ${index} (${JSON.stringify(step)})`;
    if (step.op === 'insert') {
      const last = step.start + step.length;
      const gen = live.length < scenario.poolSize ? nodeGen(t, t.i32[t.freeHeadWord]) : 0;
      const node = nodeAlloc(t, step.start, last);
      if (node === NIL) {
        coverage.exhaustedCount++;
        expect(live.length, `${where}: NIL from a pool that is not full`).toBe(scenario.poolSize);
      } else {
        expect(nodeGen(t, node), `${where}: gen not bumped by nodeAlloc`).toBe((gen + 1) | 0);
        treeInsert(t, node);
        model.insert([step.start, last], node);
        live.push([step.start, last, node]);
        coverage.liveCountMax = Math.max(coverage.liveCountMax, live.length);
      }
    } else if (step.op === 'remove' && live.length > 0) {
      const index = step.pick % live.length;
      const [start, last, node] = live[index];
      live[index] = live[live.length - 1];
      live.pop();
      treeRemove(t, node);
      nodeFree(t, node);
      coverage.removeCount++;
      expect(model.remove([start, last], node), `${where}: model lacks node ${node}`).toBeDefined();
    }
    treeValidate(t, pool);
    expect(treeCount(t), `${where}: treeCount`).toBe(live.length);
    expect(model.size, `${where}: model size`).toBe(live.length);
    const queryLast = step.queryStart + step.queryLength;
    const got = sortTriples(queryTree(t, step.queryStart, queryLast));
    const want = sortTriples(modelSearch(model, step.queryStart, queryLast));
    coverage.queryHitCount += got.length;
    expect(got, `${where}: overlap [${step.queryStart}, ${queryLast}]`).toEqual(want);
  });
  // The whole in-order walk is the sorted set of live nodes.
  const sortedLive = [...live].sort((a, b) => a[0] - b[0] || a[2] - b[2]).map((triple) => triple[2]);
  expect(inOrder(t)).toEqual(sortedLive);
}

describe('interval tree against the reference model', () => {
  it('small pool, dense window: exhaustion, ties and overlaps (seed 0x1f2e3d)', () => {
    resetCoverage();
    assertWithSeed('small pool', 0x1f2e3d, 250, scenarioArb(12, 0, 20, 80), runScenario);
    expect(coverage.exhaustedCount).toBeGreaterThan(0);
    expect(coverage.liveCountMax).toBe(12);
    expect(coverage.removeCount).toBeGreaterThan(1000);
  });

  it('medium pool, wide window with negative pages (seed 0xc0ffee)', () => {
    resetCoverage();
    assertWithSeed('medium pool', 0xc0ffee, 60, scenarioArb(96, -100, 400, 300), runScenario);
    expect(coverage.liveCountMax).toBeGreaterThan(48);
    expect(coverage.queryHitCount).toBeGreaterThan(1000);
  });

  it('insert-heavy growth to a full pool then drain (seed 42)', () => {
    const drain = fc.record({
      poolSize: fc.constant(64),
      startMin: fc.constant(0),
      startMax: fc.constant(1000),
      steps: fc
        .tuple(
          fc.array(
            stepArb(0, 1000).map((s): Step => ({ ...s, op: 'insert' })),
            { minLength: 64, maxLength: 80 },
          ),
          fc.array(
            stepArb(0, 1000).map((s): Step => ({ ...s, op: 'remove' })),
            { minLength: 64, maxLength: 70 },
          ),
        )
        .map(([grow, shrink]) => [...grow, ...shrink]),
    });
    assertWithSeed('grow and drain', 42, 25, drain, runScenario);
  });
});

// ---------------------------------------------------------------------------------------------
// A larger deterministic run: O(log n) shape (height bound) and queries at a few thousand nodes.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function treeHeight(t: IntervalTree): number {
  let height = 0;
  for (let node = treeFirst(t); node !== NIL; node = treeNext(t, node)) {
    let depth = 1;
    for (let up = t.i32[field(t, node, 'parent')]; up !== NIL; up = t.i32[field(t, up, 'parent')]) depth++;
    height = Math.max(height, depth);
  }
  return height;
}

describe('interval tree at scale', () => {
  it('4096-node pool, 20000 random operations (seed 7): model agreement and height <= 2 log2(n+1)', () => {
    const seed = 7;
    const poolSize = 4096;
    const random = mulberry32(seed);
    const t = createStandaloneTree(poolSize);
    const model = new FlattenIntervalTree<number>();
    const live: Triple[] = [];
    for (let step = 0; step < 20_000; step++) {
      const where = `seed ${seed} step ${step}`;
      if (random() < 0.6 && live.length < poolSize) {
        const start = Math.floor(random() * 100_000);
        const last = start + Math.floor(random() * (random() < 0.9 ? 50 : 5000));
        const node = allocInsert(t, start, last);
        model.insert([start, last], node);
        live.push([start, last, node]);
      } else if (live.length > 0) {
        const index = Math.floor(random() * live.length);
        const [start, last, node] = live[index];
        live[index] = live[live.length - 1];
        live.pop();
        treeRemove(t, node);
        nodeFree(t, node);
        model.remove([start, last], node);
      }
      if (step % 50 === 0) {
        const queryStart = Math.floor(random() * 100_000);
        const queryLast = queryStart + Math.floor(random() * 300);
        const want = modelSearch(model, queryStart, queryLast);
        expect(sortTriples(queryTree(t, queryStart, queryLast)), where).toEqual(sortTriples(want));
      }
      if (step % 2000 === 0) {
        treeValidate(t, { firstNode: 0, nodeCount: poolSize });
        expect(treeHeight(t), where).toBeLessThanOrEqual(2 * Math.log2(live.length + 1));
      }
    }
    treeValidate(t, { firstNode: 0, nodeCount: poolSize });
    expect(treeCount(t)).toBe(live.length);
  });
});

// ---------------------------------------------------------------------------------------------
// Edge cases.

describe('interval tree edge cases', () => {
  it('empty tree: no overlap, no first node, count 0, valid', () => {
    const t = createStandaloneTree(4);
    expect(treeIterFirst(t, -(2 ** 31), 2 ** 31 - 1)).toBe(NIL);
    expect(treeFirst(t)).toBe(NIL);
    expect(treeCount(t)).toBe(0);
    treeValidate(t, { firstNode: 0, nodeCount: 4 });
  });

  it('empty pool: nodeAlloc returns NIL at once', () => {
    const t = createStandaloneTree(0);
    expect(nodeAlloc(t, 1, 2)).toBe(NIL);
    treeValidate(t, { firstNode: 0, nodeCount: 0 });
  });

  it('single node: overlap is inclusive at both ends', () => {
    const t = createStandaloneTree(1);
    const node = allocInsert(t, 10, 20);
    expect(treeIterFirst(t, 0, 9)).toBe(NIL);
    expect(treeIterFirst(t, 0, 10)).toBe(node);
    expect(treeIterFirst(t, 15, 15)).toBe(node);
    expect(treeIterFirst(t, 20, 30)).toBe(node);
    expect(treeIterFirst(t, 21, 30)).toBe(NIL);
    expect(treeIterFirst(t, 0, 100)).toBe(node);
    expect(treeIterNext(t, node, 0, 100)).toBe(NIL);
    expect(inOrder(t)).toEqual([node]);
    treeRemove(t, node);
    expect(treeFirst(t)).toBe(NIL);
    nodeFree(t, node);
    treeValidate(t, { firstNode: 0, nodeCount: 1 });
  });

  it('many nodes with the same start: ordered by node id, all found, removable in any order', () => {
    const t = createStandaloneTree(100);
    const nodes = Array.from({ length: 100 }, (_, i) => allocInsert(t, 5, 5 + (i % 7)));
    treeValidate(t, { firstNode: 0, nodeCount: 100 });
    expect(inOrder(t)).toEqual([...nodes].sort((a, b) => a - b));
    expect(queryTree(t, 11, 11).map((triple) => triple[2])).toEqual(nodes.filter((_, i) => i % 7 === 6));
    expect(queryTree(t, 0, 5)).toHaveLength(100);
    for (const node of nodes.filter((_, i) => i % 3 === 0)) {
      treeRemove(t, node);
      nodeFree(t, node);
      treeValidate(t, { firstNode: 0, nodeCount: 100 });
    }
    expect(treeCount(t)).toBe(66);
  });

  it('point intervals: a point query finds exactly the ranges covering it', () => {
    const t = createStandaloneTree(64);
    const points = Array.from({ length: 50 }, (_, i) => allocInsert(t, i * 2, i * 2));
    expect(queryTree(t, 10, 10).map((triple) => triple[2])).toEqual([points[5]]);
    expect(queryTree(t, 11, 11)).toEqual([]);
    expect(queryTree(t, 9, 13).map((triple) => triple[2])).toEqual([points[5], points[6]]);
    const span = allocInsert(t, 11, 11);
    expect(queryTree(t, 11, 11).map((triple) => triple[2])).toEqual([span]);
    treeValidate(t);
  });

  it('iteration is ascending by start whatever the insertion order', () => {
    const t = createStandaloneTree(200);
    const random = mulberry32(99);
    for (let i = 0; i < 200; i++) {
      const start = Math.floor(random() * 1000);
      allocInsert(t, start, start + Math.floor(random() * 100));
    }
    const starts = inOrder(t).map((node) => nodeStart(t, node));
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const hits = queryTree(t, 300, 500); // queryTree itself throws on a descending pair
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every(([start, last]) => start <= 500 && last >= 300)).toBe(true);
  });

  it('pool exhaustion: NIL when empty, then free and reuse with a new generation', () => {
    const t = createStandaloneTree(4);
    const pool = { firstNode: 0, nodeCount: 4 };
    const nodes = [0, 1, 2, 3].map((i) => allocInsert(t, i, i + 1));
    expect(new Set(nodes).size).toBe(4);
    expect(nodeAlloc(t, 9, 9)).toBe(NIL);
    treeValidate(t, pool);
    const victim = nodes[2];
    const genBefore = nodeGen(t, victim);
    treeRemove(t, victim);
    nodeFree(t, victim);
    expect(nodeGen(t, victim)).toBe((genBefore + 1) | 0);
    treeValidate(t, pool);
    const reused = nodeAlloc(t, 50, 60);
    expect(reused).toBe(victim);
    expect(nodeGen(t, reused)).toBe((genBefore + 2) | 0);
    expect([nodeStart(t, reused), nodeLast(t, reused)]).toEqual([50, 60]);
    treeInsert(t, reused);
    expect(nodeAlloc(t, 9, 9)).toBe(NIL);
    treeValidate(t, pool);
  });

  it('gen wraps around int32 and nothing else of the vrange fields is touched', () => {
    const t = createStandaloneTree(1);
    t.i32[field(t, 0, 'gen')] = 2 ** 31 - 1;
    t.i32[field(t, 0, 'flags')] = 0x55;
    t.i32[field(t, 0, 'mm')] = 3;
    t.i32[field(t, 0, 'lruPrev')] = 7;
    t.i32[field(t, 0, 'lruNext')] = 8;
    const node = allocInsert(t, 1, 2);
    expect(nodeGen(t, node)).toBe(-(2 ** 31));
    treeRemove(t, node);
    nodeFree(t, node);
    expect(nodeGen(t, node)).toBe(-(2 ** 31) + 1);
    expect([
      t.i32[field(t, 0, 'flags')],
      t.i32[field(t, 0, 'mm')],
      t.i32[field(t, 0, 'lruPrev')],
      t.i32[field(t, 0, 'lruNext')],
    ]).toEqual([0x55, 3, 7, 8]);
  });

  it('two pools share one node array: each tree allocates only from its own slice', () => {
    const b = new LayoutBuilder();
    const words = ['rootA', 'freeA', 'rootB', 'freeB'].map((name) => wordIndex(b.region(name, WORD_BYTES)));
    const nodes = b.records('nodes', VRANGE_NODE, 16);
    const i32 = new Int32Array(new SharedArrayBuffer(b.finish().byteLength));
    const a: IntervalTree = { i32, nodeBase: wordIndex(nodes), rootWord: words[0], freeHeadWord: words[1] };
    const c: IntervalTree = { i32, nodeBase: wordIndex(nodes), rootWord: words[2], freeHeadWord: words[3] };
    treeInit(a, 0, 8);
    treeInit(c, 8, 8);
    const fromA: number[] = [];
    const fromC: number[] = [];
    for (let i = 0; i < 8; i++) {
      fromA.push(allocInsert(a, i, i + 3));
      fromC.push(allocInsert(c, 100 - i, 100));
    }
    expect(nodeAlloc(a, 0, 0)).toBe(NIL);
    expect(fromA.every((node) => node < 8)).toBe(true);
    expect(fromC.every((node) => node >= 8)).toBe(true);
    treeValidate(a, { firstNode: 0, nodeCount: 8 });
    treeValidate(c, { firstNode: 8, nodeCount: 8 });
    expect(() => treeValidate(a, { firstNode: 8, nodeCount: 8 })).toThrow(/outside pool/);
  });

  it('createStandaloneTree lays out disjoint root word, free-head word and nodes', () => {
    const t = createStandaloneTree(10);
    expect(t.rootWord).not.toBe(t.freeHeadWord);
    expect(t.nodeBase).toBeGreaterThan(Math.max(t.rootWord, t.freeHeadWord));
    expect(t.nodeBase + 10 * VRANGE_NODE.STRIDE).toBeLessThanOrEqual(t.i32.length);
    expect(t.i32[t.rootWord]).toBe(NIL);
    expect(t.i32[t.freeHeadWord]).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Misuse throws instead of corrupting the pool.

describe('interval tree misuse', () => {
  it('double free, freeing a node in the tree, double insert, removing a detached node', () => {
    const t = createStandaloneTree(4);
    const node = allocInsert(t, 1, 2);
    expect(() => nodeFree(t, node)).toThrow(/still in a tree/);
    expect(() => treeInsert(t, node)).toThrow(/not detached/);
    treeRemove(t, node);
    expect(() => treeRemove(t, node)).toThrow(/not in a tree/);
    nodeFree(t, node);
    expect(() => nodeFree(t, node)).toThrow(/already free/);
    expect(() => treeInsert(t, node)).toThrow(/not detached/);
    treeValidate(t, { firstNode: 0, nodeCount: 4 });
  });

  it('bad ranges and node ids', () => {
    const t = createStandaloneTree(4);
    expect(() => nodeAlloc(t, 5, 4)).toThrow(/start 5 > last 4/);
    expect(() => nodeAlloc(t, 0, 2 ** 31)).toThrow(/not an int32/);
    expect(() => treeIterFirst(t, 3, 2)).toThrow(/start 3 > last 2/);
    expect(() => treeInsert(t, 4)).toThrow(/not a node id/);
    expect(() => treeRemove(t, -1)).toThrow(/not a node id/);
  });
});

// ---------------------------------------------------------------------------------------------
// The validator can fail.

describe('treeValidate catches corruption', () => {
  function validTree(): IntervalTree {
    const t = createStandaloneTree(32);
    for (let i = 0; i < 20; i++) allocInsert(t, (i * 7) % 23, ((i * 7) % 23) + (i % 5));
    treeValidate(t, { firstNode: 0, nodeCount: 32 });
    return t;
  }

  function blackNonRootNode(t: IntervalTree): number {
    const root = t.i32[t.rootWord];
    const node = inOrder(t).find((n) => n !== root && t.i32[field(t, n, 'color')] === COLOR_BLACK);
    if (node === undefined) throw new Error('test tree has no black non-root node');
    return node;
  }

  it('a wrong subtreeLast', () => {
    const t = validTree();
    const root = t.i32[t.rootWord];
    t.i32[field(t, root, 'subtreeLast')] += 1;
    expect(() => treeValidate(t)).toThrow(/subtreeLast/);
    t.i32[field(t, root, 'subtreeLast')] -= 1;
    const leaf = inOrder(t).find(
      (n) => t.i32[field(t, n, 'left')] === NIL && t.i32[field(t, n, 'right')] === NIL,
    )!;
    t.i32[field(t, leaf, 'subtreeLast')] -= 1;
    expect(() => treeValidate(t)).toThrow(new RegExp(`node ${leaf}: subtreeLast`));
  });

  it('wrong colours: a red root, a black node turned red', () => {
    const t = validTree();
    const root = t.i32[t.rootWord];
    t.i32[field(t, root, 'color')] = COLOR_RED;
    expect(() => treeValidate(t)).toThrow(/root \d+ is not black/);
    t.i32[field(t, root, 'color')] = COLOR_BLACK;
    treeValidate(t);
    t.i32[field(t, blackNonRootNode(t), 'color')] = COLOR_RED;
    expect(() => treeValidate(t)).toThrow(/black height|red node \d+ has a red/);
  });

  it('broken links, order and start > last', () => {
    const t = validTree();
    const node = blackNonRootNode(t);
    const parent = t.i32[field(t, node, 'parent')];
    t.i32[field(t, node, 'parent')] = NIL;
    expect(() => treeValidate(t)).toThrow(
      new RegExp(`node ${node}, (left|right) child of ${parent}, has parent -1`),
    );
    t.i32[field(t, node, 'parent')] = parent;
    const first = treeFirst(t);
    const start = nodeStart(t, first);
    t.i32[field(t, first, 'start')] = 1000;
    t.i32[field(t, first, 'last')] = 1000;
    expect(() => treeValidate(t)).toThrow(/subtreeLast|order/);
    t.i32[field(t, first, 'start')] = start + 1;
    t.i32[field(t, first, 'last')] = start;
    expect(() => treeValidate(t)).toThrow(/start \d+ > last/);
  });

  it('a node both free and in the tree, a free-list cycle, a leaked node', () => {
    const t = validTree();
    const node = blackNonRootNode(t);
    t.i32[field(t, node, 'color')] = COLOR_FREE;
    expect(() => treeValidate(t)).toThrow(/marked free/);
    t.i32[field(t, node, 'color')] = COLOR_BLACK;
    const head = t.i32[t.freeHeadWord];
    t.i32[t.freeHeadWord] = node;
    expect(() => treeValidate(t)).toThrow(/colour|both on the free list and in the tree/);
    t.i32[t.freeHeadWord] = head;
    const next = t.i32[field(t, head, 'parent')];
    t.i32[field(t, next, 'parent')] = head;
    expect(() => treeValidate(t)).toThrow(/free list has a cycle/);
    const fresh = createStandaloneTree(8);
    const leaked = nodeAlloc(fresh, 1, 1);
    expect(leaked).not.toBe(NIL);
    expect(() => treeValidate(fresh, { firstNode: 0, nodeCount: 8 })).toThrow(/1 detached or leaked/);
    expect(() => treeValidate(fresh)).not.toThrow();
  });
});
