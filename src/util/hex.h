/* hex.h - hex: lower-case out, either case in (internal). */
#ifndef WP_UTIL_HEX_H
#define WP_UTIL_HEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the 2n hex digits of in[0..n) and a NUL to out (2n + 1 bytes). */
void wp_hex(const uint8_t *in, size_t n, char *out);

/* Decodes the 2n hex digits at in (either case) into out[0..n); false, with
   out unspecified, if any of them is not a hex digit (a NUL included). */
bool wp_unhex(const char *in, size_t n, uint8_t *out);

#endif
