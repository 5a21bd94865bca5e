// An address-ordered tree of page runs (a treap), augmented with the longest run in each subtree so
// that "the lowest-addressed run of at least n pages" is one descent: jemalloc's run selection.
//
// Intrusive: the listed objects are the nodes (free extents, dirty spans, small runs), so listing
// and unlisting allocate nothing. Keys are global page numbers, unique within one tree; priorities
// are a hash of the key, so shapes are deterministic (no random seed to carry).

export class TreeNode {
  /** Global page number of the run's first page (address / PAGE_SIZE). */
  key = 0;
  /** Pages of the run. */
  len = 0;
  /** Longest run in this node's subtree (maintained by the tree). */
  maxLen = 0;
  priority = 0;
  left: TreeNode | null = null;
  right: TreeNode | null = null;
  /** Whether the node is in a tree (catches double insertion and stale removal). */
  listed = false;
}

/** murmur3's finalizer: a well-mixed priority from a key. */
function keyPriority(key: number): number {
  let h = (key ^ Math.floor(key / 0x1_0000_0000)) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function update(node: TreeNode): void {
  let maxLen = node.len;
  if (node.left !== null && node.left.maxLen > maxLen) maxLen = node.left.maxLen;
  if (node.right !== null && node.right.maxLen > maxLen) maxLen = node.right.maxLen;
  node.maxLen = maxLen;
}

// split() results, kept in module scope so that a split allocates nothing.
let splitLess: TreeNode | null = null;
let splitNotLess: TreeNode | null = null;

/** Splits `node`'s subtree into keys < key (splitLess) and keys >= key (splitNotLess). */
function split(node: TreeNode | null, key: number): void {
  if (node === null) {
    splitLess = null;
    splitNotLess = null;
    return;
  }
  if (node.key < key) {
    split(node.right, key);
    node.right = splitLess;
    update(node);
    splitLess = node;
  } else {
    split(node.left, key);
    node.left = splitNotLess;
    update(node);
    splitNotLess = node;
  }
}

/** Joins two subtrees, every key of `a` below every key of `b`. */
function merge(a: TreeNode | null, b: TreeNode | null): TreeNode | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority > b.priority) {
    a.right = merge(a.right, b);
    update(a);
    return a;
  }
  b.left = merge(a, b.left);
  update(b);
  return b;
}

function insertInto(root: TreeNode | null, node: TreeNode): TreeNode {
  if (root === null) return node;
  if (node.priority > root.priority) {
    split(root, node.key);
    node.left = splitLess;
    node.right = splitNotLess;
    update(node);
    return node;
  }
  if (node.key === root.key) throw new Error(`address_tree: key ${node.key} is already in the tree`);
  if (node.key < root.key) root.left = insertInto(root.left, node);
  else root.right = insertInto(root.right, node);
  update(root);
  return root;
}

function removeFrom(root: TreeNode | null, node: TreeNode): TreeNode | null {
  if (root === null) throw new Error(`address_tree: key ${node.key} is not in the tree`);
  if (root === node) return merge(root.left, root.right);
  if (node.key < root.key) root.left = removeFrom(root.left, node);
  else root.right = removeFrom(root.right, node);
  update(root);
  return root;
}

export class AddressTree<N extends TreeNode> {
  private root: TreeNode | null = null;
  /** Nodes in the tree. */
  count = 0;

  /** Lists `node` under its key and len (set by the caller). */
  insert(node: N): void {
    if (node.listed) throw new Error(`address_tree: insert of key ${node.key}, which is listed`);
    if (!(Number.isSafeInteger(node.len) && node.len > 0)) {
      throw new Error(`address_tree: insert of key ${node.key} with length ${node.len}`);
    }
    node.priority = keyPriority(node.key);
    node.left = null;
    node.right = null;
    node.maxLen = node.len;
    this.root = insertInto(this.root, node);
    node.listed = true;
    this.count++;
  }

  remove(node: N): void {
    if (!node.listed) throw new Error(`address_tree: remove of key ${node.key}, which is not listed`);
    this.root = removeFrom(this.root, node);
    node.left = null;
    node.right = null;
    node.listed = false;
    this.count--;
  }

  /** The lowest-keyed node with len >= minLen, or null. */
  firstFit(minLen: number): N | null {
    let node = this.root;
    if (node === null || node.maxLen < minLen) return null;
    for (;;) {
      if (node.left !== null && node.left.maxLen >= minLen) node = node.left;
      else if (node.len >= minLen) return node as N;
      else node = node.right!;
    }
  }

  /** The node with the greatest key <= key, or null. */
  floor(key: number): N | null {
    let best: TreeNode | null = null;
    let node = this.root;
    while (node !== null) {
      if (node.key <= key) {
        best = node;
        node = node.right;
      } else {
        node = node.left;
      }
    }
    return best as N | null;
  }

  /** The lowest-keyed node, or null. */
  first(): N | null {
    let node = this.root;
    if (node === null) return null;
    while (node.left !== null) node = node.left;
    return node as N;
  }

  /** Nodes in key order (for validation and statistics, not for hot paths). */
  toArray(): N[] {
    const out: N[] = [];
    const walk = (node: TreeNode | null): void => {
      if (node === null) return;
      walk(node.left);
      out.push(node as N);
      walk(node.right);
    };
    walk(this.root);
    return out;
  }

  /** Checks order, heap priorities, maxLen and count; throws on the first broken invariant. */
  validate(name: string): void {
    let seen = 0;
    let lastKey = Number.NEGATIVE_INFINITY;
    const walk = (node: TreeNode | null, parent: TreeNode | null): number => {
      if (node === null) return 0;
      if (!node.listed) throw new Error(`${name}: key ${node.key} is in the tree but not marked listed`);
      if (parent !== null && node.priority > parent.priority) {
        throw new Error(`${name}: key ${node.key} breaks the heap order`);
      }
      const leftMax = walk(node.left, node);
      if (node.key <= lastKey) throw new Error(`${name}: key ${node.key} after ${lastKey}: not ordered`);
      lastKey = node.key;
      seen++;
      const rightMax = walk(node.right, node);
      const maxLen = Math.max(node.len, leftMax, rightMax);
      if (node.maxLen !== maxLen) {
        throw new Error(`${name}: key ${node.key} has maxLen ${node.maxLen}, subtree max is ${maxLen}`);
      }
      return maxLen;
    };
    walk(this.root, null);
    if (seen !== this.count) throw new Error(`${name}: ${seen} nodes, count says ${this.count}`);
  }
}
