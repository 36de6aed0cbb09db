/*
 * test_http_core.c - core modules as HTTP handlers (docs/http-abi.md),
 * through wp_instance_handle_http: kind detection, the C and Go hello
 * examples (which also exercise the PDKs' request parsers and response
 * builders end to end), the JSON API example, the host's request encoding as
 * a guest sees it, each response-decoding error from tests/fixtures, traps,
 * timeouts, interrupts and fuel, instance reuse, and the decoder itself on
 * hand-made blocks.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <pthread.h>
#include <time.h>

#include "core/http.h"
#include "helpers.h"
#include "instance/instance.h"

#ifndef WP_PLUGINS
#error "WP_PLUGINS must name the directory of the built example plugins"
#endif

static const char *plugin_path(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s.wasm", WP_PLUGINS, name);
  return buf;
}

/* ---- log capture ----------------------------------------------------------- */

static char logged[8192];

static void on_log(void *ud, wp_log_level level, const char *plugin, const char *msg, size_t len) {
  (void)ud, (void)level, (void)plugin;
  size_t n = strlen(logged);
  snprintf(logged + n, sizeof logged - n, "%.*s\n", (int)len, msg);
}

static wp_engine *http_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 16);
  wp_engine_config_set_log(cfg, on_log, NULL);
  test_isolation(cfg); /* WASMPLUG_TEST_ISOLATION=process: test_http_core_process */
  wp_engine *e;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

static wp_plugin *load(wp_engine *e, const char *path, const wp_manifest *m) {
  wp_plugin *p;
  assert_ok(wp_plugin_load(e, path, m, &p));
  return p;
}

/* ---- requests and responses -------------------------------------------------- */

static wp_http_request request(const char *method, const char *path) {
  return (wp_http_request){
      .method = method, .scheme = "http", .authority = "localhost:8080", .path_with_query = path};
}

/* The value of the response's header `name` as a C string, or NULL. */
static const char *header(const wp_http_response *r, const char *name) {
  for (size_t i = 0; i < r->n_headers; i++)
    if (strcmp(r->headers[i].name, name) == 0) return (const char *)r->headers[i].value;
  return NULL;
}

static void assert_body(const wp_http_response *r, const void *want, size_t len) {
  assert_int_equal(r->body_len, len);
  if (len) assert_memory_equal(r->body, want, len);
}

static void assert_body_str(const wp_http_response *r, const char *want) {
  if (r->body_len != strlen(want) || memcmp(r->body, want, r->body_len) != 0) {
    print_error("body: want '%s', got '%.*s'\n", want, (int)r->body_len, (const char *)r->body);
    fail();
  }
}

/* ---- kind detection ------------------------------------------------------------ */

WP_TEST(test_kind) {
  wp_engine *e = http_engine();
  const char *core[] = {"http-hello-c", "http-hello-go", "http-api-go"};
  for (size_t i = 0; i < 3; i++) {
    wp_plugin *p = load(e, plugin_path(core[i]), NULL);
    assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_CORE);
    wp_plugin_free(p);
  }
  const char *fixtures[] = {"http_trap.wat", "http_loop.wat", "http_badresp.wat", "http_echo.wat"};
  for (size_t i = 0; i < 4; i++) {
    wp_plugin *p = load(e, fixture(fixtures[i]), NULL);
    assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_CORE);
    wp_plugin_free(p);
  }
  assert_string_equal(wp_http_kind_name(WP_HTTP_CORE), "core");

  /* Bytes exports other than `handle`, or no bytes ABI at all: not handlers. */
  const char *plain[] = {plugin_path("hello-c"), fixture("echo.wat"), fixture("numeric.wat")};
  for (size_t i = 0; i < 3; i++) {
    wp_plugin *p = load(e, plain[i], NULL);
    assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_NONE);
    if (i == 0) {
      wp_instance *inst;
      assert_ok(wp_instance_new(p, &inst));
      wp_http_request req = request("GET", "/");
      wp_http_response resp = {0};
      assert_error(wp_instance_handle_http(inst, &req, 0, &resp), WP_ERR_NOT_FOUND,
                   "not an HTTP handler");
      wp_instance_free(inst);
    }
    wp_plugin_free(p);
  }

  /* A `handle` that is numeric, not (ptr, len) -> retptr: not a handler either. */
  static const char numeric_handle[] =
      "(module (memory (export \"memory\") 1)"
      " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) i32.const 0)"
      " (func (export \"handle\") (param i32) (result i32) local.get 0))";
  wp_plugin *p;
  assert_ok(wp_plugin_load_bytes(e, "numeric-handle.wat", numeric_handle, sizeof numeric_handle - 1,
                                 NULL, &p));
  assert_int_equal(wp_plugin_get_http_kind(p), WP_HTTP_NONE);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- the hello examples ---------------------------------------------------------- */

static void check_hello(const char *name, const char *variant, const char *lang) {
  wp_engine *e = http_engine();
  wp_plugin *p = load(e, plugin_path(name), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_response r = {0};
  char want[256];

  /* GET: the greeting, with method and path+query; the headers every hello sends. */
  wp_http_header x_echo = {"x-echo", 6, (const uint8_t *)"abc \x80\xff", 6};
  wp_http_request req = request("GET", "/the/path?and=query");
  req.headers = &x_echo;
  req.n_headers = 1;
  assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
  assert_int_equal(r.status, 200);
  snprintf(want, sizeof want, "Hello from %s (core)! You asked for GET /the/path?and=query\n",
           lang);
  assert_body_str(&r, want);
  assert_non_null(header(&r, "content-type"));
  assert_string_equal(header(&r, "content-type"), "text/plain; charset=utf-8");
  assert_string_equal(header(&r, "x-wasmplug-example"), variant);
  /* the request header arrived, bytes above 0x7f included */
  assert_non_null(header(&r, "x-echo"));
  assert_memory_equal(header(&r, "x-echo"), "abc \x80\xff", 6);
  wp_http_response_clear(&r);

  /* Other methods get the greeting too; no x-echo asked, none answered. */
  req = request("DELETE", "/x");
  req.scheme = req.authority = NULL;
  assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
  snprintf(want, sizeof want, "Hello from %s (core)! You asked for DELETE /x\n", lang);
  assert_body_str(&r, want);
  assert_null(header(&r, "x-echo"));
  wp_http_response_clear(&r);

  /* POST and PUT echo the body byte for byte: 64 KiB of every byte value. */
  size_t big = 64 * 1024;
  uint8_t *body = malloc(big);
  assert_non_null(body);
  for (size_t i = 0; i < big; i++) body[i] = (uint8_t)(i * 7 + (i >> 8));
  const char *methods[] = {"POST", "PUT"};
  for (size_t m = 0; m < 2; m++) {
    req = request(methods[m], "/echo");
    req.body = body;
    req.body_len = big;
    assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
    assert_int_equal(r.status, 200);
    assert_body(&r, body, big);
    assert_string_equal(header(&r, "x-wasmplug-example"), variant);
    wp_http_response_clear(&r);
    /* and an empty body */
    req.body = NULL;
    req.body_len = 0;
    assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    wp_http_response_clear(&r);
  }
  /* The caller's body limit applies to what the plugin answers. */
  req = request("POST", "/echo");
  req.body = body;
  req.body_len = 1000;
  assert_error(wp_instance_handle_http(inst, &req, 999, &r), WP_ERR_ABI,
               "response body of 1000 bytes is over the 999-byte limit");
  assert_int_equal(r.status, 0);
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_handle_http(inst, &req, 1000, &r));
  assert_int_equal(r.body_len, 1000);
  wp_http_response_clear(&r);
  free(body);

  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_hello_c) { check_hello("http-hello-c", "c-core", "C"); }
WP_TEST(test_hello_go) { check_hello("http-hello-go", "go-core", "Go"); }

/* ---- the request block, as the guest sees it --------------------------------------- */

static void put_u32(uint8_t **d, uint32_t v) {
  (*d)[0] = (uint8_t)v, (*d)[1] = (uint8_t)(v >> 8), (*d)[2] = (uint8_t)(v >> 16),
  (*d)[3] = (uint8_t)(v >> 24);
  *d += 4;
}

static void put_str(uint8_t **d, const void *s, size_t n) {
  put_u32(d, (uint32_t)n);
  memcpy(*d, s, n);
  *d += n;
}

WP_TEST(test_request_block) {
  wp_engine *e = http_engine();
  wp_plugin *p = load(e, fixture("http_echo.wat"), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_header hs[2] = {{"accept", 6, (const uint8_t *)"*/*", 3},
                          {"x-bin", 5, (const uint8_t *)"\x01\xff\x7f", 3}};
  static const uint8_t body[] = {'a', 0, 'b', 0xff};
  wp_http_request req = {.method = "PATCH",
                         .scheme = "https",
                         .authority = "example.com:8443",
                         .path_with_query = "/a/b?c=d&e",
                         .headers = hs,
                         .n_headers = 2,
                         .body = body,
                         .body_len = sizeof body};
  uint8_t want[256], *d = want;
  memcpy(d, "WPH1", 4);
  d += 4;
  put_str(&d, "PATCH", 5);
  put_str(&d, "https", 5);
  put_str(&d, "example.com:8443", 16);
  put_str(&d, "/a/b?c=d&e", 10);
  put_u32(&d, 2);
  put_str(&d, "accept", 6);
  put_str(&d, "*/*", 3);
  put_str(&d, "x-bin", 5);
  put_str(&d, "\x01\xff\x7f", 3);
  put_str(&d, body, sizeof body);
  wp_http_response r = {0};
  assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
  assert_int_equal(r.status, 200);
  assert_body(&r, want, (size_t)(d - want));
  wp_http_response_clear(&r);

  /* The internal encoder gives the same bytes. */
  wp_buf b = {0};
  assert_true(wp_core_http_encode(&req, &b));
  assert_int_equal(b.len, (size_t)(d - want));
  assert_memory_equal(b.data, want, b.len);
  wp_buf_free(&b);

  /* No scheme or authority: empty strings; no headers, no body. */
  req = (wp_http_request){.method = "GET", .path_with_query = "/"};
  d = want;
  memcpy(d, "WPH1", 4);
  d += 4;
  put_str(&d, "GET", 3);
  put_str(&d, "", 0);
  put_str(&d, "", 0);
  put_str(&d, "/", 1);
  put_u32(&d, 0);
  put_u32(&d, 0);
  assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
  assert_body(&r, want, (size_t)(d - want));
  wp_http_response_clear(&r);

  /* Requests the host refuses before the plugin runs. */
  req = request("GET", "no-slash");
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_BAD_INPUT, "starting with '/'");
  req = request("GET", "/");
  wp_http_header bad = {"x-bad", 5, (const uint8_t *)"a\r\nb", 4};
  req.headers = &bad;
  req.n_headers = 1;
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_BAD_INPUT, "request header 0");

  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- responses that are not WPR1 blocks --------------------------------------------- */

WP_TEST(test_bad_responses) {
  wp_engine *e = http_engine();
  wp_plugin *p = load(e, fixture("http_badresp.wat"), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  static const struct {
    const char *path, *fragment;
  } cases[] = {
      {"/", "it starts with 'HTTP', not 'WPR1'"},
      {"/m", "it starts with 'WPR2', not 'WPR1'"},
      {"/e", "it starts with '', not 'WPR1' (at byte 0 of 0)"},
      {"/s", "HTTP status 42 is not 100-599"},
      {"/S", "HTTP status 600 is not 100-599"},
      {"/t", "header 0's name of 12 bytes runs past the end (7 bytes left) (at byte 16 of 23)"},
      {"/c", "4294967295 headers cannot fit in the 4 bytes left"},
      {"/n", "header 0's name 'bad name' is not a token"},
      {"/v", "response header 'x-split' has CR, LF or NUL in its value"},
      {"/b", "the body of 100 bytes runs past the end (2 bytes left)"},
      {"/x", "4 bytes follow the 2-byte body"},
  };
  wp_http_response r = {0};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wp_http_request req = request("GET", cases[i].path);
    wp_error *err = wp_instance_handle_http(inst, &req, 0, &r);
    assert_non_null(err);
    /* the plugin is named in every message */
    assert_non_null(strstr(wp_error_get_message(err), "plugin 'http_badresp.wat'"));
    assert_error(err, WP_ERR_ABI, cases[i].fragment);
    assert_int_equal(r.status, 0);
    assert_null(r.headers);
    assert_null(r.body);
    /* the instance is marked failed (a pool drops it); after a reset it serves again */
    assert_true(inst->failed);
    assert_ok(wp_instance_reset(inst));
    req = request("GET", "/o");
    assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
    assert_int_equal(r.status, 201);
    assert_string_equal(header(&r, "x-fixture"), "ok"); /* lower-cased by the host */
    assert_body_str(&r, "ok");
    wp_http_response_clear(&r);
    assert_false(inst->failed);
  }
  /* A valid block whose body is over the caller's limit. */
  wp_http_request req = request("GET", "/h");
  assert_error(wp_instance_handle_http(inst, &req, 16, &r), WP_ERR_ABI,
               "response body of 64 bytes is over the 16-byte limit");
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
  assert_int_equal(r.body_len, 64);
  wp_http_response_clear(&r);

  /* A fresh instance of the same plugin works as well. */
  wp_instance *fresh;
  assert_ok(wp_instance_new(p, &fresh));
  req = request("GET", "/o");
  assert_ok(wp_instance_handle_http(fresh, &req, 0, &r));
  assert_int_equal(r.status, 201);
  wp_http_response_clear(&r);
  wp_instance_free(fresh);

  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- traps and timeouts ----------------------------------------------------------------- */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* After a failure, the engine still serves a real handler. */
static void assert_hello_works(wp_engine *e) {
  wp_plugin *p = load(e, plugin_path("http-hello-c"), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_request req = request("GET", "/");
  wp_http_response r = {0};
  assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
  assert_int_equal(r.status, 200);
  wp_http_response_clear(&r);
  wp_instance_free(inst);
  wp_plugin_free(p);
}

WP_TEST(test_trap) {
  wp_engine *e = http_engine();
  wp_plugin *p = load(e, fixture("http_trap.wat"), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_request req = request("GET", "/");
  wp_http_response r = {0};
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_TRAP,
               "plugin 'http_trap.wat': call 'handle' trapped");
  assert_true(inst->failed);
  assert_ok(wp_instance_reset(inst));
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_TRAP, "'handle' trapped");
  /* A body of any size reaches the handler (its allocator grows memory), which traps. */
  size_t big = 2 << 20;
  uint8_t *body = calloc(1, big);
  assert_non_null(body);
  req = request("POST", "/");
  req.body = body;
  req.body_len = big;
  assert_ok(wp_instance_reset(inst));
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_TRAP, "'handle' trapped");
  free(body);
  wp_instance_free(inst);
  wp_plugin_free(p);
  assert_hello_works(e);
  wp_engine_free(e);
}

static void *interrupt_later(void *inst) {
  nanosleep(&(struct timespec){0, 50 * 1000000}, NULL);
  wp_instance_interrupt(inst);
  return NULL;
}

WP_TEST(test_limits) {
  wp_engine *e = http_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 200);
  wp_plugin *p = load(e, fixture("http_loop.wat"), m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_http_request req = request("GET", "/");
  wp_http_response r = {0};
  uint64_t start = now_ms();
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_TIMEOUT,
               "call 'handle' ran past its 200 ms timeout");
  uint64_t took = now_ms() - start;
  assert_true(took >= 190 && took < 2000);
  assert_true(inst->failed);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);

  /* So does an interrupt from another thread, and the next request is not affected. */
  m = wp_manifest_new();
  p = load(e, fixture("http_loop.wat"), m);
  assert_ok(wp_instance_new(p, &inst));
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, interrupt_later, inst), 0);
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_INTERRUPTED,
               "call 'handle' was interrupted");
  pthread_join(t, NULL);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);

  /* Fuel ends it too. */
  m = wp_manifest_new();
  wp_manifest_set_fuel(m, 1000000);
  p = load(e, fixture("http_loop.wat"), m);
  assert_ok(wp_instance_new(p, &inst));
  assert_error(wp_instance_handle_http(inst, &req, 0, &r), WP_ERR_FUEL,
               "call 'handle' ran out of fuel");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  assert_hello_works(e);
  wp_engine_free(e);
}

/* ---- one instance, many requests ------------------------------------------------------- */

/* `warmup` requests, then 1000 more during which memory must not grow. */
static void check_reuse(const char *name, int warmup) {
  wp_engine *e = http_engine();
  wp_plugin *p = load(e, plugin_path(name), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  uint8_t body[4096];
  for (size_t i = 0; i < sizeof body; i++) body[i] = (uint8_t)i;
  uint64_t mem_early = 0;
  for (int i = 0; i < warmup + 1000; i++) {
    wp_http_request req = request(i % 2 ? "POST" : "GET", "/again?i=1");
    if (i % 2) {
      req.body = body;
      req.body_len = sizeof body;
    }
    wp_http_response r = {0};
    assert_ok(wp_instance_handle_http(inst, &req, 0, &r));
    assert_int_equal(r.status, 200);
    if (i % 2) assert_body(&r, body, sizeof body);
    wp_http_response_clear(&r);
    if (i == warmup) mem_early = wp_instance_get_memory_size(inst);
  }
  /* Memory stays flat once warmed up: nothing leaks per request. */
  assert_int_equal(wp_instance_get_memory_size(inst), mem_early);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_reuse_c) { check_reuse("http-hello-c", 10); }
/* Go's heap settles after its collector has run a few times (about 1500
   requests of this mix); from then on it stays flat. */
WP_TEST(test_reuse_go) { check_reuse("http-hello-go", 3000); }

/* ---- the JSON API example -------------------------------------------------------------- */

typedef struct api {
  wp_instance *inst;
  wp_http_response r;
  cJSON *json;
} api;

/* One request; the response stays in a->r, its body parsed in a->json. */
static void call_api(api *a, const char *method, const char *path, const char *body) {
  wp_http_response_clear(&a->r);
  cJSON_Delete(a->json);
  a->json = NULL;
  wp_http_header ct = {"content-type", 12, (const uint8_t *)"application/json", 16};
  wp_http_request req = request(method, path);
  if (body) {
    req.body = (const uint8_t *)body;
    req.body_len = strlen(body);
    req.headers = &ct;
    req.n_headers = 1;
  }
  assert_ok(wp_instance_handle_http(a->inst, &req, 0, &a->r));
  assert_string_equal(header(&a->r, "x-service"), "shop");
  if (a->r.body_len) {
    assert_string_equal(header(&a->r, "content-type"), "application/json");
    a->json = cJSON_ParseWithLength((const char *)a->r.body, a->r.body_len);
    assert_non_null(a->json);
  }
}

static const cJSON *field(const cJSON *obj, const char *name) {
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (!f) {
    print_error("no field '%s'\n", name);
    fail();
  }
  return f;
}

WP_TEST(test_api) {
  wp_engine *e = http_engine();
  static const char manifest[] = "{\"config\": {\"service_name\": \"shop\", \"max_items\": \"2\"}}";
  wp_manifest *m;
  assert_ok(wp_manifest_parse(manifest, sizeof manifest - 1, NULL, &m));
  wp_plugin *p = load(e, plugin_path("http-api-go"), m);
  api a = {0};
  assert_ok(wp_instance_new(p, &a.inst));
  logged[0] = '\0';

  call_api(&a, "GET", "/api/", NULL);
  assert_int_equal(a.r.status, 200);
  assert_string_equal(field(a.json, "service")->valuestring, "shop");
  assert_int_equal(field(a.json, "max_items")->valueint, 2);
  assert_non_null(strstr(logged, "GET /api/ -> 200"));

  call_api(&a, "GET", "/api/items", NULL);
  assert_int_equal(a.r.status, 200);
  assert_int_equal(field(a.json, "count")->valueint, 0);
  assert_int_equal(cJSON_GetArraySize(field(a.json, "items")), 0);

  call_api(&a, "POST", "/api/items", "{\"name\": \"pen\", \"note\": \"blue \\u00e9\"}");
  assert_int_equal(a.r.status, 201);
  assert_int_equal(field(a.json, "id")->valueint, 1);
  assert_string_equal(field(a.json, "note")->valuestring, "blue \xc3\xa9");
  assert_string_equal(header(&a.r, "location"), "/api/items/1");
  call_api(&a, "POST", "/api/items", "{\"name\": \"cup\"}");
  assert_int_equal(a.r.status, 201);
  assert_int_equal(field(a.json, "id")->valueint, 2);

  call_api(&a, "GET", "/api/items", NULL);
  assert_int_equal(field(a.json, "count")->valueint, 2);
  const cJSON *first = cJSON_GetArrayItem(field(a.json, "items"), 0);
  assert_string_equal(field(first, "name")->valuestring, "pen");

  call_api(&a, "GET", "/api/items/2", NULL);
  assert_int_equal(a.r.status, 200);
  assert_string_equal(field(a.json, "name")->valuestring, "cup");

  /* Bad input: 400 with a JSON error, and nothing stored. */
  const char *bad[] = {"{\"name\": ",        "[1, 2]",
                       "{\"name\": 3}",      "{\"nam\": \"x\"}",
                       "{\"name\": \"  \"}", "{\"name\": \"a\"} {}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    call_api(&a, "POST", "/api/items", bad[i]);
    assert_int_equal(a.r.status, 400);
    assert_true(cJSON_IsString(field(a.json, "error")));
  }
  /* The store is full at max_items = 2. */
  call_api(&a, "POST", "/api/items", "{\"name\": \"third\"}");
  assert_int_equal(a.r.status, 409);

  call_api(&a, "GET", "/api/items/99", NULL);
  assert_int_equal(a.r.status, 404);
  assert_non_null(strstr(field(a.json, "error")->valuestring, "99"));
  call_api(&a, "GET", "/api/items/abc", NULL);
  assert_int_equal(a.r.status, 404);
  call_api(&a, "GET", "/nowhere", NULL);
  assert_int_equal(a.r.status, 404);

  call_api(&a, "PATCH", "/api/items", NULL);
  assert_int_equal(a.r.status, 405);
  assert_string_equal(header(&a.r, "allow"), "GET, POST");

  call_api(&a, "DELETE", "/api/items/1", NULL);
  assert_int_equal(a.r.status, 204);
  call_api(&a, "GET", "/api/items/1", NULL);
  assert_int_equal(a.r.status, 404);
  assert_non_null(strstr(logged, "DELETE /api/items/1 -> 204"));
  assert_non_null(strstr(logged, "POST /api/items -> 400"));

  /* State lives in the instance: a reset starts it over. */
  assert_ok(wp_instance_reset(a.inst));
  call_api(&a, "GET", "/api/items", NULL);
  assert_int_equal(field(a.json, "count")->valueint, 0);

  cJSON_Delete(a.json);
  wp_http_response_clear(&a.r);
  wp_instance_free(a.inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

/* ---- the decoder alone ------------------------------------------------------------------ */

/* A stub instance: the decoder reads only its plugin's name. */
static wp_plugin stub_plugin = {.name = "stub.wasm"};
static wp_instance stub = {.plugin = &stub_plugin};

WP_TEST(test_decoder) {
  uint8_t block[128], *d = block;
  memcpy(d, "WPR1", 4);
  d += 4;
  put_u32(&d, 404);
  put_u32(&d, 2);
  put_str(&d, "Content-Type", 12);
  put_str(&d, "text/plain", 10);
  put_str(&d, "x-empty", 7);
  put_str(&d, "", 0);
  put_str(&d, "gone\0\xff", 6);
  size_t len = (size_t)(d - block);

  wp_http_response r;
  assert_ok(wp_core_http_decode(&stub, block, len, 0, &r));
  assert_int_equal(r.status, 404);
  assert_int_equal(r.n_headers, 2);
  assert_string_equal(r.headers[0].name, "content-type");
  assert_string_equal((const char *)r.headers[0].value, "text/plain");
  assert_int_equal(r.headers[1].value_len, 0);
  assert_body(&r, "gone\0\xff", 6);
  wp_http_response_clear(&r);

  /* Cut anywhere before the end: an error naming the plugin, nothing left to free. */
  for (size_t cut = 0; cut < len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1); /* exactly `cut` bytes, for ASan */
    assert_non_null(copy);
    memcpy(copy, block, cut);
    wp_error *err = wp_core_http_decode(&stub, copy, cut, 0, &r);
    assert_non_null(err);
    assert_int_equal(wp_error_get_kind(err), WP_ERR_ABI);
    assert_non_null(strstr(wp_error_get_message(err), "plugin 'stub.wasm'"));
    wp_error_free(err);
    wp_http_response_clear(&r);
    free(copy);
  }
  /* One byte too many. */
  block[len] = 'x';
  assert_error(wp_core_http_decode(&stub, block, len + 1, 0, &r), WP_ERR_ABI,
               "1 bytes follow the 6-byte body");
  wp_http_response_clear(&r);
  /* Lengths that would wrap a 32-bit sum are refused as running past the end. */
  d = block + 12;
  put_u32(&d, 0xfffffff0);
  assert_error(wp_core_http_decode(&stub, block, len, 0, &r), WP_ERR_ABI,
               "header 0's name of 4294967280 bytes runs past the end");
  wp_http_response_clear(&r);
  /* A name that is not a token is quoted printable (no raw control bytes in messages). */
  d = block + 8;
  put_u32(&d, 1);
  put_str(&d, "x\ny", 3);
  put_str(&d, "", 0);
  put_str(&d, "", 0);
  assert_error(wp_core_http_decode(&stub, block, (size_t)(d - block), 0, &r), WP_ERR_ABI,
               "header 0's name 'x\\x0ay' is not a token");
  wp_http_response_clear(&r);
  /* The body limit. */
  static const uint8_t small[] = "WPR1\xc8\0\0\0\0\0\0\0\3\0\0\0abc";
  assert_ok(wp_core_http_decode(&stub, small, sizeof small - 1, 3, &r));
  wp_http_response_clear(&r);
  assert_error(wp_core_http_decode(&stub, small, sizeof small - 1, 2, &r), WP_ERR_ABI,
               "over the 2-byte limit");
  wp_http_response_clear(&r);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kind),          cmocka_unit_test(test_hello_c),
      cmocka_unit_test(test_hello_go),      cmocka_unit_test(test_request_block),
      cmocka_unit_test(test_bad_responses), cmocka_unit_test(test_trap),
      cmocka_unit_test(test_limits),        cmocka_unit_test(test_reuse_c),
      cmocka_unit_test(test_reuse_go),      cmocka_unit_test(test_api),
      cmocka_unit_test(test_decoder),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
