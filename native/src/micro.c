/* Per-operation costs of the kernel paths the purge policies use, on this kernel. Each measurement
 * is repeated; a repetition times a loop of many operations and yields nanoseconds per operation;
 * the result is the median with the minimum and maximum over the repetitions.
 * Two-thread measurements pin the threads to two different CPUs (sched_setaffinity), so that the
 * mprotect toggle with a second thread running needs the TLB-shootdown IPI round trip. */
#include "platform.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/futex.h>
#endif

#include "json.h"
#include "options.h"

void write_platform(struct json *j);

#define REPS_MAX 101
#define REGION_PAGES 2048u

struct measurement {
  const char *name;
  /* What one operation is: "call", "page", "toggle", "pair", "round trip". */
  const char *per;
  const char *what;
  /* NULL when measured, else why not. */
  const char *unavailable;
  unsigned ops;
  unsigned reps;
  double ns[REPS_MAX];
};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *map_region(size_t pages) {
  char *p = mmap(NULL, pages * VRH_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("vrange-harness: micro mmap");
    exit(1);
  }
#ifdef MADV_NOHUGEPAGE
  /* Per-page costs are of 4 KiB pages: no transparent huge page may stand in. */
  madvise(p, pages * VRH_PAGE_SIZE, MADV_NOHUGEPAGE);
#endif
  return p;
}

static void touch_pages(char *p, size_t pages, char value) {
  for (size_t i = 0; i < pages; i++) ((volatile char *)p)[i * VRH_PAGE_SIZE] = value;
}

static int pin_to(int cpu) {
#ifdef __linux__
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
#else
  (void)cpu;
  return -1;
#endif
}

/* The first two CPUs this process may run on; 0 when there are fewer than two. */
static int two_cpus(int cpu[2]) {
#ifdef __linux__
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  int found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
    if (CPU_ISSET(c, &set)) cpu[found++] = c;
  return found == 2;
#else
  (void)cpu;
  return 0;
#endif
}

static void null_syscall(struct measurement *m) {
  double t0 = now_ns();
  for (unsigned i = 0; i < m->ops; i++) syscall(SYS_getppid);
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
}

static void first_touch(struct measurement *m) {
  char *p = map_region(m->ops);
  double t0 = now_ns();
  touch_pages(p, m->ops, 1);
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
  munmap(p, (size_t)m->ops * VRH_PAGE_SIZE);
}

/* One page per call, each page populated: the cost of a call that zaps one page. */
static void dontneed_call(struct measurement *m) {
  char *p = map_region(m->ops);
  touch_pages(p, m->ops, 1);
  double t0 = now_ns();
  for (unsigned i = 0; i < m->ops; i++) madvise(p + (size_t)i * VRH_PAGE_SIZE, VRH_PAGE_SIZE, MADV_DONTNEED);
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
  munmap(p, (size_t)m->ops * VRH_PAGE_SIZE);
}

/* One call over m->ops populated pages, then (refault) writing each page again. */
static void dontneed_pages(struct measurement *m, struct measurement *refault) {
  char *p = map_region(m->ops);
  touch_pages(p, m->ops, 1);
  double t0 = now_ns();
  madvise(p, (size_t)m->ops * VRH_PAGE_SIZE, MADV_DONTNEED);
  double t1 = now_ns();
  touch_pages(p, m->ops, 2);
  double t2 = now_ns();
  m->ns[m->reps++] = (t1 - t0) / m->ops;
  refault->ns[refault->reps++] = (t2 - t1) / m->ops;
  munmap(p, (size_t)m->ops * VRH_PAGE_SIZE);
}

static void free_pages(struct measurement *m, struct measurement *rewrite) {
#if VRH_HAVE_MADV_FREE
  char *p = map_region(m->ops);
  touch_pages(p, m->ops, 1);
  double t0 = now_ns();
  madvise(p, (size_t)m->ops * VRH_PAGE_SIZE, MADV_FREE);
  double t1 = now_ns();
  touch_pages(p, m->ops, 2);
  double t2 = now_ns();
  m->ns[m->reps++] = (t1 - t0) / m->ops;
  rewrite->ns[rewrite->reps++] = (t2 - t1) / m->ops;
  munmap(p, (size_t)m->ops * VRH_PAGE_SIZE);
#else
  m->unavailable = rewrite->unavailable = "MADV_FREE is not available on this platform";
#endif
}

/* A read of an untouched anonymous page maps the shared zero page: the trap's entry and exit and
 * a PTE install, with no allocation and no clearing (the calibration's fault entry+exit). */
static void zero_page_read(struct measurement *m) {
  char *p = map_region(m->ops);
  volatile char sink = 0;
  double t0 = now_ns();
  for (size_t i = 0; i < m->ops; i++) sink += ((volatile char *)p)[i * VRH_PAGE_SIZE];
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
  (void)sink;
  munmap(p, (size_t)m->ops * VRH_PAGE_SIZE);
}

/* The zero-page fault's handler without the trap: MADV_POPULATE_READ of untouched pages runs
 * handle_mm_fault for each from inside the kernel (get_user_pages: a page-table lookup that finds
 * nothing, the fault, a lookup that finds the page), then again over the same, now populated,
 * pages (one lookup each, no fault). The calibration's fault entry+exit is zero_page_read_fault
 * less (fresh - 2 x populated): the trap path's cost beyond the handler. */
static void populate_read(struct measurement *fresh, struct measurement *populated) {
#if VRH_HAVE_POPULATE
  char *p = map_region(fresh->ops);
  size_t bytes = (size_t)fresh->ops * VRH_PAGE_SIZE;
  double t0 = now_ns();
  int first = madvise(p, bytes, MADV_POPULATE_READ);
  double t1 = now_ns();
  int again = madvise(p, bytes, MADV_POPULATE_READ);
  double t2 = now_ns();
  munmap(p, bytes);
  if (first != 0 || again != 0) {
    fresh->unavailable = populated->unavailable = "madvise(MADV_POPULATE_READ) failed: the kernel is older than 5.14";
    return;
  }
  fresh->ns[fresh->reps++] = (t1 - t0) / fresh->ops;
  populated->ns[populated->reps++] = (t2 - t1) / fresh->ops;
#else
  fresh->unavailable = populated->unavailable = "MADV_POPULATE_READ is not available on this platform";
#endif
}

static double read_pass(char *p, size_t pages) {
  volatile char sink = 0;
  double t0 = now_ns();
  for (size_t i = 0; i < pages; i++) sink += ((volatile char *)p)[i * VRH_PAGE_SIZE];
  (void)sink;
  return (now_ns() - t0) / (double)pages;
}

/* Reads one byte per page of populated pages through a warm TLB (a region small enough for the
 * second-level TLB), then again after MADV_FREE flushed the TLB and cleared the accessed bits: the
 * difference is the TLB refill (the calibration's tlbRefill). */
static void read_after_free(struct measurement *warm, struct measurement *cold) {
#if VRH_HAVE_MADV_FREE
  char *p = map_region(warm->ops);
  touch_pages(p, warm->ops, 1);
  read_pass(p, warm->ops);
  warm->ns[warm->reps++] = read_pass(p, warm->ops);
  madvise(p, (size_t)warm->ops * VRH_PAGE_SIZE, MADV_FREE);
  cold->ns[cold->reps++] = read_pass(p, warm->ops);
  munmap(p, (size_t)warm->ops * VRH_PAGE_SIZE);
#else
  warm->unavailable = cold->unavailable = "MADV_FREE is not available on this platform";
#endif
}

/* memcpy of ebizzy's 512 KiB chunk between populated buffers (the calibration's scale factor). */
static void copy_512k(struct measurement *m) {
  size_t bytes = 512u * 1024u;
  char *src = map_region(bytes / VRH_PAGE_SIZE);
  char *dst = map_region(bytes / VRH_PAGE_SIZE);
  memset(src, 0x5a, bytes);
  memset(dst, 0, bytes);
  volatile char sink = 0;
  double t0 = now_ns();
  for (unsigned i = 0; i < m->ops; i++) {
    src[i % bytes] = (char)i;
    memcpy(dst, src, bytes);
    sink += dst[(i * 4099u) % bytes];
  }
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
  (void)sink;
  munmap(src, bytes);
  munmap(dst, bytes);
}

/* The TLB refill and the dirty-bit assist inside a sequential copy, where the page walker's caches
 * and the copy's own stream overlap them (a loop touching one byte per page overstates both): a
 * memcpy of 512 KiB into a populated buffer, three ways, interleaved copy by copy, only the copy
 * timed: through a warm TLB; right after an mprotect toggle of an unrelated populated 64-page
 * region flushed the mm's TLB (over 33 pages, x86 flushes the whole mm rather than the pages), so
 * every source and destination translation is refilled; right after MADV_FREE of the destination,
 * which flushes too and cleans its PTEs, so the copy also sets every destination page's accessed
 * and dirty bits. */
static void copy_512k_tlb(struct measurement *warm, struct measurement *flushed, struct measurement *freed) {
#if VRH_HAVE_MADV_FREE
  size_t bytes = 512u * 1024u;
  size_t other_pages = 64;
  char *src = map_region(bytes / VRH_PAGE_SIZE);
  char *dst = map_region(bytes / VRH_PAGE_SIZE);
  char *other = map_region(other_pages);
  memset(src, 0x5a, bytes);
  memset(dst, 0, bytes);
  touch_pages(other, other_pages, 1);
  volatile char sink = 0;
  double ns[3] = {0, 0, 0};
  for (unsigned i = 0; i < warm->ops; i++) {
    src[(i * 4099u) % bytes] = (char)i;
    for (int way = 0; way < 3; way++) {
      if (way == 1) {
        mprotect(other, other_pages * VRH_PAGE_SIZE, PROT_READ);
        mprotect(other, other_pages * VRH_PAGE_SIZE, PROT_READ | PROT_WRITE);
      } else if (way == 2) {
        madvise(dst, bytes, MADV_FREE);
      }
      double t0 = now_ns();
      memcpy(dst, src, bytes);
      ns[way] += now_ns() - t0;
      sink += dst[(i * 4099u) % bytes];
    }
  }
  warm->ns[warm->reps++] = ns[0] / warm->ops;
  flushed->ns[flushed->reps++] = ns[1] / warm->ops;
  freed->ns[freed->reps++] = ns[2] / warm->ops;
  (void)sink;
  munmap(src, bytes);
  munmap(dst, bytes);
  munmap(other, other_pages * VRH_PAGE_SIZE);
#else
  warm->unavailable = flushed->unavailable = freed->unavailable = "MADV_FREE is not available on this platform";
#endif
}

static void mprotect_toggles(struct measurement *m, char *page) {
  double t0 = now_ns();
  for (unsigned i = 0; i < m->ops; i++) {
    mprotect(page, VRH_PAGE_SIZE, PROT_READ);
    mprotect(page, VRH_PAGE_SIZE, PROT_READ | PROT_WRITE);
  }
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
}

struct spinner {
  int cpu;
  _Atomic int running;
  _Atomic int stop;
};

/* A second thread of the same mm, running user code on its own CPU until told to stop. */
static void *spin(void *p) {
  struct spinner *s = p;
  pin_to(s->cpu);
  atomic_store(&s->running, 1);
  while (atomic_load_explicit(&s->stop, memory_order_relaxed) == 0) {
  }
  return NULL;
}

static void wipe_keep(struct measurement *m, char *region) {
#if VRH_HAVE_WIPEONFORK
  char *middle = region + 16 * VRH_PAGE_SIZE;
  double t0 = now_ns();
  for (unsigned i = 0; i < m->ops; i++) {
    madvise(middle, 16 * VRH_PAGE_SIZE, MADV_WIPEONFORK);
    madvise(middle, 16 * VRH_PAGE_SIZE, MADV_KEEPONFORK);
  }
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
#else
  (void)region;
  m->unavailable = "MADV_WIPEONFORK/MADV_KEEPONFORK are not available on this platform";
#endif
}

#ifdef __linux__
struct pingpong {
  _Atomic int word;
  unsigned rounds;
  int cpu;
};

static void futex_wait(_Atomic int *word, int value) {
  syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, value, NULL, NULL, 0);
}

static void futex_wake(_Atomic int *word) { syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

/* The partner: waits for 1, answers 0. */
static void *pong(void *p) {
  struct pingpong *pp = p;
  if (pp->cpu >= 0) pin_to(pp->cpu);
  for (unsigned i = 0; i < pp->rounds; i++) {
    while (atomic_load(&pp->word) != 1) futex_wait(&pp->word, 0);
    atomic_store(&pp->word, 0);
    futex_wake(&pp->word);
  }
  return NULL;
}
#endif

static void futex_pingpong(struct measurement *m, const int cpu[2], int pinned) {
#ifdef __linux__
  struct pingpong pp = {0, m->ops, pinned ? cpu[1] : -1};
  pthread_t tid;
  if (pthread_create(&tid, NULL, pong, &pp) != 0) {
    m->unavailable = "pthread_create failed";
    return;
  }
  double t0 = now_ns();
  for (unsigned i = 0; i < m->ops; i++) {
    atomic_store(&pp.word, 1);
    futex_wake(&pp.word);
    while (atomic_load(&pp.word) != 0) futex_wait(&pp.word, 1);
  }
  m->ns[m->reps++] = (now_ns() - t0) / m->ops;
  pthread_join(tid, NULL);
#else
  (void)cpu;
  (void)pinned;
  m->unavailable = "futex is Linux-only";
#endif
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void write_measurement(struct json *j, struct measurement *m) {
  json_begin_object(j, NULL);
  json_string(j, "name", m->name);
  json_string(j, "per", m->per);
  json_string(j, "what", m->what);
  if (m->unavailable != NULL || m->reps == 0) {
    json_string(j, "unavailable", m->unavailable != NULL ? m->unavailable : "not measured");
  } else {
    qsort(m->ns, m->reps, sizeof m->ns[0], compare_double);
    double median = m->reps % 2 ? m->ns[m->reps / 2] : (m->ns[m->reps / 2 - 1] + m->ns[m->reps / 2]) / 2;
    json_double(j, "medianNs", median);
    json_double(j, "minNs", m->ns[0]);
    json_double(j, "maxNs", m->ns[m->reps - 1]);
    json_int(j, "repetitions", m->reps);
    json_int(j, "opsPerRepetition", m->ops);
  }
  json_end_object(j);
}

enum {
  M_NULL, M_TOUCH, M_DN_CALL, M_DN_PAGE, M_REFAULT, M_FREE_PAGE, M_REWRITE, M_MPROT, M_MPROT_REMOTE,
  M_WIPE_KEEP, M_FUTEX, M_ZERO_READ, M_POP_FRESH, M_POP_POPULATED, M_READ_WARM, M_READ_FREE, M_COPY512,
  M_COPY_WARM, M_COPY_FLUSHED, M_COPY_FREED, M_COUNT
};

int micro_main(int argc, char **argv) {
  unsigned reps = 7;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0) {
      puts("usage: vrange-harness micro [--repetitions n]\nPer-operation costs (median, min, max ns over the repetitions); JSON.");
      return 0;
    } else if (strcmp(argv[i], "--repetitions") == 0 && i + 1 < argc) {
      reps = (unsigned)parse_integer("--repetitions", argv[++i], 1, REPS_MAX);
    } else {
      usage_error("micro: unknown option \"%s\"", argv[i]);
    }
  }
  static struct measurement m[M_COUNT] = {
      [M_NULL] = {"null_syscall", "call", "getppid()", NULL, 200000, 0, {0}},
      [M_TOUCH] = {"first_touch_fault", "page", "first write to a fresh anonymous page (fault, allocate, zero)", NULL, REGION_PAGES, 0, {0}},
      [M_DN_CALL] = {"madv_dontneed_call", "call", "madvise(MADV_DONTNEED) of one populated page", NULL, REGION_PAGES, 0, {0}},
      [M_DN_PAGE] = {"madv_dontneed_page", "page", "madvise(MADV_DONTNEED) of 2048 populated pages, per page", NULL, REGION_PAGES, 0, {0}},
      [M_REFAULT] = {"refault_after_dontneed", "page", "write to a page MADV_DONTNEED zapped (fault, allocate, zero)", NULL, REGION_PAGES, 0, {0}},
      [M_FREE_PAGE] = {"madv_free_page", "page", "madvise(MADV_FREE) of 2048 dirty pages, per page", NULL, REGION_PAGES, 0, {0}},
      [M_REWRITE] = {"rewrite_after_free", "page", "write to a page MADV_FREE cleaned (no reclaim between)", NULL, REGION_PAGES, 0, {0}},
      [M_MPROT] = {"mprotect_toggle_alone", "toggle", "mprotect of one page to read-only and back, no other thread of the mm running", NULL, 5000, 0, {0}},
      [M_MPROT_REMOTE] = {"mprotect_toggle_remote_thread", "toggle", "the same with a second thread of the mm running on another CPU (TLB-shootdown IPI round trip)", NULL, 5000, 0, {0}},
      [M_WIPE_KEEP] = {"wipeonfork_keeponfork_pair", "pair", "MADV_WIPEONFORK then MADV_KEEPONFORK of 16 pages inside a 48-page mapping (VMA split and merge)", NULL, 5000, 0, {0}},
      [M_FUTEX] = {"futex_pingpong", "round trip", "futex wait/wake ping-pong between two threads on different CPUs", NULL, 2000, 0, {0}},
      [M_ZERO_READ] = {"zero_page_read_fault", "page", "first read of an untouched anonymous page (trap, zero-page PTE, return)", NULL, REGION_PAGES, 0, {0}},
      [M_POP_FRESH] = {"populate_read_fresh", "page", "madvise(MADV_POPULATE_READ) of 2048 untouched pages, per page (the zero-page fault's handler, no trap)", NULL, REGION_PAGES, 0, {0}},
      [M_POP_POPULATED] = {"populate_read_populated", "page", "the same call again over the now populated pages, per page (lookups only)", NULL, REGION_PAGES, 0, {0}},
      [M_READ_WARM] = {"read_populated", "page", "read of one byte per populated page through a warm TLB (512 pages)", NULL, 512, 0, {0}},
      [M_READ_FREE] = {"read_after_free", "page", "the same read after MADV_FREE flushed the TLB and cleared the accessed bits", NULL, 512, 0, {0}},
      [M_COPY512] = {"copy_512k", "copy", "memcpy of 512 KiB between populated buffers", NULL, 200, 0, {0}},
      [M_COPY_WARM] = {"copy_512k_warm_tlb", "copy", "memcpy of 512 KiB into a populated buffer through a warm TLB, interleaved with the next two", NULL, 200, 0, {0}},
      [M_COPY_FLUSHED] = {"copy_512k_after_flush", "copy", "the same copy right after an mprotect toggle of an unrelated 64-page region flushed the mm's TLB (256 refills)", NULL, 200, 0, {0}},
      [M_COPY_FREED] = {"copy_512k_after_free", "copy", "the same copy right after MADV_FREE of the destination (256 refills, 128 accessed+dirty bit sets)", NULL, 200, 0, {0}},
  };
  int cpu[2] = {0, 1};
  int pinned = two_cpus(cpu);
  if (!pinned) m[M_MPROT_REMOTE].unavailable = "needs two CPUs";
  char *page = map_region(1);
  touch_pages(page, 1, 1);
  char *region = map_region(48);
  touch_pages(region, 48, 1);
  for (unsigned r = 0; r < reps; r++) {
    null_syscall(&m[M_NULL]);
    first_touch(&m[M_TOUCH]);
    dontneed_call(&m[M_DN_CALL]);
    dontneed_pages(&m[M_DN_PAGE], &m[M_REFAULT]);
    free_pages(&m[M_FREE_PAGE], &m[M_REWRITE]);
    if (pinned) pin_to(cpu[0]);
    mprotect_toggles(&m[M_MPROT], page);
    if (pinned) {
      struct spinner s = {cpu[1], 0, 0};
      pthread_t tid;
      if (pthread_create(&tid, NULL, spin, &s) == 0) {
        while (atomic_load(&s.running) == 0) sched_yield();
        mprotect_toggles(&m[M_MPROT_REMOTE], page);
        atomic_store(&s.stop, 1);
        pthread_join(tid, NULL);
      }
    }
    wipe_keep(&m[M_WIPE_KEEP], region);
    futex_pingpong(&m[M_FUTEX], cpu, pinned);
    zero_page_read(&m[M_ZERO_READ]);
    populate_read(&m[M_POP_FRESH], &m[M_POP_POPULATED]);
    read_after_free(&m[M_READ_WARM], &m[M_READ_FREE]);
    copy_512k(&m[M_COPY512]);
    copy_512k_tlb(&m[M_COPY_WARM], &m[M_COPY_FLUSHED], &m[M_COPY_FREED]);
  }
  struct json j;
  json_init(&j, stdout);
  json_begin_object(&j, NULL);
  json_string(&j, "format", "vrange-harness/1");
  json_string(&j, "command", "micro");
  json_begin_array(&j, "measurements");
  for (int i = 0; i < M_COUNT; i++) write_measurement(&j, &m[i]);
  json_end_array(&j);
  json_bool(&j, "pinned", pinned);
  write_platform(&j);
  json_end_object(&j);
  json_finish(&j);
  return 0;
}
