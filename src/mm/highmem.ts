// The kernel's page-sized byte work by frame number (include/linux/highmem.h's clear_highpage and
// copy_highpage): checks the frame numbers, then hands the bytes to the arch primitives.

import { ArchRangeError } from '../arch/index.js';
import type { Kernel } from './kernel.js';

function checkFrame(op: string, k: Kernel, frame: number): void {
  if (!(Number.isInteger(frame) && frame >= 0 && frame < k.geometry.frames))
    throw new ArchRangeError(
      `${op}: no frame ${frame} (the machine has ${k.geometry.frames}) (a kernel bug)`,
    );
}

/** copy_page: frame srcFrame's 4 KiB into frame dstFrame (copy-on-write). */
export function copyPage(k: Kernel, dstFrame: number, srcFrame: number): void {
  checkFrame('copy_page', k, dstFrame);
  checkFrame('copy_page', k, srcFrame);
  k.arch.copyPage(k.frameOffset(dstFrame), k.frameOffset(srcFrame));
}

/** clear_page: zeroes frame `frame`. */
export function clearPage(k: Kernel, frame: number): void {
  checkFrame('clear_page', k, frame);
  k.arch.clearPage(k.frameOffset(frame));
}
