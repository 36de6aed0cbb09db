/*
 * test_httpout.c - the outbound HTTP capability (src/host/http): the
 * manifest section, the allowlist, and real requests from a C core plugin
 * (tests/httpout/guest.c, built into plugins/httpout-guest.wasm) to a local
 * upstream (tests/httpout/server.py: two Python HTTP servers on real
 * sockets, ports A and B) started by this program.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"
#include "host/http/allow.h"
#include "wasmplug.h"

#ifdef WP_HTTPOUT_COMPONENT
#include <wasmplug_http.h>
#endif

static pid_t server_pid = -1;
static int server_stdin = -1;
static int port_a, port_b;
static wp_engine *engine;

static int start_server(void **state) {
  (void)state;
  int in[2], out[2];
  if (pipe(in) || pipe(out)) return -1;
  server_pid = fork();
  if (server_pid < 0) return -1;
  if (server_pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execlp(WP_PYTHON, WP_PYTHON, WP_HTTPOUT_SERVER, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  server_stdin = in[1];
  FILE *f = fdopen(out[0], "r");
  if (!f || fscanf(f, "PORTS %d %d", &port_a, &port_b) != 2) {
    fprintf(stderr, "the test server did not start\n");
    return -1;
  }
  fclose(f);
  engine = test_engine();
  return 0;
}

static int stop_server(void **state) {
  (void)state;
  wp_engine_free(engine);
  if (server_stdin >= 0) close(server_stdin);
  if (server_pid > 0) {
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
  }
  return 0;
}

static char *fmt(const char *f, ...) {
  static char bufs[4][4096];
  static int i;
  char *b = bufs[i++ % 4];
  va_list ap;
  va_start(ap, f);
  vsnprintf(b, 4096, f, ap);
  va_end(ap);
  return b;
}

static wp_error *load(const char *manifest, wp_plugin **out) {
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(manifest, strlen(manifest), NULL, &m);
  if (!err) err = wp_manifest_set_name(m, "guest");
  if (!err) err = wp_plugin_load(engine, WP_PLUGINS "/httpout-guest.wasm", m, out);
  wp_manifest_free(m);
  return err;
}

/* The usual grant: port A of 127.0.0.1, small limits. */
static wp_plugin *granted(void) {
  wp_plugin *p = NULL;
  assert_ok(load(fmt("{\"capabilities\": {\"http\": {\"allowed_hosts\": [\"http://127.0.0.1:%d\"], "
                     "\"max_response_size\": 1000, \"timeout_ms\": 1500, \"max_redirects\": 3}}}",
                     port_a),
                 &p));
  return p;
}

/* The guest's answer to `input` (malloc'd, NUL-terminated). */
static char *fetch(wp_plugin *p, const char *input) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, "fetch", input, strlen(input), &out, &len));
  char *s = strndup((const char *)out, len);
  wp_instance_free(inst);
  return s;
}

static void expect(wp_plugin *p, const char *input, const char *want) {
  char *got = fetch(p, input);
  if (!strstr(got, want)) {
    print_error("'%s': expected '%s' in '%s'\n", input, want, got);
    free(got);
    fail();
  }
  free(got);
}

WP_TEST(test_allowed) {
  wp_plugin *p = granted();
  expect(p, fmt("GET http://127.0.0.1:%d/hello", port_a),
         fmt("status=200\nx-reply=hello\n\nhello from %d", port_a));
  /* method, headers and body reach the upstream; its headers come back */
  expect(p, fmt("POST http://127.0.0.1:%d/echo\nX-Test: abc\n\npayload", port_a),
         "status=200\nx-reply=abc\n\nPOST payload");
  expect(p, fmt("PUT http://127.0.0.1:%d/echo\n\nput-body", port_a), "\n\nPUT put-body");
  expect(p, fmt("GET http://127.0.0.1:%d/nothing", port_a), "status=404\n");
  /* the host is matched without regard to case, the port by number */
  expect(p, fmt("GET HTTP://127.0.0.1:%d/hello", port_a), "status=200");
  wp_plugin_free(p);
}

WP_TEST(test_refused_targets) {
  wp_plugin *p = granted();
  /* another host (the same server under another name) */
  expect(p, fmt("GET http://localhost:%d/hello", port_a),
         fmt("error=plugin 'guest': http_request: 'http://localhost:%d/hello' refused: "
             "http://localhost:%d is not in capabilities.http.allowed_hosts",
             port_a, port_a));
  /* another port */
  expect(p, fmt("GET http://127.0.0.1:%d/hello", port_b),
         fmt("http://127.0.0.1:%d is not in capabilities.http.allowed_hosts", port_b));
  /* another scheme, a user in the URL, not a URL */
  expect(p, fmt("GET https://127.0.0.1:%d/hello", port_a),
         fmt("https://127.0.0.1:%d is not in capabilities.http.allowed_hosts", port_a));
  expect(p, "GET file:///etc/passwd", "error=");
  expect(p, fmt("GET http://user:pw@127.0.0.1:%d/hello", port_a),
         "URLs with a user or password are refused");
  expect(p, "GET not a url", "error=");
  /* a header that would change where the request goes */
  expect(p, fmt("GET http://127.0.0.1:%d/hello\nHost: evil.example\n\n", port_a),
         "request header 'Host' is set by the host");
  expect(p, fmt("G(T http://127.0.0.1:%d/hello", port_a), "the method is not an HTTP token");
  wp_plugin_free(p);
}

WP_TEST(test_redirects) {
  wp_plugin *p = granted();
  /* within the allowlist: followed */
  expect(p, fmt("GET http://127.0.0.1:%d/redirect-in", port_a),
         fmt("status=200\nx-reply=hello\n\nhello from %d", port_a));
  /* out of it: refused, naming both */
  expect(p, fmt("GET http://127.0.0.1:%d/redirect-port", port_a),
         fmt("redirect from 'http://127.0.0.1:%d/redirect-port' to 'http://127.0.0.1:%d/hello' "
             "refused: http://127.0.0.1:%d is not in capabilities.http.allowed_hosts",
             port_a, port_b, port_b));
  expect(p, fmt("GET http://127.0.0.1:%d/redirect-host", port_a),
         fmt("to 'http://localhost:%d/hello' refused", port_a));
  /* a loop ends at max_redirects */
  expect(p, fmt("GET http://127.0.0.1:%d/redirect-loop", port_a),
         "more redirects than capabilities.http.max_redirects (3)");
  /* 303 after a POST: the next request is a GET without the body */
  expect(p, fmt("POST http://127.0.0.1:%d/see-other\n\nbody", port_a),
         "status=200\nx-reply=-\n\nGET ");
  wp_plugin_free(p);
  /* max_redirects 0: not even an allowed redirect is followed */
  assert_ok(load(fmt("{\"capabilities\": {\"http\": {\"allowed_hosts\": [\"http://127.0.0.1:%d\"], "
                     "\"max_redirects\": 0}}}",
                     port_a),
                 &p));
  expect(p, fmt("GET http://127.0.0.1:%d/redirect-in", port_a),
         "more redirects than capabilities.http.max_redirects (0)");
  wp_plugin_free(p);
}

WP_TEST(test_size_limit) {
  wp_plugin *p = granted();
  /* headers and body count; a few hundred bytes of body fit in 1000 */
  char *ok = fetch(p, fmt("GET http://127.0.0.1:%d/big?n=600", port_a));
  assert_non_null(strstr(ok, "status=200"));
  assert_int_equal(strlen(strstr(ok, "\n\n") + 2), 600);
  free(ok);
  expect(p, fmt("GET http://127.0.0.1:%d/big?n=5000", port_a),
         "the response is larger than capabilities.http.max_response_size (1000 bytes); it was "
         "cut");
  /* a body that announces no length is cut while it streams */
  expect(p, fmt("GET http://127.0.0.1:%d/big?n=200000", port_a), "max_response_size (1000 bytes)");
  wp_plugin_free(p);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

WP_TEST(test_timeout) {
  wp_plugin *p = granted();
  double t0 = now_ms();
  expect(p, fmt("GET http://127.0.0.1:%d/slow?ms=5000", port_a),
         fmt("'http://127.0.0.1:%d/slow?ms=5000' took longer than capabilities.http.timeout_ms "
             "(1500 ms); it was stopped",
             port_a));
  double took = now_ms() - t0;
  assert_true(took >= 1400 && took < 4000);
  /* a quick one still works on the same plugin */
  expect(p, fmt("GET http://127.0.0.1:%d/slow?ms=10", port_a), "\n\nslow");
  wp_plugin_free(p);
}

/* The plugin's own call limit bounds the wait when it is shorter than the
   grant's timeout_ms: a 400 ms call does not wait 10 s for a slow upstream. */
WP_TEST(test_call_deadline) {
  wp_plugin *p = NULL;
  assert_ok(load(fmt("{\"limits\": {\"timeout_ms\": 400}, \"capabilities\": {\"http\": "
                     "{\"allowed_hosts\": [\"http://127.0.0.1:%d\"], \"timeout_ms\": 10000}}}",
                     port_a),
                 &p));
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  const char *in = fmt("GET http://127.0.0.1:%d/slow?ms=5000", port_a);
  const uint8_t *out;
  size_t len;
  double t0 = now_ms();
  wp_error *err = wp_instance_call_bytes(inst, "fetch", in, strlen(in), &out, &len);
  double took = now_ms() - t0;
  /* Either the guest got the capability's error and the call ran out at its
     next step, or it got there first: the call fails with a timeout. */
  if (err) {
    assert_int_equal(wp_error_get_kind(err), WP_ERR_TIMEOUT);
    wp_error_free(err);
  } else {
    char *got = strndup((const char *)out, len);
    assert_non_null(strstr(got, "plugin's call deadline"));
    free(got);
  }
  assert_true(took >= 300 && took < 2500);
  wp_instance_free(inst);
  wp_plugin_free(p);
}

typedef struct later {
  wp_instance *inst;
  unsigned ms;
} later;

static void *interrupt_later(void *arg) {
  later *l = arg;
  nanosleep(&(struct timespec){0, (long)l->ms * 1000000L}, NULL);
  wp_instance_interrupt(l->inst);
  return NULL;
}

/* wp_instance_interrupt stops a plugin waiting on an outbound request. */
WP_TEST(test_interrupt_while_waiting) {
  wp_plugin *p = NULL;
  assert_ok(load(fmt("{\"capabilities\": {\"http\": {\"allowed_hosts\": "
                     "[\"http://127.0.0.1:%d\"], \"timeout_ms\": 20000}}}",
                     port_a),
                 &p));
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  const char *in = fmt("GET http://127.0.0.1:%d/slow?ms=8000", port_a);
  later l = {inst, 300};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, interrupt_later, &l), 0);
  const uint8_t *out;
  size_t len;
  double t0 = now_ms();
  wp_error *err = wp_instance_call_bytes(inst, "fetch", in, strlen(in), &out, &len);
  double took = now_ms() - t0;
  pthread_join(t, NULL);
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_INTERRUPTED);
  wp_error_free(err);
  assert_true(took < 3000); /* libcurl polls at least once a second */
  wp_instance_free(inst);
  wp_plugin_free(p);
}

WP_TEST(test_not_granted) {
  wp_plugin *p = NULL;
  assert_ok(load("{}", &p));
  expect(p, fmt("GET http://127.0.0.1:%d/hello", port_a),
         "error=plugin 'guest': outbound HTTP is not granted: add \"capabilities\": {\"http\": "
         "{\"allowed_hosts\": [\"https://host\"]}} to its manifest (capabilities.http)");
  wp_plugin_free(p);
  /* an empty list allows nothing either */
  assert_ok(load("{\"capabilities\": {\"http\": {\"allowed_hosts\": []}}}", &p));
  expect(p, fmt("GET http://127.0.0.1:%d/hello", port_a), "outbound HTTP is not granted");
  wp_plugin_free(p);
}

WP_TEST(test_bad_sections) {
  static const struct {
    const char *section, *want;
  } cases[] = {
      {"[]", "capabilities.http must be an object"},
      {"{\"allowed_hosts\": \"http://a\"}", "capabilities.http.allowed_hosts must be a list"},
      {"{\"allowed_hosts\": [7]}", "capabilities.http.allowed_hosts[0] must be a string"},
      {"{\"allowed_hosts\": [\"ftp://a.example\"]}",
       "capabilities.http.allowed_hosts: 'ftp://a.example' is not \"http[s]://host[:port]\""},
      {"{\"allowed_hosts\": [\"api.example.com\"]}", "'api.example.com' is not"},
      {"{\"allowed_hosts\": [\"https://a.example/path\"]}", "'https://a.example/path' is not"},
      {"{\"allowed_hosts\": [\"https://u@a.example\"]}", "'https://u@a.example' is not"},
      {"{\"allowed_hosts\": [\"https://a.example:0\"]}", "'https://a.example:0' is not"},
      {"{\"allowed_hosts\": [\"https://a.example:70000\"]}", "'https://a.example:70000' is not"},
      {"{\"allowed_hosts\": [\"https://*.10.0.0\"]}", "'https://*.10.0.0' is not"},
      {"{\"allowed_hosts\": [\"https://*\"]}", "'https://*' is not"},
      {"{\"max_response_size\": \"lots\"}", "capabilities.http.max_response_size must be a size"},
      {"{\"max_response_size\": 0}", "capabilities.http.max_response_size must be a size"},
      {"{\"timeout_ms\": -5}", "capabilities.http.timeout_ms must be a whole number"},
      {"{\"max_redirects\": 1000}", "capabilities.http.max_redirects must be a whole number"},
      {"{\"allowed_host\": []}", "capabilities.http: unknown field 'allowed_host'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wp_plugin *p = NULL;
    assert_error(load(fmt("{\"capabilities\": {\"http\": %s}}", cases[i].section), &p),
                 WP_ERR_BAD_INPUT, cases[i].want);
  }
}

/* The allowlist itself, on the grant (allow.h). */
static bool allowed(const char *section, const char *scheme, const char *host, int port) {
  wp_httpout_grant *g = NULL;
  assert_ok(wp_httpout_grant_parse("t", section, &g));
  bool ok = wp_httpout_allowed(g, scheme, host, port);
  wp_httpout_grant_free(g);
  return ok;
}

WP_TEST(test_allowlist) {
  const char *s = "{\"allowed_hosts\": [\"https://api.example.com\", \"http://*.internal:8080\", "
                  "\"https://*.Example.ORG:*\", \"http://[::1]:9000\", \"http://10.1.2.3\"]}";
  /* exact host, default port */
  assert_true(allowed(s, "https", "api.example.com", 443));
  assert_true(allowed(s, "https", "API.Example.Com", 443));
  assert_false(allowed(s, "https", "api.example.com", 8443));
  assert_false(allowed(s, "http", "api.example.com", 443));
  assert_false(allowed(s, "https", "x.api.example.com", 443));
  assert_false(allowed(s, "https", "api.example.com.evil.net", 443));
  /* a wildcard: one label or more, never the domain itself */
  assert_true(allowed(s, "http", "db.internal", 8080));
  assert_true(allowed(s, "http", "a.b.internal", 8080));
  assert_false(allowed(s, "http", "internal", 8080));
  assert_false(allowed(s, "http", "evilinternal", 8080));
  assert_false(allowed(s, "http", "db.internal", 80));
  /* any port */
  assert_true(allowed(s, "https", "www.example.org", 1));
  assert_true(allowed(s, "https", "www.example.org", 65535));
  assert_false(allowed(s, "http", "www.example.org", 80));
  /* IP literals only as listed */
  assert_true(allowed(s, "http", "[::1]", 9000));
  assert_false(allowed(s, "http", "[::1]", 80));
  assert_true(allowed(s, "http", "10.1.2.3", 80));
  assert_false(allowed(s, "http", "10.1.2.4", 80));
  /* nothing else */
  assert_false(allowed(s, "ftp", "api.example.com", 443));
  /* no section: no grant at all */
  wp_httpout_grant *g = (void *)1;
  assert_ok(wp_httpout_grant_parse("t", NULL, &g));
  assert_null(g);
  assert_false(wp_httpout_allowed(NULL, "https", "api.example.com", 443));
}

/* A plugin that breaks the framing fails its call with WP_ERR_ABI. */
WP_TEST(test_malformed_input) {
  static const char wat[] =
      "(module (import \"wasmplug\" \"http_request\" (func $h (param i32 i32 i32)))"
      " (memory (export \"memory\") 1)"
      " (data (i32.const 16) \"\\05\\00\\00\\00GET\")"
      " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) i32.const 1024)"
      " (data (i32.const 128) \"\\03\\00\\00\\00GET\\01\\00\\00\\00x\\08\\00\\00\\00"
      "\\ff\\ff\\ff\\ff\\ff\\ff\\ff\\ff\")"
      " (func (export \"short\") (call $h (i32.const 16) (i32.const 7) (i32.const 64)))"
      " (func (export \"count\") (call $h (i32.const 128) (i32.const 24) (i32.const 64))))";
  wp_manifest *m = NULL;
  const char *json = "{\"name\": \"raw\", \"capabilities\": {\"http\": {\"allowed_hosts\": "
                     "[\"http://127.0.0.1\"]}}}";
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load_bytes(engine, "raw.wat", wat, sizeof wat - 1, m, &p));
  wp_manifest_free(m);
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  assert_error(wp_instance_call(inst, "short", NULL, 0, NULL, 0), WP_ERR_ABI,
               "wasmplug.http_request: the method is 5 bytes but only 3 follow");
  /* a header count the input cannot hold: refused before any allocation */
  assert_error(wp_instance_call(inst, "count", NULL, 0, NULL, 0), WP_ERR_ABI,
               "wasmplug.http_request: 18446744073709551615 headers announced, but only 0 bytes "
               "follow");
  wp_instance_free(inst);
  wp_plugin_free(p);
}

/* The Go PDK (pdk/go/httpout.go) through the same host function. */
WP_TEST(test_go) {
  wp_manifest *m = NULL;
  const char *json = fmt("{\"name\": \"go\", \"capabilities\": {\"http\": {\"allowed_hosts\": "
                         "[\"http://127.0.0.1:%d\"], \"max_response_size\": 1000}}}",
                         port_a);
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(engine, WP_PLUGINS "/httpout-go.wasm", m, &p));
  wp_manifest_free(m);
  expect(p, fmt("GET http://127.0.0.1:%d/hello", port_a),
         fmt("status=200\nx-reply=hello\n\nhello from %d", port_a));
  expect(p, fmt("POST http://127.0.0.1:%d/echo\ngo-body", port_a),
         "status=200\nx-reply=from-go\n\nPOST go-body");
  expect(p, fmt("GET http://127.0.0.1:%d/redirect-port", port_a),
         fmt("error=plugin 'go': http_request: redirect from 'http://127.0.0.1:%d/redirect-port'",
             port_a));
  expect(p, fmt("GET http://127.0.0.1:%d/big?n=5000", port_a), "error=plugin 'go': http_request: ");
  wp_plugin_free(p);
}

#ifdef WP_HTTPOUT_COMPONENT
/* What the component fixture (httpout/fixture_out.c) answers for `spec`
   ("METHOD URL[\nbody]"), through wasi:http/outgoing-handler. */
static char *component_fetch(wp_plugin *p, const char *spec) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_request req = {"POST", "http", "localhost",           "/",
                         NULL,   0,      (const uint8_t *)spec, strlen(spec)};
  wp_http_response resp = {0};
  assert_ok(wp_instance_handle_http(inst, &req, 0, &resp));
  assert_int_equal(resp.status, 200);
  char *s = strndup((const char *)resp.body, resp.body_len);
  wp_http_response_clear(&resp);
  wp_instance_free(inst);
  return s;
}

static void expect_component(wp_plugin *p, const char *spec, const char *want) {
  char *got = component_fetch(p, spec);
  if (!strstr(got, want)) {
    print_error("component '%s': expected '%s' in '%s'\n", spec, want, got);
    free(got);
    fail();
  }
  free(got);
}

static wp_error *load_component(const char *manifest, wp_plugin **out) {
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(manifest, strlen(manifest), NULL, &m);
  if (!err) err = wp_manifest_set_name(m, "comp");
  if (!err) err = wp_plugin_load(engine, WP_PLUGINS "/httpout-component.wasm", m, out);
  wp_manifest_free(m);
  return err;
}

/* error-code cases of wasi:http/types (0.2.x) */
enum { CONNECTION_TIMEOUT = 8, REQUEST_DENIED = 15, RESPONSE_BODY_SIZE = 28 };

WP_TEST(test_component) {
  wp_plugin *p = NULL;
  assert_ok(load_component(
      fmt("{\"capabilities\": {\"http\": {\"allowed_hosts\": [\"http://127.0.0.1:%d\"], "
          "\"max_response_size\": 1000, \"timeout_ms\": 1500, \"max_redirects\": 3}}}",
          port_a),
      &p));
  expect_component(p, fmt("GET http://127.0.0.1:%d/hello", port_a),
                   fmt("status=200\nx-reply=hello\n\nhello from %d", port_a));
  /* the guest's headers and body reach the upstream */
  expect_component(p, fmt("POST http://127.0.0.1:%d/echo\npayload", port_a),
                   "status=200\nx-reply=from-component\n\nPOST payload");
  expect_component(p, fmt("GET http://127.0.0.1:%d/redirect-in", port_a),
                   fmt("status=200\nx-reply=hello\n\nhello from %d", port_a));
  char denied[32];
  snprintf(denied, sizeof denied, "refused %d", REQUEST_DENIED);
  expect_component(p, fmt("GET http://127.0.0.1:%d/hello", port_b), denied);
  expect_component(p, fmt("GET http://localhost:%d/hello", port_a), denied);
  expect_component(p, fmt("GET http://127.0.0.1:%d/redirect-port", port_a), denied);
  char too_big[32];
  snprintf(too_big, sizeof too_big, "refused %d", RESPONSE_BODY_SIZE);
  expect_component(p, fmt("GET http://127.0.0.1:%d/big?n=5000", port_a), too_big);
  char timeout[32];
  snprintf(timeout, sizeof timeout, "refused %d", CONNECTION_TIMEOUT);
  double t0 = now_ms();
  expect_component(p, fmt("GET http://127.0.0.1:%d/slow?ms=5000", port_a), timeout);
  assert_true(now_ms() - t0 < 4000);
  /* the same plugin still works after all that */
  expect_component(p, fmt("GET http://127.0.0.1:%d/hello", port_a), "status=200");
  wp_plugin_free(p);
  /* not granted: refused without a request */
  assert_ok(load_component("{}", &p));
  expect_component(p, fmt("GET http://127.0.0.1:%d/hello", port_a), denied);
  wp_plugin_free(p);
}
/* The same capability on a second engine: a plugin gets its own engine's
   grant (the extension's hooks are process-wide). */
WP_TEST(test_component_two_engines) {
  wp_engine *second = test_engine();
  wp_manifest *m = NULL;
  const char *json = fmt("{\"name\": \"comp2\", \"capabilities\": {\"http\": {\"allowed_hosts\": "
                         "[\"http://127.0.0.1:%d\"]}}}",
                         port_b);
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(second, WP_PLUGINS "/httpout-component.wasm", m, &p));
  wp_manifest_free(m);
  expect_component(p, fmt("GET http://127.0.0.1:%d/hello", port_b),
                   fmt("status=200\nx-reply=hello\n\nhello from %d", port_b));
  expect_component(p, fmt("GET http://127.0.0.1:%d/hello", port_a), "refused 15");
  wp_plugin_free(p);
  wp_engine_free(second);
}

/* The extension's contract (wasmplug_http.h), with hooks of the test's own. */
static int opened, closed;
static char opened_by[64], sent[512];

static void *t_open(void *store_data, size_t *max_request_body) {
  snprintf(opened_by, sizeof opened_by, "%s",
           wp_plugin_get_name(wp_instance_get_plugin(store_data)));
  opened++;
  *max_request_body = 16;
  return &opened;
}

static void t_send(void *ctx, const wasmplug_http_request_t *req,
                   wasmplug_http_outgoing_result_t *out) {
  assert_ptr_equal(ctx, &opened);
  int n = snprintf(sent, sizeof sent, "%s %s %s %s body=%.*s", req->method, req->scheme,
                   req->authority, req->path_with_query, (int)req->body_len,
                   (const char *)req->body);
  for (size_t i = 0; i < req->n_headers && n > 0 && (size_t)n < sizeof sent; i++)
    n += snprintf(sent + n, sizeof sent - (size_t)n, " %.*s=%.*s", (int)req->headers[i].name_len,
                  req->headers[i].name, (int)req->headers[i].value_len,
                  (const char *)req->headers[i].value);
  static const wasmplug_http_field_t reply = {"x-reply", 7, (const uint8_t *)"canned", 6};
  *out = (wasmplug_http_outgoing_result_t){.outcome = WASMPLUG_HTTP_OUT_OK,
                                           .status = 299,
                                           .headers = &reply,
                                           .n_headers = 1,
                                           .body = (const uint8_t *)"from the hooks",
                                           .body_len = 14};
}

static void t_close(void *ctx) {
  assert_ptr_equal(ctx, &opened);
  closed++;
}

WP_TEST(test_extension_hooks) {
  static const wasmplug_http_outgoing_t hooks = {t_open, t_send, t_close};
  wp_plugin *p = NULL;
  assert_ok(load_component("{}", &p)); /* nothing granted: the hooks decide */
  wasmplug_http_set_outgoing(&hooks);
  expect_component(p, "POST http://anywhere.example:1234/x?y=1\nsmall",
                   "status=299\nx-reply=canned\n\nfrom the hooks");
  assert_int_equal(opened, 1);
  assert_int_equal(closed, 1);
  assert_string_equal(opened_by, "comp");
  assert_string_equal(sent,
                      "POST http anywhere.example:1234 /x?y=1 body=small x-test=from-component");
  /* a body over max_request_body never reaches send */
  expect_component(p, "POST http://anywhere.example/\nmore than sixteen bytes", "refused 17");
  assert_int_equal(opened, 2);
  assert_int_equal(closed, 2);
  /* no hooks: refused */
  wasmplug_http_set_outgoing(NULL);
  expect_component(p, "GET http://anywhere.example/", "refused 15");
  assert_int_equal(opened, 2);
  wp_plugin_free(p);
  /* a new engine's http capability sets its hooks again */
  wp_engine *again = test_engine();
  wp_engine_free(again);
}
#endif

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_allowlist),
      cmocka_unit_test(test_bad_sections),
      cmocka_unit_test(test_allowed),
      cmocka_unit_test(test_refused_targets),
      cmocka_unit_test(test_redirects),
      cmocka_unit_test(test_size_limit),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_call_deadline),
      cmocka_unit_test(test_interrupt_while_waiting),
      cmocka_unit_test(test_not_granted),
      cmocka_unit_test(test_malformed_input),
      cmocka_unit_test(test_go),
#ifdef WP_HTTPOUT_COMPONENT
      cmocka_unit_test(test_component),
      cmocka_unit_test(test_component_two_engines),
      cmocka_unit_test(test_extension_hooks),
#endif
  };
  return cmocka_run_group_tests(tests, start_server, stop_server);
}
