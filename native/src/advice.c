#include "platform.h"

#include "advice.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

const char *const policy_names[POLICY_COUNT] = {"none", "dontneed", "madv_free", "vmaflag"};

int policy_parse(const char *name) {
  for (int p = 0; p < POLICY_COUNT; p++)
    if (strcmp(name, policy_names[p]) == 0) return p;
  return -1;
}

const char *policy_unavailable(enum policy policy) {
  switch (policy) {
  case POLICY_MADV_FREE:
    return VRH_HAVE_MADV_FREE ? NULL : "MADV_FREE is not available on this platform (Linux 4.5+ only)";
  case POLICY_VMAFLAG:
    return VRH_HAVE_WIPEONFORK ? NULL
                               : "MADV_WIPEONFORK/MADV_KEEPONFORK are not available on this platform (Linux 4.14+ only)";
  default:
    return NULL;
  }
}

static int advise(void *addr, size_t length, int advice) {
  return madvise(addr, length, advice) == 0 ? 0 : -errno;
}

int policy_purge(enum policy policy, void *addr, size_t length) {
  switch (policy) {
  case POLICY_DONTNEED:
    return advise(addr, length, MADV_DONTNEED);
  case POLICY_MADV_FREE:
#if VRH_HAVE_MADV_FREE
    return advise(addr, length, MADV_FREE);
#else
    return -ENOSYS;
#endif
  case POLICY_VMAFLAG:
#if VRH_HAVE_WIPEONFORK
    return advise(addr, length, MADV_WIPEONFORK);
#else
    return -ENOSYS;
#endif
  default:
    assert(!"policy_purge: the policy never purges");
    return -EINVAL;
  }
}

int policy_unmark(enum policy policy, void *addr, size_t length) {
  assert(policy == POLICY_VMAFLAG);
#if VRH_HAVE_WIPEONFORK
  return advise(addr, length, MADV_KEEPONFORK);
#else
  (void)addr;
  (void)length;
  return -ENOSYS;
#endif
}
