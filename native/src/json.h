/* A minimal JSON writer for the harness's one result object on stdout. The caller writes the
 * structure in order; the writer only tracks whether a comma is due. */
#ifndef VRH_JSON_H
#define VRH_JSON_H

#include <stdint.h>
#include <stdio.h>

struct json {
  FILE *out;
  int depth;
  /* first[d]: nothing written yet at nesting depth d. */
  int first[32];
};

void json_init(struct json *j, FILE *out);
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_string(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, int64_t value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_double(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, int value);
void json_null(struct json *j, const char *key);
/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
