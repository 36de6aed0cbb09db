/*
 * http-hello (C, core module): the smallest HTTP handler, built on
 * pdk/c/wasmplug_http.h (docs/http-abi.md).
 *
 * Every hello handler of this project answers the same way: status 200,
 * `content-type: text/plain; charset=utf-8` and `x-wasmplug-example: c-core`;
 * for POST and PUT the body is the request body, byte for byte; for any
 * other method it is
 *
 *   Hello from C (core)! You asked for GET /the/path?and=query
 *
 * with the request's method and path+query. This one also answers a request
 * header `x-echo` with the same header and value.
 *
 * It imports no WASI: the body is assembled with wp_http_resp_write rather
 * than printf, whose wasi-libc implementation drags in stdio's imports.
 *
 * Build (from the repository root):
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Wall -Wextra -Werror -I pdk/c -o http-hello-c.wasm examples/http-hello/c/hello.c
 */
#include "wasmplug_http.h"

static void serve(const wp_http_req *req, wp_http_resp *resp) {
  wp_http_resp_header(resp, "content-type", "text/plain; charset=utf-8");
  wp_http_resp_header(resp, "x-wasmplug-example", "c-core");
  size_t echo_len;
  const uint8_t *echo = wp_http_req_header(req, "x-echo", &echo_len);
  if (echo) wp_http_resp_header_n(resp, "x-echo", 6, echo, echo_len);

  if (wp_http_req_method_is(req, "POST") || wp_http_req_method_is(req, "PUT")) {
    wp_http_resp_body_borrow(resp, req->body, req->body_len); /* no copy */
    return;
  }
  wp_http_resp_write_str(resp, "Hello from C (core)! You asked for ");
  wp_http_resp_write(resp, req->method, req->method_len);
  wp_http_resp_write(resp, " ", 1);
  wp_http_resp_write(resp, req->path, req->path_len);
  wp_http_resp_write(resp, "\n", 1);
}

WP_HTTP_HANDLER(serve)
