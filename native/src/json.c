#include "json.h"

#include <assert.h>
#include <math.h>

void json_init(struct json *j, FILE *out) {
  j->out = out;
  j->depth = 0;
  j->first[0] = 1;
}

static void write_escaped(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(out, "\\%c", c);
    else if (c < 0x20)
      fprintf(out, "\\u%04x", c);
    else
      fputc(c, out);
  }
  fputc('"', out);
}

/* The comma and the key of the next member (key NULL inside an array or at the top). */
static void member(struct json *j, const char *key) {
  if (!j->first[j->depth]) fputc(',', j->out);
  j->first[j->depth] = 0;
  if (key != NULL) {
    write_escaped(j->out, key);
    fputc(':', j->out);
  }
}

static void open(struct json *j, const char *key, char bracket) {
  member(j, key);
  fputc(bracket, j->out);
  j->depth++;
  assert(j->depth < 32);
  j->first[j->depth] = 1;
}

static void close_(struct json *j, char bracket) {
  assert(j->depth > 0);
  j->depth--;
  fputc(bracket, j->out);
}

void json_begin_object(struct json *j, const char *key) { open(j, key, '{'); }
void json_end_object(struct json *j) { close_(j, '}'); }
void json_begin_array(struct json *j, const char *key) { open(j, key, '['); }
void json_end_array(struct json *j) { close_(j, ']'); }

void json_string(struct json *j, const char *key, const char *value) {
  member(j, key);
  write_escaped(j->out, value);
}

void json_int(struct json *j, const char *key, int64_t value) {
  member(j, key);
  fprintf(j->out, "%lld", (long long)value);
}

void json_uint(struct json *j, const char *key, uint64_t value) {
  member(j, key);
  fprintf(j->out, "%llu", (unsigned long long)value);
}

void json_double(struct json *j, const char *key, double value) {
  member(j, key);
  /* JSON has no NaN or infinity. */
  if (isfinite(value))
    fprintf(j->out, "%.17g", value);
  else
    fputs("null", j->out);
}

void json_bool(struct json *j, const char *key, int value) {
  member(j, key);
  fputs(value ? "true" : "false", j->out);
}

void json_null(struct json *j, const char *key) {
  member(j, key);
  fputs("null", j->out);
}

void json_finish(struct json *j) {
  assert(j->depth == 0);
  fputc('\n', j->out);
  fflush(j->out);
}
