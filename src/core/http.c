/*
 * http.c - core modules as HTTP handlers: the request encoded as a WPH1
 * block, passed to the export `handle` through the ordinary bytes call (so
 * timeouts, fuel, interrupts and errors are those of any call), and the WPR1
 * block it returns decoded with every length checked (docs/http-abi.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "core/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kind.h"
#include "engine/error.h"
#include "util/str.h"

/* ---- detection ------------------------------------------------------------ */

void wp_core_http_detect(wp_plugin *p) {
  wp_core_plugin *c = p->kind_data;
  c->http_export = -1;
  for (size_t i = 0; i < p->nexports; i++)
    if (p->exports[i].kind == WP_EXTERN_FUNC &&
        strcmp(p->exports[i].name, WP_CORE_HTTP_EXPORT) == 0 && wp_plugin_is_bytes_func(p, i))
      c->http_export = (int32_t)i;
}

wp_http_kind wp_core_http_kind(const wp_plugin *p) {
  const wp_core_plugin *c = wp_core_of(p);
  return c && c->http_export >= 0 ? WP_HTTP_CORE : WP_HTTP_NONE;
}

/* ---- the request ---------------------------------------------------------- */

static const char *or_empty(const char *s) { return s ? s : ""; }

/* Bytes of the WPH1 block; more than UINT32_MAX when it cannot be sent (64-bit
   sums of sizes that each fit in memory cannot wrap). */
static uint64_t request_size(const wp_http_request *req) {
  uint64_t n = 4 + 4 * 4 + (uint64_t)strlen(req->method) + strlen(or_empty(req->scheme)) +
               strlen(or_empty(req->authority)) + strlen(req->path_with_query) + 4 + 4 +
               req->body_len;
  for (size_t i = 0; i < req->n_headers; i++)
    n += 8 + (uint64_t)req->headers[i].name_len + req->headers[i].value_len;
  return n;
}

static uint8_t *put_u32(uint8_t *d, uint32_t v) {
  d[0] = (uint8_t)v;
  d[1] = (uint8_t)(v >> 8);
  d[2] = (uint8_t)(v >> 16);
  d[3] = (uint8_t)(v >> 24);
  return d + 4;
}

static uint8_t *put_str(uint8_t *d, const void *s, size_t len) {
  d = put_u32(d, (uint32_t)len);
  if (len) memcpy(d, s, len);
  return d + len;
}

/* Writes the block into `d`, which has request_size(req) bytes (<= 4 GiB). */
static void write_request(const wp_http_request *req, uint8_t *d) {
  memcpy(d, WP_CORE_HTTP_REQUEST_MAGIC, 4);
  d += 4;
  d = put_str(d, req->method, strlen(req->method));
  d = put_str(d, or_empty(req->scheme), strlen(or_empty(req->scheme)));
  d = put_str(d, or_empty(req->authority), strlen(or_empty(req->authority)));
  d = put_str(d, req->path_with_query, strlen(req->path_with_query));
  d = put_u32(d, (uint32_t)req->n_headers);
  for (size_t i = 0; i < req->n_headers; i++) {
    d = put_str(d, req->headers[i].name, req->headers[i].name_len);
    d = put_str(d, req->headers[i].value, req->headers[i].value_len);
  }
  put_str(d, req->body, req->body_len);
}

bool wp_core_http_encode(const wp_http_request *req, wp_buf *out) {
  uint64_t size = request_size(req);
  if (size > UINT32_MAX || !wp_buf_reserve(out, out->len + (size_t)size + 1)) return false;
  write_request(req, out->data + out->len);
  out->len += (size_t)size;
  out->data[out->len] = 0;
  return true;
}

/* ---- the response --------------------------------------------------------- */

/* A position in the plugin's block. */
typedef struct cursor {
  const uint8_t *data;
  size_t len, pos;
} cursor;

static size_t left(const cursor *c) { return c->len - c->pos; }

static bool get_u32(cursor *c, uint32_t *v) {
  if (left(c) < 4) return false;
  const uint8_t *d = c->data + c->pos;
  *v = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
  c->pos += 4;
  return true;
}

static wp_error *bad_block(wp_instance *inst, const cursor *c, const char *fmt, ...)
    WP_PRINTF(3, 4);

/* WP_ERR_ABI: what was wrong, where, and how to make a block that is right. */
static wp_error *bad_block(wp_instance *inst, const cursor *c, const char *fmt, ...) {
  char what[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return wp_error_new(WP_ERR_ABI,
                      WP_PLUGIN_FMT
                      ": '" WP_CORE_HTTP_EXPORT "' returned a response that is not a valid "
                      "WPR1 block: %s (at byte %zu of %zu); build the handler with the PDK's "
                      "HTTP helpers (pdk/c/wasmplug_http.h, pdk/go HandleHTTP) or see "
                      "docs/http-abi.md",
                      inst->plugin->name, what, c->pos, c->len);
}

/* One str (len:u32 | bytes) of header `i`, `part` "name" or "value". */
static wp_error *get_str(wp_instance *inst, cursor *c, uint32_t i, const char *part,
                         const uint8_t **s, uint32_t *n) {
  if (!get_u32(c, n))
    return bad_block(inst, c, "header %u ends before the length of its %s", i, part);
  if (*n > left(c))
    return bad_block(inst, c, "header %u's %s of %u bytes runs past the end (%zu bytes left)", i,
                     part, *n, left(c));
  *s = c->data + c->pos;
  c->pos += *n;
  return NULL;
}

static wp_error *bad_magic(wp_instance *inst, const cursor *c) {
  char *start = wp_strdup_printable(c->data, c->len < 4 ? c->len : 4);
  if (!start) return wp_error_no_memory();
  wp_error *err = bad_block(inst, c, "it starts with '%s', not '" WP_CORE_HTTP_RESPONSE_MAGIC "'",
                            start);
  free(start);
  return err;
}

static wp_error *bad_name(wp_instance *inst, const cursor *c, uint32_t i, const uint8_t *name,
                          uint32_t len) {
  char *quoted = wp_strdup_printable(name, len > 64 ? 64 : len);
  if (!quoted) return wp_error_no_memory();
  wp_error *err = bad_block(inst, c, "header %u's name '%s%s' is not a token (RFC 9110)", i, quoted,
                            len > 64 ? "..." : "");
  free(quoted);
  return err;
}

wp_error *wp_core_http_decode(wp_instance *inst, const uint8_t *data, size_t len, size_t max_body,
                              wp_http_response *out) {
  memset(out, 0, sizeof *out);
  cursor c = {data, len, 0};
  if (len < 4 || memcmp(data, WP_CORE_HTTP_RESPONSE_MAGIC, 4) != 0) return bad_magic(inst, &c);
  c.pos = 4;
  uint32_t status, n_headers, body_len;
  if (!get_u32(&c, &status)) return bad_block(inst, &c, "it ends before the status");
  wp_error *err = wp_http_response_set_status(inst, out, status);
  if (err) return err;
  if (!get_u32(&c, &n_headers)) return bad_block(inst, &c, "it ends before the header count");
  /* Each header takes at least its two lengths: a count that cannot fit is
     refused before anything is read for it. */
  if (n_headers > left(&c) / 8)
    return bad_block(inst, &c, "%u headers cannot fit in the %zu bytes left", n_headers, left(&c));
  for (uint32_t i = 0; i < n_headers; i++) {
    const uint8_t *name, *value;
    uint32_t name_len, value_len;
    if ((err = get_str(inst, &c, i, "name", &name, &name_len)) ||
        (err = get_str(inst, &c, i, "value", &value, &value_len)))
      return err;
    /* The helper checks too, but quotes the name as is: quote it printable here. */
    if (!wp_http_header_name_valid((const char *)name, name_len))
      return bad_name(inst, &c, i, name, name_len);
    if ((err = wp_http_response_add_header(inst, out, (const char *)name, name_len, value,
                                           value_len)))
      return err;
  }
  if (!get_u32(&c, &body_len)) return bad_block(inst, &c, "it ends before the body length");
  if (body_len > left(&c))
    return bad_block(inst, &c, "the body of %u bytes runs past the end (%zu bytes left)", body_len,
                     left(&c));
  if (body_len < left(&c))
    return bad_block(inst, &c, "%zu bytes follow the %u-byte body (the block must end with it)",
                     left(&c) - body_len, body_len);
  return wp_http_response_set_body(inst, out, c.data + c.pos, body_len, max_body);
}

/* ---- a request ------------------------------------------------------------- */

wp_error *wp_core_http_handle(wp_instance *inst, const wp_http_request *req, size_t max_body,
                              wp_http_response *out) {
  const wp_plugin *p = inst->plugin;
  uint64_t size = request_size(req);
  if (size > UINT32_MAX)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": the request encodes to %llu bytes, over the 4 GiB a "
                                      "core handler can take; cap request bodies below that",
                        p->name, (unsigned long long)size);
  /* Most requests fit on the stack; a large body costs a malloc. */
  uint8_t small[4096];
  uint8_t *block = size <= sizeof small ? small : malloc((size_t)size);
  if (!block) return wp_error_no_memory();
  write_request(req, block);
  const uint8_t *resp;
  size_t resp_len;
  wp_error *err = wp_instance_call_func_bytes(inst, (wp_func_id)wp_core_of(p)->http_export, block,
                                              (size_t)size, &resp, &resp_len);
  if (block != small) free(block);
  if (err) return err;
  /* A handler that answers garbage may have garbage inside: a pool must
     not hand this instance out again. */
  if ((err = wp_core_http_decode(inst, resp, resp_len, max_body, out))) inst->failed = true;
  return err;
}
