/* utf8.c - UTF-8 validation, decoding and encoding, per RFC 3629's table of
   well-formed sequences. */
#include "util/utf8.h"

#include <string.h>

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

size_t wp_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp) {
  size_t n = wp_utf8_seq(s, len);
  if (!n) return 0;
  /* The lead byte keeps 7, 5, 4 or 3 bits; each continuation byte 6. */
  static const uint8_t lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  uint32_t v = s[0] & lead_mask[n];
  for (size_t k = 1; k < n; k++) v = (v << 6) | (s[k] & 0x3F);
  *cp = v;
  return n;
}

size_t wp_utf8_first_invalid(const uint8_t *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    /* ASCII, eight bytes at a time (memcpy: any alignment). */
    uint64_t w;
    if (len - i >= 8 && (memcpy(&w, s + i, 8), (w & 0x8080808080808080u) == 0)) {
      i += 8;
      continue;
    }
    if (s[i] < 0x80) { /* the common case, without a call */
      i++;
      continue;
    }
    size_t n = wp_utf8_seq(s + i, len - i);
    if (!n) return i;
    i += n;
  }
  return len;
}

bool wp_utf8_valid(const uint8_t *s, size_t len) { return wp_utf8_first_invalid(s, len) == len; }

size_t wp_utf8_encode(uint32_t cp, uint8_t out[4]) {
  if (cp < 0x80) {
    out[0] = (uint8_t)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (uint8_t)(0xC0 | (cp >> 6));
    out[1] = (uint8_t)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (uint8_t)(0xE0 | (cp >> 12));
    out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (uint8_t)(0xF0 | (cp >> 18));
  out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}
