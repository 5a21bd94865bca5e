/* Strict parsing of command-line numbers: a bad value ends the harness with a one-line reason and
 * exit status 2 (usage_error). */
#ifndef VRH_OPTIONS_H
#define VRH_OPTIONS_H

#include <stdint.h>

/* Prints "vrange-harness: <reason>" and exits with status 2. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An integer in [min, max] or usage_error naming `what`. */
int64_t parse_integer(const char *what, const char *text, int64_t min, int64_t max);
/* A size in bytes with an optional k/m/g suffix, in [1, max]. */
uint64_t parse_bytes(const char *what, const char *text, uint64_t max);
/* A positive finite number. */
double parse_positive(const char *what, const char *text);

#endif
