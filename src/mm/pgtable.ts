// Page-table entries: one 32-bit word per virtual page of an mm (a flat, statically sized table).
//
//   bit 0      PRESENT   maps a frame
//   bit 1      WRITE     writes allowed (cleared by mprotect(PROT_READ))
//   bit 2      DIRTY     written since mapped or since MADV_FREE cleared it; set by the MMU on write
//   bit 3      PURGED    not present: vrange reclaim discarded the page (a "vrange swap entry")
//   bit 4      PROTNONE  present but inaccessible (mprotect PROT_NONE): every access faults
//   bit 5      YOUNG     accessed: set by the MMU's page walk (the hardware's A bit), cleared by
//                        MADV_FREE and reclaim (ptep_test_and_clear_young)
//   bits 8-30  frame number when PRESENT
//
// PTEs change under the split page-table lock of their 512-page block; the MMU reads them with
// Atomics.load and sets YOUNG and DIRTY with compareExchange, as hardware does with a locked operation.

export const PTE_PRESENT = 1;
export const PTE_WRITE = 2;
export const PTE_DIRTY = 4;
export const PTE_PURGED = 8;
export const PTE_PROTNONE = 16;
export const PTE_YOUNG = 32;
export const PTE_FRAME_SHIFT = 8;
export const PTE_NONE = 0;

export function pteFrame(pte: number): number {
  return pte >>> PTE_FRAME_SHIFT;
}

export function mkPte(frame: number, flags: number): number {
  return (frame << PTE_FRAME_SHIFT) | flags | PTE_PRESENT;
}
