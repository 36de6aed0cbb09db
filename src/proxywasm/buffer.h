/*
 * buffer.h - a Proxy-Wasm buffer (internal): a body, TCP data, a
 * configuration, with the ABI's slice and set semantics.
 */
#ifndef WP_PROXYWASM_BUFFER_H
#define WP_PROXYWASM_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pw_buffer {
  uint8_t *data;
  size_t len, cap;
  size_t max; /* the most it may hold; 0: PW_BUFFER_DEFAULT_MAX */
} pw_buffer;

#define PW_BUFFER_DEFAULT_MAX (64u << 20)

typedef enum pw_buffer_status {
  PW_BUFFER_OK = 0,
  PW_BUFFER_TOO_BIG,  /* the result would exceed max */
  PW_BUFFER_NO_MEMORY,
} pw_buffer_status;

void pw_buffer_free(pw_buffer *b);  /* releases and leaves it empty (max kept) */
void pw_buffer_clear(pw_buffer *b); /* len = 0, memory kept */

pw_buffer_status pw_buffer_append(pw_buffer *b, const void *data, size_t len);
pw_buffer_status pw_buffer_assign(pw_buffer *b, const void *data, size_t len);

/*
 * The ABI's proxy_set_buffer_bytes: replaces `size` bytes at `start` with
 * `len` bytes of data. start >= the buffer's length appends; size is clamped
 * to what follows start (so size >= length replaces everything from start).
 * Both are 32-bit guest values: no overflow whatever they are.
 */
pw_buffer_status pw_buffer_splice(pw_buffer *b, uint32_t start, uint32_t size, const void *data,
                                  size_t len);

/*
 * The ABI's proxy_get_buffer_bytes: the slice [start, start + max) clamped to
 * the buffer (max may be 0xFFFFFFFF). False when start is past the end
 * (start == length gives an empty slice, true).
 */
bool pw_buffer_slice(const pw_buffer *b, uint32_t start, uint32_t max, const uint8_t **data,
                     size_t *len);

#endif
