/*
 * wire.c - the frames between a host and its worker (wire.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "isolation/wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "component/value.h"
#include "engine/error.h"

void wp_wire_begin(wp_buf *b, wp_wire_type type) {
  b->len = 0;
  b->oom = false;
  uint8_t head[5] = {0, 0, 0, 0, (uint8_t)type};
  wp_buf_add(b, head, sizeof head);
}

void wp_wire_u8(wp_buf *b, uint8_t v) { wp_buf_add(b, &v, 1); }

void wp_wire_u32(wp_buf *b, uint32_t v) {
  uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  wp_buf_add(b, le, 4);
}

void wp_wire_u64(wp_buf *b, uint64_t v) {
  wp_wire_u32(b, (uint32_t)v);
  wp_wire_u32(b, (uint32_t)(v >> 32));
}

void wp_wire_bytes(wp_buf *b, const void *data, size_t len) {
  if (len > WP_WIRE_MAX) {
    b->oom = true; /* wp_wire_send refuses the frame */
    return;
  }
  wp_wire_u32(b, (uint32_t)len);
  if (len) wp_buf_add(b, data, len);
}

void wp_wire_str(wp_buf *b, const char *s) { wp_wire_bytes(b, s ? s : "", s ? strlen(s) : 0); }

void wp_wire_val(wp_buf *b, const wp_val *v) {
  uint64_t bits = 0;
  memcpy(&bits, &v->of, 8);
  wp_wire_u8(b, (uint8_t)v->kind);
  wp_wire_u64(b, bits);
}

static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* a dead peer is an error, not SIGPIPE */
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

static bool read_all(int fd, uint8_t *p, size_t n) {
  while (n) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= (size_t)r;
  }
  return true;
}

bool wp_wire_send(int fd, wp_buf *b) {
  if (b->oom || b->len < 5 || b->len - 4 > WP_WIRE_MAX) return false;
  uint32_t n = (uint32_t)(b->len - 4);
  uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
  memcpy(b->data, le, 4);
  return write_all(fd, b->data, b->len);
}

bool wp_wire_recv(int fd, wp_buf *b) {
  uint8_t le[4];
  if (!read_all(fd, le, 4)) return false;
  uint32_t n = (uint32_t)le[0] | (uint32_t)le[1] << 8 | (uint32_t)le[2] << 16 |
               (uint32_t)le[3] << 24;
  if (n == 0 || n > WP_WIRE_MAX || !wp_buf_reserve(b, n)) return false;
  b->len = n;
  return read_all(fd, b->data, n);
}

wp_wire_reader wp_wire_reader_of(const wp_buf *b) {
  wp_wire_reader r = {b->data + 1, b->data + b->len, b->len < 1};
  return r;
}

static const uint8_t *take(wp_wire_reader *r, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *at = r->p;
  r->p += n;
  return at;
}

bool wp_wire_get_u8(wp_wire_reader *r, uint8_t *v) {
  const uint8_t *p = take(r, 1);
  if (p) *v = *p;
  return p != NULL;
}

bool wp_wire_get_u32(wp_wire_reader *r, uint32_t *v) {
  const uint8_t *p = take(r, 4);
  if (p) *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return p != NULL;
}

bool wp_wire_get_u64(wp_wire_reader *r, uint64_t *v) {
  uint32_t lo, hi;
  if (!wp_wire_get_u32(r, &lo) || !wp_wire_get_u32(r, &hi)) return false;
  *v = (uint64_t)hi << 32 | lo;
  return true;
}

bool wp_wire_get_bytes(wp_wire_reader *r, const uint8_t **data, size_t *len) {
  uint32_t n;
  if (!wp_wire_get_u32(r, &n)) return false;
  const uint8_t *p = take(r, n);
  if (!p) return false;
  *data = p;
  *len = n;
  return true;
}

bool wp_wire_get_str(wp_wire_reader *r, char **out) {
  const uint8_t *p;
  size_t n;
  if (!wp_wire_get_bytes(r, &p, &n)) return false;
  if (memchr(p, 0, n) || !(*out = malloc(n + 1))) {
    r->bad = true;
    return false;
  }
  memcpy(*out, p, n);
  (*out)[n] = '\0';
  return true;
}

bool wp_wire_get_val(wp_wire_reader *r, wp_val *v) {
  uint8_t kind;
  uint64_t bits;
  if (!wp_wire_get_u8(r, &kind) || !wp_wire_get_u64(r, &bits)) return false;
  if (kind > WP_F64) {
    r->bad = true;
    return false;
  }
  v->kind = (wp_valkind)kind;
  memcpy(&v->of, &bits, 8);
  return true;
}

bool wp_wire_done(const wp_wire_reader *r) { return !r->bad && r->p == r->end; }

void wp_wire_put_error(wp_buf *b, const wp_error *err) {
  wp_wire_u8(b, (uint8_t)wp_error_get_kind(err));
  wp_wire_str(b, wp_error_get_message(err));
  wp_wire_str(b, wp_error_get_backtrace(err));
}

wp_error *wp_wire_get_error(wp_wire_reader *r) {
  uint8_t kind;
  char *msg = NULL, *trace = NULL;
  if (!wp_wire_get_u8(r, &kind) || !wp_wire_get_str(r, &msg) || !wp_wire_get_str(r, &trace) ||
      kind < WP_ERR_LOAD || kind > WP_ERR_NO_MEMORY) {
    free(msg);
    free(trace);
    r->bad = true;
    return NULL;
  }
  wp_error *err = wp_error_new((wp_error_kind)kind, "%s", msg);
  free(msg);
  if (*trace) wp_error_set_backtrace(err, trace);
  else free(trace);
  return err;
}

/* ---- component values ------------------------------------------------------ */

typedef struct handles {
  wp_wire_handle *list;
  size_t n, cap;
  wp_wire_handle_out out;
  wp_wire_handle_in in;
  void *ctx;
} handles;

/* The handles in `v`, in the order wp_value_to_wave writes them. */
static wp_error *collect(handles *hs, const wp_value *v) {
  if (!v) return NULL;
  wp_type_kind k = wp_value_get_kind(v);
  if (k == WP_TYPE_OWN || k == WP_TYPE_BORROW) {
    if (hs->n == hs->cap) {
      size_t cap = hs->cap ? hs->cap * 2 : 4;
      wp_wire_handle *l = realloc(hs->list, cap * sizeof *l);
      if (!l) return wp_error_no_memory();
      hs->list = l;
      hs->cap = cap;
    }
    return hs->out(hs->ctx, v, &hs->list[hs->n++]);
  }
  if (k == WP_TYPE_LIST || k == WP_TYPE_TUPLE || k == WP_TYPE_RECORD) {
    for (size_t i = 0; i < wp_value_get_count(v); i++) {
      wp_error *err = collect(hs, wp_value_get_item(v, i));
      if (err) return err;
    }
    return NULL;
  }
  if (k == WP_TYPE_VARIANT || k == WP_TYPE_OPTION || k == WP_TYPE_RESULT)
    return collect(hs, wp_value_get_payload(v));
  return NULL;
}

wp_error *wp_wire_value(wp_buf *b, const wp_value *v, wp_wire_handle_out fn, void *ctx) {
  handles hs = {.out = fn, .ctx = ctx};
  wp_error *err = collect(&hs, v);
  char *text = err ? NULL : wp_value_to_wave(v);
  if (!err && !text) err = wp_error_no_memory();
  if (!err) {
    wp_wire_str(b, text);
    wp_wire_u32(b, (uint32_t)hs.n);
    for (size_t i = 0; i < hs.n; i++) {
      wp_wire_u8(b, hs.list[i].tag);
      wp_wire_u32(b, hs.list[i].index);
      wp_wire_u64(b, hs.list[i].id);
    }
  }
  wp_free(text);
  free(hs.list);
  return err;
}

static wp_value *take_handle(void *vctx, const wp_type *type) {
  handles *hs = vctx;
  if (hs->cap >= hs->n) return NULL;
  return hs->in(hs->ctx, type, &hs->list[hs->cap++]);
}

bool wp_wire_get_value(wp_wire_reader *r, const wp_type *type, wp_wire_handle_in fn, void *ctx,
                       wp_value **out, wp_error **err) {
  char *text = NULL;
  uint32_t n;
  *out = NULL;
  if (!wp_wire_get_str(r, &text) || !wp_wire_get_u32(r, &n) || n > (size_t)(r->end - r->p) / 13) {
    free(text);
    r->bad = true;
    return false;
  }
  /* `cap` counts the handles taken. */
  handles hs = {.list = calloc(n ? n : 1, sizeof *hs.list), .n = n, .in = fn, .ctx = ctx};
  if (!hs.list) {
    free(text);
    *err = wp_error_no_memory();
    return true;
  }
  bool ok = true;
  for (uint32_t i = 0; ok && i < n; i++)
    ok = wp_wire_get_u8(r, &hs.list[i].tag) && wp_wire_get_u32(r, &hs.list[i].index) &&
         wp_wire_get_u64(r, &hs.list[i].id);
  if (ok) {
    *err = wp_value_from_wave_with(type, text, take_handle, &hs, out);
    if (!*err && hs.cap != n) {
      wp_value_free(*out);
      *out = NULL;
      *err = wp_error_new(WP_ERR_HOST, "%u resource handles were carried for %zu positions",
                          (unsigned)n, hs.cap);
    }
  }
  free(hs.list);
  free(text);
  return ok;
}
