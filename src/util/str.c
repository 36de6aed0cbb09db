/* str.c - copying byte strings. */
#include "util/str.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

char *wp_strdup_n(const char *s, size_t len) {
  char *d = malloc(len + 1);
  if (!d) return NULL;
  if (len) memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *wp_strdup_printable(const void *data, size_t len) {
  const uint8_t *s = data;
  char *d = malloc(len * 4 + 1); /* every byte may become \xNN */
  if (!d) return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len;) {
    size_t n = wp_utf8_seq(s + i, len - i);
    if (n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f || s[i] == '\\'))) {
      o += (size_t)snprintf(d + o, 5, "\\x%02x", s[i]);
      i++;
      continue;
    }
    memcpy(d + o, s + i, n);
    o += n;
    i += n;
  }
  d[o] = '\0';
  return d;
}

const char *wp_base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}
