/* http.c - the outbound HTTP capability: its grant and the core modules'
   wasmplug.http_request (http.h). */
#include "host/http/http.h"

#include <stdlib.h>
#include <string.h>

#include "host/common/frame.h"
#include "host/http/allow.h"
#include "host/http/fetch.h"
#include "host/http/outgoing.h"

typedef struct httpcap {
  const wp_capability *cap;
} httpcap;

static wp_error *grant(void *data, const char *plugin, const char *section, size_t len,
                       void **out) {
  (void)data, (void)len;
  wp_httpout_grant *g;
  wp_error *err = wp_httpout_grant_parse(plugin, section, &g);
  *out = g;
  return err;
}

static void grant_free(void *data, void *g) {
  (void)data;
  wp_httpout_grant_free(g);
}

static void cap_free(void *data) {
  httpcap *h = data;
  wp_httpout_outgoing_forget(h->cap);
  free(h);
}

static const wp_capability_methods methods = {
    .name = "http", .grant = grant, .grant_free = grant_free, .free = cap_free};

/* The request's headers: `count` (name, value) fields, the values borrowed
   from the input, the names copied (they must be NUL-terminated). */
static wp_error *read_headers(wp_frame_in *in, uint64_t count, wp_httpout_field **out) {
  *out = NULL;
  if (!count) return NULL;
  if (count > in->left / 8) /* each pair takes at least two 4-byte lengths */
    return wp_error_new(WP_ERR_ABI,
                        "wasmplug.http_request: %llu headers announced, but only %zu "
                        "bytes follow",
                        (unsigned long long)count, in->left);
  wp_httpout_field *h = calloc((size_t)count, sizeof *h);
  if (!h) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
  *out = h;
  for (uint64_t i = 0; i < count; i++) {
    const uint8_t *v;
    wp_error *err = wp_frame_string(in, "a header name", &h[i].name);
    if (!err) err = wp_frame_field(in, "a header value", &v, &h[i].value_len);
    if (err) return err;
    h[i].name_len = strlen(h[i].name);
    h[i].value = (uint8_t *)v; /* borrowed: never freed */
  }
  return NULL;
}

static void free_headers(wp_httpout_field *h, uint64_t count) {
  for (uint64_t i = 0; h && i < count; i++) free(h[i].name);
  free(h);
}

static wp_error *answer(wp_host_call *call, const wp_httpout_resp *r) {
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put_u64(&out, (uint64_t)r->status);
  wp_frame_put_u64(&out, r->nheaders);
  for (size_t i = 0; i < r->nheaders; i++) {
    wp_frame_put(&out, r->headers[i].name, r->headers[i].name_len);
    wp_frame_put(&out, r->headers[i].value, r->headers[i].value_len);
  }
  wp_frame_put(&out, r->body, r->body_len);
  return wp_frame_send(call, &out);
}

static bool call_interrupted(void *call) { return wp_host_call_interrupted(call); }

static wp_error *http_request(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  httpcap *h = data;
  const wp_plugin *plugin = wp_instance_get_plugin(wp_host_call_get_instance(call));
  wp_frame_in in = wp_frame_in_new("http_request", input, len);
  char *method = NULL, *url = NULL;
  uint64_t count = 0;
  wp_httpout_field *headers = NULL;
  const uint8_t *body;
  size_t body_len;
  wp_error *err = wp_frame_string(&in, "the method", &method);
  if (!err) err = wp_frame_string(&in, "the URL", &url);
  if (!err) err = wp_frame_u64(&in, "the header count", &count);
  if (!err) err = read_headers(&in, count, &headers);
  if (!err) err = wp_frame_field(&in, "the body", &body, &body_len);
  if (!err) err = wp_frame_end(&in);
  if (!err) {
    const wp_httpout_grant *g = wp_plugin_get_grant(plugin, h->cap);
    if (!g) {
      err = wp_frame_error(call,
                           "plugin '%s': outbound HTTP is not granted: add "
                           "\"capabilities\": {\"http\": {\"allowed_hosts\": [\"https://host\"]}} "
                           "to its manifest (capabilities.http)",
                           wp_plugin_get_name(plugin));
    } else {
      /* The plugin's call deadline and wp_instance_interrupt bound the wait too. */
      wp_httpout_req q = {.method = method,
                          .url = url,
                          .headers = headers,
                          .nheaders = (size_t)count,
                          .body = body,
                          .body_len = body_len,
                          .call_left_ms = wp_host_call_time_left_ms(call),
                          .stop = call_interrupted,
                          .stop_data = call};
      wp_httpout_resp r;
      wp_httpout_outcome o = wp_httpout_fetch(g, &q, &r);
      err = o == WP_HTTPOUT_OK
                ? answer(call, &r)
                : wp_frame_error(call, "plugin '%s': http_request: %s", g->plugin, r.message);
      wp_httpout_resp_clear(&r);
    }
  }
  free(method);
  free(url);
  free_headers(headers, count);
  return err;
}

wp_error *wp_host_http_install(wp_engine *e) {
  httpcap *h = calloc(1, sizeof *h);
  if (!h) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
  wp_error *err = wp_engine_add_capability(e, &methods, h, &h->cap);
  if (err) {
    free(h);
    return err;
  }
  /* From here the engine owns h (cap_free). */
  err = wp_engine_define_bytes(e, "wasmplug", "http_request", http_request, h, NULL);
  if (!err) err = wp_httpout_outgoing_register(h->cap);
  return err;
}
