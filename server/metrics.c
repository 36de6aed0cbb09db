/*
 * metrics.c - request counters and the Prometheus text exposition (format
 * 0.0.4). Counters are relaxed atomics bumped on the request path; the list
 * of routes only grows (a label stays once seen), under a lock taken when a
 * state is built and when metrics are read.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Upper bounds of the latency histogram, in microseconds. */
static const uint64_t BOUNDS_US[SRV_BUCKETS] = {100,     250,     500,     1000,    2500,   5000,
                                                10000,   25000,   50000,   100000,  250000, 500000,
                                                1000000, 2500000, 5000000, 10000000};

void metrics_init(srv_metrics *m) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
}

void metrics_free(srv_metrics *m) {
  for (route_stats *r = m->routes, *next; r; r = next) {
    next = r->next;
    free(r->label);
    free(r);
  }
  pthread_mutex_destroy(&m->lock);
}

route_stats *metrics_route(srv_metrics *m, const char *label) {
  pthread_mutex_lock(&m->lock);
  route_stats *r = m->routes, **tail = &m->routes;
  for (; r; tail = &r->next, r = r->next)
    if (strcmp(r->label, label) == 0) break;
  if (!r && (r = calloc(1, sizeof *r))) {
    if ((r->label = strdup(label))) {
      *tail = r;
    } else {
      free(r);
      r = NULL;
    }
  }
  pthread_mutex_unlock(&m->lock);
  return r;
}

void metrics_count(route_stats *rs, int status, uint64_t duration_us) {
  if (!rs) return;
  int cls = status / 100;
  if (cls < 1 || cls > 5) cls = 5;
  atomic_fetch_add_explicit(&rs->by_class[cls], 1, memory_order_relaxed);
  size_t b = 0;
  while (b < SRV_BUCKETS && duration_us > BOUNDS_US[b]) b++;
  if (b < SRV_BUCKETS) atomic_fetch_add_explicit(&rs->buckets[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&rs->count, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&rs->sum_us, duration_us, memory_order_relaxed);
}

/* A growable text buffer; on allocation failure it stays NULL. */
typedef struct text {
  char *s;
  size_t len, cap;
} text;

__attribute__((format(printf, 2, 3))) static void put(text *t, const char *fmt, ...) {
  if (!t->s && t->cap) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (t->s && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 4096;
    while (cap < t->len + (size_t)n + 1) cap *= 2;
    char *s = realloc(t->s, cap);
    if (!s) {
      free(t->s);
      t->s = NULL;
      t->cap = 1;
      return;
    }
    t->s = s;
    t->cap = cap;
  }
}

/* A label value with \, " and newline escaped, as the format asks. */
static void put_label(text *t, const char *v) {
  for (; *v; v++) {
    if (*v == '\\' || *v == '"') put(t, "\\%c", *v);
    else if (*v == '\n') put(t, "\\n");
    else put(t, "%c", *v);
  }
}

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

char *metrics_render(wp_server *srv) {
  srv_metrics *m = &srv->metrics;
  text t = {0};
  pthread_mutex_lock(&m->lock);
  put(&t, "# HELP wasmplug_http_requests_total HTTP requests answered, by route and status class.\n"
          "# TYPE wasmplug_http_requests_total counter\n");
  for (route_stats *r = m->routes; r; r = r->next)
    for (int c = 1; c <= 5; c++) {
      put(&t, "wasmplug_http_requests_total{route=\"");
      put_label(&t, r->label);
      put(&t, "\",code=\"%dxx\"} %llu\n", c, LOAD(r->by_class[c]));
    }
  put(&t, "# HELP wasmplug_http_request_duration_seconds Time from a request's headers to its "
          "response.\n# TYPE wasmplug_http_request_duration_seconds histogram\n");
  for (route_stats *r = m->routes; r; r = r->next) {
    unsigned long long cum = 0;
    for (int b = 0; b < SRV_BUCKETS; b++) {
      cum += LOAD(r->buckets[b]);
      put(&t, "wasmplug_http_request_duration_seconds_bucket{route=\"");
      put_label(&t, r->label);
      put(&t, "\",le=\"%g\"} %llu\n", (double)BOUNDS_US[b] / 1e6, cum);
    }
    put(&t, "wasmplug_http_request_duration_seconds_bucket{route=\"");
    put_label(&t, r->label);
    put(&t, "\",le=\"+Inf\"} %llu\n", LOAD(r->count));
    put(&t, "wasmplug_http_request_duration_seconds_sum{route=\"");
    put_label(&t, r->label);
    put(&t, "\"} %.6f\n", (double)LOAD(r->sum_us) / 1e6);
    put(&t, "wasmplug_http_request_duration_seconds_count{route=\"");
    put_label(&t, r->label);
    put(&t, "\"} %llu\n", LOAD(r->count));
  }
  put(&t, "# HELP wasmplug_handler_traps_total Handler calls that trapped.\n"
          "# TYPE wasmplug_handler_traps_total counter\n");
  for (route_stats *r = m->routes; r; r = r->next) {
    put(&t, "wasmplug_handler_traps_total{route=\"");
    put_label(&t, r->label);
    put(&t, "\"} %llu\n", LOAD(r->traps));
  }
  put(&t, "# HELP wasmplug_handler_timeouts_total Handler calls stopped at their time limit.\n"
          "# TYPE wasmplug_handler_timeouts_total counter\n");
  for (route_stats *r = m->routes; r; r = r->next) {
    put(&t, "wasmplug_handler_timeouts_total{route=\"");
    put_label(&t, r->label);
    put(&t, "\"} %llu\n", LOAD(r->timeouts));
  }
  pthread_mutex_unlock(&m->lock);

  put(&t, "# HELP wasmplug_pool_instances Instances kept for reuse, by route.\n"
          "# TYPE wasmplug_pool_instances gauge\n");
  srv_state *st = state_acquire(srv);
  for (size_t i = 0; st && i < st->config->nroutes; i++) {
    put(&t, "wasmplug_pool_instances{route=\"");
    put_label(&t, st->config->routes[i].pattern);
    put(&t, "\",mode=\"%s\"} %zu\n", st->config->routes[i].reuse ? "reuse" : "fresh",
        wp_pool_get_idle(st->routes[i].pool));
  }
  state_release(st);
  put(&t,
      "# HELP wasmplug_http_in_flight Requests being handled now.\n"
      "# TYPE wasmplug_http_in_flight gauge\nwasmplug_http_in_flight %u\n"
      "# HELP wasmplug_reloads_total Changes applied (files, config, control API).\n"
      "# TYPE wasmplug_reloads_total counter\nwasmplug_reloads_total %llu\n"
      "# HELP wasmplug_reload_failures_total Changes refused (the old state kept serving).\n"
      "# TYPE wasmplug_reload_failures_total counter\nwasmplug_reload_failures_total %llu\n"
      "# HELP wasmplug_http_slow_clients_total Connections cut for sending too slowly.\n"
      "# TYPE wasmplug_http_slow_clients_total counter\nwasmplug_http_slow_clients_total %llu\n",
      atomic_load(&srv->in_flight), LOAD(m->reloads), LOAD(m->reload_failures),
      LOAD(m->rejected_slow));
  return t.s;
}
