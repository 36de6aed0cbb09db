/* outgoing.c - components' outgoing requests through the http capability
   (outgoing.h). */
#include "host/http/outgoing.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasmplug_http.h>

#include "host/http/allow.h"
#include "host/http/fetch.h"

/* The http capabilities of every engine of the process: a store's plugin
   belongs to one of them (wp_plugin_get_grant answers NULL for the others). */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const wp_capability **caps;
static size_t ncaps, capcaps;

/* One request in flight: the plugin is held so its grant outlives a guest
   that drops the request and an instance freed meanwhile. */
typedef struct outctx {
  wp_plugin *plugin;
  const wp_httpout_grant *grant;
  wp_httpout_resp resp;
  wasmplug_http_field_t *fields;
  char *message;
} outctx;

static void *open_request(void *store_data, size_t *max_request_body) {
  /* wasmplug makes every store with its instance as the data (instance.c) */
  wp_plugin *plugin = store_data ? wp_instance_get_plugin(store_data) : NULL;
  const wp_httpout_grant *g = NULL;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; plugin && !g && i < ncaps; i++) g = wp_plugin_get_grant(plugin, caps[i]);
  pthread_mutex_unlock(&lock);
  outctx *c = g ? calloc(1, sizeof *c) : NULL;
  if (!c) return NULL; /* nothing granted: HTTP-request-denied */
  c->plugin = wp_plugin_ref(plugin);
  c->grant = g;
  *max_request_body = g->max_response > SIZE_MAX ? SIZE_MAX : (size_t)g->max_response;
  return c;
}

static const int outcomes[] = {
    [WP_HTTPOUT_OK] = WASMPLUG_HTTP_OUT_OK,
    [WP_HTTPOUT_DENIED] = WASMPLUG_HTTP_OUT_DENIED,
    [WP_HTTPOUT_TOO_BIG] = WASMPLUG_HTTP_OUT_TOO_BIG,
    [WP_HTTPOUT_TIMEOUT] = WASMPLUG_HTTP_OUT_TIMEOUT,
    [WP_HTTPOUT_BAD_REQUEST] = WASMPLUG_HTTP_OUT_FAILED,
    [WP_HTTPOUT_CONNECT] = WASMPLUG_HTTP_OUT_CONNECT,
    [WP_HTTPOUT_FAILED] = WASMPLUG_HTTP_OUT_FAILED,
    [WP_HTTPOUT_INTERRUPTED] = WASMPLUG_HTTP_OUT_FAILED,
};

static void send_request(void *ctx, const wasmplug_http_request_t *req,
                         wasmplug_http_outgoing_result_t *out) {
  outctx *c = ctx;
  *out = (wasmplug_http_outgoing_result_t){.outcome = WASMPLUG_HTTP_OUT_FAILED};
  const char *scheme = req->scheme ? req->scheme : "https";
  const char *authority = req->authority ? req->authority : "";
  const char *path = req->path_with_query ? req->path_with_query : "/";
  size_t n = strlen(scheme) + strlen(authority) + strlen(path) + 4;
  char *url = malloc(n);
  wp_httpout_field *headers = req->n_headers ? calloc(req->n_headers, sizeof *headers) : NULL;
  bool ok = url && (headers || !req->n_headers);
  for (size_t i = 0; ok && i < req->n_headers; i++) {
    const wasmplug_http_field_t *h = &req->headers[i];
    headers[i] = (wp_httpout_field){strndup(h->name, h->name_len), h->name_len, (uint8_t *)h->value,
                                    h->value_len};
    ok = headers[i].name != NULL;
  }
  if (ok) {
    snprintf(url, n, "%s://%s%s", scheme, authority, path);
    /* The call's own budget bounds a component's wait (the extension's side). */
    wp_httpout_req q = {.method = req->method,
                        .url = url,
                        .headers = headers,
                        .nheaders = req->n_headers,
                        .body = req->body,
                        .body_len = req->body_len,
                        .call_left_ms = UINT64_MAX};
    wp_httpout_outcome o = wp_httpout_fetch(c->grant, &q, &c->resp);
    out->outcome = outcomes[o];
    if (o != WP_HTTPOUT_OK) {
      size_t len = strlen(c->grant->plugin) + strlen(c->resp.message) + 32;
      if ((c->message = malloc(len)))
        snprintf(c->message, len, "plugin '%s': %s", c->grant->plugin, c->resp.message);
      out->message = c->message;
    } else if (c->resp.nheaders && !(c->fields = calloc(c->resp.nheaders, sizeof *c->fields))) {
      out->outcome = WASMPLUG_HTTP_OUT_FAILED;
      out->message = "out of memory";
    } else {
      for (size_t i = 0; i < c->resp.nheaders; i++) {
        const wp_httpout_field *h = &c->resp.headers[i];
        c->fields[i] = (wasmplug_http_field_t){h->name, h->name_len, h->value, h->value_len};
      }
      out->status = (uint16_t)c->resp.status;
      out->headers = c->fields;
      out->n_headers = c->resp.nheaders;
      out->body = c->resp.body;
      out->body_len = c->resp.body_len;
    }
  } else {
    out->message = "out of memory";
  }
  for (size_t i = 0; headers && i < req->n_headers; i++) free(headers[i].name);
  free(headers);
  free(url);
}

static void close_request(void *ctx) {
  outctx *c = ctx;
  wp_httpout_resp_clear(&c->resp);
  free(c->fields);
  free(c->message);
  wp_plugin_free(c->plugin);
  free(c);
}

static const wasmplug_http_outgoing_t hooks = {open_request, send_request, close_request};

wp_error *wp_httpout_outgoing_register(const wp_capability *cap) {
  pthread_mutex_lock(&lock);
  bool ok = true;
  if (ncaps == capcaps) {
    size_t cap2 = capcaps ? capcaps * 2 : 4;
    const wp_capability **c = realloc(caps, cap2 * sizeof *c);
    if (c) caps = c, capcaps = cap2;
    ok = c != NULL;
  }
  if (ok) caps[ncaps++] = cap;
  pthread_mutex_unlock(&lock);
  if (!ok) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug: out of memory");
  wasmplug_http_set_outgoing(&hooks);
  return NULL;
}

void wp_httpout_outgoing_forget(const wp_capability *cap) {
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < ncaps; i++)
    if (caps[i] == cap) {
      caps[i] = caps[--ncaps];
      break;
    }
  pthread_mutex_unlock(&lock);
}
