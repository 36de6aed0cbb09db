/* buf.c - a growable byte buffer. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wp_buf_reserve(wp_buf *b, size_t cap) {
  if (cap <= b->cap) return true;
  size_t ncap = b->cap ? b->cap : 64;
  /* Doubling keeps appends amortised O(1); near SIZE_MAX it would wrap
     (and loop forever), so take exactly what is asked for there. */
  while (ncap < cap) ncap = ncap > SIZE_MAX / 2 ? cap : ncap * 2;
  uint8_t *nd = realloc(b->data, ncap);
  if (!nd) return false;
  b->data = nd;
  b->cap = ncap;
  return true;
}

/* Room for n more bytes and the NUL after them. */
static bool room(wp_buf *b, size_t n) {
  if (b->oom) return false;
  if (n > SIZE_MAX - 1 - b->len || !wp_buf_reserve(b, b->len + n + 1)) {
    b->oom = true;
    return false;
  }
  return true;
}

bool wp_buf_add(wp_buf *b, const void *s, size_t n) {
  if (!room(b, n)) return false;
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return true;
}

bool wp_buf_puts(wp_buf *b, const char *s) { return wp_buf_add(b, s, strlen(s)); }

bool wp_buf_putc(wp_buf *b, char c) { return wp_buf_add(b, &c, 1); }

bool wp_buf_vprintf(wp_buf *b, const char *fmt, va_list ap) {
  if (b->oom) return false;
  /* Format into the spare capacity first: most additions fit, and the
     text is formatted once. */
  va_list again;
  va_copy(again, ap);
  size_t spare = b->data ? b->cap - b->len : 0;
  int n = vsnprintf(b->data ? (char *)b->data + b->len : NULL, spare, fmt, ap);
  bool ok = n >= 0 && room(b, (size_t)n);
  if (ok && (size_t)n >= spare) vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, again);
  va_end(again);
  if (!ok) {
    b->oom = true;
    if (spare) b->data[b->len] = '\0'; /* a cut attempt leaves no trace */
    return false;
  }
  b->len += (size_t)n;
  return true;
}

bool wp_buf_printf(wp_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  bool ok = wp_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return ok;
}

void wp_buf_free(wp_buf *b) {
  free(b->data);
  *b = (wp_buf){0};
}
