/* hex.c - hex: lower-case out, either case in. */
#include "util/hex.h"

void wp_hex(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = '\0';
}

static int digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool wp_unhex(const char *in, size_t n, uint8_t *out) {
  for (size_t i = 0; i < n; i++) {
    int hi = digit(in[2 * i]);
    if (hi < 0) return false; /* also stops at the NUL of a short string */
    int lo = digit(in[2 * i + 1]);
    if (lo < 0) return false;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return true;
}
