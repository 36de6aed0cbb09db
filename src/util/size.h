/* size.h - printing byte sizes for messages (internal). */
#ifndef WP_UTIL_SIZE_H
#define WP_UTIL_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* "1 MiB", "64 KiB", "1234 bytes" into buf; returns buf. */
const char *wp_format_size(uint64_t bytes, char *buf, size_t cap);

#endif
