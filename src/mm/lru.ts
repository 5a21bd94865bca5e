// Doubly linked LRU lists in shared memory (mm/swap.c's lists): oldest at the head, youngest at the
// tail. One list head record (LRU) and link fields inside the listed records; the caller holds the
// list's lock. Used for the vrange victim LRU (links in vrange nodes) and the anon and lazyfree
// page LRUs (links in struct page; mm/lruvec.ts).

import { LRU, NIL } from '../layout/layout.js';

export class LruList {
  constructor(
    readonly i32: Int32Array,
    /** Word index of the LRU head record. */
    readonly head: number,
    /** Word index of record 0 and the stride of the listed records. */
    readonly recordBase: number,
    readonly recordStride: number,
    readonly nextField: number,
    readonly prevField: number,
  ) {}

  private word(id: number, field: number): number {
    return this.recordBase + id * this.recordStride + field;
  }

  get count(): number {
    return this.i32[this.head + LRU.count];
  }

  first(): number {
    return this.i32[this.head + LRU.head];
  }

  next(id: number): number {
    return this.i32[this.word(id, this.nextField)];
  }

  /** Adds id at the young end. */
  addTail(id: number): void {
    const i32 = this.i32;
    const tail = i32[this.head + LRU.tail];
    i32[this.word(id, this.prevField)] = tail;
    i32[this.word(id, this.nextField)] = NIL;
    if (tail === NIL) i32[this.head + LRU.head] = id;
    else i32[this.word(tail, this.nextField)] = id;
    i32[this.head + LRU.tail] = id;
    i32[this.head + LRU.count]++;
  }

  remove(id: number): void {
    const i32 = this.i32;
    const prev = i32[this.word(id, this.prevField)];
    const next = i32[this.word(id, this.nextField)];
    if (prev === NIL) {
      if (i32[this.head + LRU.head] !== id) throw new Error(`lru: ${id} is not on the list`);
      i32[this.head + LRU.head] = next;
    } else {
      i32[this.word(prev, this.nextField)] = next;
    }
    if (next === NIL) i32[this.head + LRU.tail] = prev;
    else i32[this.word(next, this.prevField)] = prev;
    i32[this.word(id, this.prevField)] = NIL;
    i32[this.word(id, this.nextField)] = NIL;
    i32[this.head + LRU.count]--;
  }

  /** Moves id to the young end (it must be on the list). */
  rotate(id: number): void {
    this.remove(id);
    this.addTail(id);
  }

  /** Walks the list checking links and count; throws on corruption. */
  validate(name: string, limit: number): number {
    const i32 = this.i32;
    let prev = NIL;
    let n = 0;
    for (let id = i32[this.head + LRU.head]; id !== NIL; id = this.next(id)) {
      if (i32[this.word(id, this.prevField)] !== prev) throw new Error(`${name}: bad back link at ${id}`);
      prev = id;
      if (++n > limit) throw new Error(`${name}: cycle`);
    }
    if (i32[this.head + LRU.tail] !== prev)
      throw new Error(`${name}: tail is ${i32[this.head + LRU.tail]}, not ${prev}`);
    if (n !== this.count) throw new Error(`${name}: count ${this.count}, walked ${n}`);
    return n;
  }
}
