/*
 * wasmplug_http.h - HTTP handlers as core-module plugins, in C: the guest
 * side of docs/http-abi.md on top of wasmplug_pdk.h.
 *
 * A complete handler:
 *
 *   #include "wasmplug_http.h"
 *
 *   static void serve(const wp_http_req *req, wp_http_resp *resp) {
 *     wp_http_resp_header(resp, "content-type", "text/plain");
 *     wp_http_resp_printf(resp, "you asked for %.*s\n", (int)req->path_len, req->path);
 *   }                                  // status 200 unless wp_http_resp_status says otherwise
 *   WP_HTTP_HANDLER(serve)             // exports "handle" and "cabi_post_handle"
 *
 * The request is parsed in place: its strings point into the input block
 * and are valid only while the handler runs (copy what you keep). They are
 * not NUL-terminated: use the lengths. The response is encoded into the
 * output when the handler returns. Running out of memory traps, like
 * wp_output. A handler that wants the call to fail (the server answers 500)
 * calls wp_error as in any bytes export.
 *
 * Parsing and encoding are plain functions (wp_http_req_parse,
 * wp_http_resp_encode), so they can also be used without the macro.
 */
#ifndef WASMPLUG_PDK_HTTP_H
#define WASMPLUG_PDK_HTTP_H

#include "wasmplug_pdk.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* The request                                                               */
/* ======================================================================== */

/** One header field, pointing into the request block. */
typedef struct wp_http_field {
  const char *name; /**< a token, lower-case when it came through the server */
  size_t name_len;
  const uint8_t *value; /**< any bytes but CR, LF and NUL */
  size_t value_len;
} wp_http_field;

/** A parsed request: every pointer points into the input block. */
typedef struct wp_http_req {
  const char *method; /**< "GET", "POST"... */
  size_t method_len;
  const char *scheme; /**< "http", "https" or empty */
  size_t scheme_len;
  const char *authority; /**< host[:port] or empty */
  size_t authority_len;
  const char *path; /**< path and query, starting with '/' */
  size_t path_len;
  wp_http_field *headers; /**< malloc'ed array of n_headers (NULL when none) */
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
} wp_http_req;

/** Reads a little-endian u32 at `p`. */
static inline uint32_t wp__http_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/** Takes one str from [*pos, len): its bytes and length; 0 when it runs past the end. */
static inline int wp__http_str(const uint8_t *in, size_t len, size_t *pos, const uint8_t **s,
                               size_t *n) {
  if (len - *pos < 4) return 0;
  uint32_t l = wp__http_u32(in + *pos);
  *pos += 4;
  if (l > len - *pos) return 0;
  *s = in + *pos;
  *n = l;
  *pos += l;
  return 1;
}

/**
 * Parses the WPH1 block `in` of `len` bytes into *req (pointers into `in`),
 * checking every length. Returns 0 on success, -1 on a malformed block (then
 * nothing needs freeing). Free a parsed request with wp_http_req_free.
 */
static inline int wp_http_req_parse(const uint8_t *in, size_t len, wp_http_req *req) {
  memset(req, 0, sizeof *req);
  if (len < 4 || memcmp(in, "WPH1", 4) != 0) return -1;
  size_t pos = 4;
  const uint8_t *s[4];
  size_t n[4];
  for (int i = 0; i < 4; i++)
    if (!wp__http_str(in, len, &pos, &s[i], &n[i])) return -1;
  req->method = (const char *)s[0], req->method_len = n[0];
  req->scheme = (const char *)s[1], req->scheme_len = n[1];
  req->authority = (const char *)s[2], req->authority_len = n[2];
  req->path = (const char *)s[3], req->path_len = n[3];
  if (len - pos < 4) return -1;
  uint32_t count = wp__http_u32(in + pos);
  pos += 4;
  if (count > (len - pos) / 8) return -1;
  if (count) {
    req->headers = (wp_http_field *)malloc(count * sizeof *req->headers);
    if (!req->headers) __builtin_trap();
  }
  for (uint32_t i = 0; i < count; i++) {
    wp_http_field *f = &req->headers[i];
    const uint8_t *name;
    if (!wp__http_str(in, len, &pos, &name, &f->name_len) ||
        !wp__http_str(in, len, &pos, &f->value, &f->value_len)) {
      free(req->headers);
      memset(req, 0, sizeof *req);
      return -1;
    }
    f->name = (const char *)name;
    req->n_headers = i + 1;
  }
  const uint8_t *body;
  if (!wp__http_str(in, len, &pos, &body, &req->body_len) || pos != len) {
    free(req->headers);
    memset(req, 0, sizeof *req);
    return -1;
  }
  req->body = body;
  return 0;
}

/** Frees what wp_http_req_parse allocated (the header array). */
static inline void wp_http_req_free(wp_http_req *req) {
  free(req->headers);
  req->headers = NULL;
  req->n_headers = 0;
}

/** Whether the method is `m` (exact, case-sensitive as HTTP methods are). */
static inline int wp_http_req_method_is(const wp_http_req *req, const char *m) {
  size_t n = strlen(m);
  return req->method_len == n && memcmp(req->method, m, n) == 0;
}

/**
 * The value of the first header named `name` (ASCII case-insensitive), its
 * length in *len; NULL when there is none.
 */
static inline const uint8_t *wp_http_req_header(const wp_http_req *req, const char *name,
                                                size_t *len) {
  size_t n = strlen(name);
  for (size_t i = 0; i < req->n_headers; i++) {
    const wp_http_field *f = &req->headers[i];
    if (f->name_len != n) continue;
    size_t j = 0;
    for (; j < n; j++) {
      char a = f->name[j], b = name[j];
      if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
      if (b >= 'A' && b <= 'Z') b = (char)(b - 'A' + 'a');
      if (a != b) break;
    }
    if (j == n) {
      *len = f->value_len;
      return f->value;
    }
  }
  *len = 0;
  return NULL;
}

/* ======================================================================== */
/* The response                                                              */
/* ======================================================================== */

/** A growable byte buffer (malloc'ed; traps when memory runs out). */
typedef struct wp__http_buf {
  uint8_t *data;
  size_t len, cap;
} wp__http_buf;

static inline void wp__http_buf_add(wp__http_buf *b, const void *data, size_t n) {
  if (n == 0) return;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
      if (cap > SIZE_MAX / 2) __builtin_trap();
      cap *= 2;
    }
    uint8_t *d = (uint8_t *)realloc(b->data, cap);
    if (!d) __builtin_trap();
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, n);
  b->len += n;
}

static inline void wp__http_buf_u32(wp__http_buf *b, uint32_t v) {
  uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  wp__http_buf_add(b, d, 4);
}

/**
 * A response being built. Start with wp_http_resp_init (WP_HTTP_HANDLER does
 * it: status 200, no headers, empty body).
 */
typedef struct wp_http_resp {
  uint32_t status;
  uint32_t n_headers;
  wp__http_buf headers; /* encoded (name: str, value: str) pairs */
  wp__http_buf body;
  const uint8_t *borrowed; /* a body set with wp_http_resp_body_borrow */
  size_t borrowed_len;
} wp_http_resp;

static inline void wp_http_resp_init(wp_http_resp *r) {
  memset(r, 0, sizeof *r);
  r->status = 200;
}

/** Frees the response's buffers (wp_http_resp_encode does not). */
static inline void wp_http_resp_free(wp_http_resp *r) {
  free(r->headers.data);
  free(r->body.data);
  wp_http_resp_init(r);
}

/** Sets the status (the host accepts 100-599). */
static inline void wp_http_resp_status(wp_http_resp *r, uint32_t status) { r->status = status; }

/**
 * Adds a header field (a repeated name adds another field). Names must be
 * tokens and values free of CR, LF and NUL, or the host refuses the whole
 * response (WP_ERR_ABI).
 */
static inline void wp_http_resp_header_n(wp_http_resp *r, const char *name, size_t name_len,
                                         const void *value, size_t value_len) {
  wp__http_buf_u32(&r->headers, (uint32_t)name_len);
  wp__http_buf_add(&r->headers, name, name_len);
  wp__http_buf_u32(&r->headers, (uint32_t)value_len);
  wp__http_buf_add(&r->headers, value, value_len);
  r->n_headers++;
}

/** wp_http_resp_header_n with NUL-terminated strings. */
static inline void wp_http_resp_header(wp_http_resp *r, const char *name, const char *value) {
  wp_http_resp_header_n(r, name, strlen(name), value, strlen(value));
}

/** Makes a borrowed body the response's own, so it can be appended to. */
static inline void wp__http_resp_own(wp_http_resp *r) {
  if (!r->borrowed) return;
  const uint8_t *b = r->borrowed;
  r->borrowed = NULL;
  r->body.len = 0;
  wp__http_buf_add(&r->body, b, r->borrowed_len);
}

/** Appends `len` bytes to the body. */
static inline void wp_http_resp_write(wp_http_resp *r, const void *data, size_t len) {
  wp__http_resp_own(r);
  wp__http_buf_add(&r->body, data, len);
}

/** Appends a NUL-terminated string to the body. */
static inline void wp_http_resp_write_str(wp_http_resp *r, const char *s) {
  wp_http_resp_write(r, s, strlen(s));
}

/** Appends printf-formatted text to the body. */
static inline WP__PRINTF(2, 3) void wp_http_resp_printf(wp_http_resp *r, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n >= 0 && (size_t)n < sizeof small) {
    wp_http_resp_write(r, small, (size_t)n);
  } else if (n >= 0) {
    char *big = (char *)malloc((size_t)n + 1);
    if (!big) __builtin_trap();
    vsnprintf(big, (size_t)n + 1, fmt, ap2);
    wp_http_resp_write(r, big, (size_t)n);
    free(big);
  }
  va_end(ap2);
  va_end(ap);
}

/**
 * Sets the body to `len` bytes at `data` without copying them: they must
 * stay valid until the handler returns (the request body does). Replaces
 * anything written before; a later write copies them first.
 */
static inline void wp_http_resp_body_borrow(wp_http_resp *r, const void *data, size_t len) {
  r->body.len = 0;
  r->borrowed = (const uint8_t *)data;
  r->borrowed_len = len;
  if (!r->borrowed) r->borrowed = (const uint8_t *)"";
}

/**
 * The WPR1 block of the response, malloc'ed (the caller frees it), its
 * length in *len.
 */
static inline uint8_t *wp_http_resp_encode(const wp_http_resp *r, size_t *len) {
  const uint8_t *body = r->borrowed ? r->borrowed : r->body.data;
  size_t body_len = r->borrowed ? r->borrowed_len : r->body.len;
  uint64_t total64 = 4 + 4 + 4 + (uint64_t)r->headers.len + 4 + body_len;
  if (total64 > UINT32_MAX) __builtin_trap();
  size_t total = (size_t)total64;
  uint8_t *out = (uint8_t *)malloc(total);
  if (!out) __builtin_trap();
  wp__http_buf b = {out, 0, total};
  wp__http_buf_add(&b, "WPR1", 4);
  wp__http_buf_u32(&b, r->status);
  wp__http_buf_u32(&b, r->n_headers);
  wp__http_buf_add(&b, r->headers.data, r->headers.len);
  wp__http_buf_u32(&b, (uint32_t)body_len);
  wp__http_buf_add(&b, body, body_len);
  *len = b.len;
  return out;
}

/* ======================================================================== */
/* The export                                                                */
/* ======================================================================== */

/** The handler WP_HTTP_HANDLER wraps. */
typedef void (*wp_http_handler_fn)(const wp_http_req *req, wp_http_resp *resp);

/** Body of the bytes export: parse, run the handler, encode the output. */
static inline void wp__http_run(wp_http_handler_fn handler, const uint8_t *in, size_t len) {
  wp_http_req req;
  if (wp_http_req_parse(in, len, &req) != 0) {
    wp_error_str("wasmplug_http.h: the input of 'handle' is not a WPH1 request block",
                 sizeof "wasmplug_http.h: the input of 'handle' is not a WPH1 request block" - 1);
    return;
  }
  wp_http_resp resp;
  wp_http_resp_init(&resp);
  handler(&req, &resp);
  size_t out_len;
  uint8_t *out = wp_http_resp_encode(&resp, &out_len);
  wp_http_resp_free(&resp);
  wp_http_req_free(&req);
  wp_output_take(out, out_len);
}

/**
 * Exports `handle` (and `cabi_post_handle`) calling
 * `void handler(const wp_http_req *req, wp_http_resp *resp)`. Use once, at
 * file scope.
 */
#define WP_HTTP_HANDLER(handler)                                        \
  static void wp__http_bytes_##handler(const uint8_t *in, size_t len) { \
    wp__http_run(handler, in, len);                                     \
  }                                                                     \
  WP_EXPORT_BYTES(handle, wp__http_bytes_##handler)

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_PDK_HTTP_H */
