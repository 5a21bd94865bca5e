// Augmented red-black interval tree whose nodes live in the shared buffer: the vrange tree of an
// mm (Linux: include/linux/interval_tree_generic.h, mm/interval_tree.c).
//
// A node is a VRANGE_NODE record; node ids index one global node array that starts at word
// `nodeBase`. A tree is named by the word holding its root id, a node pool (a contiguous slice of
// ids owned by one mm) by the word holding its free-list head. Free nodes are chained through
// `parent`.
//
// Each node holds an inclusive range [start, last] and `subtreeLast`, the largest `last` in its
// subtree; the tree is ordered by start, ties broken by node id, so equal and overlapping ranges
// coexist and every node has a unique position. Overlap queries prune a subtree whose
// `subtreeLast` is below the query's start, which makes a query O(log n + k).
//
// The colour word also records where a node is, so that misuse throws instead of corrupting a
// pool: COLOR_BLACK / COLOR_RED in a tree, COLOR_DETACHED allocated but in no tree, COLOR_FREE on
// a free list.
//
// Caller holds the mutex that owns the tree and its pool (the mm's vrange lock): nothing here is
// atomic, the lock orders every access. No operation allocates and none recurses.

import { NIL, VRANGE_NODE, wordIndex } from '../layout/layout.js';
import { LayoutBuilder, WORD_BYTES } from '../layout/struct.js';

export interface IntervalTree {
  i32: Int32Array;
  /** Word index of node 0 in `i32`. */
  nodeBase: number;
  /** Word holding the root node id (NIL when empty). */
  rootWord: number;
  /** Word holding the head of the pool's free list (NIL when exhausted). */
  freeHeadWord: number;
}

export interface PoolBounds {
  firstNode: number;
  nodeCount: number;
}

export const COLOR_BLACK = 0;
export const COLOR_RED = 1;
/** Colour word of an allocated node that is in no tree (before insert, after remove). */
export const COLOR_DETACHED = 2;
/** Colour word of a node on its pool's free list. */
export const COLOR_FREE = 3;

/**
 * No valid tree is deeper: there are fewer than 2^31 node ids and a red-black tree of n nodes has
 * height at most 2 * log2(n + 1). Every walk along a path is bounded by it, so a corrupted tree
 * (a cycle in the links) throws instead of spinning under the caller's lock.
 */
export const TREE_HEIGHT_MAX = 64;

const STRIDE = VRANGE_NODE.STRIDE;
const START = VRANGE_NODE.start;
const LAST = VRANGE_NODE.last;
const SUBTREE_LAST = VRANGE_NODE.subtreeLast;
const LEFT = VRANGE_NODE.left;
const RIGHT = VRANGE_NODE.right;
const PARENT = VRANGE_NODE.parent;
const COLOR = VRANGE_NODE.color;
const GEN = VRANGE_NODE.gen;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

// ---------------------------------------------------------------------------------------------
// Field access. `w` is a node's first word: nodeBase + node * STRIDE.

function nodeWord(t: IntervalTree, node: number): number {
  return t.nodeBase + node * STRIDE;
}

/** How many node records fit in the buffer after nodeBase: the bound on every node id. */
function nodeSlotCount(t: IntervalTree): number {
  return Math.floor((t.i32.length - t.nodeBase) / STRIDE);
}

function assertNodeId(t: IntervalTree, node: number, operation: string): void {
  if (!Number.isInteger(node) || node < 0 || node >= nodeSlotCount(t)) {
    throw new Error(`interval_tree: ${operation}: node ${node} is not a node id`);
  }
}

function assertInTree(t: IntervalTree, node: number, operation: string): void {
  assertNodeId(t, node, operation);
  const color = t.i32[nodeWord(t, node) + COLOR];
  if (color !== COLOR_BLACK && color !== COLOR_RED) {
    throw new Error(`interval_tree: ${operation}: node ${node} is not in a tree (colour ${color})`);
  }
}

function assertRange(start: number, last: number, operation: string): void {
  if (!Number.isInteger(start) || start < INT32_MIN || start > INT32_MAX) {
    throw new Error(`interval_tree: ${operation}: start ${start} is not an int32`);
  }
  if (!Number.isInteger(last) || last < INT32_MIN || last > INT32_MAX) {
    throw new Error(`interval_tree: ${operation}: last ${last} is not an int32`);
  }
  if (start > last) throw new Error(`interval_tree: ${operation}: start ${start} > last ${last}`);
}

export function nodeStart(t: IntervalTree, node: number): number {
  return t.i32[nodeWord(t, node) + START];
}

export function nodeLast(t: IntervalTree, node: number): number {
  return t.i32[nodeWord(t, node) + LAST];
}

/** The node's generation: bumped by nodeAlloc and nodeFree, so a stale id can be detected. */
export function nodeGen(t: IntervalTree, node: number): number {
  return t.i32[nodeWord(t, node) + GEN];
}

function isRed(i32: Int32Array, base: number, node: number): boolean {
  return node !== NIL && i32[base + node * STRIDE + COLOR] === COLOR_RED;
}

/** max(last, children's subtreeLast): the augmentation of one node from its children. */
function computeSubtreeLast(i32: Int32Array, base: number, node: number): number {
  const w = base + node * STRIDE;
  let max = i32[w + LAST];
  const left = i32[w + LEFT];
  if (left !== NIL) {
    const leftMax = i32[base + left * STRIDE + SUBTREE_LAST];
    if (leftMax > max) max = leftMax;
  }
  const right = i32[w + RIGHT];
  if (right !== NIL) {
    const rightMax = i32[base + right * STRIDE + SUBTREE_LAST];
    if (rightMax > max) max = rightMax;
  }
  return max;
}

/** Points `parent`'s link to `oldChild` (or the root word, when parent is NIL) at `newChild`. */
function replaceChild(t: IntervalTree, parent: number, oldChild: number, newChild: number): void {
  if (parent === NIL) {
    t.i32[t.rootWord] = newChild;
    return;
  }
  const w = nodeWord(t, parent);
  if (t.i32[w + LEFT] === oldChild) {
    t.i32[w + LEFT] = newChild;
  } else {
    if (t.i32[w + RIGHT] !== oldChild) {
      throw new Error(`interval_tree: node ${oldChild} is not a child of its parent ${parent}`);
    }
    t.i32[w + RIGHT] = newChild;
  }
}

/**
 * Rotates `x` down towards its `sink` side (LEFT or RIGHT); its child on the `rise` side takes
 * its place. A left rotation is rotate(x, LEFT, RIGHT).
 */
function rotate(t: IntervalTree, x: number, sink: number, rise: number): void {
  const i32 = t.i32;
  const base = t.nodeBase;
  const xw = base + x * STRIDE;
  const y = i32[xw + rise];
  if (y === NIL) throw new Error(`interval_tree: rotation of node ${x} without a child to raise`);
  const yw = base + y * STRIDE;
  const inner = i32[yw + sink];
  i32[xw + rise] = inner;
  if (inner !== NIL) i32[base + inner * STRIDE + PARENT] = x;
  const parent = i32[xw + PARENT];
  i32[yw + PARENT] = parent;
  replaceChild(t, parent, x, y);
  i32[yw + sink] = x;
  i32[xw + PARENT] = y;
  // y's subtree now holds exactly the nodes x's held: y inherits x's maximum, x loses y and y's
  // outer subtree and is recomputed from its new children.
  i32[yw + SUBTREE_LAST] = i32[xw + SUBTREE_LAST];
  i32[xw + SUBTREE_LAST] = computeSubtreeLast(i32, base, x);
}

// ---------------------------------------------------------------------------------------------
// The node pool.

/** An empty tree, with every node of [firstNode, firstNode + nodeCount) on the free list. */
export function treeInit(t: IntervalTree, firstNode: number, nodeCount: number): void {
  if (!Number.isInteger(firstNode) || firstNode < 0) {
    throw new Error(`interval_tree: treeInit: bad firstNode ${firstNode}`);
  }
  if (!Number.isInteger(nodeCount) || nodeCount < 0) {
    throw new Error(`interval_tree: treeInit: bad nodeCount ${nodeCount}`);
  }
  if (firstNode + nodeCount > nodeSlotCount(t)) {
    throw new Error(
      `interval_tree: treeInit: pool [${firstNode}, ${firstNode + nodeCount}) ends past the buffer ` +
        `(${nodeSlotCount(t)} node slots)`,
    );
  }
  const i32 = t.i32;
  // Chained in ascending order so that allocation order is deterministic: lowest id first.
  for (let node = firstNode; node < firstNode + nodeCount; node++) {
    const w = nodeWord(t, node);
    i32[w + START] = 0;
    i32[w + LAST] = 0;
    i32[w + SUBTREE_LAST] = 0;
    i32[w + LEFT] = NIL;
    i32[w + RIGHT] = NIL;
    i32[w + PARENT] = node + 1 < firstNode + nodeCount ? node + 1 : NIL;
    i32[w + COLOR] = COLOR_FREE;
  }
  i32[t.rootWord] = NIL;
  i32[t.freeHeadWord] = nodeCount > 0 ? firstNode : NIL;
}

/**
 * Takes a node off the free list with [start, last] set, detached (not yet in the tree), and
 * bumps its generation. Returns NIL when the pool is exhausted: the caller reports ENOMEM.
 */
export function nodeAlloc(t: IntervalTree, start: number, last: number): number {
  assertRange(start, last, 'nodeAlloc');
  const i32 = t.i32;
  const node = i32[t.freeHeadWord];
  if (node === NIL) return NIL;
  assertNodeId(t, node, 'nodeAlloc (free-list head)');
  const w = nodeWord(t, node);
  if (i32[w + COLOR] !== COLOR_FREE) {
    throw new Error(
      `interval_tree: nodeAlloc: free-list node ${node} is not free (colour ${i32[w + COLOR]})`,
    );
  }
  i32[t.freeHeadWord] = i32[w + PARENT];
  i32[w + START] = start;
  i32[w + LAST] = last;
  i32[w + SUBTREE_LAST] = last;
  i32[w + LEFT] = NIL;
  i32[w + RIGHT] = NIL;
  i32[w + PARENT] = NIL;
  i32[w + COLOR] = COLOR_DETACHED;
  i32[w + GEN] = (i32[w + GEN] + 1) | 0;
  return node;
}

/** Returns a detached node (never inserted, or removed) to the free list and bumps its generation. */
export function nodeFree(t: IntervalTree, node: number): void {
  assertNodeId(t, node, 'nodeFree');
  const i32 = t.i32;
  const w = nodeWord(t, node);
  const color = i32[w + COLOR];
  if (color === COLOR_FREE) throw new Error(`interval_tree: nodeFree: node ${node} is already free`);
  if (color !== COLOR_DETACHED) {
    throw new Error(`interval_tree: nodeFree: node ${node} is still in a tree (colour ${color})`);
  }
  i32[w + LEFT] = NIL;
  i32[w + RIGHT] = NIL;
  i32[w + PARENT] = i32[t.freeHeadWord];
  i32[w + COLOR] = COLOR_FREE;
  i32[w + GEN] = (i32[w + GEN] + 1) | 0;
  i32[t.freeHeadWord] = node;
}

// ---------------------------------------------------------------------------------------------
// Insert.

/** Links a detached node into the tree: O(log n). Equal and overlapping ranges are allowed. */
export function treeInsert(t: IntervalTree, node: number): void {
  assertNodeId(t, node, 'treeInsert');
  const i32 = t.i32;
  const base = t.nodeBase;
  const w = base + node * STRIDE;
  if (i32[w + COLOR] !== COLOR_DETACHED) {
    throw new Error(`interval_tree: treeInsert: node ${node} is not detached (colour ${i32[w + COLOR]})`);
  }
  const start = i32[w + START];
  const last = i32[w + LAST];
  let parent = NIL;
  let side = LEFT;
  let cursor = i32[t.rootWord];
  for (let depth = 0; cursor !== NIL; depth++) {
    if (depth >= TREE_HEIGHT_MAX) throw new Error('interval_tree: treeInsert: tree deeper than possible');
    const cw = base + cursor * STRIDE;
    // Every node on the path gains the new node as a descendant.
    if (i32[cw + SUBTREE_LAST] < last) i32[cw + SUBTREE_LAST] = last;
    const cursorStart = i32[cw + START];
    side = start < cursorStart || (start === cursorStart && node < cursor) ? LEFT : RIGHT;
    parent = cursor;
    cursor = i32[cw + side];
  }
  i32[w + LEFT] = NIL;
  i32[w + RIGHT] = NIL;
  i32[w + PARENT] = parent;
  i32[w + SUBTREE_LAST] = last;
  i32[w + COLOR] = COLOR_RED;
  if (parent === NIL) {
    i32[t.rootWord] = node;
  } else {
    i32[base + parent * STRIDE + side] = node;
  }
  insertRebalance(t, node);
}

/** Restores the red-black rules after linking the red `node`: recolours upwards, then rotates. */
function insertRebalance(t: IntervalTree, node: number): void {
  const i32 = t.i32;
  const base = t.nodeBase;
  for (let step = 0; ; step++) {
    if (step >= TREE_HEIGHT_MAX)
      throw new Error('interval_tree: insert rebalance: tree deeper than possible');
    const parent = i32[base + node * STRIDE + PARENT];
    if (parent === NIL) {
      i32[base + node * STRIDE + COLOR] = COLOR_BLACK; // The root is black.
      return;
    }
    const pw = base + parent * STRIDE;
    if (i32[pw + COLOR] === COLOR_BLACK) return;
    // A red parent is not the root, so the grandparent exists (and is black).
    const grand = i32[pw + PARENT];
    if (grand === NIL) throw new Error(`interval_tree: insert rebalance: red root ${parent}`);
    const gw = base + grand * STRIDE;
    const parentSide = i32[gw + LEFT] === parent ? LEFT : RIGHT;
    const uncleSide = parentSide === LEFT ? RIGHT : LEFT;
    const uncle = i32[gw + uncleSide];
    if (isRed(i32, base, uncle)) {
      // Push the grandparent's blackness down one level; the red-red conflict may move up two.
      i32[pw + COLOR] = COLOR_BLACK;
      i32[base + uncle * STRIDE + COLOR] = COLOR_BLACK;
      i32[gw + COLOR] = COLOR_RED;
      node = grand;
      continue;
    }
    let top = parent;
    if (i32[pw + uncleSide] === node) {
      // node is an inner grandchild: make it outer so one rotation at the grandparent finishes.
      rotate(t, parent, parentSide, uncleSide);
      top = node;
    }
    i32[base + top * STRIDE + COLOR] = COLOR_BLACK;
    i32[gw + COLOR] = COLOR_RED;
    rotate(t, grand, uncleSide, parentSide);
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// Remove.

/** Unlinks `node` from the tree, leaving it detached: O(log n). */
export function treeRemove(t: IntervalTree, node: number): void {
  assertInTree(t, node, 'treeRemove');
  const i32 = t.i32;
  const base = t.nodeBase;
  const zw = base + node * STRIDE;
  const zLeft = i32[zw + LEFT];
  const zRight = i32[zw + RIGHT];
  const zParent = i32[zw + PARENT];
  // `child` takes the place of the node that leaves its position (node itself, or its successor);
  // `childParent` is child's new parent, the lowest node whose subtree lost a node.
  let child: number;
  let childParent: number;
  let removedColor: number;
  // The successor, when it moved into node's place: below it, propagation may not stop early.
  let moved = NIL;
  if (zLeft === NIL || zRight === NIL) {
    child = zLeft !== NIL ? zLeft : zRight;
    childParent = zParent;
    removedColor = i32[zw + COLOR];
    replaceChild(t, zParent, node, child);
    if (child !== NIL) i32[base + child * STRIDE + PARENT] = zParent;
  } else {
    // Two children: the successor (leftmost of the right subtree, which has no left child)
    // leaves its position and takes node's.
    let successor = zRight;
    for (let depth = 0; i32[base + successor * STRIDE + LEFT] !== NIL; depth++) {
      if (depth >= TREE_HEIGHT_MAX) throw new Error('interval_tree: treeRemove: tree deeper than possible');
      successor = i32[base + successor * STRIDE + LEFT];
    }
    const sw = base + successor * STRIDE;
    removedColor = i32[sw + COLOR];
    child = i32[sw + RIGHT];
    if (successor === zRight) {
      childParent = successor;
    } else {
      childParent = i32[sw + PARENT];
      i32[base + childParent * STRIDE + LEFT] = child;
      if (child !== NIL) i32[base + child * STRIDE + PARENT] = childParent;
      i32[sw + RIGHT] = zRight;
      i32[base + zRight * STRIDE + PARENT] = successor;
    }
    i32[sw + LEFT] = zLeft;
    i32[base + zLeft * STRIDE + PARENT] = successor;
    i32[sw + PARENT] = zParent;
    replaceChild(t, zParent, node, successor);
    i32[sw + COLOR] = i32[zw + COLOR];
    // The successor now stands for node's old subtree minus node: compared against node's old
    // maximum, an unchanged value proves every ancestor unchanged.
    i32[sw + SUBTREE_LAST] = i32[zw + SUBTREE_LAST];
    moved = successor;
  }
  i32[zw + LEFT] = NIL;
  i32[zw + RIGHT] = NIL;
  i32[zw + PARENT] = NIL;
  i32[zw + SUBTREE_LAST] = i32[zw + LAST];
  i32[zw + COLOR] = COLOR_DETACHED;
  // Augmentation first: the rebalancing rotations assume correct subtreeLast below them.
  propagateRemoval(t, childParent, moved);
  if (removedColor === COLOR_BLACK) removeRebalance(t, child, childParent);
}

/**
 * Recomputes subtreeLast from `from` up. Below `moved` (the successor that changed position) every
 * node must be recomputed; at or above it, an unchanged value means the ancestors are unchanged.
 */
function propagateRemoval(t: IntervalTree, from: number, moved: number): void {
  const i32 = t.i32;
  const base = t.nodeBase;
  let mayStop = moved === NIL;
  let node = from;
  for (let depth = 0; node !== NIL; depth++) {
    if (depth >= TREE_HEIGHT_MAX)
      throw new Error('interval_tree: treeRemove: parent chain longer than possible');
    const w = base + node * STRIDE;
    const fresh = computeSubtreeLast(i32, base, node);
    if (node === moved) mayStop = true;
    if (mayStop && i32[w + SUBTREE_LAST] === fresh) return;
    i32[w + SUBTREE_LAST] = fresh;
    node = i32[w + PARENT];
  }
}

/**
 * A black node left the path through `child` (possibly NIL, whose parent is `parent`): that path
 * is one black short. Recolour or rotate until the deficit is absorbed.
 */
function removeRebalance(t: IntervalTree, child: number, parent: number): void {
  const i32 = t.i32;
  const base = t.nodeBase;
  for (let step = 0; parent !== NIL && !isRed(i32, base, child); step++) {
    if (step >= TREE_HEIGHT_MAX)
      throw new Error('interval_tree: remove rebalance: tree deeper than possible');
    const pw = base + parent * STRIDE;
    // child may be NIL only on the first step, and then its sibling is not NIL (it carries the
    // black height child lost), so comparing with LEFT tells the side.
    const childSide = i32[pw + LEFT] === child ? LEFT : RIGHT;
    const siblingSide = childSide === LEFT ? RIGHT : LEFT;
    let sibling = i32[pw + siblingSide];
    if (sibling === NIL)
      throw new Error(`interval_tree: remove rebalance: node ${parent} lacks a sibling subtree`);
    if (i32[base + sibling * STRIDE + COLOR] === COLOR_RED) {
      // Make the sibling black: rotate the red sibling above the parent, which turns red.
      i32[base + sibling * STRIDE + COLOR] = COLOR_BLACK;
      i32[pw + COLOR] = COLOR_RED;
      rotate(t, parent, childSide, siblingSide);
      sibling = i32[pw + siblingSide];
    }
    const sw = base + sibling * STRIDE;
    const near = i32[sw + childSide];
    const far = i32[sw + siblingSide];
    if (!isRed(i32, base, near) && !isRed(i32, base, far)) {
      // Shorten the sibling's side too; the deficit moves up to the parent.
      i32[sw + COLOR] = COLOR_RED;
      child = parent;
      parent = i32[pw + PARENT];
      continue;
    }
    if (!isRed(i32, base, far)) {
      // Only the near nephew is red: rotate it into the sibling's place so the far one is red.
      i32[base + near * STRIDE + COLOR] = COLOR_BLACK;
      i32[sw + COLOR] = COLOR_RED;
      rotate(t, sibling, siblingSide, childSide);
      sibling = near;
    }
    // Far nephew red: one rotation at the parent adds a black to child's path and keeps the rest.
    const siblingWord = base + sibling * STRIDE;
    i32[siblingWord + COLOR] = i32[pw + COLOR];
    i32[pw + COLOR] = COLOR_BLACK;
    i32[base + i32[siblingWord + siblingSide] * STRIDE + COLOR] = COLOR_BLACK;
    rotate(t, parent, childSide, siblingSide);
    return;
  }
  if (child !== NIL) i32[base + child * STRIDE + COLOR] = COLOR_BLACK;
}

// ---------------------------------------------------------------------------------------------
// Overlap queries.

/**
 * The leftmost node of the subtree at `node` overlapping [start, last], or NIL. Caller checked
 * that the subtree's subtreeLast >= start.
 */
function subtreeSearch(t: IntervalTree, node: number, start: number, last: number): number {
  const i32 = t.i32;
  const base = t.nodeBase;
  for (let depth = 0; ; depth++) {
    if (depth >= TREE_HEIGHT_MAX) throw new Error('interval_tree: search: tree deeper than possible');
    const w = base + node * STRIDE;
    const left = i32[w + LEFT];
    // Something on the left ends at or after start. If it begins after last, so does everything
    // from here on (starts only grow in order): then nothing overlaps and NIL is right too.
    if (left !== NIL && i32[base + left * STRIDE + SUBTREE_LAST] >= start) {
      node = left;
      continue;
    }
    if (i32[w + START] > last) return NIL;
    if (i32[w + LAST] >= start) return node;
    const right = i32[w + RIGHT];
    if (right === NIL || i32[base + right * STRIDE + SUBTREE_LAST] < start) return NIL;
    node = right;
  }
}

/** The overlapping node with the smallest (start, id) for [start, last], or NIL. */
export function treeIterFirst(t: IntervalTree, start: number, last: number): number {
  assertRange(start, last, 'treeIterFirst');
  const root = t.i32[t.rootWord];
  if (root === NIL || t.i32[nodeWord(t, root) + SUBTREE_LAST] < start) return NIL;
  return subtreeSearch(t, root, start, last);
}

/** The next node after `node` (in order) overlapping [start, last], or NIL. */
export function treeIterNext(t: IntervalTree, node: number, start: number, last: number): number {
  assertInTree(t, node, 'treeIterNext');
  const i32 = t.i32;
  const base = t.nodeBase;
  // Invariant: node.start <= last, so later nodes may still overlap.
  for (;;) {
    const right = i32[base + node * STRIDE + RIGHT];
    if (right !== NIL && i32[base + right * STRIDE + SUBTREE_LAST] >= start) {
      return subtreeSearch(t, right, start, last);
    }
    // Climb to the first ancestor that has node's subtree on its left: the next in order.
    let from = node;
    for (let depth = 0; ; depth++) {
      if (depth >= TREE_HEIGHT_MAX) throw new Error('interval_tree: treeIterNext: tree deeper than possible');
      node = i32[base + from * STRIDE + PARENT];
      if (node === NIL) return NIL;
      if (i32[base + node * STRIDE + RIGHT] !== from) break;
      from = node;
    }
    const w = base + node * STRIDE;
    if (i32[w + START] > last) return NIL;
    if (i32[w + LAST] >= start) return node;
  }
}

// ---------------------------------------------------------------------------------------------
// Plain in-order walk.

function leftmost(t: IntervalTree, node: number): number {
  const i32 = t.i32;
  const base = t.nodeBase;
  for (let depth = 0; ; depth++) {
    if (depth >= TREE_HEIGHT_MAX) throw new Error('interval_tree: leftmost: tree deeper than possible');
    const left = i32[base + node * STRIDE + LEFT];
    if (left === NIL) return node;
    node = left;
  }
}

/** The node with the smallest (start, id), or NIL when the tree is empty. */
export function treeFirst(t: IntervalTree): number {
  const root = t.i32[t.rootWord];
  return root === NIL ? NIL : leftmost(t, root);
}

/** The in-order successor of `node`, or NIL. */
export function treeNext(t: IntervalTree, node: number): number {
  assertInTree(t, node, 'treeNext');
  const i32 = t.i32;
  const base = t.nodeBase;
  const right = i32[base + node * STRIDE + RIGHT];
  if (right !== NIL) return leftmost(t, right);
  for (let depth = 0; ; depth++) {
    if (depth >= TREE_HEIGHT_MAX) throw new Error('interval_tree: treeNext: tree deeper than possible');
    const parent = i32[base + node * STRIDE + PARENT];
    if (parent === NIL || i32[base + parent * STRIDE + LEFT] === node) return parent;
    node = parent;
  }
}

/** Number of nodes in the tree: O(n), for reports and checks. */
export function treeCount(t: IntervalTree): number {
  const limit = nodeSlotCount(t);
  let count = 0;
  for (let node = treeFirst(t); node !== NIL; node = treeNext(t, node)) {
    if (++count > limit) throw new Error('interval_tree: treeCount: more nodes than node slots (a cycle)');
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Whole-structure check (validate_mm's part for the tree): O(n), allocates, debug use.

function fail(message: string): never {
  throw new Error(`interval_tree: validate: ${message}`);
}

/**
 * Throws on any broken invariant of the tree and its free list: node ids in range (and in the
 * pool when `pool` is given), parent links, no cycles or shared nodes, red-black rules, BST order
 * by (start, id), start <= last, subtreeLast everywhere, free nodes marked free and not in the
 * tree, and with `pool`, tree nodes + free nodes = pool size (no leaked node).
 */
export function treeValidate(t: IntervalTree, pool?: PoolBounds): void {
  const slotCount = nodeSlotCount(t);
  const checkId = (node: number, what: string): void => {
    if (!Number.isInteger(node) || node < 0 || node >= slotCount) fail(`${what} ${node} is not a node id`);
    if (pool && (node < pool.firstNode || node >= pool.firstNode + pool.nodeCount)) {
      fail(`${what} ${node} is outside pool [${pool.firstNode}, ${pool.firstNode + pool.nodeCount})`);
    }
  };
  const inTree = validateShape(t, checkId);
  validateAugmentation(t, inTree);
  validateOrder(t, inTree.length);
  const freeCount = validateFreeList(t, checkId, new Set(inTree), slotCount);
  if (pool && inTree.length + freeCount !== pool.nodeCount) {
    const missing = pool.nodeCount - inTree.length - freeCount;
    fail(
      `pool [${pool.firstNode}, ${pool.firstNode + pool.nodeCount}) has ${inTree.length} nodes in the ` +
        `tree + ${freeCount} free != ${pool.nodeCount} (${missing} detached or leaked)`,
    );
  }
}

/** Links, colours and cycles, walking down from the root; returns the nodes in pre-order. */
function validateShape(t: IntervalTree, checkId: (node: number, what: string) => void): number[] {
  const i32 = t.i32;
  const root = i32[t.rootWord];
  const preOrder: number[] = [];
  if (root === NIL) return preOrder;
  checkId(root, 'root');
  if (i32[nodeWord(t, root) + PARENT] !== NIL)
    fail(`root ${root} has parent ${i32[nodeWord(t, root) + PARENT]}`);
  if (i32[nodeWord(t, root) + COLOR] !== COLOR_BLACK) fail(`root ${root} is not black`);
  const seen = new Set<number>();
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) fail(`node ${node} is reached twice (a cycle or a shared child)`);
    seen.add(node);
    preOrder.push(node);
    const w = nodeWord(t, node);
    const color = i32[w + COLOR];
    if (color === COLOR_FREE) fail(`node ${node} is in the tree and marked free`);
    if (color !== COLOR_BLACK && color !== COLOR_RED) fail(`node ${node} in the tree has colour ${color}`);
    if (i32[w + START] > i32[w + LAST])
      fail(`node ${node} has start ${i32[w + START]} > last ${i32[w + LAST]}`);
    for (const side of [LEFT, RIGHT]) {
      const child = i32[w + side];
      if (child === NIL) continue;
      const sideName = side === LEFT ? 'left' : 'right';
      checkId(child, `${sideName} child of node ${node}:`);
      const childParent = i32[nodeWord(t, child) + PARENT];
      if (childParent !== node)
        fail(`node ${child}, ${sideName} child of ${node}, has parent ${childParent}`);
      if (color === COLOR_RED && i32[nodeWord(t, child) + COLOR] === COLOR_RED) {
        fail(`red node ${node} has a red ${sideName} child ${child}`);
      }
      stack.push(child);
    }
  }
  return preOrder;
}

/** subtreeLast and equal black heights, computed bottom-up (children before parents). */
function validateAugmentation(t: IntervalTree, preOrder: readonly number[]): void {
  const i32 = t.i32;
  const blackHeight = new Map<number, number>();
  const maxLast = new Map<number, number>();
  for (let i = preOrder.length - 1; i >= 0; i--) {
    const node = preOrder[i];
    const w = nodeWord(t, node);
    const left = i32[w + LEFT];
    const right = i32[w + RIGHT];
    const leftHeight = left === NIL ? 0 : blackHeight.get(left)!;
    const rightHeight = right === NIL ? 0 : blackHeight.get(right)!;
    if (leftHeight !== rightHeight) {
      fail(
        `node ${node}: black height ${leftHeight} on the left (${left}) != ${rightHeight} on the right (${right})`,
      );
    }
    blackHeight.set(node, leftHeight + (i32[w + COLOR] === COLOR_BLACK ? 1 : 0));
    let max = i32[w + LAST];
    if (left !== NIL) max = Math.max(max, maxLast.get(left)!);
    if (right !== NIL) max = Math.max(max, maxLast.get(right)!);
    maxLast.set(node, max);
    if (i32[w + SUBTREE_LAST] !== max) fail(`node ${node}: subtreeLast ${i32[w + SUBTREE_LAST]} != ${max}`);
  }
}

/** In-order walk: strictly ascending (start, id), and it reaches exactly the tree's nodes. */
function validateOrder(t: IntervalTree, nodeCount: number): void {
  let count = 0;
  let previous = NIL;
  for (let node = treeFirst(t); node !== NIL; node = treeNext(t, node)) {
    if (++count > nodeCount) fail(`in-order walk visits more than the ${nodeCount} nodes of the tree`);
    if (previous !== NIL) {
      const previousStart = nodeStart(t, previous);
      const start = nodeStart(t, node);
      if (previousStart > start || (previousStart === start && previous >= node)) {
        fail(`order: node ${previous} (start ${previousStart}) comes before node ${node} (start ${start})`);
      }
    }
    previous = node;
  }
  if (count !== nodeCount) fail(`in-order walk visits ${count} nodes, the tree has ${nodeCount}`);
}

/** The free list: ids in range, marked free, not in the tree, no cycle. Returns its length. */
function validateFreeList(
  t: IntervalTree,
  checkId: (node: number, what: string) => void,
  inTree: ReadonlySet<number>,
  slotCount: number,
): number {
  const i32 = t.i32;
  const seen = new Set<number>();
  let node = i32[t.freeHeadWord];
  while (node !== NIL) {
    checkId(node, 'free-list node');
    if (seen.has(node)) fail(`free list has a cycle through node ${node}`);
    if (seen.size >= slotCount) fail('free list longer than the node array');
    if (inTree.has(node)) fail(`node ${node} is both on the free list and in the tree`);
    const color = i32[nodeWord(t, node) + COLOR];
    if (color !== COLOR_FREE) fail(`free-list node ${node} has colour ${color}, not free`);
    seen.add(node);
    node = i32[nodeWord(t, node) + PARENT];
  }
  return seen.size;
}

// ---------------------------------------------------------------------------------------------
// A tree alone in its own buffer, for tests and benchmarks.

export function createStandaloneTree(nodeCount: number): IntervalTree {
  const b = new LayoutBuilder();
  const root = b.region('tree_root', WORD_BYTES);
  const freeHead = b.region('tree_free_head', WORD_BYTES);
  const nodes = b.records('vrange_nodes', VRANGE_NODE, nodeCount);
  const { byteLength } = b.finish();
  const t: IntervalTree = {
    i32: new Int32Array(new SharedArrayBuffer(byteLength)),
    nodeBase: wordIndex(nodes),
    rootWord: wordIndex(root),
    freeHeadWord: wordIndex(freeHead),
  };
  treeInit(t, 0, nodeCount);
  return t;
}
