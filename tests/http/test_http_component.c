/*
 * test_http_component.c - HTTP handler components through the public API
 * (wp_instance_handle_http): the C hellos of both worlds
 * (examples/http-hello/c-wasi, c-wasmplug) and fixtures that misbehave on
 * request (tests/http/fixture_*.c): kinds, echo of bodies and headers,
 * traps, timeouts, interrupts, bad answers, body caps, instance reuse and
 * threads.
 */
#include <pthread.h>
#include <time.h>

#include "helpers.h"
#include "instance/instance.h" /* wp_instance.failed */

#ifndef WP_PLUGINS
#error "WP_PLUGINS must name the build's plugins directory"
#endif

static const char *plugin_path(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s.wasm", WP_PLUGINS, name);
  return buf;
}

static wp_plugin *load(wp_engine *e, const char *name, const wp_manifest *m) {
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, plugin_path(name), m, &p));
  return p;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static wp_http_request request(const char *method, const char *path, const void *body, size_t len) {
  return (wp_http_request){.method = method,
                           .scheme = "http",
                           .authority = "example.test",
                           .path_with_query = path,
                           .body = body,
                           .body_len = len};
}

/* The value of header `name` in `r`, or NULL. */
static const wp_http_header *find_header(const wp_http_response *r, const char *name) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (strcmp(r->headers[i].name, name) == 0) return &r->headers[i];
  return NULL;
}

static void assert_header(const wp_http_response *r, const char *name, const char *value) {
  const wp_http_header *h = find_header(r, name);
  if (!h) {
    print_error("no header '%s'\n", name);
    fail();
  }
  assert_int_equal(h->value_len, strlen(value));
  assert_memory_equal(h->value, value, h->value_len);
}

static void assert_body(const wp_http_response *r, const void *body, size_t len) {
  assert_int_equal(r->body_len, len);
  if (len) assert_memory_equal(r->body, body, len);
}

static const char *const worlds[2][3] = {
    /* plugin, fixture, variant */
    {"http-hello-c-wasi", "test-http-wasi", "c-wasi"},
    {"http-hello-c-wasmplug", "test-http-wasmplug", "c-wasmplug"},
};

WP_TEST(test_kinds) {
  wp_engine *e = test_engine();
  wp_plugin *p = load(e, "http-hello-c-wasi", NULL);
  assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_WASI);
  assert_string_equal(wp_http_kind_name(wp_plugin_get_http_kind(p)), "wasi:http");
  wp_plugin_free(p);
  p = load(e, "test-http-wasi", NULL);
  assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_WASI);
  wp_plugin_free(p);
  p = load(e, "http-hello-c-wasmplug", NULL);
  assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_WASMPLUG);
  wp_plugin_free(p);
  p = load(e, "hello-c-component", NULL);
  assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_NONE);
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_request req = request("GET", "/", NULL, 0);
  wp_http_response resp = {0};
  assert_error(wp_instance_handle_http(inst, &req, 0, &resp), WP_ERR_NOT_FOUND,
               "not an HTTP handler");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* GET and POST on the hellos of both worlds, on one instance each. */
WP_TEST(test_hello) {
  wp_engine *e = test_engine();
  uint8_t *big = malloc(64 * 1024);
  for (size_t i = 0; i < 64 * 1024; i++) big[i] = (uint8_t)(i * 7 + (i >> 8));
  for (int w = 0; w < 2; w++) {
    wp_plugin *p = load(e, worlds[w][0], NULL);
    wp_instance *inst = NULL;
    assert_ok(wp_instance_new(p, &inst));
    wp_http_response resp = {0};

    wp_http_request req = request("GET", "/the/path?and=query", NULL, 0);
    assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
    assert_int_equal(resp.status, 200);
    assert_header(&resp, "content-type", "text/plain; charset=utf-8");
    assert_header(&resp, "x-wasmplug-example", worlds[w][2]);
    char want[256];
    snprintf(want, sizeof want, "Hello from C (%s)! You asked for GET /the/path?and=query\n",
             w == 0 ? "wasi:http" : "wasmplug:http");
    assert_body(&resp, want, strlen(want));
    wp_http_response_clear(&resp);

    req = request("DELETE", "/x", NULL, 0);
    assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
    snprintf(want, sizeof want, "Hello from C (%s)! You asked for DELETE /x\n",
             w == 0 ? "wasi:http" : "wasmplug:http");
    assert_body(&resp, want, strlen(want));
    wp_http_response_clear(&resp);

    const char *methods[] = {"POST", "PUT"};
    for (int m = 0; m < 2; m++) {
      req = request(methods[m], "/echo", big, 64 * 1024);
      assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
      assert_int_equal(resp.status, 200);
      assert_header(&resp, "x-wasmplug-example", worlds[w][2]);
      assert_body(&resp, big, 64 * 1024);
      wp_http_response_clear(&resp);
    }
    req = request("POST", "/empty", NULL, 0);
    assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
    assert_int_equal(resp.status, 200);
    assert_body(&resp, NULL, 0);
    wp_http_response_clear(&resp);
    req = request("POST", "/small", "a\0b", 3);
    assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
    assert_body(&resp, "a\0b", 3);
    wp_http_response_clear(&resp);
    wp_instance_free(inst);
    wp_plugin_free(p);
  }
  free(big);
  wp_engine_free(e);
}

/* The fixtures echo request headers back as x-echo-NAME. */
WP_TEST(test_headers) {
  wp_engine *e = test_engine();
  for (int w = 0; w < 2; w++) {
    wp_plugin *p = load(e, worlds[w][1], NULL);
    wp_instance *inst = NULL;
    assert_ok(wp_instance_new(p, &inst));
    static const uint8_t bin[] = {'v', 0x80, 0xff, '\t', 'z'};
    wp_http_header hs[] = {
        {"x-one", 5, (const uint8_t *)"1", 1},
        {"x-bin", 5, bin, sizeof bin},
        {"accept", 6, (const uint8_t *)"text/plain", 10},
    };
    wp_http_request req = request("POST", "/echo", "body", 4);
    req.headers = hs;
    req.n_headers = 3;
    wp_http_response resp = {0};
    assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
    assert_int_equal(resp.status, 200);
    assert_header(&resp, "x-echo-x-one", "1");
    assert_header(&resp, "x-echo-accept", "text/plain");
    const wp_http_header *h = find_header(&resp, "x-echo-x-bin");
    assert_non_null(h);
    assert_int_equal(h->value_len, sizeof bin);
    assert_memory_equal(h->value, bin, sizeof bin);
    assert_body(&resp, "body", 4);
    wp_http_response_clear(&resp);
    wp_instance_free(inst);
    wp_plugin_free(p);
  }
  wp_engine_free(e);
}

static wp_error *handle(wp_instance *inst, const char *method, const char *path, size_t max_body,
                        wp_http_response *resp) {
  wp_http_request req = request(method, path, NULL, 0);
  return wp_instance_handle_http(inst, &req, max_body, resp);
}

/* One echo on `inst`, which must work. */
static void assert_echo_works(wp_instance *inst) {
  wp_http_response resp = {0};
  wp_http_request req = request("POST", "/echo", "ok", 2);
  assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
  assert_int_equal(resp.status, 200);
  assert_body(&resp, "ok", 2);
  wp_http_response_clear(&resp);
}

WP_TEST(test_failures) {
  wp_engine *e = test_engine();
  for (int w = 0; w < 2; w++) {
    wp_plugin *p = load(e, worlds[w][1], NULL);
    wp_instance *inst = NULL;
    assert_ok(wp_instance_new(p, &inst));
    wp_http_response resp = {0};

    assert_error(handle(inst, "GET", "/trap", 0, &resp), WP_ERR_TRAP, "trapped");
    assert_int_equal(resp.status, 0);
    assert_null(resp.body);
    wp_instance_free(inst);
    assert_ok(wp_instance_new(p, &inst));
    assert_echo_works(inst);

    assert_error(handle(inst, "GET", "/bad-status", 0, &resp), WP_ERR_ABI, "not 100-599");
    assert_echo_works(inst);

    /* over the cap: 100 KiB against 64 KiB, and exactly the cap is fine */
    assert_error(handle(inst, "GET", "/big?n=102400", 65536, &resp), WP_ERR_ABI, "limit");
    assert_echo_works(inst);
    assert_ok(handle(inst, "GET", "/big?n=65536", 65536, &resp));
    assert_int_equal(resp.body_len, 65536);
    wp_http_response_clear(&resp);
    /* a large body under the default cap, streamed through the bounded channel */
    assert_ok(handle(inst, "GET", "/big?n=3000000", 0, &resp));
    assert_int_equal(resp.body_len, 3000000);
    assert_int_equal(resp.body[2999999], 'x');
    wp_http_response_clear(&resp);

    if (w == 1) {
      assert_error(handle(inst, "GET", "/bad-header", 0, &resp), WP_ERR_ABI, "not a token");
      assert_echo_works(inst);
    } else {
      assert_error(handle(inst, "GET", "/no-response", 0, &resp), WP_ERR_ABI, "without a response");
      assert_echo_works(inst);
      assert_error(handle(inst, "GET", "/error-code", 0, &resp), WP_ERR_PLUGIN, "InternalError");
      assert_echo_works(inst);
      /* no network: outgoing requests are refused (error-code HTTP-request-denied, case 15) */
      assert_ok(handle(inst, "GET", "/outgoing", 0, &resp));
      assert_body(&resp, "refused 15", 10);
      wp_http_response_clear(&resp);
      assert_echo_works(inst);
      assert_false(inst->failed);
      /* the body left unfinished stays in the table: the instance is not reused */
      assert_error(handle(inst, "GET", "/unfinished", 0, &resp), WP_ERR_ABI, "finishing");
      assert_true(inst->failed);
    }
    wp_instance_free(inst);
    wp_plugin_free(p);
  }
  wp_engine_free(e);
}

WP_TEST(test_timeout) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 200);
  for (int w = 0; w < 2; w++) {
    wp_plugin *p = load(e, worlds[w][1], m);
    wp_instance *inst = NULL;
    assert_ok(wp_instance_new(p, &inst));
    wp_http_response resp = {0};
    double t0 = now_ms();
    assert_error(handle(inst, "GET", "/loop", 0, &resp), WP_ERR_TIMEOUT, "200 ms timeout");
    double took = now_ms() - t0;
    assert_true(took >= 190 && took < 2000);
    wp_instance_free(inst);
    assert_ok(wp_instance_new(p, &inst));
    assert_echo_works(inst);
    wp_instance_free(inst);
    wp_plugin_free(p);
  }
  wp_manifest_free(m);
  wp_engine_free(e);
}

static void *interrupt_later(void *arg) {
  struct timespec ts = {0, 100 * 1000 * 1000};
  nanosleep(&ts, NULL);
  wp_instance_interrupt(arg);
  return NULL;
}

WP_TEST(test_interrupt) {
  wp_engine *e = test_engine();
  for (int w = 0; w < 2; w++) {
    wp_plugin *p = load(e, worlds[w][1], NULL);
    wp_instance *inst = NULL;
    assert_ok(wp_instance_new(p, &inst));
    wp_http_response resp = {0};
    pthread_t t;
    pthread_create(&t, NULL, interrupt_later, inst);
    double t0 = now_ms();
    assert_error(handle(inst, "GET", "/loop", 0, &resp), WP_ERR_INTERRUPTED, "interrupted");
    assert_true(now_ms() - t0 < 2000);
    pthread_join(t, NULL);
    assert_ok(wp_instance_reset(inst));
    assert_echo_works(inst);
    wp_instance_free(inst);
    wp_plugin_free(p);
  }
  wp_engine_free(e);
}

/* 1000 requests on one instance: the memory stays where the first left it. */
WP_TEST(test_reuse) {
  wp_engine *e = test_engine();
  uint8_t body[4096];
  memset(body, 'b', sizeof body);
  for (int w = 0; w < 2; w++) {
    for (int plug = 0; plug < 2; plug++) {
      wp_plugin *p = load(e, worlds[w][plug], NULL);
      wp_instance *inst = NULL;
      assert_ok(wp_instance_new(p, &inst));
      uint64_t mem_after_warmup = 0;
      for (int i = 0; i < 1000; i++) {
        wp_http_response resp = {0};
        wp_http_request req = i % 2 ? request("GET", "/r?i=1", NULL, 0)
                                    : request("POST", "/r", body, sizeof body);
        assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
        assert_int_equal(resp.status, 200);
        if (!(i % 2)) assert_body(&resp, body, sizeof body);
        wp_http_response_clear(&resp);
        if (i == 10) mem_after_warmup = wp_instance_get_memory_size(inst);
      }
      assert_int_equal(wp_instance_get_memory_size(inst), mem_after_warmup);
      wp_instance_free(inst);
      wp_plugin_free(p);
    }
  }
  wp_engine_free(e);
}

typedef struct worker {
  wp_pool *pool;
  int n, ok;
  char tag[16];
} worker;

static void *work(void *arg) {
  worker *w = arg;
  for (int i = 0; i < w->n; i++) {
    wp_instance *inst = NULL;
    if (wp_pool_take(w->pool, &inst)) return NULL;
    wp_http_request req = request("POST", "/t", w->tag, strlen(w->tag));
    wp_http_response resp = {0};
    wp_error *err = wp_instance_handle_http(inst, &req, 0, &resp);
    if (!err && resp.status == 200 && resp.body_len == strlen(w->tag) &&
        memcmp(resp.body, w->tag, resp.body_len) == 0)
      w->ok++;
    wp_error_free(err);
    wp_http_response_clear(&resp);
    wp_pool_release(w->pool, inst);
  }
  return NULL;
}

/* Two threads, two instances of one plugin from a pool, at the same time. */
WP_TEST(test_threads) {
  wp_engine *e = test_engine();
  for (int wd = 0; wd < 2; wd++) {
    wp_plugin *p = load(e, worlds[wd][0], NULL);
    wp_pool *pool = NULL;
    assert_ok(wp_pool_new(p, 0, 2, &pool));
    worker ws[2] = {{pool, 200, 0, "thread-a"}, {pool, 200, 0, "thread-b"}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, &ws[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    assert_int_equal(ws[0].ok, 200);
    assert_int_equal(ws[1].ok, 200);
    wp_pool_free(pool);
    wp_plugin_free(p);
  }
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),   cmocka_unit_test(test_hello),
      cmocka_unit_test(test_headers), cmocka_unit_test(test_failures),
      cmocka_unit_test(test_timeout), cmocka_unit_test(test_interrupt),
      cmocka_unit_test(test_reuse),   cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
