/* buffer.c - a Proxy-Wasm buffer (buffer.h). */
#include "proxywasm/buffer.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

static size_t max_of(const pw_buffer *b) { return b->max ? b->max : PW_BUFFER_DEFAULT_MAX; }

/* Capacity for n bytes, grown as wp_buf grows (amortised doubling). */
static bool reserve(pw_buffer *b, size_t n) {
  wp_buf w = {b->data, b->len, b->cap, false};
  if (!wp_buf_reserve(&w, n)) return false;
  b->data = w.data;
  b->cap = w.cap;
  return true;
}

/* Whether a buffer of `keep` bytes may take `add` more (no wrap, whatever they are). */
static bool fits(const pw_buffer *b, size_t keep, size_t add) {
  size_t max = max_of(b);
  return keep <= max && add <= max - keep;
}

void pw_buffer_free(pw_buffer *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void pw_buffer_clear(pw_buffer *b) { b->len = 0; }

pw_buffer_status pw_buffer_append(pw_buffer *b, const void *data, size_t len) {
  if (!fits(b, b->len, len)) return PW_BUFFER_TOO_BIG;
  if (!reserve(b, b->len + len)) return PW_BUFFER_NO_MEMORY;
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  return PW_BUFFER_OK;
}

pw_buffer_status pw_buffer_assign(pw_buffer *b, const void *data, size_t len) {
  if (!fits(b, 0, len)) return PW_BUFFER_TOO_BIG;
  if (!reserve(b, len)) return PW_BUFFER_NO_MEMORY;
  /* memmove: the new bytes may be a slice of this very buffer. */
  if (len) memmove(b->data, data, len);
  b->len = len;
  return PW_BUFFER_OK;
}

/* data must not point into b: making room may move or overwrite it (the ABI's
   bytes come from guest memory, never from the buffer). */
pw_buffer_status pw_buffer_splice(pw_buffer *b, uint32_t start, uint32_t size, const void *data,
                                  size_t len) {
  if (start >= b->len) return pw_buffer_append(b, data, len);
  size_t cut = b->len - start < size ? b->len - start : size;
  size_t keep = b->len - cut, tail = keep - start;
  if (!fits(b, keep, len)) return PW_BUFFER_TOO_BIG;
  if (!reserve(b, keep + len)) return PW_BUFFER_NO_MEMORY;
  /* The bytes after the cut move to just after the new ones. */
  if (tail) memmove(b->data + start + len, b->data + start + cut, tail);
  if (len) memcpy(b->data + start, data, len);
  b->len = keep + len;
  return PW_BUFFER_OK;
}

bool pw_buffer_slice(const pw_buffer *b, uint32_t start, uint32_t max, const uint8_t **data,
                     size_t *len) {
  if (start > b->len) return false;
  size_t left = b->len - start;
  *len = left < max ? left : max;
  /* Never NULL, even for an empty buffer that never held anything. */
  *data = b->data ? b->data + start : (const uint8_t *)"";
  return true;
}
