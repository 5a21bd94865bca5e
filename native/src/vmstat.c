#include "vmstat.h"

#include <stdio.h>
#include <string.h>

/* The counters a run reports (as the model's vmstat names them where the model has them). */
const char *const vmstat_names[VMSTAT_COUNTERS] = {
    "pgfault",          "pgmajfault",       "pgalloc_normal",
    "pgalloc_dma32",    "pgalloc_movable",  "pgfree",
    "pglazyfree",       "pglazyfreed",      "nr_tlb_remote_flush",
    "nr_tlb_remote_flush_received",         "nr_tlb_local_flush_all",
    "nr_tlb_local_flush_one",               "pgscan_kswapd",
    "pgscan_direct",    "pgsteal_kswapd",   "pgsteal_direct",
    "allocstall_normal", "allocstall_movable", "thp_fault_alloc",
    "thp_split_pmd",    "pgactivate",       "pgdeactivate",
    "pgrefill",
    "oom_kill",
};

void vmstat_read(struct vmstat *v) {
  memset(v, 0, sizeof *v);
  FILE *f = fopen("/proc/vmstat", "r");
  if (f == NULL) return;
  v->available = 1;
  char name[128];
  unsigned long long value;
  while (fscanf(f, "%127s %llu", name, &value) == 2) {
    for (int i = 0; i < VMSTAT_COUNTERS; i++) {
      if (strcmp(name, vmstat_names[i]) == 0) {
        v->present[i] = 1;
        v->value[i] = value;
      }
    }
  }
  fclose(f);
}

void vmstat_write_delta(struct json *j, const struct vmstat *before, const struct vmstat *after) {
  json_begin_object(j, "vmstat");
  for (int i = 0; i < VMSTAT_COUNTERS; i++) {
    if (before->present[i] && after->present[i])
      json_int(j, vmstat_names[i], (int64_t)(after->value[i] - before->value[i]));
  }
  json_end_object(j);
  json_begin_array(j, "vmstatMissing");
  for (int i = 0; i < VMSTAT_COUNTERS; i++)
    if (!(before->present[i] && after->present[i])) json_string(j, NULL, vmstat_names[i]);
  json_end_array(j);
}
