/*
 * test_proxywasm.c - the Proxy-Wasm library API without the server: filters
 * built with the Go and Rust SDKs (examples/proxywasm) driven through
 * wp_pw_* as a C proxy would: headers, bodies, local responses, pause and
 * resume from ticks and HTTP calls, shared data and metrics, configuration
 * rejected at load, and faults that cost one stream only.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "helpers.h"

static const char *filter(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/pw-%s.wasm", WP_PLUGINS, name);
  return buf;
}

/* What the embedder's methods saw. */
typedef struct seen {
  pthread_mutex_t lock;
  char logs[8192];
  int wakes;
  int calls;
  uint64_t token;
  char cluster[64];
  char auth[128];
  int events[8];
} seen;

static void on_wake(void *user, wp_pw_worker *w) {
  (void)w;
  seen *s = user;
  pthread_mutex_lock(&s->lock);
  s->wakes++;
  pthread_mutex_unlock(&s->lock);
}

static void on_log(void *user, const wp_pw_plugin *p, wp_log_level level, const char *msg,
                   size_t len) {
  seen *s = user;
  pthread_mutex_lock(&s->lock);
  size_t n = strlen(s->logs);
  snprintf(s->logs + n, sizeof s->logs - n, "[%s %s] %.*s\n", p ? wp_pw_plugin_get_name(p) : "-",
           wp_log_level_name(level), (int)len, msg);
  pthread_mutex_unlock(&s->lock);
}

static int on_http_call(void *user, wp_pw_worker *w, const wp_pw_plugin *p, uint64_t token,
                        const wp_pw_http_call *call) {
  (void)w, (void)p;
  seen *s = user;
  s->calls++;
  s->token = token;
  snprintf(s->cluster, sizeof s->cluster, "%s", call->cluster);
  s->auth[0] = '\0';
  for (size_t i = 0; i < call->n_headers; i++)
    if (strcmp(call->headers[i].name, "authorization") == 0)
      snprintf(s->auth, sizeof s->auth, "%.*s", (int)call->headers[i].value_len,
               (const char *)call->headers[i].value);
  return strcmp(call->cluster, "nowhere") == 0 ? -1 : 0;
}

typedef struct env {
  wp_engine *engine;
  wp_pw_host *host;
  wp_pw_worker *worker;
  seen seen;
} env;

static env *env_new(void) {
  env *t = calloc(1, sizeof *t);
  pthread_mutex_init(&t->seen.lock, NULL);
  t->engine = test_engine();
  wp_pw_host_methods m = {.wake = on_wake, .log = on_log, .http_call = on_http_call};
  assert_ok(wp_pw_host_new(t->engine, &m, &t->seen, &t->host));
  assert_ok(wp_pw_worker_new(t->host, NULL, &t->worker));
  return t;
}

static void env_free(env *t) {
  wp_pw_worker_free(t->worker);
  wp_pw_host_free(t->host);
  wp_engine_free(t->engine);
  pthread_mutex_destroy(&t->seen.lock);
  free(t);
}

static wp_pw_plugin *load(env *t, const char *name, const char *config, const char *vm_config,
                          wp_manifest *m) {
  wp_pw_config *cfg = wp_pw_config_new();
  assert_ok(wp_pw_config_set_name(cfg, name));
  if (config) assert_ok(wp_pw_config_set_plugin_config(cfg, config, strlen(config)));
  if (vm_config) assert_ok(wp_pw_config_set_vm_config(cfg, vm_config, strlen(vm_config)));
  if (m) assert_ok(wp_pw_config_set_manifest(cfg, m));
  wp_pw_plugin *p = NULL;
  assert_ok(wp_pw_plugin_load(t->host, filter(name), cfg, &p));
  wp_pw_config_free(cfg);
  return p;
}

#define H(n, v) {n, sizeof n - 1, (const uint8_t *)v, sizeof v - 1}

static const wp_http_header get_root[] = {H(":method", "GET"), H(":path", "/x?y=1"),
                                          H(":authority", "example.test"), H(":scheme", "http")};

/* The value of a header in a stream's map, or NULL. */
static char *header(wp_pw_stream *s, wp_pw_map map, const char *name) {
  static char buf[512];
  size_t n;
  const wp_http_header *h = wp_pw_stream_get_headers(s, map, &n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(h[i].name, name) == 0) {
      snprintf(buf, sizeof buf, "%.*s", (int)h[i].value_len, (const char *)h[i].value);
      return buf;
    }
  return NULL;
}

static void event_recorder(void *user, wp_pw_stream *s, wp_pw_event ev) {
  (void)s;
  ((seen *)user)->events[ev]++;
}

/* ---- headers ------------------------------------------------------------------------------ */

static void headers_case(const char *name, const char *lang) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, name,
                         "{\"request\": {\"set\": {\"x-a\": \"1\"}, \"remove\": [\"x-b\"]},"
                         " \"response\": {\"set\": {\"x-r\": \"2\"}}}",
                         NULL, NULL);
  assert_true(wp_pw_plugin_is_http_filter(p));
  assert_string_equal(wp_pw_plugin_get_abi_version(p), strcmp(lang, "go") == 0 ? "0.2.0" : "0.2.1");
  for (int round = 0; round < 3; round++) { /* the VM is reused across streams */
    wp_pw_stream *s;
    wp_pw_stream_info info = {.source_address = "127.0.0.1:5555", .connection_id = 7};
    assert_ok(wp_pw_stream_new_http(t->worker, p, &info, NULL, NULL, &s));
    wp_http_header req[6] = {get_root[0], get_root[1],      get_root[2],
                             get_root[3], H("x-b", "gone"), H("X-Keep", "yes")};
    wp_pw_action a;
    assert_ok(wp_pw_stream_request_headers(s, req, 6, true, &a));
    assert_int_equal(a, WP_PW_CONTINUE);
    assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, "x-a"), "1");
    assert_null(header(s, WP_PW_REQUEST_HEADERS, "x-b"));
    assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, "x-keep"), "yes");
    assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, ":path"), "/x?y=1");
    wp_http_header resp[2] = {H(":status", "200"), H("content-type", "text/plain")};
    assert_ok(wp_pw_stream_response_headers(s, resp, 2, false, &a));
    assert_int_equal(a, WP_PW_CONTINUE);
    assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-filtered-by"), lang);
    assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-r"), "2");
    assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "content-type"), "text/plain");
    wp_pw_stream_free(s);
  }
  wp_pw_plugin_free(p);
  env_free(t);
}

WP_TEST(test_headers_rust) { headers_case("headers-rust", "rust"); }
WP_TEST(test_headers_go) { headers_case("headers-go", "go"); }

WP_TEST(test_bad_config_refused) {
  env *t = env_new();
  wp_pw_config *cfg = wp_pw_config_new();
  assert_ok(wp_pw_config_set_plugin_config(cfg, "{not json", 9));
  wp_pw_plugin *p = NULL;
  assert_error(wp_pw_plugin_load(t->host, filter("headers-rust"), cfg, &p), WP_ERR_BAD_INPUT,
               "rejected its plugin configuration");
  assert_error(wp_pw_plugin_load(t->host, filter("headers-go"), cfg, &p), WP_ERR_BAD_INPUT,
               "rejected its plugin configuration");
  assert_ok(wp_pw_config_set_plugin_config(cfg, "", 0));
  assert_ok(wp_pw_config_set_vm_config(cfg, "fail", 4));
  assert_error(wp_pw_plugin_load(t->host, filter("config-rust"), cfg, &p), WP_ERR_BAD_INPUT,
               "rejected its VM configuration");
  assert_null(p);
  /* Not a filter at all. */
  assert_error(wp_pw_plugin_load(t->host, WP_PLUGINS "/hello-c.wasm", NULL, &p), WP_ERR_LOAD,
               "not a Proxy-Wasm filter");
  wp_pw_config_free(cfg);
  env_free(t);
}

/* VM and plugin configuration read at start, and shown on the response. */
WP_TEST(test_config) {
  const char *langs[] = {"config-rust", "config-go"};
  for (int i = 0; i < 2; i++) {
    env *t = env_new();
    wp_pw_plugin *p = load(t, langs[i], "plug-cfg", "vm-cfg", NULL);
    wp_pw_stream *s;
    assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
    wp_pw_action a;
    assert_ok(wp_pw_stream_request_headers(s, get_root, 4, true, &a));
    wp_http_header resp[1] = {H(":status", "200")};
    assert_ok(wp_pw_stream_response_headers(s, resp, 1, true, &a));
    assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-vm-config"), "vm-cfg");
    assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-plugin-config"), "plug-cfg");
    assert_non_null(strstr(t->seen.logs, "vm=vm-cfg"));
    wp_pw_stream_free(s);
    wp_pw_plugin_free(p);
    env_free(t);
  }
}

/* ---- bodies and local responses -------------------------------------------------------------- */

WP_TEST(test_body_buffered_and_appended) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "body-rust",
                         "{\"mode\": \"append\", \"text\": \"!\", \"require_body\": true}", NULL,
                         NULL);
  wp_pw_stream *s;
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
  wp_pw_action a;
  assert_ok(wp_pw_stream_request_headers(s, get_root, 4, false, &a));
  assert_int_equal(a, WP_PW_CONTINUE);
  /* 3000 bytes in two chunks: the filter pauses until the end, reading at offsets. */
  char big[3000];
  memset(big, 'a', sizeof big);
  assert_ok(wp_pw_stream_request_body(s, big, 1000, false, &a));
  assert_int_equal(a, WP_PW_PAUSE);
  assert_ok(wp_pw_stream_request_body(s, big + 1000, 2000, true, &a));
  assert_int_equal(a, WP_PW_CONTINUE);
  size_t len;
  const uint8_t *body = wp_pw_stream_get_buffer(s, WP_PW_REQUEST_BODY, &len);
  assert_int_equal(len, 3001);
  assert_memory_equal(body, big, 3000);
  assert_int_equal(body[3000], '!');
  wp_pw_stream_drain_buffer(s, WP_PW_REQUEST_BODY);
  wp_pw_stream_get_buffer(s, WP_PW_REQUEST_BODY, &len);
  assert_int_equal(len, 0);
  wp_pw_stream_free(s);

  /* No body at all: the filter answers 400 itself. */
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
  assert_ok(wp_pw_stream_request_headers(s, get_root, 4, true, &a));
  assert_int_equal(a, WP_PW_LOCAL_RESPONSE);
  const wp_pw_local_response *lr = wp_pw_stream_get_local_response(s);
  assert_non_null(lr);
  assert_int_equal(lr->status, 400);
  assert_int_equal(lr->body_len, 14);
  assert_memory_equal(lr->body, "body required\n", 14);
  wp_pw_stream_free(s);
  wp_pw_plugin_free(p);
  env_free(t);
}

WP_TEST(test_body_prepend_replace) {
  env *t = env_new();
  const char *cfgs[] = {"{\"mode\": \"prepend\", \"text\": \">>\"}",
                        "{\"mode\": \"replace\", \"text\": \"new\"}"};
  const char *want[] = {">>old body", "new"};
  for (int i = 0; i < 2; i++) {
    wp_pw_plugin *p = load(t, "body-rust", cfgs[i], NULL, NULL);
    wp_pw_stream *s;
    assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
    wp_pw_action a;
    assert_ok(wp_pw_stream_request_headers(s, get_root, 4, false, &a));
    assert_ok(wp_pw_stream_request_body(s, "old body", 8, true, &a));
    assert_int_equal(a, WP_PW_CONTINUE);
    size_t len;
    const uint8_t *body = wp_pw_stream_get_buffer(s, WP_PW_REQUEST_BODY, &len);
    assert_int_equal(len, strlen(want[i]));
    assert_memory_equal(body, want[i], len);
    wp_pw_stream_free(s);
    wp_pw_plugin_free(p);
  }
  env_free(t);
}

/* ---- pause and resume
 * ---------------------------------------------------------------------------- */

static void poll_until(env *t, int *counter, int want) {
  for (int i = 0; i < 200 && *counter < want; i++) {
    uint32_t ms = wp_pw_worker_next_timeout_ms(t->worker);
    struct timespec ts = {0, (long)(ms > 20 ? 20 : ms) * 1000000L};
    nanosleep(&ts, NULL);
    assert_ok(wp_pw_worker_poll(t->worker));
  }
}

WP_TEST(test_postpone_resumed_by_tick) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "postpone-rust", "{\"period_ms\": 20}", NULL, NULL);
  wp_pw_stream *s;
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, event_recorder, &t->seen, &s));
  wp_pw_action a;
  assert_ok(wp_pw_stream_request_headers(s, get_root, 4, true, &a));
  assert_int_equal(a, WP_PW_PAUSE);
  assert_true(wp_pw_worker_next_timeout_ms(t->worker) <= 20);
  poll_until(t, &t->seen.events[WP_PW_EVENT_CONTINUE_REQUEST], 1);
  assert_int_equal(t->seen.events[WP_PW_EVENT_CONTINUE_REQUEST], 1);
  assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, "x-postponed"), "1");
  wp_pw_stream_free(s);
  wp_pw_plugin_free(p);
  env_free(t);
}

typedef struct poster {
  wp_pw_worker *w;
  uint64_t token;
  int status;
  const char *body;
} poster;

static void *post_from_thread(void *arg) {
  poster *q = arg;
  wp_http_header h[1] = {H("content-type", "text/plain")};
  wp_pw_http_response r = {.status = q->status,
                           .headers = h,
                           .n_headers = 1,
                           .body = (const uint8_t *)q->body,
                           .body_len = strlen(q->body)};
  wp_pw_worker_post_http_response(q->w, q->token, &r);
  return NULL;
}

static void auth_case(env *t, wp_pw_plugin *p, int status, const char *body, wp_pw_event want_ev,
                      int want_local) {
  memset(t->seen.events, 0, sizeof t->seen.events);
  wp_pw_stream *s;
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, event_recorder, &t->seen, &s));
  wp_http_header req[5] = {get_root[0], get_root[1], get_root[2], get_root[3],
                           H("authorization", "Bearer abc")};
  wp_pw_action a;
  int calls = t->seen.calls;
  assert_ok(wp_pw_stream_request_headers(s, req, 5, true, &a));
  assert_int_equal(a, WP_PW_PAUSE);
  assert_int_equal(t->seen.calls, calls + 1);
  assert_string_equal(t->seen.cluster, "auth");
  assert_string_equal(t->seen.auth, "Bearer abc");
  if (status) { /* the response comes from another thread, as an HTTP client's would */
    poster q = {t->worker, t->seen.token, status, body};
    pthread_t th;
    pthread_create(&th, NULL, post_from_thread, &q);
    pthread_join(th, NULL);
  }
  poll_until(t, &t->seen.events[want_ev], 1);
  assert_int_equal(t->seen.events[want_ev], 1);
  if (want_local) {
    assert_int_equal(wp_pw_stream_get_local_response(s)->status, want_local);
  } else {
    assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, "x-auth-user"), "alice");
  }
  wp_pw_stream_free(s);
}

WP_TEST(test_auth_http_call) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "auth-go",
                         "{\"cluster\": \"auth\", \"path\": \"/check\", \"timeout_ms\": 100}", NULL,
                         NULL);
  auth_case(t, p, 200, "alice\n", WP_PW_EVENT_CONTINUE_REQUEST, 0);
  auth_case(t, p, 401, "no", WP_PW_EVENT_LOCAL_RESPONSE, 403);
  auth_case(t, p, 0, "", WP_PW_EVENT_LOCAL_RESPONSE, 503); /* no answer: the call times out */
  wp_pw_plugin_free(p);
  env_free(t);
}

/* ---- shared data and metrics -------------------------------------------------------------------
 */

typedef struct counter_thread {
  env *t;
  wp_pw_plugin *p;
  int n;
  int max_seen;
  int failed; /* requests that did not go through */
} counter_thread;

static void *count_requests(void *arg) {
  counter_thread *c = arg;
  wp_pw_worker *w;
  wp_error *err = wp_pw_worker_new(c->t->host, NULL, &w);
  if (err) {
    wp_error_free(err);
    c->failed = c->n;
    return NULL;
  }
  for (int i = 0; i < c->n; i++) {
    wp_pw_stream *s;
    wp_pw_action a;
    if ((err = wp_pw_stream_new_http(w, c->p, NULL, NULL, NULL, &s))) {
      wp_error_free(err);
      c->failed++;
      continue;
    }
    wp_http_header resp[1] = {H(":status", "200")};
    wp_error *e1 = wp_pw_stream_request_headers(s, get_root, 4, true, &a);
    wp_error *e2 = e1 ? NULL : wp_pw_stream_response_headers(s, resp, 1, true, &a);
    const char *v = e1 || e2 ? NULL : header(s, WP_PW_RESPONSE_HEADERS, "x-count");
    int n = v ? atoi(v) : 0;
    if (n > c->max_seen) c->max_seen = n;
    if (!n) c->failed++; /* an error, or no number ("conflict") */
    wp_error_free(e1);
    wp_error_free(e2);
    wp_pw_stream_free(s);
  }
  wp_pw_worker_free(w);
  return NULL;
}

WP_TEST(test_shared_counter_across_threads) {
  env *t = env_new();
  const char *langs[] = {"counter-rust", "counter-go"};
  for (int l = 0; l < 2; l++) {
    wp_pw_plugin *p = load(t, langs[l], l ? "{\"key\": \"go\"}" : "{\"key\": \"rust\"}", NULL,
                           NULL);
    /* The key's first write is unconditional (CAS 0: the ABI has no
       create-if-absent), so two workers creating it at once may both write 1
       (examples/proxywasm/README.md, counter). One request makes it first;
       from then on every increment goes through CAS. */
    counter_thread seed = {t, p, 1, 0, 0};
    count_requests(&seed);
    assert_int_equal(seed.max_seen, 1);
    assert_int_equal(seed.failed, 0);
    counter_thread c[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
      c[i] = (counter_thread){t, p, 40, 0, 0};
      pthread_create(&th[i], NULL, count_requests, &c[i]);
    }
    int max = 0;
    for (int i = 0; i < 3; i++) {
      pthread_join(th[i], NULL);
      if (c[i].max_seen > max) max = c[i].max_seen;
      assert_int_equal(c[i].failed, 0); /* every request answered with its count */
    }
    assert_int_equal(max, 121); /* every increment counted once, across three workers */
    wp_pw_plugin_free(p);
  }
  env_free(t);
}

/* Shared data belongs to a vm id: plugins of one vm id share a counter, another vm id has its own.
 */
WP_TEST(test_vm_id_scopes_shared_data) {
  env *t = env_new();
  const char *vm_ids[3] = {"one", "one", "two"};
  wp_pw_plugin *p[3];
  for (int i = 0; i < 3; i++) {
    wp_pw_config *cfg = wp_pw_config_new();
    assert_ok(wp_pw_config_set_vm_id(cfg, vm_ids[i]));
    assert_ok(wp_pw_plugin_load(t->host, filter("counter-rust"), cfg, &p[i]));
    wp_pw_config_free(cfg);
  }
  const char *want[4] = {"1", "2", "1", "3"};
  const int order[4] = {0, 1, 2, 0};
  for (int k = 0; k < 4; k++) {
    wp_pw_stream *s;
    wp_pw_action a;
    assert_ok(wp_pw_stream_new_http(t->worker, p[order[k]], NULL, NULL, NULL, &s));
    assert_ok(wp_pw_stream_request_headers(s, get_root, 4, true, &a));
    wp_http_header resp[1] = {H(":status", "200")};
    assert_ok(wp_pw_stream_response_headers(s, resp, 1, true, &a));
    assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-count"), want[k]);
    wp_pw_stream_free(s);
  }
  for (int i = 0; i < 3; i++) wp_pw_plugin_free(p[i]);
  env_free(t);
}

static void sum_metric(void *user, const wp_pw_metric *m) {
  int64_t *out = user;
  if (strcmp(m->name, "requests_total") == 0) out[0] = m->value;
  if (strcmp(m->name, "requests_by_acme") == 0) out[1] = m->value;
}

WP_TEST(test_metrics) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "metrics-rust", NULL, NULL, NULL);
  for (int i = 0; i < 3; i++) {
    wp_pw_stream *s;
    assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
    wp_http_header req[5] = {get_root[0], get_root[1], get_root[2], get_root[3],
                             H("x-tenant", "acme")};
    wp_pw_action a;
    assert_ok(wp_pw_stream_request_headers(s, req, i < 2 ? 5 : 4, true, &a));
    wp_pw_stream_free(s);
  }
  int64_t got[2] = {0, 0};
  wp_pw_host_foreach_metric(t->host, sum_metric, got);
  assert_int_equal(got[0], 3);
  assert_int_equal(got[1], 2);
  wp_pw_plugin_free(p);
  env_free(t);
}

/* ---- faults
 * ---------------------------------------------------------------------------------------- */

static void fault_case(const char *name, const char *bad_header, wp_error_kind kind,
                       const char *needle, wp_manifest *m) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, name, NULL, NULL, m);
  wp_pw_stream *ok_stream, *s;
  /* A stream paused on the same VM hears that the VM failed. */
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, event_recorder, &t->seen, &ok_stream));
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
  wp_http_header req[5] = {get_root[0],
                           get_root[1],
                           get_root[2],
                           get_root[3],
                           {bad_header, strlen(bad_header), (const uint8_t *)"1", 1}};
  wp_pw_action a;
  assert_error(wp_pw_stream_request_headers(s, req, 5, true, &a), kind, needle);
  wp_pw_stream_free(s);
  assert_ok(wp_pw_worker_poll(t->worker));
  assert_int_equal(t->seen.events[WP_PW_EVENT_FAILED], 1);
  wp_pw_stream_free(ok_stream);
  /* The next stream gets a fresh VM and is filtered normally. */
  assert_ok(wp_pw_stream_new_http(t->worker, p, NULL, NULL, NULL, &s));
  assert_ok(wp_pw_stream_request_headers(s, get_root, 4, true, &a));
  wp_http_header resp[1] = {H(":status", "200")};
  assert_ok(wp_pw_stream_response_headers(s, resp, 1, true, &a));
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-panic-filter"), "ok");
  wp_pw_stream_free(s);
  wp_pw_plugin_free(p);
  if (strstr(name, "go")) assert_non_null(strstr(t->seen.logs, "boom")); /* stderr to the log */
  env_free(t);
}

WP_TEST(test_panic_rust) {
  fault_case("panic-rust", "x-panic", WP_ERR_TRAP, "proxy_on_request_headers", NULL);
}
WP_TEST(test_panic_go) {
  fault_case("panic-go", "x-panic", WP_ERR_TRAP, "proxy_on_request_headers", NULL);
}

WP_TEST(test_timeout) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 100);
  fault_case("panic-rust", "x-loop", WP_ERR_TIMEOUT, "100", m);
  wp_manifest_free(m);
}

/* ---- more filters: queue, TCP, foreign functions, properties, validation, canary ----------------
 */

static void one_request(env *t, wp_pw_plugin *p, const wp_http_header *req, size_t n,
                        const char *body, wp_pw_action *req_action, wp_pw_stream **out) {
  wp_pw_stream *s;
  wp_pw_stream_info info = {
      .source_address = "10.0.0.1:4242", .route_name = "api", .connection_id = 99};
  assert_ok(wp_pw_stream_new_http(t->worker, p, &info, NULL, NULL, &s));
  assert_ok(wp_pw_stream_set_property(s, "route_metadata.owner", "team-a", 6));
  wp_pw_action a;
  assert_ok(wp_pw_stream_request_headers(s, req, n, body == NULL, &a));
  if (body && a == WP_PW_CONTINUE)
    assert_ok(wp_pw_stream_request_body(s, body, strlen(body), true, &a));
  *req_action = a;
  *out = s;
}

WP_TEST(test_queue_between_vms) {
  env *t = env_new();
  wp_pw_config *cfg = wp_pw_config_new();
  assert_ok(wp_pw_config_set_vm_id(cfg, "receiver-vm"));
  const char *rc = "{\"role\": \"receiver\", \"queue\": \"events\"}";
  assert_ok(wp_pw_config_set_plugin_config(cfg, rc, strlen(rc)));
  wp_pw_plugin *receiver, *sender;
  assert_ok(wp_pw_plugin_load(t->host, filter("queue-rust"), cfg, &receiver));
  assert_ok(wp_pw_worker_start_plugin(t->worker, receiver));
  const char *sc = "{\"role\": \"sender\", \"vm_id\": \"receiver-vm\", \"queue\": \"events\"}";
  assert_ok(wp_pw_config_set_vm_id(cfg, "sender-vm"));
  assert_ok(wp_pw_config_set_plugin_config(cfg, sc, strlen(sc)));
  assert_ok(wp_pw_plugin_load(t->host, filter("queue-rust"), cfg, &sender));
  wp_pw_config_free(cfg);
  wp_pw_stream *s;
  wp_pw_action a;
  one_request(t, sender, get_root, 4, NULL, &a, &s);
  wp_http_header resp[1] = {H(":status", "200")};
  assert_ok(wp_pw_stream_response_headers(s, resp, 1, true, &a));
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-enqueued"), "1");
  wp_pw_stream_free(s);
  assert_ok(wp_pw_worker_poll(t->worker)); /* the receiver's root hears on_queue_ready */
  assert_non_null(strstr(t->seen.logs, "queue: received GET /x?y=1"));
  wp_pw_plugin_free(sender);
  wp_pw_plugin_free(receiver);
  env_free(t);
}

WP_TEST(test_tcp_filter) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "tcp-rust", "{\"prefix\": \">\"}", NULL, NULL);
  assert_true(wp_pw_plugin_is_network_filter(p));
  wp_pw_stream *s;
  wp_pw_action a;
  assert_ok(wp_pw_stream_new_tcp(t->worker, p, NULL, NULL, NULL, &s, &a));
  assert_int_equal(a, WP_PW_CONTINUE);
  assert_ok(wp_pw_stream_downstream_data(s, "hello", 5, false, &a));
  assert_int_equal(a, WP_PW_CONTINUE);
  size_t len;
  const uint8_t *d = wp_pw_stream_get_buffer(s, WP_PW_DOWNSTREAM_DATA, &len);
  assert_int_equal(len, 6);
  assert_memory_equal(d, ">hello", 6);
  wp_pw_stream_drain_buffer(s, WP_PW_DOWNSTREAM_DATA);
  assert_ok(wp_pw_stream_upstream_data(s, "world!!", 7, false, &a));
  assert_ok(wp_pw_stream_downstream_close(s, true));
  assert_ok(wp_pw_stream_upstream_close(s, false));
  wp_pw_stream_free(s);
  assert_non_null(strstr(t->seen.logs, "tcp: new connection"));
  assert_non_null(strstr(t->seen.logs, "tcp: downstream 5 bytes"));
  assert_non_null(strstr(t->seen.logs, "tcp: upstream 7 bytes"));
  assert_non_null(strstr(t->seen.logs, "tcp: downstream close"));
  assert_non_null(strstr(t->seen.logs, "tcp: upstream close"));
  wp_pw_plugin_free(p);
  env_free(t);
}

WP_TEST(test_foreign_compress) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "foreign-rust", NULL, NULL, NULL);
  const char *text = "a body that compresses: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  wp_pw_stream *s;
  wp_pw_action a;
  one_request(t, p, get_root, 4, text, &a, &s);
  assert_int_equal(a, WP_PW_CONTINUE);
  size_t len;
  const uint8_t *d = wp_pw_stream_get_buffer(s, WP_PW_REQUEST_BODY, &len);
  char size[32];
  snprintf(size, sizeof size, "%zu", len);
  assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, "x-compressed-size"), size);
  char back[256];
  uLongf back_len = sizeof back;
  assert_int_equal(uncompress((Bytef *)back, &back_len, d, (uLong)len), Z_OK);
  assert_int_equal(back_len, strlen(text));
  assert_memory_equal(back, text, back_len);
  wp_pw_stream_free(s);
  wp_pw_plugin_free(p);
  env_free(t);
}

WP_TEST(test_properties) {
  env *t = env_new();
  wp_pw_config *cfg = wp_pw_config_new();
  assert_ok(wp_pw_config_set_name(cfg, "meta"));
  assert_ok(wp_pw_config_set_root_id(cfg, "root-7"));
  assert_ok(wp_pw_config_set_plugin_config(cfg, "{\"key\": \"owner\"}", 16));
  wp_pw_plugin *p;
  assert_ok(wp_pw_plugin_load(t->host, filter("metadata-go"), cfg, &p));
  wp_pw_config_free(cfg);
  wp_pw_stream *s;
  wp_pw_action a;
  one_request(t, p, get_root, 4, NULL, &a, &s);
  wp_http_header resp[1] = {H(":status", "200")};
  assert_ok(wp_pw_stream_response_headers(s, resp, 1, true, &a));
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-route-name"), "api");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-route-metadata"), "team-a");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-plugin-name"), "meta");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-plugin-root-id"), "root-7");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-request-path"), "/x?y=1");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-request-method"), "GET");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-source-address"), "10.0.0.1:4242");
  assert_string_equal(header(s, WP_PW_RESPONSE_HEADERS, "x-prop-connection-id"), "99");
  wp_pw_stream_free(s);
  wp_pw_plugin_free(p);
  env_free(t);
}

WP_TEST(test_validate_json) {
  const char *langs[] = {"validate-rust", "validate-go"};
  for (int l = 0; l < 2; l++) {
    env *t = env_new();
    wp_pw_plugin *p = load(t, langs[l], "{\"required\": [\"id\", \"name\"]}", NULL, NULL);
    const char *bodies[] = {"{\"id\": 1, \"name\": \"x\"}", "{\"id\": 1}", "[1, 2", NULL};
    const char *want[] = {NULL, "missing key: name\n", "invalid json\n"};
    for (int i = 0; bodies[i]; i++) {
      wp_pw_stream *s;
      wp_pw_action a;
      wp_http_header req[5] = {H(":method", "POST"), get_root[1], get_root[2], get_root[3],
                               H("content-type", "application/json")};
      one_request(t, p, req, 5, bodies[i], &a, &s);
      if (!want[i]) {
        assert_int_equal(a, WP_PW_CONTINUE);
      } else {
        assert_int_equal(a, WP_PW_LOCAL_RESPONSE);
        const wp_pw_local_response *lr = wp_pw_stream_get_local_response(s);
        assert_int_equal(lr->status, 403);
        assert_int_equal(lr->body_len, strlen(want[i]));
        assert_memory_equal(lr->body, want[i], lr->body_len);
      }
      wp_pw_stream_free(s);
    }
    wp_pw_plugin_free(p);
    env_free(t);
  }
}

WP_TEST(test_canary_authority) {
  env *t = env_new();
  wp_pw_plugin *p = load(t, "canary-rust",
                         "{\"header\": \"x-canary\", \"authority\": \"canary.local\"}", NULL, NULL);
  wp_http_header req[5] = {get_root[0], get_root[1], get_root[2], get_root[3],
                           H("x-canary", "yes")};
  wp_pw_stream *s;
  wp_pw_action a;
  one_request(t, p, req, 5, NULL, &a, &s);
  assert_int_equal(a, WP_PW_CONTINUE);
  assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, ":authority"), "canary.local");
  assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, "x-canary-routed"), "1");
  wp_pw_stream_free(s);
  one_request(t, p, get_root, 4, NULL, &a, &s);
  assert_string_equal(header(s, WP_PW_REQUEST_HEADERS, ":authority"), "example.test");
  wp_pw_stream_free(s);
  wp_pw_plugin_free(p);
  env_free(t);
}

WP_TEST(test_tick_http_calls) {
  env *t = env_new();
  wp_pw_plugin *p = load(
      t, "tick-calls-go",
      "{\"period_ms\": 20, \"clusters\": [\"a\", \"nowhere\"], \"path\": \"/status\"}", NULL, NULL);
  assert_ok(wp_pw_worker_start_plugin(t->worker, p));
  int calls = t->seen.calls;
  for (int i = 0; i < 100 && t->seen.calls == calls; i++) {
    struct timespec ts = {0, 10000000L};
    nanosleep(&ts, NULL);
    assert_ok(wp_pw_worker_poll(t->worker));
  }
  assert_true(t->seen.calls > calls);
  assert_string_equal(t->seen.cluster, "nowhere"); /* both dispatched, the refused one last */
  uint64_t token = t->seen.token - 1; /* the call to "a" */
  wp_pw_http_response r = {.status = 204};
  wp_pw_worker_post_http_response(t->worker, token, &r);
  assert_ok(wp_pw_worker_poll(t->worker));
  assert_non_null(strstr(t->seen.logs, "tick-calls: a status=204"));
  wp_pw_plugin_free(p);
  env_free(t);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_headers_rust),
      cmocka_unit_test(test_headers_go),
      cmocka_unit_test(test_bad_config_refused),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_body_buffered_and_appended),
      cmocka_unit_test(test_body_prepend_replace),
      cmocka_unit_test(test_postpone_resumed_by_tick),
      cmocka_unit_test(test_auth_http_call),
      cmocka_unit_test(test_shared_counter_across_threads),
      cmocka_unit_test(test_metrics),
      cmocka_unit_test(test_vm_id_scopes_shared_data),
      cmocka_unit_test(test_panic_rust),
      cmocka_unit_test(test_panic_go),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_queue_between_vms),
      cmocka_unit_test(test_tcp_filter),
      cmocka_unit_test(test_foreign_compress),
      cmocka_unit_test(test_properties),
      cmocka_unit_test(test_validate_json),
      cmocka_unit_test(test_canary_authority),
      cmocka_unit_test(test_tick_http_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
