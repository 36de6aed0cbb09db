/* buf.h - a growable byte buffer, and text built in it (internal). */
#ifndef WP_UTIL_BUF_H
#define WP_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Zero-initialise ({0}) to start empty. The appending functions keep a NUL
 * after the bytes (not counted in len), so text built here is a C string,
 * and they are sticky on failure: once one runs out of memory, oom is set
 * and later ones do nothing, so a builder checks once, at the end.
 * wp_buf_reserve neither reads nor sets oom: its callers check it each time.
 */
typedef struct wp_buf {
  uint8_t *data;
  size_t len, cap;
  bool oom;
} wp_buf;

/* Ensures a capacity of at least cap bytes; false when out of memory. */
bool wp_buf_reserve(wp_buf *b, size_t cap);

/* Appends n bytes of s; false (and oom set) when out of memory. */
bool wp_buf_add(wp_buf *b, const void *s, size_t n);
bool wp_buf_puts(wp_buf *b, const char *s);
bool wp_buf_putc(wp_buf *b, char c);

/* Appends printf-formatted text, whole (never cut). */
bool wp_buf_printf(wp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool wp_buf_vprintf(wp_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Frees the bytes and leaves b empty (and oom cleared). */
void wp_buf_free(wp_buf *b);

#endif
