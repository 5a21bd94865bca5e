/* plain-loop: an ebizzy-shaped loop written apart from the harness (no code shared with
 * native/src), the independent reference for bench/real_agreement.ts. One thread; per record:
 * copy a random 512 KiB chunk into one page-aligned buffer, binary-search a random key in the copy,
 * then apply the purge policy to the whole buffer.
 *   usage: plain-loop none|dontneed|madv_free SECONDS
 * Prints {"policy":..,"records":..,"seconds":..,"recordsPerSecond":..}. */
#define _GNU_SOURCE 1
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define CHUNK_BYTES (512u * 1024u)
#define CHUNK_COUNT 10u
#define WORDS (CHUNK_BYTES / 8u)

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* xorshift64: a generator unlike the harness's LCG. */
static uint64_t next_random(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "plain-loop: usage: plain-loop none|dontneed|madv_free SECONDS\n");
    return 2;
  }
  int advice = -1;
  if (strcmp(argv[1], "dontneed") == 0) advice = MADV_DONTNEED;
#ifdef MADV_FREE
  else if (strcmp(argv[1], "madv_free") == 0) advice = MADV_FREE;
#endif
  else if (strcmp(argv[1], "none") != 0) {
    fprintf(stderr, "plain-loop: unknown or unavailable policy \"%s\"\n", argv[1]);
    return 2;
  }
  double duration = atof(argv[2]);
  if (!(duration > 0)) {
    fprintf(stderr, "plain-loop: SECONDS must be positive\n");
    return 2;
  }
  uint64_t *chunk[CHUNK_COUNT];
  for (unsigned c = 0; c < CHUNK_COUNT; c++) {
    chunk[c] = malloc(CHUNK_BYTES);
    if (chunk[c] == NULL) return 1;
    for (uint64_t w = 0; w < WORDS; w++) chunk[c][w] = w;
  }
  uint64_t *buffer = aligned_alloc(4096, CHUNK_BYTES);
  if (buffer == NULL) return 1;
  uint64_t state = 0x2545f4914f6cdd1dULL;
  uint64_t records = 0;
  double start = seconds_now();
  double now = start;
  while (now - start < duration) {
    uint64_t r = next_random(&state);
    memcpy(buffer, chunk[r % CHUNK_COUNT], CHUNK_BYTES);
    uint64_t key = (r >> 20) % WORDS;
    uint64_t low = 0, high = WORDS - 1;
    int hit = 0;
    while (low <= high) {
      uint64_t middle = (low + high) / 2;
      if (buffer[middle] == key) {
        hit = 1;
        break;
      }
      if (buffer[middle] < key) low = middle + 1;
      else high = middle - 1;
    }
    if (!hit) {
      fprintf(stderr, "plain-loop: key %llu not found\n", (unsigned long long)key);
      return 1;
    }
    if (advice >= 0 && madvise(buffer, CHUNK_BYTES, advice) != 0) {
      perror("plain-loop: madvise");
      return 1;
    }
    records++;
    if ((records & 15) == 0) now = seconds_now();
  }
  double elapsed = seconds_now() - start;
  printf("{\"policy\":\"%s\",\"records\":%llu,\"seconds\":%.6f,\"recordsPerSecond\":%.3f}\n", argv[1],
         (unsigned long long)records, elapsed, records / elapsed);
  return 0;
}
