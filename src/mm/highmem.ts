// Bulk copies of whole frames (include/linux/highmem.h). The one place a page is copied: the COW
// break (memory.ts) calls copyHighPage, so the arch copy primitive can replace its body alone.

import { PAGE_SIZE } from '../layout/layout.js';
import type { Kernel } from './kernel.js';

/** copy_highpage: the 4 KiB of frame src into frame dst (distinct frames). */
export function copyHighPage(k: Kernel, dst: number, src: number): void {
  if (dst === src) throw new Error(`copy_highpage: frame ${dst} onto itself`);
  const from = k.frameOffset(src);
  k.frames.copyWithin(k.frameOffset(dst), from, from + PAGE_SIZE);
}
