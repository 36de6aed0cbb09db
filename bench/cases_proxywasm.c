/*
 * cases_proxywasm.c - a Proxy-Wasm filter's cost per HTTP stream through the
 * library (include/wasmplug/proxywasm.h), without the HTTP server: a stream
 * made, request headers, response headers and a body chunk run through the
 * header-rewriting example filter (examples/proxywasm/headers), the stream
 * freed (proxy_on_done, _log, _delete). The Rust SDK filter is the row with
 * the target (the 3 us per request, of which this is the filter's
 * part); the Go SDK filter is reported beside it.
 */
#include <stdio.h>
#include <string.h>

#include "cases.h"
#include "harness.h"

#define H(n, v) {n, sizeof n - 1, (const uint8_t *)v, sizeof v - 1}

typedef struct pw_env {
  wp_pw_host *host;
  wp_pw_plugin *plugin;
  wp_pw_worker *worker;
} pw_env;

static const wp_http_header request[] = {
    H(":method", "GET"),  H(":path", "/hello"),   H(":authority", "127.0.0.1:8080"),
    H(":scheme", "http"), H("user-agent", "wrk"), H("accept", "*/*")};
static const wp_http_header response[] = {H(":status", "200"),
                                          H("content-type", "text/plain; charset=utf-8")};

static wp_error *run_stream(void *ctx, size_t n) {
  pw_env *e = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_pw_stream *s;
    wp_pw_action a;
    wp_error *err = wp_pw_stream_new_http(e->worker, e->plugin, NULL, NULL, NULL, &s);
    if (!err) err = wp_pw_stream_request_headers(s, request, COUNT(request), true, &a);
    if (!err) err = wp_pw_stream_response_headers(s, response, COUNT(response), false, &a);
    if (!err) err = wp_pw_stream_response_body(s, "Hello!\n", 7, true, &a);
    if (err) {
      wp_pw_stream_free(s);
      return err;
    }
    wp_pw_stream_free(s);
  }
  return NULL;
}

static wp_error *load(wp_engine *engine, const char *file, pw_env *e) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", WP_BENCH_PLUGINS, file);
  static const char config[] = "{\"request\": {\"set\": {\"x-a\": \"1\"}}, "
                               "\"response\": {\"set\": {\"x-r\": \"2\"}}}";
  wp_pw_config *cfg = wp_pw_config_new();
  wp_error *err = cfg ? wp_pw_config_set_plugin_config(cfg, config, strlen(config))
                      : wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  if (!err) err = wp_pw_host_new(engine, NULL, NULL, &e->host);
  if (!err) err = wp_pw_plugin_load(e->host, path, cfg, &e->plugin);
  if (!err) err = wp_pw_worker_new(e->host, NULL, &e->worker);
  wp_pw_config_free(cfg);
  return err;
}

static void unload(pw_env *e) {
  wp_pw_worker_free(e->worker);
  wp_pw_plugin_free(e->plugin);
  wp_pw_host_free(e->host);
}

wp_error *bench_proxywasm(bench_env *env) {
  pw_env rust = {0}, go = {0};
  wp_error *err = load(env->engine, "pw-headers-rust.wasm", &rust);
  if (!err) err = load(env->engine, "pw-headers-go.wasm", &go);
  bench_case cases[] = {
      {"proxywasm_stream_rust", "ns/stream", 1, bench_batch(20000), bench_reps(11), 1, NULL,
       run_stream, NULL, &rust},
      {"proxywasm_stream_go", "ns/stream", 1, bench_batch(20000), bench_reps(11), 1, NULL,
       run_stream, NULL, &go},
  };
  if (!err) err = bench_measure_group(cases, COUNT(cases));
  unload(&rust);
  unload(&go);
  if (err) return err;
  bench_judge("proxywasm_stream_rust", NULL, TARGET_MEDIAN, 3000);
  return NULL;
}
