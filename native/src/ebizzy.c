#include "platform.h"

#include "ebizzy.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "arena.h"
#include "json.h"
#include "options.h"
#include "random.h"
#include "vmstat.h"

/* ebizzy's record_t is size_t: 8 bytes; chunk i holds records 0, 1, 2, ... (sorted for bsearch). */
typedef uint64_t record_t;

#define THREADS_MAX 1024
#define REASON_BYTES 256

struct ebizzy_options {
  uint32_t chunks;
  uint64_t chunk_size;
  double seconds;
  uint32_t threads;
  uint32_t processes;
  enum policy policy;
  int lg_dirty_mult;
  uint32_t seed;
  int always_mmap, never_mmap, random_size, mprotect_even, holes, touch_only, byte_loop, linear_search;
};

/* One thread's results, on a cache line of its own. */
struct thread_slot {
  _Alignas(64) _Atomic uint64_t records;
  uint64_t searches;
  struct arena_counters arena;
};

/* The run-control region, shared (MAP_SHARED) by the controller and every process. */
struct control {
  _Alignas(64) _Atomic uint32_t ready;
  _Alignas(64) _Atomic uint32_t go;
  _Alignas(64) _Atomic uint32_t stop;
  _Alignas(64) _Atomic uint32_t failed;
  char reason[REASON_BYTES];
  struct thread_slot slot[];
};

struct thread_args {
  const struct ebizzy_options *o;
  struct control *control;
  char **chunks;
  uint32_t index;
};

/* Fails the run once: the first reason is kept, every thread is told to stop. */
static void fail(struct control *control, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct control *control, const char *fmt, ...) {
  if (atomic_exchange(&control->failed, 1) == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(control->reason, REASON_BYTES, fmt, ap);
    va_end(ap);
  }
  atomic_store(&control->stop, 1);
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long binary_search(const record_t *base, uint64_t records, record_t key) {
  uint64_t lo = 0, hi = records;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (base[mid] == key) return (long)mid;
    if (base[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

static long linear_search(const record_t *base, uint64_t records, record_t key) {
  for (uint64_t r = 0; r < records; r++)
    if (base[r] == key) return (long)r;
  return -1;
}

/* -l: a loop of 32-bit loads and stores (volatile, so the compiler cannot turn it into memcpy). */
static void word_copy(void *dst, const void *src, size_t size) {
  volatile const uint32_t *s = src;
  uint32_t *d = dst;
  for (size_t i = 0; i < size / 4; i++) d[i] = s[i];
}

/* One record: search_mem's loop body. 0, or -1 with the run failed. */
static int record(const struct ebizzy_options *o, struct control *control, struct arena *arena,
                  struct ebizzy_random *random, char **chunks, struct thread_slot *slot) {
  uint32_t chunk = ebizzy_random_next(random, o->chunks);
  const char *src = chunks[chunk];
  uint64_t size = o->chunk_size;
  if (o->random_size) size = ((uint64_t)ebizzy_random_next(random, (uint32_t)(o->chunk_size / sizeof(record_t))) + 1) * sizeof(record_t);
  char *copy;
  if (o->always_mmap) {
    copy = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy == MAP_FAILED) copy = NULL;
  } else {
    copy = arena_malloc(arena, size);
  }
  if (copy == NULL) {
    fail(control, "ebizzy: allocation of the copy failed (%s)", strerror(errno));
    return -1;
  }
  if (o->touch_only) {
    for (uint64_t at = 0; at < size; at += VRH_PAGE_SIZE) *(volatile uint32_t *)(copy + at) = 1;
  } else {
    if (o->byte_loop)
      word_copy(copy, src, size);
    else
      memcpy(copy, src, size);
    uint64_t records = size / sizeof(record_t);
    record_t key = ebizzy_random_next(random, (uint32_t)records);
    long found = o->linear_search ? linear_search((const record_t *)copy, records, key)
                                  : binary_search((const record_t *)copy, records, key);
    slot->searches++;
    /* As ebizzy: a key that is not found means memory corruption, and the run stops. */
    if (found < 0) {
      fail(control, "ebizzy: couldn't find key %llu in a copy of chunk %u (memory corruption)",
           (unsigned long long)key, chunk);
      return -1;
    }
  }
  if (o->always_mmap)
    munmap(copy, size);
  else
    arena_free(arena, copy);
  return 0;
}

static void *thread_main(void *p) {
  struct thread_args *a = p;
  const struct ebizzy_options *o = a->o;
  struct control *control = a->control;
  struct thread_slot *slot = &control->slot[a->index];
  struct arena arena;
  arena_init(&arena, o->policy, o->lg_dirty_mult);
  /* The model's seed of thread i of the run. */
  struct ebizzy_random random = {(uint32_t)(o->seed + (uint64_t)a->index * 0x9e3779b9u)};
  atomic_fetch_add(&control->ready, 1);
  while (atomic_load(&control->go) == 0 && atomic_load(&control->stop) == 0) sleep_us(100);
  uint64_t records = 0;
  while (atomic_load_explicit(&control->stop, memory_order_relaxed) == 0) {
    if (record(o, control, &arena, &random, a->chunks, slot) != 0) break;
    records++;
    atomic_store_explicit(&slot->records, records, memory_order_relaxed);
  }
  const char *broken = arena_validate(&arena);
  if (broken != NULL) fail(control, "arena: %s", broken);
  slot->arena = arena.counters;
  arena_destroy(&arena);
  return NULL;
}

/* The ebizzy main thread's set-up: the chunks, filled with records 0, 1, 2, ...; -P maps each with
 * a trailing page and unmaps that page (a hole keeps VMAs from merging), -p makes the even ones
 * read-only. As the model, chunks come from an arena unless -P or -m. */
static char **setup_chunks(const struct ebizzy_options *o, struct arena *arena) {
  char **chunks = calloc(o->chunks, sizeof *chunks);
  if (chunks == NULL) return NULL;
  for (uint32_t i = 0; i < o->chunks; i++) {
    char *addr;
    if (o->holes || o->always_mmap) {
      size_t pages = (o->chunk_size + VRH_PAGE_SIZE - 1) / VRH_PAGE_SIZE + (o->holes ? 1 : 0);
      addr = mmap(NULL, pages * VRH_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (addr == MAP_FAILED) return NULL;
      if (o->holes) munmap(addr + (pages - 1) * VRH_PAGE_SIZE, VRH_PAGE_SIZE);
    } else {
      addr = arena_malloc(arena, o->chunk_size);
      if (addr == NULL) return NULL;
    }
    record_t *records = (record_t *)addr;
    for (uint64_t r = 0; r < o->chunk_size / sizeof(record_t); r++) records[r] = r;
    if (o->mprotect_even && i % 2 == 0 && mprotect(addr, o->chunk_size, PROT_READ) != 0) return NULL;
    chunks[i] = addr;
  }
  return chunks;
}

/* One ebizzy process: its chunks and its -t threads; threads of process p have run indices
 * p*t .. p*t+t-1, as the model numbers them. */
static int process_main(const struct ebizzy_options *o, struct control *control, uint32_t process) {
  struct arena main_arena;
  arena_init(&main_arena, o->policy, 3);
  char **chunks = setup_chunks(o, &main_arena);
  if (chunks == NULL) {
    fail(control, "ebizzy set-up: the chunks could not be allocated (%s)", strerror(errno));
    return 1;
  }
  pthread_t tid[THREADS_MAX];
  struct thread_args args[THREADS_MAX];
  uint32_t started = 0;
  for (; started < o->threads; started++) {
    args[started] = (struct thread_args){o, control, chunks, process * o->threads + started};
    int err = pthread_create(&tid[started], NULL, thread_main, &args[started]);
    if (err != 0) {
      fail(control, "ebizzy: pthread_create failed (%s)", strerror(err));
      break;
    }
  }
  for (uint32_t i = 0; i < started; i++) pthread_join(tid[i], NULL);
  return 0;
}

static void usage(void) {
  puts("usage: vrange-harness ebizzy --policy none|dontneed|madv_free|vmaflag [-t threads] [--processes K]\n"
       "         [-n chunks] [-s bytes] [-S seconds] [--lg-dirty-mult n] [--seed n] [-m] [-M] [-R] [-p] [-P] [-T] [-l] [-z]\n"
       "Prints one JSON object: records, recordsPerSecond, perThread, vmstat deltas, arena counters.");
}

static void parse(int argc, char **argv, struct ebizzy_options *o) {
  *o = (struct ebizzy_options){.chunks = 10, .chunk_size = 512 * 1024, .seconds = 10, .threads = 0,
                               .processes = 1, .policy = POLICY_COUNT, .lg_dirty_mult = 3, .seed = 1};
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  o->threads = (uint32_t)(2 * (cpus > 0 ? cpus : 1));
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_VALUE()                                                                                        \
  do {                                                                                                       \
    if (value == NULL) usage_error("%s needs a value", arg);                                                 \
    i++;                                                                                                     \
  } while (0)
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage();
      exit(0);
    } else if (strcmp(arg, "--policy") == 0) {
      NEEDS_VALUE();
      int p = policy_parse(value);
      if (p < 0) {
        if (strcmp(value, "vrange") == 0)
          usage_error("vrange has no real-kernel counterpart: it was never merged into Linux");
        if (strcmp(value, "vma") == 0)
          usage_error("vma (mvolatile) was never merged into Linux; its real-kernel analogue is --policy vmaflag");
        usage_error("--policy: expected one of none, dontneed, madv_free, vmaflag, got \"%s\"", value);
      }
      o->policy = (enum policy)p;
    } else if (strcmp(arg, "-t") == 0 || strcmp(arg, "--threads") == 0) {
      NEEDS_VALUE();
      o->threads = (uint32_t)parse_integer("-t", value, 1, THREADS_MAX);
    } else if (strcmp(arg, "--processes") == 0) {
      NEEDS_VALUE();
      o->processes = (uint32_t)parse_integer("--processes", value, 1, 256);
    } else if (strcmp(arg, "-n") == 0 || strcmp(arg, "--chunks") == 0) {
      NEEDS_VALUE();
      o->chunks = (uint32_t)parse_integer("-n", value, 1, 1 << 16);
    } else if (strcmp(arg, "-s") == 0 || strcmp(arg, "--chunk-size") == 0) {
      NEEDS_VALUE();
      o->chunk_size = parse_bytes("-s", value, (uint64_t)1 << 34);
    } else if (strcmp(arg, "-S") == 0 || strcmp(arg, "--seconds") == 0) {
      NEEDS_VALUE();
      o->seconds = parse_positive("-S", value);
    } else if (strcmp(arg, "--lg-dirty-mult") == 0) {
      NEEDS_VALUE();
      o->lg_dirty_mult = (int)parse_integer("--lg-dirty-mult", value, -1, 30);
    } else if (strcmp(arg, "--seed") == 0) {
      NEEDS_VALUE();
      o->seed = (uint32_t)parse_integer("--seed", value, 0, 0xffffffffLL);
    } else if (strcmp(arg, "-m") == 0) {
      o->always_mmap = 1;
    } else if (strcmp(arg, "-M") == 0) {
      o->never_mmap = 1;
    } else if (strcmp(arg, "-R") == 0) {
      o->random_size = 1;
    } else if (strcmp(arg, "-p") == 0) {
      o->mprotect_even = 1;
    } else if (strcmp(arg, "-P") == 0) {
      o->holes = 1;
    } else if (strcmp(arg, "-T") == 0) {
      o->touch_only = 1;
    } else if (strcmp(arg, "-l") == 0) {
      o->byte_loop = 1;
    } else if (strcmp(arg, "-z") == 0) {
      o->linear_search = 1;
    } else {
      usage_error("ebizzy: unknown option \"%s\"", arg);
    }
#undef NEEDS_VALUE
  }
  if (o->policy == POLICY_COUNT) usage_error("ebizzy: --policy is required");
  const char *why = policy_unavailable(o->policy);
  if (why != NULL) usage_error("%s", why);
  if (o->chunk_size % VRH_PAGE_SIZE != 0)
    usage_error("-s: the chunk size must be a multiple of the %u-byte page, got %llu", VRH_PAGE_SIZE,
                (unsigned long long)o->chunk_size);
  if (o->chunk_size / sizeof(record_t) > UINT32_MAX) usage_error("-s: at most 2^32 records per chunk");
  if ((uint64_t)o->threads * o->processes > THREADS_MAX)
    usage_error("-t x --processes: at most %d threads in all", THREADS_MAX);
  if (o->always_mmap && o->never_mmap) usage_error("-m (always mmap) and -M (never mmap) exclude each other");
}

static void write_config(struct json *j, const struct ebizzy_options *o) {
  json_begin_object(j, "config");
  json_string(j, "policy", policy_names[o->policy]);
  json_int(j, "threads", o->threads);
  json_int(j, "processes", o->processes);
  json_int(j, "chunks", o->chunks);
  json_uint(j, "chunkSize", o->chunk_size);
  json_double(j, "seconds", o->seconds);
  json_int(j, "lgDirtyMult", o->lg_dirty_mult);
  json_uint(j, "seed", o->seed);
  json_bool(j, "alwaysMmap", o->always_mmap);
  json_bool(j, "neverMmap", o->never_mmap);
  json_bool(j, "randomSize", o->random_size);
  json_bool(j, "mprotectEven", o->mprotect_even);
  json_bool(j, "holes", o->holes);
  json_bool(j, "touchOnly", o->touch_only);
  json_bool(j, "byteLoop", o->byte_loop);
  json_bool(j, "linearSearch", o->linear_search);
  json_end_object(j);
}

void write_platform(struct json *j);

static void write_arena(struct json *j, const struct control *control, uint32_t threads) {
  struct arena_counters sum = {0};
  for (uint32_t i = 0; i < threads; i++) {
    const struct arena_counters *c = &control->slot[i].arena;
    sum.purge_passes += c->purge_passes;
    sum.purge_calls += c->purge_calls;
    sum.purge_errors += c->purge_errors;
    sum.pages_purged += c->pages_purged;
    sum.unmark_calls += c->unmark_calls;
    sum.unmark_errors += c->unmark_errors;
    sum.runs_from_dirty += c->runs_from_dirty;
    sum.runs_from_free += c->runs_from_free;
    sum.chunk_mmaps += c->chunk_mmaps;
    sum.chunk_munmaps += c->chunk_munmaps;
    sum.huge_mmaps += c->huge_mmaps;
  }
  json_begin_object(j, "arena");
  json_uint(j, "purgePasses", sum.purge_passes);
  json_uint(j, "purgeCalls", sum.purge_calls);
  json_uint(j, "purgeErrors", sum.purge_errors);
  json_uint(j, "pagesPurged", sum.pages_purged);
  json_uint(j, "unmarkCalls", sum.unmark_calls);
  json_uint(j, "unmarkErrors", sum.unmark_errors);
  json_uint(j, "runsFromDirty", sum.runs_from_dirty);
  json_uint(j, "runsFromFree", sum.runs_from_free);
  json_uint(j, "chunkMmaps", sum.chunk_mmaps);
  json_uint(j, "chunkMunmaps", sum.chunk_munmaps);
  json_uint(j, "hugeMmaps", sum.huge_mmaps);
  json_end_object(j);
}

int ebizzy_main(int argc, char **argv) {
  struct ebizzy_options o;
  parse(argc, argv, &o);
  uint32_t total = o.threads * o.processes;
  size_t control_bytes = sizeof(struct control) + total * sizeof(struct thread_slot);
  struct control *control =
      mmap(NULL, control_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (control == MAP_FAILED) {
    fprintf(stderr, "vrange-harness: mmap of the control region failed (%s)\n", strerror(errno));
    return 1;
  }
  fflush(stdout);
  pid_t children[256];
  for (uint32_t p = 0; p < o.processes; p++) {
    pid_t pid = fork();
    if (pid < 0) {
      fail(control, "ebizzy: fork failed (%s)", strerror(errno));
      o.processes = p;
      break;
    }
    if (pid == 0) _exit(process_main(&o, control, p));
    children[p] = pid;
  }
  /* Release the threads once all are ready (bounded wait), then measure the interval to stop. */
  double deadline = now_seconds() + 120;
  int reaped[256] = {0};
  int status[256] = {0};
  while (atomic_load(&control->ready) < total && atomic_load(&control->failed) == 0) {
    if (now_seconds() > deadline)
      fail(control, "ebizzy: only %u of %u threads became ready", atomic_load(&control->ready), total);
    /* A process that died in its set-up (a signal, say) never becomes ready: do not wait for it. */
    for (uint32_t p = 0; p < o.processes; p++) {
      if (!reaped[p] && waitpid(children[p], &status[p], WNOHANG) == children[p]) {
        reaped[p] = 1;
        fail(control, "ebizzy: process %u ended before its threads started", p);
      }
    }
    sleep_us(1000);
  }
  struct vmstat before, after;
  vmstat_read(&before);
  double start = now_seconds();
  atomic_store(&control->go, 1);
  double end = start + o.seconds;
  for (double t = start; t < end && atomic_load(&control->failed) == 0; t = now_seconds()) {
    double left = end - t;
    sleep_us(left > 0.01 ? 10000 : (long)(left * 1e6) + 1);
  }
  atomic_store(&control->stop, 1);
  double elapsed = now_seconds() - start;
  int crashed = 0;
  for (uint32_t p = 0; p < o.processes; p++) {
    while (!reaped[p] && waitpid(children[p], &status[p], 0) < 0 && errno == EINTR) {
    }
    if (!(WIFEXITED(status[p]) && WEXITSTATUS(status[p]) == 0)) crashed = 1;
  }
  vmstat_read(&after);
  if (atomic_load(&control->failed) != 0 || crashed) {
    fprintf(stderr, "vrange-harness: %s\n",
            atomic_load(&control->failed) ? control->reason : "an ebizzy process died (signal or crash)");
    return 1;
  }
  uint64_t records = 0, searches = 0;
  for (uint32_t i = 0; i < total; i++) {
    records += atomic_load(&control->slot[i].records);
    searches += control->slot[i].searches;
  }
  struct json j;
  json_init(&j, stdout);
  json_begin_object(&j, NULL);
  json_string(&j, "format", "vrange-harness/1");
  json_string(&j, "command", "ebizzy");
  write_config(&j, &o);
  json_uint(&j, "records", records);
  json_double(&j, "elapsedSeconds", elapsed);
  json_double(&j, "recordsPerSecond", (double)records / elapsed);
  json_begin_array(&j, "perThread");
  for (uint32_t i = 0; i < total; i++) json_uint(&j, NULL, atomic_load(&control->slot[i].records));
  json_end_array(&j);
  json_uint(&j, "searches", searches);
  vmstat_write_delta(&j, &before, &after);
  write_arena(&j, control, total);
  write_platform(&j);
  json_end_object(&j);
  json_finish(&j);
  return 0;
}
