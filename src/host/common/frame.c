/* frame.c - the framing of the capabilities' core-module functions (frame.h). */
#include "host/common/frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

wp_error *wp_frame_field(wp_frame_in *in, const char *what, const uint8_t **data, size_t *len) {
  if (in->left < 4)
    return wp_error_new(WP_ERR_ABI, "wasmplug.%s: the input ends before %s", in->fn, what);
  uint32_t n = (uint32_t)in->at[0] | (uint32_t)in->at[1] << 8 | (uint32_t)in->at[2] << 16 |
               (uint32_t)in->at[3] << 24;
  if (n > in->left - 4)
    return wp_error_new(WP_ERR_ABI, "wasmplug.%s: %s is %u bytes but only %zu follow", in->fn, what,
                        n, in->left - 4);
  *data = in->at + 4;
  *len = n;
  in->at += 4 + (size_t)n;
  in->left -= 4 + (size_t)n;
  return NULL;
}

wp_error *wp_frame_string(wp_frame_in *in, const char *what, char **out) {
  const uint8_t *d;
  size_t n;
  wp_error *err = wp_frame_field(in, what, &d, &n);
  if (err) return err;
  if (memchr(d, '\0', n) || !wp_utf8_valid(d, n))
    return wp_error_new(WP_ERR_ABI, "wasmplug.%s: %s is not UTF-8 (or holds a NUL)", in->fn, what);
  char *s = malloc(n + 1);
  if (!s) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug.%s: out of memory", in->fn);
  if (n) memcpy(s, d, n);
  s[n] = '\0';
  *out = s;
  return NULL;
}

wp_error *wp_frame_u64(wp_frame_in *in, const char *what, uint64_t *out) {
  const uint8_t *d;
  size_t n;
  wp_error *err = wp_frame_field(in, what, &d, &n);
  if (err) return err;
  if (n != 8)
    return wp_error_new(WP_ERR_ABI, "wasmplug.%s: %s must be 8 bytes, got %zu", in->fn, what, n);
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | d[i];
  *out = v;
  return NULL;
}

wp_error *wp_frame_end(const wp_frame_in *in) {
  if (!in->left) return NULL;
  return wp_error_new(WP_ERR_ABI, "wasmplug.%s: %zu bytes follow the last field", in->fn, in->left);
}

static void reserve(wp_frame_out *out, size_t more) {
  if (out->no_memory || out->cap - out->len >= more) return;
  size_t cap = out->cap ? out->cap : 64;
  while (cap - out->len < more) {
    if (cap > SIZE_MAX / 2) {
      out->no_memory = true;
      return;
    }
    cap *= 2;
  }
  uint8_t *d = realloc(out->data, cap);
  if (!d) {
    out->no_memory = true;
    return;
  }
  out->data = d;
  out->cap = cap;
}

void wp_frame_out_init(wp_frame_out *out, uint8_t status) {
  *out = (wp_frame_out){0};
  reserve(out, 1);
  if (!out->no_memory) out->data[out->len++] = status;
}

void wp_frame_put(wp_frame_out *out, const void *data, size_t len) {
  if (len > UINT32_MAX) {
    out->no_memory = true;
    return;
  }
  reserve(out, 4 + len);
  if (out->no_memory) return;
  uint8_t *p = out->data + out->len;
  p[0] = (uint8_t)len, p[1] = (uint8_t)(len >> 8), p[2] = (uint8_t)(len >> 16),
  p[3] = (uint8_t)(len >> 24);
  if (len) memcpy(p + 4, data, len);
  out->len += 4 + len;
}

void wp_frame_put_u64(wp_frame_out *out, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  wp_frame_put(out, b, 8);
}

wp_error *wp_frame_send(wp_host_call *call, wp_frame_out *out) {
  wp_error *err = out->no_memory ? wp_error_new(WP_ERR_NO_MEMORY, "capability call: out of memory")
                                 : wp_host_call_set_output(call, out->data, out->len);
  free(out->data);
  *out = (wp_frame_out){0};
  return err;
}

wp_error *wp_frame_none(wp_host_call *call) {
  uint8_t status = WP_FRAME_NONE;
  return wp_host_call_set_output(call, &status, 1);
}

static wp_error *send_error(wp_host_call *call, const char *msg, size_t len) {
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_ERROR);
  reserve(&out, len);
  if (!out.no_memory) {
    memcpy(out.data + out.len, msg, len);
    out.len += len;
  }
  return wp_frame_send(call, &out);
}

wp_error *wp_frame_error(wp_host_call *call, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  return send_error(call, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

wp_error *wp_frame_error_from(wp_host_call *call, wp_error *err) {
  const char *msg = wp_error_get_message(err);
  wp_error *e = send_error(call, msg, strlen(msg));
  wp_error_free(err);
  return e;
}
