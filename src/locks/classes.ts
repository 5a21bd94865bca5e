// Lock classes and the kernel's lock order.
//
// Lock ordering in mm (outermost first; a path only takes locks further down this list):
//
//   mmap_sem
//     vrange_lock
//       anon_vma lock
//         page table lock (split PTL)
//           lru locks (vrange victim LRU; lru_lock: the anon and lazyfree page LRUs)
//             per-CPU page list lock (pcp)
//               zone lock
//
// A path that needs a second lock of one class (fork: the child's PTL under the parent's; purge of a
// shared page: the other mms' vrange_locks under the victim's) takes it with trylock, which cannot
// deadlock (see fork.ts, rmap.ts).
//
// Reclaim finds victims on an LRU: it drops the LRU lock before taking vrange_lock, and where it needs
// mmap_sem it only trylocks (see vmscan.ts). lockdep checks every blocking acquire against this order.

export type LockKind = 'spinlock' | 'mutex' | 'rwsem';

export interface LockClassSpec {
  name: string;
  kind: LockKind;
  /** Position in the lock order, outermost lowest; undefined: only the learned graph applies. */
  rank?: number;
}

export const KERNEL_LOCK_CLASSES: readonly LockClassSpec[] = [
  { name: 'mmap_sem', kind: 'rwsem', rank: 0 },
  { name: 'vrange_lock', kind: 'mutex', rank: 1 },
  { name: 'anon_vma_lock', kind: 'mutex', rank: 2 },
  { name: 'ptl', kind: 'spinlock', rank: 3 },
  { name: 'vrange_lru_lock', kind: 'spinlock', rank: 4 },
  { name: 'lru_lock', kind: 'spinlock', rank: 4 },
  { name: 'pcp_lock', kind: 'spinlock', rank: 5 },
  { name: 'zone_lock', kind: 'spinlock', rank: 6 },
];

export class LockClassTable {
  readonly specs: readonly LockClassSpec[];
  private readonly byName = new Map<string, number>();

  constructor(specs: readonly LockClassSpec[]) {
    this.specs = specs;
    specs.forEach((spec, classId) => {
      if (this.byName.has(spec.name)) throw new Error(`lock class ${spec.name} declared twice`);
      this.byName.set(spec.name, classId);
    });
  }

  get count(): number {
    return this.specs.length;
  }

  id(name: string): number {
    const classId = this.byName.get(name);
    if (classId === undefined) throw new Error(`unknown lock class ${name}`);
    return classId;
  }

  name(classId: number): string {
    const spec = this.specs[classId];
    if (spec === undefined) throw new Error(`bad lock class id ${classId}`);
    return spec.name;
  }
}
