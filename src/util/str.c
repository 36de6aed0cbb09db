/* str.c - copying byte strings. */
#include "util/str.h"

#include <stdlib.h>
#include <string.h>

char *wp_strdup_n(const char *s, size_t len) {
  char *d = malloc(len + 1);
  if (!d) return NULL;
  if (len) memcpy(d, s, len);
  d[len] = '\0';
  return d;
}
