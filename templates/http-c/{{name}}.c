/*
 * {{name}}: an HTTP handler for `wasmplug serve`, a core module in C
 * (wasmplug_http.h, installed with wasmplug: `wasmplug tools path include`).
 *
 * POST and PUT answer with the request body; any other method with
 *   Hello from {{name}}! You asked for GET /the/path?and=query
 */
#include "wasmplug_http.h"

static void serve(const wp_http_req *req, wp_http_resp *resp) {
  wp_http_resp_header(resp, "content-type", "text/plain; charset=utf-8");
  if (wp_http_req_method_is(req, "POST") || wp_http_req_method_is(req, "PUT")) {
    wp_http_resp_body_borrow(resp, req->body, req->body_len); /* no copy */
    return;
  }
  wp_http_resp_write_str(resp, "Hello from {{name}}! You asked for ");
  wp_http_resp_write(resp, req->method, req->method_len);
  wp_http_resp_write(resp, " ", 1);
  wp_http_resp_write(resp, req->path, req->path_len);
  wp_http_resp_write(resp, "\n", 1);
}

WP_HTTP_HANDLER(serve)
