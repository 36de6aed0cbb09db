/* utf8.h - UTF-8 validation (internal). */
#ifndef WP_UTIL_UTF8_H
#define WP_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or
   code points above U+10FFFF). */
bool wp_utf8_valid(const uint8_t *s, size_t len);

/* The length of the well-formed UTF-8 sequence at the start of s[0..len),
   or 0 if there is none. */
size_t wp_utf8_seq(const uint8_t *s, size_t len);

#endif
