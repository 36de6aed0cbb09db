/*
 * kv_counter.c - an HTTP handler (C, core module) that counts its requests in
 * the keyvalue bucket "hits" (key "count") and answers the new count, for
 * test_serve_capabilities: the grant comes from the route's manifest, and
 * two servers on one Redis (or one SQLite file) count together. A request
 * whose increment fails is answered 503 with the capability's message.
 */
#include <stdlib.h>

#include "wasmplug_http.h"
#include "wasmplug_kv.h"

static void serve(const wp_http_req *req, wp_http_resp *resp) {
  (void)req;
  int64_t n = 0;
  char *err = NULL;
  wp_http_resp_header(resp, "content-type", "text/plain; charset=utf-8");
  if (wp_kv_increment("hits", "count", 1, &n, &err) != WP_KV_OK) {
    wp_http_resp_status(resp, 503);
    wp_http_resp_write_str(resp, err ? err : "keyvalue failed");
    free(err);
    return;
  }
  char digits[24];
  size_t len = 0;
  uint64_t v = n < 0 ? 0 : (uint64_t)n;
  do digits[sizeof digits - ++len] = (char)('0' + v % 10);
  while ((v /= 10) && len < sizeof digits);
  wp_http_resp_write(resp, digits + sizeof digits - len, len);
}

WP_HTTP_HANDLER(serve)
