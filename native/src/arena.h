/* A per-thread page-run arena with the model's rules (src/alloc/runs.ts), for ebizzy's copy
 * buffers: 4 MiB chunks of 4 KiB pages (6 header pages reserved), a request takes the
 * lowest-addressed dirty span that fits, else the lowest-addressed free extent that fits, else a
 * new chunk; a freed run turns dirty and joins its dirty neighbours as the newest span; when dirty
 * pages exceed active >> lg_dirty_mult (any dirty page at -1) the oldest dirty spans are purged
 * with the policy until they do not. One entirely free chunk is kept (the spare), a second is
 * unmapped. Requests above a chunk's usable pages get their own mapping. Requests of less than a
 * page take a one-page run (the model's small size classes are not modelled here: ebizzy's copy
 * buffers are large). One arena per thread, used by that thread only: no lock. */
#ifndef VRH_ARENA_H
#define VRH_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "advice.h"

#define ARENA_CHUNK_PAGES 1024u
#define ARENA_CHUNK_HEADER_PAGES 6u
#define ARENA_CHUNK_USABLE_PAGES (ARENA_CHUNK_PAGES - ARENA_CHUNK_HEADER_PAGES)
#define ARENA_CHUNKS_MAX 64u
#define ARENA_HUGE_MAX 64u

enum page_state { PG_HEADER, PG_ACTIVE, PG_DIRTY, PG_ZERO, PG_LAZY, PG_VOLATILE };

struct arena_chunk {
  char *base;
  uint8_t state[ARENA_CHUNK_PAGES];
  /* Of a dirty page: the age of its span (every page of a span carries the same). */
  uint64_t dirty_age[ARENA_CHUNK_PAGES];
  /* Of an active run's first page: the run's pages. */
  uint16_t run_pages[ARENA_CHUNK_PAGES];
  unsigned free_pages;
  unsigned dirty_pages;
};

struct arena_counters {
  uint64_t purge_passes;
  uint64_t purge_calls;
  uint64_t purge_errors;
  uint64_t pages_purged;
  uint64_t unmark_calls;
  uint64_t unmark_errors;
  uint64_t runs_from_dirty;
  uint64_t runs_from_free;
  uint64_t chunk_mmaps;
  uint64_t chunk_munmaps;
  uint64_t huge_mmaps;
};

struct arena {
  enum policy policy;
  int lg_dirty_mult;
  /* Sorted by base address. */
  struct arena_chunk *chunks[ARENA_CHUNKS_MAX];
  unsigned chunk_count;
  struct arena_chunk *spare;
  size_t active_pages;
  size_t dirty_pages;
  uint64_t age;
  struct {
    char *addr;
    size_t length;
  } huge[ARENA_HUGE_MAX];
  struct arena_counters counters;
};

void arena_init(struct arena *a, enum policy policy, int lg_dirty_mult);
/* NULL when the kernel refused memory (errno set). */
void *arena_malloc(struct arena *a, size_t size);
void arena_free(struct arena *a, void *ptr);
/* Unmaps everything. */
void arena_destroy(struct arena *a);
/* Checks the arena's counts against its page states; returns NULL or what is wrong. */
const char *arena_validate(const struct arena *a);

#endif
