#include "options.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("vrange-harness: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

int64_t parse_integer(const char *what, const char *text, int64_t min, int64_t max) {
  char *end;
  errno = 0;
  long long value = strtoll(text, &end, 10);
  if (text[0] == '\0' || isspace((unsigned char)text[0]) || *end != '\0' || errno != 0 || value < min ||
      value > max)
    usage_error("%s: expected an integer from %lld to %lld, got \"%s\"", what, (long long)min, (long long)max,
                text);
  return value;
}

uint64_t parse_bytes(const char *what, const char *text, uint64_t max) {
  char *end;
  errno = 0;
  if (!isdigit((unsigned char)text[0]))
    usage_error("%s: expected a size in bytes (optionally with k, m or g), got \"%s\"", what, text);
  unsigned long long value = strtoull(text, &end, 10);
  uint64_t scale = 1;
  if (*end == 'k' || *end == 'K') scale = 1024, end++;
  else if (*end == 'm' || *end == 'M') scale = 1024 * 1024, end++;
  else if (*end == 'g' || *end == 'G') scale = 1024 * 1024 * 1024, end++;
  if (*end != '\0' || errno != 0 || value == 0 || value > max / scale)
    usage_error("%s: expected a size in bytes from 1 to %llu (optionally with k, m or g), got \"%s\"", what,
                (unsigned long long)max, text);
  return value * scale;
}

double parse_positive(const char *what, const char *text) {
  char *end;
  errno = 0;
  double value = strtod(text, &end);
  if (text[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(value) || value <= 0)
    usage_error("%s: expected a positive number, got \"%s\"", what, text);
  return value;
}
