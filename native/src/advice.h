/* The purge policies on the real kernel: what the allocator calls when it purges a dirty run and
 * when it reuses a purged one (the model's src/alloc/purge.ts, with vmaflag standing in for vma).
 *   none       never purges
 *   dontneed   madvise(MADV_DONTNEED); reuse reads zeros
 *   madv_free  madvise(MADV_FREE); reuse needs no call
 *   vmaflag    madvise(MADV_WIPEONFORK) on purge, madvise(MADV_KEEPONFORK) on reuse: the analogue
 *              of the vma (mvolatile) design, mmap_lock for writing and a VMA split and merge;
 *              the pages keep their data (nothing is discarded outside fork). */
#ifndef VRH_ADVICE_H
#define VRH_ADVICE_H

#include <stddef.h>

enum policy { POLICY_NONE, POLICY_DONTNEED, POLICY_MADV_FREE, POLICY_VMAFLAG, POLICY_COUNT };

extern const char *const policy_names[POLICY_COUNT];

/* The policy named `name`, or -1. */
int policy_parse(const char *name);
/* NULL when the policy works here, else why not (one line). */
const char *policy_unavailable(enum policy policy);
/* The purge call for [addr, addr + length): 0 or -errno. */
int policy_purge(enum policy policy, void *addr, size_t length);
/* The reuse call for purged pages (vmaflag only): 0 or -errno. */
int policy_unmark(enum policy policy, void *addr, size_t length);

#endif
