/*
 * zalloc.h - zeroed allocation for hot paths.
 *
 * glibc's calloc (up to 2.40, as on Debian 12) skips malloc's per-thread
 * cache and takes the arena's slow path every time; malloc then memset keeps
 * small allocations on the fast path (a third of the instructions). Values
 * made and freed on every call (wp_value and its items) use this.
 */
#ifndef WP_UTIL_ZALLOC_H
#define WP_UTIL_ZALLOC_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* n zeroed items of `size` bytes (at least one byte), or NULL (also on
   overflow), freed with free(). */
static inline void *wp_zalloc(size_t n, size_t size) {
  if (size && n > SIZE_MAX / size) return NULL;
  size_t bytes = n * size;
  if (!bytes) bytes = 1;
  void *p = malloc(bytes);
  if (!p) return NULL;
  /* Without this barrier GCC fuses malloc and memset back into calloc. */
  __asm__ volatile("" : : "r"(p) : "memory");
  memset(p, 0, bytes);
  return p;
}

#endif
