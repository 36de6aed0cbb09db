/*
 * fuzz_http.c - the decoder of core HTTP handlers' responses
 * (wp_core_http_decode, docs/http-abi.md) on arbitrary bytes, as a plugin's
 * `handle` could return them.
 *
 * Input: [limit: u8][block...]. limit is max_response_body: 0 the default
 * (64 MiB), else that many bytes (1 to 255), so the body cap is reached too.
 *
 * Must hold: no crash, leak or undefined behaviour; a failure is WP_ERR_ABI
 * naming the plugin and leaves nothing the caller cannot clear; a success
 * has a status of 100-599, header names that are lower-case tokens, values
 * without CR, LF or NUL, a body within the cap, and encodes back to exactly
 * the input block (with the header names lower-cased): nothing was skipped,
 * invented or reordered.
 *
 * No engine is needed: the decoder reads nothing of the instance but its
 * plugin's name, so a stub stands in.
 */
#include <string.h>

#include "core/http.h"
#include "fuzz.h"

static wp_plugin stub_plugin = {.name = "fuzz.wasm"};
static wp_instance stub = {.plugin = &stub_plugin};

static void put_u32(wp_buf *b, uint32_t v) {
  uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  FUZZ_CHECK(wp_buf_add(b, d, 4), "out of memory");
}

static void put_str(wp_buf *b, const void *s, size_t n) {
  put_u32(b, (uint32_t)n);
  FUZZ_CHECK(wp_buf_add(b, s, n), "out of memory");
}

/* The block a decoded response came from, header names lower-cased; the
   bytes of names are marked in `is_name` (b->len bytes at the end). */
static void encode(const wp_http_response *r, wp_buf *b, wp_buf *is_name) {
  FUZZ_CHECK(wp_buf_add(b, "WPR1", 4), "out of memory");
  put_u32(b, r->status);
  put_u32(b, (uint32_t)r->n_headers);
  for (size_t i = 0; i < r->n_headers; i++) {
    size_t at = b->len + 4;
    put_str(b, r->headers[i].name, r->headers[i].name_len);
    FUZZ_CHECK(wp_buf_reserve(is_name, b->len), "out of memory");
    memset(is_name->data + is_name->len, 0, b->len - is_name->len);
    memset(is_name->data + at, 1, r->headers[i].name_len);
    is_name->len = b->len;
    put_str(b, r->headers[i].value, r->headers[i].value_len);
  }
  put_str(b, r->body, r->body_len);
}

static void check_success(const wp_http_response *r, const uint8_t *block, size_t len,
                          size_t max_body) {
  FUZZ_CHECK(r->status >= 100 && r->status <= 599, "status %u accepted", r->status);
  FUZZ_CHECK(r->body_len <= max_body, "a %zu-byte body passed the %zu-byte cap", r->body_len,
             max_body);
  FUZZ_CHECK(r->body_len == 0 || r->body, "a body length without a body");
  for (size_t i = 0; i < r->n_headers; i++) {
    const wp_http_header *h = &r->headers[i];
    FUZZ_CHECK(wp_http_header_name_valid(h->name, h->name_len), "header %zu's name accepted", i);
    FUZZ_CHECK(wp_http_header_value_valid(h->value, h->value_len), "header %zu's value accepted",
               i);
    for (size_t j = 0; j < h->name_len; j++)
      FUZZ_CHECK(!(h->name[j] >= 'A' && h->name[j] <= 'Z'), "header %zu's name not lower-cased", i);
    FUZZ_CHECK(h->name[h->name_len] == 0 && h->value[h->value_len] == 0,
               "header %zu not NUL-terminated", i);
  }
  wp_buf b = {0}, is_name = {0};
  encode(r, &b, &is_name);
  bool same = b.len == len;
  for (size_t i = 0; same && i < len; i++) {
    uint8_t c = block[i];
    bool name = i < is_name.len && is_name.data[i];
    same = b.data[i] == c || (name && c >= 'A' && c <= 'Z' && b.data[i] == c - 'A' + 'a');
  }
  FUZZ_CHECK(same, "the response does not encode back to the %zu-byte input (%zu bytes)", len,
             b.len);
  wp_buf_free(&b);
  wp_buf_free(&is_name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t max_body = data[0] ? data[0] : WP_HTTP_DEFAULT_MAX_BODY;
  /* A copy of exactly the block, so reading past it is an ASan report. */
  size_t len = size - 1;
  uint8_t *block = malloc(len ? len : 1);
  FUZZ_CHECK(block != NULL, "out of memory");
  if (len) memcpy(block, data + 1, len);
  wp_http_response r;
  wp_error *err = wp_core_http_decode(&stub, block, len, data[0], &r);
  if (err) {
    const char *msg = fuzz_message(err);
    FUZZ_CHECK(wp_error_get_kind(err) == WP_ERR_ABI, "kind %s: %s",
               wp_error_kind_name(wp_error_get_kind(err)), msg);
    FUZZ_CHECK(strstr(msg, "plugin 'fuzz.wasm'") != NULL, "the plugin is not named: %s", msg);
    wp_error_free(err);
  } else {
    check_success(&r, block, len, max_body);
  }
  wp_http_response_clear(&r);
  free(block);
  return 0;
}
