/*
 * proxy.c - wp_pw_host: what every filter of one proxy shares (shared data,
 * queues, metrics, foreign functions, the log level) and the embedder's
 * methods.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/error.h"
#include "proxywasm/pw.h"

wp_error *wp_pw_host_new(wp_engine *engine, const wp_pw_host_methods *methods, void *user_data,
                         wp_pw_host **out) {
  if (!engine || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_host_new: engine and out are required");
  wp_pw_host *h = calloc(1, sizeof *h);
  if (!h) return wp_error_no_memory();
  if (methods) h->methods = *methods;
  h->user_data = user_data;
  atomic_init(&h->log_level, WP_LOG_INFO);
  pthread_mutex_init(&h->lock, NULL);
  h->shared = pw_shared_new();
  h->metrics = pw_metrics_new();
  h->engine = wp_engine_ref(engine);
  wp_error *err = h->shared && h->metrics ? pw_foreign_add_builtins(h) : wp_error_no_memory();
  if (err) {
    wp_pw_host_free(h);
    return err;
  }
  *out = h;
  return NULL;
}

void wp_pw_host_free(wp_pw_host *h) {
  if (!h) return;
  pw_foreign_free_all(h);
  pw_queue_free_all(h);
  if (h->shared) pw_shared_free(h->shared);
  if (h->metrics) pw_metrics_free(h->metrics);
  pthread_mutex_destroy(&h->lock);
  wp_engine_free(h->engine);
  free(h);
}

void wp_pw_host_set_log_level(wp_pw_host *h, wp_log_level level) {
  if (h) atomic_store(&h->log_level, (int)level);
}

void wp_pw_host_foreach_metric(wp_pw_host *h, void (*fn)(void *, const wp_pw_metric *),
                               void *user) {
  if (h && fn) pw_metrics_foreach(h->metrics, fn, user);
}

void pw_log(wp_pw_host *h, const wp_pw_plugin *p, wp_log_level level, const char *msg, size_t len) {
  if ((int)level < atomic_load(&h->log_level)) return;
  if (h->methods.log) {
    h->methods.log(h->user_data, p, level, msg, len);
    return;
  }
  if (h->engine->log_fn)
    h->engine->log_fn(h->engine->log_user_data, level, p ? p->name : "proxy-wasm", msg, len);
}

void pw_logf(wp_pw_host *h, const wp_pw_plugin *p, wp_log_level level, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  pw_log(h, p, level, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}
