/* hex.h - lower-case hex (internal). */
#ifndef WP_UTIL_HEX_H
#define WP_UTIL_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 2n hex digits of in[0..n) and a NUL to out (2n + 1 bytes). */
void wp_hex(const uint8_t *in, size_t n, char *out);

#endif
