/* /proc/vmstat before and after a run: the increases of the event counters that exist on this
 * kernel (nr_tlb_* only exist with CONFIG_DEBUG_TLBFLUSH; other platforms have no /proc/vmstat). */
#ifndef VRH_VMSTAT_H
#define VRH_VMSTAT_H

#include <stdint.h>

#include "json.h"

#define VMSTAT_COUNTERS 24

struct vmstat {
  /* 0: /proc/vmstat could not be read. */
  int available;
  /* present[i]: counter i exists on this kernel. */
  int present[VMSTAT_COUNTERS];
  uint64_t value[VMSTAT_COUNTERS];
};

extern const char *const vmstat_names[VMSTAT_COUNTERS];

void vmstat_read(struct vmstat *v);
/* "vmstat": {name: after - before, ...} of the counters present; "vmstatMissing": [names]. */
void vmstat_write_delta(struct json *j, const struct vmstat *before, const struct vmstat *after);

#endif
