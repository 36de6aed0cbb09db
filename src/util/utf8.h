/* utf8.h - UTF-8 validation, decoding and encoding (internal). */
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

/* Like wp_utf8_seq, and stores the sequence's code point in *cp when there
   is one. */
size_t wp_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/* The offset of the first byte of s[0..len) that does not start a
   well-formed sequence, or len if there is none. */
size_t wp_utf8_first_invalid(const uint8_t *s, size_t len);

/* Writes the UTF-8 form of the Unicode scalar value cp (not a surrogate,
   at most U+10FFFF) to out; returns its length, 1 to 4. */
size_t wp_utf8_encode(uint32_t cp, uint8_t out[4]);

#endif
