// The shadow model a stress thread keeps of its own memory: for each page of each region it mapped,
// the byte it expects (pages are written whole, with one value), and what the kernel may have done
// to it meanwhile — nothing (normal), purge it (volatile: its data or SIGBUS), or discard it
// (lazily freed: its data or zeros). Every read, return value and signal is checked against it.

export const PAGE = 4096;

export const NORMAL = 0;
/** Marked volatile (vrange or mvolatile): reads give the data or SIGBUS (purged). */
export const VOLATILE = 1;
/** MADV_FREE'd and not written since: reads give the data or zeros (discarded). */
export const LAZY = 2;

export class Region {
  /** Expected byte of each page (0: zero-filled). */
  readonly values: Uint8Array;
  readonly states: Uint8Array;

  constructor(
    public addr: number,
    public pages: number,
    /** PROT_* of the region (all its pages share it). */
    public prot: number,
  ) {
    this.values = new Uint8Array(pages);
    this.states = new Uint8Array(pages);
  }

  get end(): number {
    return this.addr + this.pages * PAGE;
  }

  /** The pages [first, first + count) as a region of their own (after munmap or mprotect splits). */
  slice(first: number, count: number): Region {
    const part = new Region(this.addr + first * PAGE, count, this.prot);
    part.values.set(this.values.subarray(first, first + count));
    part.states.set(this.states.subarray(first, first + count));
    return part;
  }
}

/** A thread's regions, disjoint, in no particular order. */
export class Shadow {
  readonly regions: Region[] = [];

  add(region: Region): void {
    this.regions.push(region);
  }

  /** Replaces region `index` by the parts of it outside [first, first + count) (munmap). */
  cut(index: number, first: number, count: number): void {
    const region = this.regions[index];
    const parts: Region[] = [];
    if (first > 0) parts.push(region.slice(0, first));
    if (first + count < region.pages) parts.push(region.slice(first + count, region.pages - first - count));
    this.regions.splice(index, 1, ...parts);
  }

  /** Splits region `index` so that [first, first + count) becomes a region of its own; returns it. */
  isolate(index: number, first: number, count: number): Region {
    const region = this.regions[index];
    const parts: Region[] = [];
    if (first > 0) parts.push(region.slice(0, first));
    const middle = region.slice(first, count);
    parts.push(middle);
    if (first + count < region.pages) parts.push(region.slice(first + count, region.pages - first - count));
    this.regions.splice(index, 1, ...parts);
    return middle;
  }
}
