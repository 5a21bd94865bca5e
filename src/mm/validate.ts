// The whole-machine validator (validate_mm and friends), for a quiescent machine: no CPU in the
// kernel or in user mode (between runs, or with every CPU paused at a safe point).
//
// Checks: every frame is free (zone or per-CPU list) or mapped by as many PTEs as its mapcount (and
// refcount) says, and the counts add up; struct page agrees with the PTEs that map it (same page,
// same anon_vma) and the anon_vma lists agree with the mms; VMAs are sorted and disjoint and PTEs exist
// only inside them; purged markers lie only in purged volatile ranges; vrange trees have the right
// shape and augmentation and every range is on the victim LRU; every mapped page is on exactly one
// page LRU list (anon or lazyfree, as PG_LRU and PG_LAZYFREE say) or in exactly one CPU's lru_add
// batch, whose references the refcounts include, and the lists' lengths add up; no TLB holds a stale
// translation; RSS and the allocation counters add up; no lock is held.

import {
  ANON_VMA,
  CPU_PRIVATE,
  CPU_SHOOTDOWN,
  LRU_BATCH_SIZE,
  MM,
  NIL,
  PAGE,
  PAGE_SIZE,
  TLB_ENTRY,
  VRANGE_NODE,
  ZONE,
} from '../layout/layout.js';
import { LOCK_OWNER_DIED } from '../locks/mutex.js';
import { nodeLast, nodeStart, treeFirst, treeNext, treeValidate } from './interval_tree.js';
import { type Kernel, MM_LIVE, NO_MM } from './kernel.js';
import { PG_ANON, PG_FREE, PG_LAZYFREE, PG_LRU, PG_PCP } from './page_alloc.js';
import {
  PTE_DIRTY,
  PTE_NONE,
  PTE_PRESENT,
  PTE_PROTNONE,
  PTE_PURGED,
  PTE_WRITE,
  pteFrame,
} from './pgtable.js';
import { rssPages } from './procfs.js';
import { lruBatchCount, lruBatchPage } from './swap.js';
import { MMAP_MIN_ADDR } from './uapi.js';
import { VM_PURGED, VM_READ, VM_VOLATILE, VM_WRITE, vmaCount, vmaEnd, vmaFlags, vmaStart } from './vma.js';
import { VM } from './vmstat.js';
import { nodeWord, VR_PURGED, vrangePool, vrangeTree } from './vrange.js';

export class ValidationError extends Error {
  override name = 'ValidationError';
  constructor(readonly problems: string[]) {
    super(
      `machine validation failed:\n  ${problems.slice(0, 20).join('\n  ')}${problems.length > 20 ? `\n  ... ${problems.length - 20} more` : ''}`,
    );
  }
}

export interface ValidationSummary {
  freeFrames: number;
  pcpFrames: number;
  mappedFrames: number;
  totalFrames: number;
  vranges: number;
  lazyfreePages: number;
  anonLruPages: number;
  /** Pages in the CPUs' lru_add batches. */
  lruBatchPages: number;
  /** Of those, pages no PTE maps any more: the batch's reference keeps them until it drains. */
  batchOnlyFrames: number;
}

const MAX_PROBLEMS = 1000;

class Problems {
  readonly list: string[] = [];
  add(text: string): void {
    if (this.list.length < MAX_PROBLEMS) this.list.push(text);
  }
}

export function validateMachine(k: Kernel): ValidationSummary {
  const p = new Problems();
  const owner = new Int32Array(k.geometry.frames).fill(-1); // -1 unseen, -2 free, else first mm mapping it
  const ptes = new Int32Array(k.geometry.frames); // PTEs mapping each frame
  const freeFrames = checkZone(k, p, owner);
  const pcpFrames = checkPcp(k, p, owner);
  let mappedFrames = 0;
  let vranges = 0;
  for (let mm = 0; mm < k.config.maxProcesses; mm++) {
    if (Atomics.load(k.i32, k.mmWord(mm, MM.state)) !== MM_LIVE) continue;
    checkVmas(k, p, mm);
    vranges += checkVranges(k, p, mm);
    mappedFrames += checkPtes(k, p, mm, owner, ptes);
  }
  const batched = new Int32Array(k.geometry.frames); // references the lru_add batches hold
  const lruBatchPages = checkLruBatches(k, p, owner, batched);
  let batchOnlyFrames = 0;
  for (let frame = 0; frame < k.geometry.frames; frame++) {
    if (owner[frame] !== -1 || batched[frame] === 0) continue;
    owner[frame] = BATCH_ONLY;
    batchOnlyFrames++;
  }
  checkPageCounts(k, p, ptes, batched);
  checkAnonVmas(k, p);
  const [anonLruPages, lazyfreePages] = checkLru(k, p, owner, ptes, batched, vranges);
  for (let frame = 0; frame < k.geometry.frames; frame++) {
    if (owner[frame] === -1) p.add(`frame ${frame} is neither free nor mapped (leaked)`);
  }
  const total = k.geometry.frames;
  if (freeFrames + pcpFrames + mappedFrames + batchOnlyFrames !== total) {
    p.add(
      `frames: free ${freeFrames} + per-cpu ${pcpFrames} + mapped ${mappedFrames} + in LRU batches only ${batchOnlyFrames} != total ${total}`,
    );
  }
  checkTlbs(k, p);
  checkCounters(k, p, mappedFrames + batchOnlyFrames);
  checkLocks(k, p);
  if (p.list.length > 0) throw new ValidationError(p.list);
  return {
    freeFrames,
    pcpFrames,
    mappedFrames,
    totalFrames: total,
    vranges,
    lazyfreePages,
    anonLruPages,
    lruBatchPages,
    batchOnlyFrames,
  };
}

/** owner[] of a frame no PTE maps that a CPU's lru_add batch still holds. */
const BATCH_ONLY = -3;

/**
 * The CPUs' lru_add batches: at most LRU_BATCH_SIZE pages each, anonymous, not free, not on the LRU.
 * Counts each frame's batch references into `batched`; returns the pages they hold.
 */
function checkLruBatches(k: Kernel, p: Problems, owner: Int32Array, batched: Int32Array): number {
  let total = 0;
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) {
    const nr = lruBatchCount(k, cpu);
    if (nr < 0 || nr >= LRU_BATCH_SIZE) {
      p.add(`cpu ${cpu} lru_add batch holds ${nr} pages (a full one is moved at ${LRU_BATCH_SIZE})`);
      continue;
    }
    for (let i = 0; i < nr; i++) {
      const frame = lruBatchPage(k, cpu, i);
      if (frame < 0 || frame >= owner.length) {
        p.add(`cpu ${cpu} lru_add batch: frame ${frame} out of range`);
        continue;
      }
      const flags = k.i32[k.pageWord(frame, PAGE.flags)];
      if (owner[frame] === -2 || (flags & PG_ANON) === 0 || (flags & PG_LRU) !== 0)
        p.add(`cpu ${cpu} lru_add batch: frame ${frame} has flags ${flags}`);
      batched[frame]++;
      total++;
    }
  }
  return total;
}

function claim(p: Problems, owner: Int32Array, frame: number, as: number, where: string): void {
  if (frame < 0 || frame >= owner.length) {
    p.add(`${where}: frame ${frame} out of range`);
    return;
  }
  if (owner[frame] !== -1)
    p.add(
      `${where}: frame ${frame} seen twice (also ${owner[frame] === -2 ? 'free' : `in mm ${owner[frame]}`})`,
    );
  owner[frame] = as;
}

function checkZone(k: Kernel, p: Problems, owner: Int32Array): number {
  const i32 = k.i32;
  let n = 0;
  for (let frame = i32[k.zoneWord(ZONE.freeHead)]; frame !== NIL; frame = i32[k.pageWord(frame, PAGE.next)]) {
    if (n++ > k.geometry.frames) {
      p.add('zone free list has a cycle');
      break;
    }
    if (i32[k.pageWord(frame, PAGE.flags)] !== PG_FREE)
      p.add(`zone free frame ${frame} has flags ${i32[k.pageWord(frame, PAGE.flags)]}`);
    claim(p, owner, frame, -2, 'zone free list');
  }
  if (n !== i32[k.zoneWord(ZONE.nrFree)])
    p.add(`zone nrFree ${i32[k.zoneWord(ZONE.nrFree)]} but ${n} frames on its list`);
  return n;
}

function checkPcp(k: Kernel, p: Problems, owner: Int32Array): number {
  const i32 = k.i32;
  let total = 0;
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) {
    let n = 0;
    for (
      let frame = i32[k.privWord(cpu, CPU_PRIVATE.pcpHead)];
      frame !== NIL;
      frame = i32[k.pageWord(frame, PAGE.next)]
    ) {
      if (n++ > k.geometry.frames) {
        p.add(`cpu ${cpu} page list has a cycle`);
        break;
      }
      if (i32[k.pageWord(frame, PAGE.flags)] !== (PG_FREE | PG_PCP))
        p.add(`cpu ${cpu} list frame ${frame} has flags ${i32[k.pageWord(frame, PAGE.flags)]}`);
      claim(p, owner, frame, -2, `cpu ${cpu} page list`);
    }
    if (n !== i32[k.privWord(cpu, CPU_PRIVATE.pcpCount)])
      p.add(`cpu ${cpu} pcp count ${i32[k.privWord(cpu, CPU_PRIVATE.pcpCount)]} but ${n} on its list`);
    total += n;
  }
  return total;
}

function checkVmas(k: Kernel, p: Problems, mm: number): void {
  const floor = MMAP_MIN_ADDR / PAGE_SIZE;
  let previousEnd = floor;
  let volatile = 0;
  for (let index = 0; index < vmaCount(k, mm); index++) {
    const start = vmaStart(k, mm, index);
    const end = vmaEnd(k, mm, index);
    if (!(start < end)) p.add(`mm ${mm} vma ${index}: empty [${start}, ${end})`);
    if (start < previousEnd)
      p.add(`mm ${mm} vma ${index} at ${start} overlaps or precedes the one before (ends ${previousEnd})`);
    if (end > k.geometry.vaPages) p.add(`mm ${mm} vma ${index} ends past the address space`);
    if ((vmaFlags(k, mm, index) & VM_VOLATILE) !== 0) volatile++;
    previousEnd = end;
  }
  if (volatile !== k.i32[k.mmWord(mm, MM.volatileVmas)])
    p.add(`mm ${mm}: volatileVmas says ${k.i32[k.mmWord(mm, MM.volatileVmas)]}, table has ${volatile}`);
}

/** Purged vrange spans of mm, for the marker check. */
function purgedSpans(k: Kernel, mm: number): [number, number][] {
  const spans: [number, number][] = [];
  const pool = vrangePool(k, mm);
  for (let n = pool.firstNode; n < pool.firstNode + pool.nodeCount; n++) {
    if (k.i32[nodeWord(k, n, VRANGE_NODE.color)] > 1) continue; // free or detached
    if ((k.i32[nodeWord(k, n, VRANGE_NODE.flags)] & VR_PURGED) !== 0) {
      spans.push([k.i32[nodeWord(k, n, VRANGE_NODE.start)], k.i32[nodeWord(k, n, VRANGE_NODE.last)]]);
    }
  }
  return spans;
}

function checkPtes(k: Kernel, p: Problems, mm: number, owner: Int32Array, ptes: Int32Array): number {
  const i32 = k.i32;
  const spans = purgedSpans(k, mm);
  // Frames this mm is the first (in mm order) to map, and PTEs mapping a frame.
  let mapped = 0;
  let ptesOfMm = 0;
  let index = 0;
  const count = vmaCount(k, mm);
  for (let vpn = 0; vpn < k.geometry.vaPages; vpn++) {
    const pte = i32[k.pteWord(mm, vpn)];
    if (pte === PTE_NONE) continue;
    while (index < count && vmaEnd(k, mm, index) <= vpn) index++;
    const inVma = index < count && vmaStart(k, mm, index) <= vpn;
    if (!inVma) {
      p.add(`mm ${mm} page 0x${vpn.toString(16)}: PTE ${pte} outside every VMA`);
      continue;
    }
    if ((pte & PTE_PRESENT) === 0) {
      if (pte !== PTE_PURGED) {
        p.add(`mm ${mm} page 0x${vpn.toString(16)}: bad non-present PTE ${pte}`);
        continue;
      }
      const flags = vmaFlags(k, mm, index);
      const vmaPurged = (flags & (VM_VOLATILE | VM_PURGED)) === (VM_VOLATILE | VM_PURGED);
      if (!vmaPurged && !spans.some(([s, l]) => s <= vpn && vpn <= l)) {
        p.add(`mm ${mm} page 0x${vpn.toString(16)}: purged marker outside any purged volatile range`);
      }
      continue;
    }
    const frame = pteFrame(pte);
    const where = `mm ${mm} page 0x${vpn.toString(16)}`;
    if (frame >= owner.length) {
      p.add(`${where}: frame ${frame} out of range`);
      continue;
    }
    if (owner[frame] === -2) p.add(`${where}: maps frame ${frame}, which is free`);
    else if (owner[frame] === -1) {
      owner[frame] = mm;
      mapped++;
    }
    ptes[frame]++;
    const flags = i32[k.pageWord(frame, PAGE.flags)];
    if ((flags & PG_ANON) === 0 || (flags & (PG_FREE | PG_PCP)) !== 0)
      p.add(`mm ${mm} maps frame ${frame} with page flags ${flags}`);
    // rmap: every mapping of a frame is at its vpn, in an mm of its anon_vma.
    if (i32[k.pageWord(frame, PAGE.vpn)] !== vpn)
      p.add(
        `frame ${frame}: struct page says page ${i32[k.pageWord(frame, PAGE.vpn)]}, PTE of ${where} maps it`,
      );
    if (i32[k.pageWord(frame, PAGE.anonVma)] !== i32[k.mmWord(mm, MM.anonVma)])
      p.add(
        `frame ${frame}: anon_vma ${i32[k.pageWord(frame, PAGE.anonVma)]}, but ${where} of anon_vma ${i32[k.mmWord(mm, MM.anonVma)]} maps it`,
      );
    ptesOfMm++;
    const vmFlags = vmaFlags(k, mm, index);
    if ((pte & PTE_WRITE) !== 0 && (vmFlags & VM_WRITE) === 0)
      p.add(`mm ${mm} page 0x${vpn.toString(16)}: writable PTE in a read-only VMA`);
    if ((pte & PTE_PROTNONE) === 0 && (vmFlags & VM_READ) === 0)
      p.add(`mm ${mm} page 0x${vpn.toString(16)}: accessible PTE in a PROT_NONE VMA`);
  }
  const rss = rssPages(k, mm);
  if (rss !== ptesOfMm) p.add(`mm ${mm}: RSS counters say ${rss} pages, page table maps ${ptesOfMm}`);
  return mapped;
}

/**
 * Every mapped frame's mapcount equals the PTEs mapping it, and (nothing being in flight) its
 * refcount is that plus the lru_add batches' references; every free frame has both at zero; a
 * lazyfree frame is mapped once.
 */
function checkPageCounts(k: Kernel, p: Problems, ptes: Int32Array, batched: Int32Array): void {
  const i32 = k.i32;
  for (let frame = 0; frame < ptes.length; frame++) {
    const mapcount = i32[k.pageWord(frame, PAGE.mapcount)];
    const refcount = i32[k.pageWord(frame, PAGE.refcount)];
    if (mapcount !== ptes[frame])
      p.add(`frame ${frame}: mapcount ${mapcount}, mapped by ${ptes[frame]} PTEs`);
    if (refcount !== ptes[frame] + batched[frame])
      p.add(
        `frame ${frame}: refcount ${refcount} with ${ptes[frame]} mappings, ${batched[frame]} LRU batch references and nothing in flight`,
      );
    if ((i32[k.pageWord(frame, PAGE.flags)] & PG_LAZYFREE) !== 0 && ptes[frame] !== 1)
      p.add(`lazyfree frame ${frame} is mapped ${ptes[frame]} times`);
  }
}

/** rmap: each anon_vma's member list holds exactly the mms that say they are on it. */
function checkAnonVmas(k: Kernel, p: Problems): void {
  const i32 = k.i32;
  const seen = new Int32Array(k.config.maxProcesses);
  for (let av = 0; av < k.config.maxProcesses; av++) {
    const members = i32[k.anonVmaWord(av, ANON_VMA.members)];
    let n = 0;
    for (let mm = i32[k.anonVmaWord(av, ANON_VMA.head)]; mm !== NIL; mm = i32[k.mmWord(mm, MM.anonVmaNext)]) {
      if (n++ > k.config.maxProcesses) {
        p.add(`anon_vma ${av}: member list has a cycle`);
        break;
      }
      seen[mm]++;
      if (i32[k.mmWord(mm, MM.anonVma)] !== av)
        p.add(`anon_vma ${av} lists mm ${mm}, which says anon_vma ${i32[k.mmWord(mm, MM.anonVma)]}`);
      if (Atomics.load(i32, k.mmWord(mm, MM.state)) !== MM_LIVE)
        p.add(`anon_vma ${av} lists mm ${mm}, not live`);
    }
    if (n !== members) p.add(`anon_vma ${av}: members says ${members}, list has ${n}`);
  }
  for (let mm = 0; mm < k.config.maxProcesses; mm++) {
    const live = Atomics.load(i32, k.mmWord(mm, MM.state)) === MM_LIVE;
    if (live && seen[mm] !== 1) p.add(`mm ${mm} is on ${seen[mm]} anon_vma lists`);
    if (!live && i32[k.mmWord(mm, MM.anonVma)] !== NIL) p.add(`free mm ${mm} still has anon_vma`);
  }
}

function checkVranges(k: Kernel, p: Problems, mm: number): number {
  const t = vrangeTree(k, mm);
  try {
    treeValidate(t, vrangePool(k, mm));
  } catch (error) {
    p.add(`mm ${mm} vrange tree: ${(error as Error).message}`);
    return 0;
  }
  let n = 0;
  let previousLast = -2;
  // Ranges are disjoint; the lab's rules also merge adjacent ones, v7's leave them apart.
  const gap = k.config.vrangeVariant === 'v7' ? 0 : 1;
  for (let node = treeFirst(t); node !== NIL; node = treeNext(t, node)) {
    const start = nodeStart(t, node);
    const last = nodeLast(t, node);
    if (start <= previousLast + gap) p.add(`mm ${mm}: vranges not merged or overlapping at ${start}`);
    if (k.i32[nodeWord(k, node, VRANGE_NODE.mm)] !== mm)
      p.add(`mm ${mm}: vrange node ${node} says mm ${k.i32[nodeWord(k, node, VRANGE_NODE.mm)]}`);
    previousLast = last;
    n++;
  }
  if (n !== k.i32[k.mmWord(mm, MM.vrangeCount)])
    p.add(`mm ${mm}: vrangeCount ${k.i32[k.mmWord(mm, MM.vrangeCount)]}, tree has ${n}`);
  return n;
}

/**
 * The vrange victim LRU holds every range; the page LRUs are well linked, hold only mapped
 * anonymous pages flagged for the list they are on, and with the batches hold every mapped page
 * exactly once. Returns [anon, lazyfree] list lengths.
 */
function checkLru(
  k: Kernel,
  p: Problems,
  owner: Int32Array,
  ptes: Int32Array,
  batched: Int32Array,
  vranges: number,
): [number, number] {
  const i32 = k.i32;
  const onList = new Int32Array(k.geometry.frames);
  const lengths: [number, number] = [0, 0];
  try {
    const onLru = k.vrangeLruList.validate('vrange LRU', k.config.maxProcesses * k.config.vrangeNodesPerMm);
    if (onLru !== vranges) p.add(`vrange LRU holds ${onLru} ranges, trees hold ${vranges}`);
  } catch (error) {
    p.add((error as Error).message);
  }
  const lists = [
    ['anon LRU', k.anonLruList, 0],
    ['lazyfree LRU', k.lazyfreeLruList, PG_LAZYFREE],
  ] as const;
  lists.forEach(([name, lru, lazy], which) => {
    try {
      lengths[which] = lru.validate(name, k.geometry.frames);
    } catch (error) {
      p.add((error as Error).message);
      return;
    }
    for (let frame = lru.first(); frame !== NIL; frame = lru.next(frame)) {
      const flags = i32[k.pageWord(frame, PAGE.flags)];
      if ((flags & (PG_LRU | PG_ANON | PG_LAZYFREE)) !== (PG_LRU | PG_ANON | lazy))
        p.add(`${name} frame ${frame} has flags ${flags}`);
      if (owner[frame] < 0) p.add(`${name} frame ${frame} is not mapped`);
      onList[frame]++;
    }
  });
  let flaggedLru = 0;
  for (let frame = 0; frame < k.geometry.frames; frame++) {
    const flags = i32[k.pageWord(frame, PAGE.flags)];
    if ((flags & PG_LRU) !== 0) flaggedLru++;
    if ((flags & PG_LAZYFREE) !== 0 && (flags & PG_LRU) === 0)
      p.add(`frame ${frame} flagged lazyfree but not on the LRU`);
    if (ptes[frame] > 0 && onList[frame] + batched[frame] !== 1)
      p.add(
        `mapped frame ${frame} is on ${onList[frame]} LRU lists and in ${batched[frame]} LRU batches, not exactly one`,
      );
  }
  if (flaggedLru !== lengths[0] + lengths[1])
    p.add(`${flaggedLru} frames flagged PG_LRU, the LRU lists hold ${lengths[0]} + ${lengths[1]}`);
  return lengths;
}

function checkTlbs(k: Kernel, p: Problems): void {
  const i32 = k.i32;
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) {
    if (i32[k.shootWord(cpu, CPU_SHOOTDOWN.activeMm)] !== NO_MM)
      p.add(`cpu ${cpu} is in user mode of mm ${i32[k.shootWord(cpu, CPU_SHOOTDOWN.activeMm)]}`);
    const mm = i32[k.privWord(cpu, CPU_PRIVATE.tlbMm)];
    if (mm === NO_MM) continue;
    // Entries that will be flushed before use are allowed to be stale.
    if (i32[k.privWord(cpu, CPU_PRIVATE.tlbGenSeen)] !== i32[k.tlbGenWord(mm)]) continue;
    if (i32[k.shootWord(cpu, CPU_SHOOTDOWN.flushReq)] !== i32[k.shootWord(cpu, CPU_SHOOTDOWN.flushAck)])
      continue;
    for (let slot = 0; slot < k.geometry.tlbEntries; slot++) {
      const vpn = i32[k.tlbWord(cpu, slot, TLB_ENTRY.vpn)];
      if (vpn === -1) continue;
      const cached = i32[k.tlbWord(cpu, slot, TLB_ENTRY.pte)];
      const pte = i32[k.pteWord(mm, vpn)];
      const frame = pteFrame(cached);
      const where = `cpu ${cpu} TLB entry for mm ${mm} page 0x${vpn.toString(16)}`;
      if ((pte & PTE_PRESENT) === 0 || pteFrame(pte) !== frame)
        p.add(`${where}: stale, maps frame ${frame}, PTE is ${pte}`);
      else if ((cached & PTE_WRITE) !== 0 && (pte & PTE_WRITE) === 0)
        p.add(`${where}: writable, PTE is read-only`);
      else if ((cached & PTE_DIRTY) !== 0 && (pte & PTE_DIRTY) === 0) p.add(`${where}: dirty, PTE is clean`);
      else if (i32[k.tlbWord(cpu, slot, TLB_ENTRY.gen)] !== i32[k.pageWord(frame, PAGE.gen)])
        p.add(`${where}: frame generation moved on`);
    }
  }
}

function checkCounters(k: Kernel, p: Problems, mapped: number): void {
  let allocated = 0;
  let freed = 0;
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) {
    allocated += k.f64[k.vmstatIndex(cpu, VM.pgalloc)];
    freed += k.f64[k.vmstatIndex(cpu, VM.pgfree)];
  }
  if (allocated - freed !== mapped)
    p.add(`vmstat: pgalloc ${allocated} - pgfree ${freed} != mapped frames ${mapped}`);
}

function checkLocks(k: Kernel, p: Problems): void {
  for (let cpu = 0; cpu < k.geometry.cpuSlots; cpu++) {
    const held = k.dom.describeHeld(cpu);
    if (held !== 'no locks') p.add(`cpu ${cpu} holds ${held}`);
  }
  for (let mm = 0; mm < k.config.maxProcesses; mm++) {
    if (k.mmapSems[mm].count() !== 0) p.add(`mm ${mm} mmap_sem count is ${k.mmapSems[mm].count()}`);
    if (k.vrangeLocks[mm].isLocked()) p.add(`mm ${mm} vrange_lock is held`);
    if ((Atomics.load(k.i32, k.vrangeLocks[mm].stateWord) & LOCK_OWNER_DIED) !== 0)
      p.add(`mm ${mm} vrange_lock owner died`);
  }
  for (const lock of [k.zoneLock, k.vrangeLruLock, k.lruLock, ...k.pcpLocks]) {
    if (lock.isLocked()) p.add(`${k.classes.name(lock.classId)} @${lock.word} is held`);
  }
}
