#include "platform.h"

#include "arena.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES ((size_t)ARENA_CHUNK_PAGES * VRH_PAGE_SIZE)

static int is_free_state(uint8_t s) { return s == PG_DIRTY || s == PG_ZERO || s == PG_LAZY || s == PG_VOLATILE; }

static char *page_addr(const struct arena_chunk *c, unsigned page) { return c->base + (size_t)page * VRH_PAGE_SIZE; }

/* The state a purged page is left in. */
static uint8_t purged_state(enum policy policy) {
  switch (policy) {
  case POLICY_DONTNEED:
    return PG_ZERO;
  case POLICY_MADV_FREE:
    return PG_LAZY;
  case POLICY_VMAFLAG:
    return PG_VOLATILE;
  default:
    abort();
  }
}

void arena_init(struct arena *a, enum policy policy, int lg_dirty_mult) {
  assert(lg_dirty_mult >= -1 && lg_dirty_mult <= 30);
  memset(a, 0, sizeof *a);
  a->policy = policy;
  a->lg_dirty_mult = lg_dirty_mult;
}

static struct arena_chunk *chunk_alloc(struct arena *a) {
  if (a->chunk_count == ARENA_CHUNKS_MAX) {
    errno = ENOMEM;
    return NULL;
  }
  void *base = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return NULL;
  struct arena_chunk *c = calloc(1, sizeof *c);
  if (c == NULL) {
    munmap(base, CHUNK_BYTES);
    errno = ENOMEM;
    return NULL;
  }
  c->base = base;
  memset(c->state, PG_HEADER, ARENA_CHUNK_HEADER_PAGES);
  memset(c->state + ARENA_CHUNK_HEADER_PAGES, PG_ZERO, ARENA_CHUNK_USABLE_PAGES);
  c->free_pages = ARENA_CHUNK_USABLE_PAGES;
  unsigned at = a->chunk_count;
  while (at > 0 && a->chunks[at - 1]->base > c->base) {
    a->chunks[at] = a->chunks[at - 1];
    at--;
  }
  a->chunks[at] = c;
  a->chunk_count++;
  a->counters.chunk_mmaps++;
  return c;
}

/* The end of the maximal run of pages from `page` on whose state satisfies `pred`. */
static unsigned run_end(const struct arena_chunk *c, unsigned page, int (*pred)(uint8_t)) {
  while (page < ARENA_CHUNK_PAGES && pred(c->state[page])) page++;
  return page;
}

static int is_dirty(uint8_t s) { return s == PG_DIRTY; }

/* Lowest-addressed stretch of `pages` pages satisfying `pred` that starts a maximal run. */
static int first_fit(struct arena *a, unsigned pages, int (*pred)(uint8_t), int dirty_only,
                     struct arena_chunk **chunk, unsigned *first) {
  for (unsigned i = 0; i < a->chunk_count; i++) {
    struct arena_chunk *c = a->chunks[i];
    if (dirty_only ? c->dirty_pages < pages : c->free_pages < pages) continue;
    for (unsigned page = ARENA_CHUNK_HEADER_PAGES; page < ARENA_CHUNK_PAGES;) {
      if (!pred(c->state[page])) {
        page++;
        continue;
      }
      unsigned end = run_end(c, page, pred);
      if (end - page >= pages) {
        *chunk = c;
        *first = page;
        return 1;
      }
      page = end;
    }
  }
  return 0;
}

/* KEEPONFORK on every volatile stretch of [first, end) before the pages are handed out. A failure
 * leaves the stretch volatile and fails the allocation (nothing was handed out). */
static int unmark_volatile(struct arena *a, struct arena_chunk *c, unsigned first, unsigned end) {
  for (unsigned page = first; page < end;) {
    if (c->state[page] != PG_VOLATILE) {
      page++;
      continue;
    }
    unsigned stop = page;
    while (stop < end && c->state[stop] == PG_VOLATILE) stop++;
    int ret = policy_unmark(a->policy, page_addr(c, page), (size_t)(stop - page) * VRH_PAGE_SIZE);
    a->counters.unmark_calls++;
    if (ret != 0) {
      a->counters.unmark_errors++;
      errno = -ret;
      return -1;
    }
    /* KEEPONFORK leaves the pages as they were (data intact); carve() makes them active. Should a
     * later stretch fail, these stay free pages whose content is simply not known. */
    memset(c->state + page, PG_ZERO, stop - page);
    page = stop;
  }
  return 0;
}

static void carve(struct arena *a, struct arena_chunk *c, unsigned first, unsigned pages) {
  unsigned end = first + pages;
  for (unsigned page = first; page < end; page++) {
    assert(is_free_state(c->state[page]));
    if (c->state[page] == PG_DIRTY) {
      c->dirty_pages--;
      a->dirty_pages--;
    }
    c->state[page] = PG_ACTIVE;
  }
  c->run_pages[first] = (uint16_t)pages;
  c->free_pages -= pages;
  a->active_pages += pages;
  if (c == a->spare) a->spare = NULL;
}

static void *huge_alloc(struct arena *a, size_t size) {
  size_t length = (size + VRH_PAGE_SIZE - 1) / VRH_PAGE_SIZE * VRH_PAGE_SIZE;
  for (unsigned i = 0; i < ARENA_HUGE_MAX; i++) {
    if (a->huge[i].addr != NULL) continue;
    void *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    a->huge[i].addr = p;
    a->huge[i].length = length;
    a->counters.huge_mmaps++;
    return p;
  }
  errno = ENOMEM;
  return NULL;
}

void *arena_malloc(struct arena *a, size_t size) {
  assert(size > 0);
  size_t pages = (size + VRH_PAGE_SIZE - 1) / VRH_PAGE_SIZE;
  if (pages > ARENA_CHUNK_USABLE_PAGES) return huge_alloc(a, size);
  struct arena_chunk *c;
  unsigned first;
  if (first_fit(a, (unsigned)pages, is_dirty, 1, &c, &first)) {
    a->counters.runs_from_dirty++;
  } else if (first_fit(a, (unsigned)pages, is_free_state, 0, &c, &first)) {
    a->counters.runs_from_free++;
  } else {
    c = chunk_alloc(a);
    if (c == NULL) return NULL;
    first = ARENA_CHUNK_HEADER_PAGES;
    a->counters.runs_from_free++;
  }
  if (a->policy == POLICY_VMAFLAG && unmark_volatile(a, c, first, first + (unsigned)pages) != 0) return NULL;
  carve(a, c, first, (unsigned)pages);
  return page_addr(c, first);
}

/* Every page of the maximal dirty span around `page` gets age `age` (joining makes it newest). */
static void span_set_age(struct arena_chunk *c, unsigned page, uint64_t age) {
  unsigned first = page;
  while (first > ARENA_CHUNK_HEADER_PAGES && c->state[first - 1] == PG_DIRTY) first--;
  unsigned end = run_end(c, page, is_dirty);
  for (unsigned p = first; p < end; p++) c->dirty_age[p] = age;
}

/* The oldest dirty span over all chunks. */
static int oldest_span(struct arena *a, struct arena_chunk **chunk, unsigned *first, unsigned *end) {
  int found = 0;
  uint64_t best = UINT64_MAX;
  for (unsigned i = 0; i < a->chunk_count; i++) {
    struct arena_chunk *c = a->chunks[i];
    if (c->dirty_pages == 0) continue;
    for (unsigned page = ARENA_CHUNK_HEADER_PAGES; page < ARENA_CHUNK_PAGES;) {
      if (c->state[page] != PG_DIRTY) {
        page++;
        continue;
      }
      unsigned stop = run_end(c, page, is_dirty);
      if (c->dirty_age[page] < best) {
        best = c->dirty_age[page];
        *chunk = c;
        *first = page;
        *end = stop;
        found = 1;
      }
      page = stop;
    }
  }
  return found;
}

/* Purges whole dirty spans, oldest first, until at most `target` dirty pages are left. */
static void purge(struct arena *a, size_t target) {
  uint8_t state = purged_state(a->policy);
  a->counters.purge_passes++;
  while (a->dirty_pages > target) {
    struct arena_chunk *c = NULL;
    unsigned first = 0, end = 0;
    int found = oldest_span(a, &c, &first, &end);
    assert(found);
    (void)found;
    int ret = policy_purge(a->policy, page_addr(c, first), (size_t)(end - first) * VRH_PAGE_SIZE);
    a->counters.purge_calls++;
    if (ret != 0) {
      /* The pages stay dirty; the span goes to the young end so the next pass tries others first. */
      a->counters.purge_errors++;
      span_set_age(c, first, ++a->age);
      return;
    }
    a->counters.pages_purged += end - first;
    memset(c->state + first, state, end - first);
    c->dirty_pages -= end - first;
    a->dirty_pages -= end - first;
  }
}

static void maybe_purge(struct arena *a) {
  if (a->policy == POLICY_NONE) return;
  size_t threshold = a->lg_dirty_mult < 0 ? 0 : a->active_pages >> a->lg_dirty_mult;
  if (a->dirty_pages > threshold) purge(a, threshold);
}

static void chunk_remove(struct arena *a, struct arena_chunk *c) {
  unsigned at = 0;
  while (a->chunks[at] != c) at++;
  for (; at + 1 < a->chunk_count; at++) a->chunks[at] = a->chunks[at + 1];
  a->chunk_count--;
  a->dirty_pages -= c->dirty_pages;
  munmap(c->base, CHUNK_BYTES);
  free(c);
  a->counters.chunk_munmaps++;
}

/* An entirely free chunk: kept as the spare, or unmapped when there is one already. */
static void chunk_emptied(struct arena *a, struct arena_chunk *c) {
  if (a->spare == NULL) {
    a->spare = c;
    return;
  }
  assert(a->spare != c);
  chunk_remove(a, c);
}

static int huge_free(struct arena *a, void *ptr) {
  for (unsigned i = 0; i < ARENA_HUGE_MAX; i++) {
    if (a->huge[i].addr != ptr) continue;
    munmap(a->huge[i].addr, a->huge[i].length);
    a->huge[i].addr = NULL;
    return 1;
  }
  return 0;
}

void arena_free(struct arena *a, void *ptr) {
  if (huge_free(a, ptr)) return;
  struct arena_chunk *c = NULL;
  for (unsigned i = 0; i < a->chunk_count; i++) {
    char *base = a->chunks[i]->base;
    if ((char *)ptr >= base && (char *)ptr < base + CHUNK_BYTES) c = a->chunks[i];
  }
  if (c == NULL) {
    fprintf(stderr, "arena: free of %p, which no chunk holds\n", ptr);
    abort();
  }
  size_t offset = (size_t)((char *)ptr - c->base);
  unsigned first = (unsigned)(offset / VRH_PAGE_SIZE);
  if (offset % VRH_PAGE_SIZE != 0 || c->state[first] != PG_ACTIVE || c->run_pages[first] == 0) {
    fprintf(stderr, "arena: free of %p, which starts no active run\n", ptr);
    abort();
  }
  unsigned pages = c->run_pages[first];
  c->run_pages[first] = 0;
  memset(c->state + first, PG_DIRTY, pages);
  c->free_pages += pages;
  c->dirty_pages += pages;
  a->active_pages -= pages;
  a->dirty_pages += pages;
  span_set_age(c, first, ++a->age);
  if (c->free_pages == ARENA_CHUNK_USABLE_PAGES) chunk_emptied(a, c);
  maybe_purge(a);
}

void arena_destroy(struct arena *a) {
  while (a->chunk_count > 0) chunk_remove(a, a->chunks[a->chunk_count - 1]);
  for (unsigned i = 0; i < ARENA_HUGE_MAX; i++)
    if (a->huge[i].addr != NULL) munmap(a->huge[i].addr, a->huge[i].length);
  memset(a->huge, 0, sizeof a->huge);
  a->spare = NULL;
  a->active_pages = 0;
  a->dirty_pages = 0;
}

const char *arena_validate(const struct arena *a) {
  size_t active = 0, dirty = 0;
  for (unsigned i = 0; i < a->chunk_count; i++) {
    const struct arena_chunk *c = a->chunks[i];
    unsigned free_pages = 0, dirty_pages = 0;
    for (unsigned p = 0; p < ARENA_CHUNK_PAGES; p++) {
      uint8_t s = c->state[p];
      if ((p < ARENA_CHUNK_HEADER_PAGES) != (s == PG_HEADER)) return "a header page is misplaced";
      if (s == PG_ACTIVE) active++;
      if (s == PG_DIRTY) dirty_pages++;
      if (is_free_state(s)) free_pages++;
    }
    if (free_pages != c->free_pages) return "a chunk's free-page count is wrong";
    if (dirty_pages != c->dirty_pages) return "a chunk's dirty-page count is wrong";
    dirty += dirty_pages;
    if (i > 0 && a->chunks[i - 1]->base >= c->base) return "the chunks are not sorted";
  }
  if (active != a->active_pages) return "the active-page count is wrong";
  if (dirty != a->dirty_pages) return "the dirty-page count is wrong";
  return NULL;
}
