/* The harness's self-test: the advice does what the policies rely on, checked on this kernel.
 *   dontneed_reads_zero     MADV_DONTNEED'd memory reads back zero
 *   madv_free_rewrite_kept  MADV_FREE'd memory that is written again keeps the new data
 *   vmaflag_split_merge     MADV_WIPEONFORK on the middle of a mapping splits its VMA in three,
 *                           MADV_KEEPONFORK merges it back (lines of /proc/self/maps)
 *   wipeonfork_child_zero   a child forked while the range is WIPEONFORK reads zeros there and the
 *                           data elsewhere; the parent keeps its data
 *   arena_purge_rule        the arena purges on every free at lg_dirty_mult -1 and keeps dirty
 *                           pages up to active >> lg_dirty_mult at 3 (the model's rule)
 * A check whose advice this platform lacks is "unavailable", never passed. The exit status is 0
 * whenever the checks ran; "passed" in the JSON says whether all did. */
#include "platform.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "advice.h"
#include "arena.h"
#include "json.h"
#include "options.h"

void write_platform(struct json *j);

#define PAGES 16

struct check {
  const char *name;
  /* "passed", "failed" or "unavailable". */
  const char *status;
  char detail[200];
};

static char *map_pages(size_t pages) {
  char *p = mmap(NULL, pages * VRH_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("vrange-harness: selftest mmap");
    exit(1);
  }
  return p;
}

/* Bytes of [p, p + n) that differ from `value`. */
static size_t count_not(const char *p, size_t n, unsigned char value) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += (unsigned char)p[i] != value;
  return bad;
}

static void result(struct check *c, int ok, const char *fmt, size_t a, size_t b) {
  c->status = ok ? "passed" : "failed";
  snprintf(c->detail, sizeof c->detail, fmt, a, b);
}

static void dontneed_reads_zero(struct check *c) {
  size_t n = PAGES * VRH_PAGE_SIZE;
  char *p = map_pages(PAGES);
  memset(p, 0xab, n);
  int ret = madvise(p, n, MADV_DONTNEED);
  size_t bad = count_not(p, n, 0);
  result(c, ret == 0 && bad == 0, "madvise returned %zu; %zu bytes not zero", (size_t)(ret != 0), bad);
  munmap(p, n);
}

static void madv_free_rewrite_kept(struct check *c) {
#if VRH_HAVE_MADV_FREE
  size_t n = PAGES * VRH_PAGE_SIZE;
  char *p = map_pages(PAGES);
  memset(p, 0xab, n);
  int ret = madvise(p, n, MADV_FREE);
  /* Writing makes the pages dirty again: reclaim may no longer discard them. */
  memset(p, 0xcd, n);
  size_t bad = count_not(p, n, 0xcd);
  result(c, ret == 0 && bad == 0, "madvise returned %zu; %zu rewritten bytes lost", (size_t)(ret != 0), bad);
  munmap(p, n);
#else
  c->status = "unavailable";
  snprintf(c->detail, sizeof c->detail, "MADV_FREE is not available on this platform");
#endif
}

/* Lines of /proc/self/maps (one per VMA), or 0 when it cannot be read. */
static size_t vma_count(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 0;
  size_t lines = 0;
  int ch;
  while ((ch = fgetc(f)) != EOF) lines += ch == '\n';
  fclose(f);
  return lines;
}

static void vmaflag_split_merge(struct check *c) {
#if VRH_HAVE_WIPEONFORK
  size_t n = PAGES * VRH_PAGE_SIZE;
  char *p = map_pages(PAGES);
  memset(p, 0x5a, n);
  size_t whole = vma_count();
  int wipe = madvise(p + 4 * VRH_PAGE_SIZE, 4 * VRH_PAGE_SIZE, MADV_WIPEONFORK);
  size_t split = vma_count();
  int keep = madvise(p + 4 * VRH_PAGE_SIZE, 4 * VRH_PAGE_SIZE, MADV_KEEPONFORK);
  size_t merged = vma_count();
  size_t bad = count_not(p, n, 0x5a);
  c->status = wipe == 0 && keep == 0 && whole > 0 && split == whole + 2 && merged == whole && bad == 0
                  ? "passed"
                  : "failed";
  snprintf(c->detail, sizeof c->detail, "VMAs: %zu before, %zu after WIPEONFORK, %zu after KEEPONFORK; %zu bytes changed",
           whole, split, merged, bad);
  munmap(p, n);
#else
  c->status = "unavailable";
  snprintf(c->detail, sizeof c->detail, "MADV_WIPEONFORK is not available on this platform");
#endif
}

static void wipeonfork_child_zero(struct check *c) {
#if VRH_HAVE_WIPEONFORK
  size_t n = PAGES * VRH_PAGE_SIZE;
  size_t wiped = 4 * VRH_PAGE_SIZE;
  char *p = map_pages(PAGES);
  memset(p, 0x5a, n);
  madvise(p, wiped, MADV_WIPEONFORK);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    /* Exit status: 0 when the wiped pages read zero and the others kept their data. */
    _exit(count_not(p, wiped, 0) == 0 && count_not(p + wiped, n - wiped, 0x5a) == 0 ? 0 : 1);
  }
  int status = 1;
  waitpid(pid, &status, 0);
  size_t parent_bad = count_not(p, n, 0x5a);
  int child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  c->status = child_ok && parent_bad == 0 ? "passed" : "failed";
  snprintf(c->detail, sizeof c->detail, "child: %s; parent: %zu bytes changed",
           child_ok ? "wiped pages zero, others intact" : "WRONG", parent_bad);
  munmap(p, n);
#else
  c->status = "unavailable";
  snprintf(c->detail, sizeof c->detail, "MADV_WIPEONFORK is not available on this platform");
#endif
}

/* Purge calls over 4 rounds of malloc(512 KiB) + free with a second 512 KiB block live. */
static uint64_t purge_calls(int lg_dirty_mult, size_t *dirty_left) {
  struct arena a;
  arena_init(&a, POLICY_DONTNEED, lg_dirty_mult);
  void *live = arena_malloc(&a, 512 * 1024);
  for (int i = 0; i < 4; i++) arena_free(&a, arena_malloc(&a, 512 * 1024));
  *dirty_left = a.dirty_pages;
  uint64_t calls = a.counters.purge_calls;
  arena_free(&a, live);
  arena_destroy(&a);
  return calls;
}

static void arena_purge_rule(struct check *c) {
  size_t dirty_every, dirty_default;
  uint64_t every = purge_calls(-1, &dirty_every);
  /* At 3: 128 dirty pages > 128 active >> 3 = 16, so every free purges too; with 8 live blocks the
   * threshold (1024 >> 3 = 128) keeps one freed block dirty. */
  struct arena a;
  arena_init(&a, POLICY_DONTNEED, 3);
  void *live[8];
  for (int i = 0; i < 8; i++) live[i] = arena_malloc(&a, 512 * 1024);
  for (int i = 0; i < 4; i++) arena_free(&a, arena_malloc(&a, 512 * 1024));
  uint64_t retained_calls = a.counters.purge_calls;
  dirty_default = a.dirty_pages;
  for (int i = 0; i < 8; i++) arena_free(&a, live[i]);
  const char *broken = arena_validate(&a);
  arena_destroy(&a);
  int ok = every == 4 && dirty_every == 0 && retained_calls == 0 && dirty_default == 128 && broken == NULL;
  c->status = ok ? "passed" : "failed";
  snprintf(c->detail, sizeof c->detail,
           "lg -1: %llu purges in 4 frees, %zu dirty left; lg 3 with 8 live blocks: %llu purges, %zu dirty kept%s%s",
           (unsigned long long)every, dirty_every, (unsigned long long)retained_calls, dirty_default,
           broken ? "; " : "", broken ? broken : "");
}

int selftest_main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      puts("usage: vrange-harness selftest\nChecks DONTNEED, MADV_FREE, WIPEONFORK/KEEPONFORK and the arena's purge rule; JSON.");
      return 0;
    }
    usage_error("selftest: unknown option \"%s\"", argv[i]);
  }
  struct check checks[] = {
      {"dontneed_reads_zero", "failed", ""},   {"madv_free_rewrite_kept", "failed", ""},
      {"vmaflag_split_merge", "failed", ""},   {"wipeonfork_child_zero", "failed", ""},
      {"arena_purge_rule", "failed", ""},
  };
  dontneed_reads_zero(&checks[0]);
  madv_free_rewrite_kept(&checks[1]);
  vmaflag_split_merge(&checks[2]);
  wipeonfork_child_zero(&checks[3]);
  arena_purge_rule(&checks[4]);
  int failed = 0;
  struct json j;
  json_init(&j, stdout);
  json_begin_object(&j, NULL);
  json_string(&j, "format", "vrange-harness/1");
  json_string(&j, "command", "selftest");
  json_begin_array(&j, "checks");
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    json_begin_object(&j, NULL);
    json_string(&j, "name", checks[i].name);
    json_string(&j, "status", checks[i].status);
    json_string(&j, "detail", checks[i].detail);
    json_end_object(&j);
    failed += strcmp(checks[i].status, "failed") == 0;
  }
  json_end_array(&j);
  json_bool(&j, "passed", failed == 0);
  write_platform(&j);
  json_end_object(&j);
  json_finish(&j);
  /* The checks ran: the JSON says which failed (exit status 1 is for a harness that could not run). */
  return 0;
}
