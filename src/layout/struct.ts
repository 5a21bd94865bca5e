// Struct and region declaration machinery for the shared buffer.
//
// Every record that lives in the SharedArrayBuffer is declared with defineStruct: a list of 32-bit
// field names, giving each field's word index and the record's stride in words. Records that other
// CPUs write to (lock words, flush requests) are declared cacheLine: their stride is a whole number
// of 64-byte lines so that no two of them share a line (no false sharing between CPUs).

export const CACHE_LINE_BYTES = 64;
export const WORD_BYTES = 4;
export const WORDS_PER_LINE = CACHE_LINE_BYTES / WORD_BYTES;

export type Struct<F extends string> = { readonly [K in F]: number } & {
  /** Record size in 32-bit words. */
  readonly STRIDE: number;
  readonly NAME: string;
  readonly FIELDS: readonly F[];
};

export function defineStruct<const F extends string>(
  name: string,
  fields: readonly F[],
  options: { cacheLine?: boolean } = {},
): Struct<F> {
  const out: Record<string, unknown> = { NAME: name, FIELDS: fields };
  const seen = new Set<string>();
  fields.forEach((field, wordIndex) => {
    if (seen.has(field)) throw new Error(`struct ${name}: duplicate field ${field}`);
    seen.add(field);
    out[field] = wordIndex;
  });
  let stride = fields.length;
  if (options.cacheLine) stride = Math.ceil(stride / WORDS_PER_LINE) * WORDS_PER_LINE;
  out.STRIDE = stride;
  return Object.freeze(out) as Struct<F>;
}

export interface Region {
  readonly name: string;
  readonly byteOffset: number;
  readonly byteLength: number;
  /** The region's words are contended by several CPUs: it must start on a cache line. */
  readonly cacheLine: boolean;
}

/** Lays regions out one after another, each aligned, and checks the result. */
export class LayoutBuilder {
  private readonly regions: Region[] = [];
  private cursorBytes = 0;

  region(name: string, byteLength: number, options: { align?: number; cacheLine?: boolean } = {}): Region {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new Error(`layout: region ${name} has bad length ${byteLength}`);
    }
    const cacheLine = options.cacheLine ?? true;
    const align = Math.max(options.align ?? 8, cacheLine ? CACHE_LINE_BYTES : 8);
    const byteOffset = Math.ceil(this.cursorBytes / align) * align;
    const region: Region = { name, byteOffset, byteLength, cacheLine };
    this.regions.push(region);
    this.cursorBytes = byteOffset + byteLength;
    return region;
  }

  /** A region holding `count` records of `struct`. */
  records(
    name: string,
    struct: { readonly STRIDE: number },
    count: number,
    options: { cacheLine?: boolean } = {},
  ): Region {
    return this.region(name, struct.STRIDE * WORD_BYTES * count, options);
  }

  finish(): { regions: readonly Region[]; byteLength: number } {
    const byteLength = Math.ceil(this.cursorBytes / CACHE_LINE_BYTES) * CACHE_LINE_BYTES;
    checkLayout(this.regions, byteLength);
    return { regions: [...this.regions], byteLength };
  }
}

/** The load-time self-check: alignment, no overlap, everything inside the buffer. */
export function checkLayout(regions: readonly Region[], byteLength: number): void {
  const sorted = [...regions].sort((a, b) => a.byteOffset - b.byteOffset);
  let end = 0;
  let previous = '(start)';
  for (const region of sorted) {
    if (region.byteOffset % 8 !== 0) throw new Error(`layout: ${region.name} is not 8-byte aligned`);
    if (region.cacheLine && region.byteOffset % CACHE_LINE_BYTES !== 0) {
      throw new Error(`layout: contended region ${region.name} does not start on a cache line`);
    }
    if (region.byteOffset < end) throw new Error(`layout: ${region.name} overlaps ${previous}`);
    end = region.byteOffset + region.byteLength;
    previous = region.name;
  }
  if (end > byteLength) throw new Error(`layout: regions end at ${end}, past the buffer (${byteLength})`);
}
