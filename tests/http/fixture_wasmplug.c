/*
 * A wasmplug:http handler that misbehaves on request (tests/http): the path
 * picks what it does.
 *
 *   /trap            traps
 *   /loop            never returns
 *   /bad-status      answers status 1000
 *   /bad-header      answers a header named "bad header"
 *   /big?n=BYTES     answers a body of BYTES bytes ('x')
 *   anything else    echoes: status 200, the request's headers back with
 *                    "x-echo-" in front of their names, the request body
 */
#include <stdlib.h>
#include <string.h>

#include "handler_world.h"

typedef handler_world_string_t str_t;
typedef handler_world_list_u8_t bytes_t;

static uint8_t *dup(const void *p, size_t len) {
  uint8_t *d = malloc(len ? len : 1);
  if (!d) __builtin_trap();
  if (len) memcpy(d, p, len);
  return d;
}

static bool starts(const str_t *s, const char *lit) {
  return s->len >= strlen(lit) && memcmp(s->ptr, lit, strlen(lit)) == 0;
}

static size_t number_after(const str_t *s, const char *key) {
  size_t n = 0, k = strlen(key);
  for (size_t i = 0; i + k <= s->len; i++) {
    if (memcmp(s->ptr + i, key, k) != 0) continue;
    for (i += k; i < s->len && s->ptr[i] >= '0' && s->ptr[i] <= '9'; i++)
      n = n * 10 + (size_t)(s->ptr[i] - '0');
    break;
  }
  return n;
}

static void set_header(handler_world_tuple2_string_list_u8_t *h, const void *name, size_t nlen,
                       const void *value, size_t vlen) {
  h->f0 = (str_t){dup(name, nlen), nlen};
  h->f1 = (bytes_t){dup(value, vlen), vlen};
}

void exports_wasmplug_http_handler_handle(exports_wasmplug_http_handler_request_t *req,
                                          exports_wasmplug_http_handler_response_t *ret) {
  const str_t *path = &req->path_with_query;
  memset(ret, 0, sizeof *ret);
  ret->status = 200;
  if (starts(path, "/trap")) __builtin_trap();
  if (starts(path, "/loop")) {
    volatile unsigned spin = 0;
    for (;;) spin++;
  }
  if (starts(path, "/bad-status")) ret->status = 1000;
  if (starts(path, "/bad-header")) {
    ret->headers.ptr = malloc(sizeof *ret->headers.ptr);
    ret->headers.len = 1;
    set_header(&ret->headers.ptr[0], "bad header", 10, "v", 1);
  } else if (starts(path, "/big")) {
    size_t n = number_after(path, "n=");
    ret->body = (bytes_t){malloc(n ? n : 1), n};
    memset(ret->body.ptr, 'x', n);
  } else {
    size_t n = req->headers.len;
    ret->headers.ptr = malloc((n ? n : 1) * sizeof *ret->headers.ptr);
    ret->headers.len = n;
    for (size_t i = 0; i < n; i++) {
      const handler_world_tuple2_string_list_u8_t *h = &req->headers.ptr[i];
      uint8_t *name = malloc(8 + h->f0.len);
      memcpy(name, "x-echo-", 7);
      memcpy(name + 7, h->f0.ptr, h->f0.len);
      ret->headers.ptr[i].f0 = (str_t){name, 7 + h->f0.len};
      ret->headers.ptr[i].f1 = (bytes_t){dup(h->f1.ptr, h->f1.len), h->f1.len};
    }
    ret->body = req->body;
    req->body = (bytes_t){NULL, 0};
  }
  exports_wasmplug_http_handler_request_free(req);
}
