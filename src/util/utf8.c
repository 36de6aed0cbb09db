/* utf8.c - UTF-8 validation, per RFC 3629's table of well-formed sequences. */
#include "util/utf8.h"

size_t wp_utf8_seq(const uint8_t *s, size_t len) {
  if (!len) return 0;
  uint8_t c = s[0];
  if (c < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) n = 3, lo = 0xA0;
  else if (c == 0xED) n = 3, hi = 0x9F; /* no surrogates */
  else if (c >= 0xE1 && c <= 0xEF) n = 3;
  else if (c == 0xF0) n = 4, lo = 0x90;
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) n = 4, hi = 0x8F; /* nothing above U+10FFFF */
  else return 0;
  if (len < n || s[1] < lo || s[1] > hi) return 0;
  for (size_t k = 2; k < n; k++)
    if ((s[k] & 0xC0) != 0x80) return 0;
  return n;
}

bool wp_utf8_valid(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    if (s[i] < 0x80) { /* the common case, without a call */
      i++;
      continue;
    }
    size_t n = wp_utf8_seq(s + i, len - i);
    if (!n) return false;
    i += n;
  }
  return true;
}
