/*
 * wasmplug_http_out.h - outbound HTTP for C core-module plugins: the guest
 * side of `wasmplug.http_request` (src/host/http/http.h), on top of
 * wasmplug_pdk.h. The plugin's manifest must allow the hosts:
 *
 *   "capabilities": {"http": {"allowed_hosts": ["https://api.example.com"],
 *                             "max_response_size": "1MiB", "timeout_ms": 5000}}
 *
 * Example:
 *
 *   #include "wasmplug_http_out.h"
 *
 *   static void run(const uint8_t *in, size_t len) {
 *     wp_http_out_response r;
 *     if (wp_http_out_get("https://api.example.com/v1/x", &r) != 0) {
 *       wp_error("fetch: %s", r.error);
 *     } else {
 *       wp_output(r.body, r.body_len);
 *     }
 *     wp_http_out_response_free(&r);
 *   }
 *   WP_EXPORT_BYTES(run, run)
 *
 * A request the host refuses or cannot complete (not granted, a host, port
 * or redirect outside the allowlist, a response over max_response_size, a
 * timeout, a connection failure) returns -1 with the host's message in
 * r.error; the plugin decides what to do. Redirects are followed by the
 * host. The wire format (frame.h): input = method, url, u64 header count,
 * (name, value) pairs, body; output = status byte 0 then u64 status, u64
 * count, pairs, body; or status byte 2 then the message.
 */
#ifndef WASMPLUG_PDK_HTTP_OUT_H
#define WASMPLUG_PDK_HTTP_OUT_H

#include "wasmplug_pdk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A request header: `name` is NUL-terminated, `value` has `value_len` bytes. */
typedef struct {
  const char *name;
  const void *value;
  size_t value_len;
} wp_http_out_header;

/** A response header; both point into the response (valid until it is freed). */
typedef struct {
  char *name; /* NUL-terminated */
  const uint8_t *value;
  size_t value_len;
} wp_http_out_field;

/** A response, or why there is none (`error` non-NULL). Free with wp_http_out_response_free. */
typedef struct {
  uint32_t status;
  wp_http_out_field *headers;
  size_t nheaders;
  const uint8_t *body;
  size_t body_len;
  char *error;
  uint8_t *raw; /* the host's output, which the fields point into */
} wp_http_out_response;

WP_IMPORT_BYTES("wasmplug", "http_request", wp__http_request)

static inline void wp__put_field(uint8_t **at, const void *p, size_t n) {
  uint32_t len = (uint32_t)n;
  memcpy(*at, &len, 4); /* wasm32 is little-endian, as the frame */
  if (n) memcpy(*at + 4, p, n);
  *at += 4 + n;
}

/* The next field of the host's output; 0 if there is none. */
static inline int wp__get_field(const uint8_t **at, const uint8_t *end, const uint8_t **p,
                                size_t *n) {
  uint32_t len;
  if ((size_t)(end - *at) < 4) return 0;
  memcpy(&len, *at, 4);
  if ((size_t)(end - *at) - 4 < len) return 0;
  *p = *at + 4;
  *n = len;
  *at += 4 + (size_t)len;
  return 1;
}

static inline int wp__get_u64(const uint8_t **at, const uint8_t *end, uint64_t *v) {
  const uint8_t *p;
  size_t n;
  if (!wp__get_field(at, end, &p, &n) || n != 8) return 0;
  memcpy(v, p, 8);
  return 1;
}

static inline int wp__http_out_fail(wp_http_out_response *r, const char *msg, size_t n) {
  r->error = (char *)malloc(n + 1);
  if (r->error) {
    memcpy(r->error, msg, n);
    r->error[n] = '\0';
  }
  return -1;
}

/** Frees what a request left in `r` (a zeroed response is fine too). */
static inline void wp_http_out_response_free(wp_http_out_response *r) {
  for (size_t i = 0; i < r->nheaders; i++) free(r->headers[i].name);
  free(r->headers);
  free(r->error);
  free(r->raw);
  memset(r, 0, sizeof *r);
}

/**
 * Sends a request and waits for the response. 0: `*r` holds it; -1:
 * `r->error` says why (a message from the host). Free `*r` either way.
 */
static inline int wp_http_out_request(const char *method, const char *url,
                                      const wp_http_out_header *headers, size_t nheaders,
                                      const void *body, size_t body_len, wp_http_out_response *r) {
  memset(r, 0, sizeof *r);
  size_t size = 4 + strlen(method) + 4 + strlen(url) + 12 + 4 + body_len;
  for (size_t i = 0; i < nheaders; i++) size += 8 + strlen(headers[i].name) + headers[i].value_len;
  uint8_t *in = (uint8_t *)malloc(size), *at = in;
  if (!in) return wp__http_out_fail(r, "out of memory", 13);
  uint64_t count = nheaders;
  wp__put_field(&at, method, strlen(method));
  wp__put_field(&at, url, strlen(url));
  wp__put_field(&at, &count, 8);
  for (size_t i = 0; i < nheaders; i++) {
    wp__put_field(&at, headers[i].name, strlen(headers[i].name));
    wp__put_field(&at, headers[i].value, headers[i].value_len);
  }
  wp__put_field(&at, body, body_len);
  wp_bytes out = wp__http_request(in, (size_t)(at - in));
  free(in);
  r->raw = out.ptr;
  if (!out.len) return wp__http_out_fail(r, "empty answer from the host", 26);
  const uint8_t *p = out.ptr + 1, *end = out.ptr + out.len;
  if (out.ptr[0] != 0) return wp__http_out_fail(r, (const char *)p, (size_t)(end - p));
  uint64_t status, n;
  if (!wp__get_u64(&p, end, &status) || !wp__get_u64(&p, end, &n) || n > (size_t)(end - p) / 8)
    return wp__http_out_fail(r, "malformed answer from the host", 30);
  r->status = (uint32_t)status;
  r->headers = (wp_http_out_field *)calloc(n ? (size_t)n : 1, sizeof *r->headers);
  if (!r->headers) return wp__http_out_fail(r, "out of memory", 13);
  for (; r->nheaders < n; r->nheaders++) {
    const uint8_t *name;
    size_t name_len;
    wp_http_out_field *f = &r->headers[r->nheaders];
    if (!wp__get_field(&p, end, &name, &name_len) ||
        !wp__get_field(&p, end, &f->value, &f->value_len) ||
        !(f->name = (char *)malloc(name_len + 1)))
      return wp__http_out_fail(r, "malformed answer from the host", 30);
    memcpy(f->name, name, name_len);
    f->name[name_len] = '\0';
  }
  if (!wp__get_field(&p, end, &r->body, &r->body_len))
    return wp__http_out_fail(r, "malformed answer from the host", 30);
  return 0;
}

/** A GET without headers. */
static inline int wp_http_out_get(const char *url, wp_http_out_response *r) {
  return wp_http_out_request("GET", url, NULL, 0, NULL, 0, r);
}

/** The first response header named `name` (any case), or NULL. */
static inline const wp_http_out_field *wp_http_out_header_get(const wp_http_out_response *r,
                                                              const char *name) {
  for (size_t i = 0; i < r->nheaders; i++) {
    const char *a = r->headers[i].name, *b = name;
    while (*a && *b && (*a | 0x20) == (*b | 0x20)) a++, b++;
    if (!*a && !*b) return &r->headers[i];
  }
  return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_PDK_HTTP_OUT_H */
