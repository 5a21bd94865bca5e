/* ebizzy's generator with LTP's bug fixed, as the model's EbizzyRandom:
 * state = state * 1103515245 + 12345 (mod 2^32); rand_num(max) = (state / 65536) % max. */
#ifndef VRH_RANDOM_H
#define VRH_RANDOM_H

#include <stdint.h>

struct ebizzy_random {
  uint32_t state;
};

static inline uint32_t ebizzy_random_next(struct ebizzy_random *r, uint32_t max) {
  r->state = r->state * 1103515245u + 12345u;
  return (r->state >> 16) % max;
}

#endif
