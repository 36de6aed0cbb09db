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

/* ---- metrics Proxy-Wasm filters defined ------------------------------------------ */

/* One filter metric: its family (wasmplug_filter_<name>, with characters
   Prometheus does not take in a name made '_') and the sample. */
typedef struct filter_metric {
  char family[300];
  char *name; /* as the filter spelt it: the sample's `name` label */
  wp_pw_metric m;
} filter_metric;

typedef struct filter_metrics {
  filter_metric *v;
  size_t n, cap;
} filter_metrics;

static void collect_metric(void *user, const wp_pw_metric *m) {
  filter_metrics *fm = user;
  if (fm->n == fm->cap) {
    size_t cap = fm->cap ? fm->cap * 2 : 16;
    filter_metric *v = realloc(fm->v, cap * sizeof *v);
    if (!v) return;
    fm->v = v;
    fm->cap = cap;
  }
  filter_metric *e = &fm->v[fm->n];
  if (!(e->name = strdup(m->name))) return;
  size_t n = (size_t)snprintf(e->family, sizeof e->family, "wasmplug_filter_%s", m->name);
  if (n >= sizeof e->family) n = sizeof e->family - 1;
  for (size_t i = 16; i < n; i++) {
    char ch = e->family[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '_' || ch == ':'))
      e->family[i] = '_';
  }
  e->m = *m;
  e->m.name = e->name;
  fm->n++;
}

static int by_family(const void *a, const void *b) {
  const filter_metric *x = a, *y = b;
  int c = strcmp(x->family, y->family);
  return c ? c : (int)x->m.type - (int)y->m.type;
}

static const char *const TYPE_NAMES[] = {"counter", "gauge", "summary"};

/*
 * Filter metrics, one family per name once made valid: names that differ
 * only in such characters (a-b, a.b, a_b) share a family, told apart by
 * their `name` label; one of another type gets its type's name appended to
 * the family. A histogram is a summary of its count and sum.
 */
static void put_filter_metrics(text *t, wp_pw_host *host) {
  filter_metrics fm = {0};
  wp_pw_host_foreach_metric(host, collect_metric, &fm);
  if (fm.n) qsort(fm.v, fm.n, sizeof *fm.v, by_family);
  char family[320] = "", base[300] = "";
  int type = -1;
  for (size_t i = 0; i < fm.n; i++) {
    const filter_metric *e = &fm.v[i];
    if (strcmp(e->family, base) != 0 || (int)e->m.type != type) {
      bool clash = strcmp(e->family, base) == 0; /* same name, another type */
      snprintf(family, sizeof family, "%s%s%s", e->family, clash ? "_" : "",
               clash ? TYPE_NAMES[e->m.type] : "");
      snprintf(base, sizeof base, "%s", e->family);
      type = (int)e->m.type;
      put(t, "# TYPE %s %s\n", family, TYPE_NAMES[e->m.type]);
    }
    if (e->m.type == WP_PW_HISTOGRAM) {
      put(t, "%s_count{name=\"", family);
      put_label(t, e->name);
      put(t, "\"} %llu\n%s_sum{name=\"", (unsigned long long)e->m.count, family);
      put_label(t, e->name);
      put(t, "\"} %llu\n", (unsigned long long)e->m.sum);
    } else {
      put(t, "%s{name=\"", family);
      put_label(t, e->name);
      put(t, "\"} %lld\n", (long long)e->m.value);
    }
  }
  for (size_t i = 0; i < fm.n; i++) free(fm.v[i].name);
  free(fm.v);
}

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
  put(&t, "# HELP wasmplug_handler_timeouts_total Handler calls and upstream exchanges stopped "
          "at their time limit.\n"
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
    if (st->config->routes[i].upstream) continue; /* no instances */
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
  put(&t,
      "# HELP wasmplug_tcp_connections_total Connections accepted by the TCP listeners.\n"
      "# TYPE wasmplug_tcp_connections_total counter\nwasmplug_tcp_connections_total %llu\n"
      "# HELP wasmplug_tcp_connections_active TCP connections open now.\n"
      "# TYPE wasmplug_tcp_connections_active gauge\nwasmplug_tcp_connections_active %llu\n"
      "# HELP wasmplug_tcp_refused_total TCP connections closed at once (max_connections).\n"
      "# TYPE wasmplug_tcp_refused_total counter\nwasmplug_tcp_refused_total %llu\n"
      "# HELP wasmplug_tcp_upstream_failures_total TCP upstream connects and transfers that "
      "failed.\n"
      "# TYPE wasmplug_tcp_upstream_failures_total counter\n"
      "wasmplug_tcp_upstream_failures_total %llu\n"
      "# HELP wasmplug_tcp_filter_failures_total Network filter failures.\n"
      "# TYPE wasmplug_tcp_filter_failures_total counter\n"
      "wasmplug_tcp_filter_failures_total %llu\n"
      "# HELP wasmplug_tcp_received_bytes_total Bytes the TCP listeners read, by side.\n"
      "# TYPE wasmplug_tcp_received_bytes_total counter\n"
      "wasmplug_tcp_received_bytes_total{from=\"client\"} %llu\n"
      "wasmplug_tcp_received_bytes_total{from=\"upstream\"} %llu\n",
      LOAD(srv->tcp_connections), LOAD(srv->tcp_active), LOAD(srv->tcp_refused),
      LOAD(srv->tcp_upstream_failures), LOAD(srv->tcp_filter_failures), LOAD(srv->tcp_bytes[0]),
      LOAD(srv->tcp_bytes[1]));
  if (srv->pw) put_filter_metrics(&t, pw_host(srv->pw));
  return t.s;
}
