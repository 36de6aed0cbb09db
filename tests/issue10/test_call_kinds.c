/*
 * test_call_kinds.c - one call API across plugin kinds (issue 10):
 * wp_instance_call_bytes / _call_func_bytes / _call_string on component
 * exports typed func(list<u8> or string) -> list<u8> or string, the same
 * host code against core modules and components, and the errors for
 * exports that cannot be called that way.
 */
#include "helpers.h"

#ifndef WP_CALLKINDS_FIXTURES
#error "WP_CALLKINDS_FIXTURES must name tests/issue10/fixtures"
#endif

static const char *bytes_wat(void) { return WP_CALLKINDS_FIXTURES "/bytes.wat"; }

typedef struct env {
  wp_engine *engine;
  wp_plugin *plugin;
  wp_instance *inst;
} env;

static env *env_open(const char *path) {
  env *t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->engine = test_engine();
  assert_ok(wp_plugin_load(t->engine, path, NULL, &t->plugin));
  assert_ok(wp_instance_new(t->plugin, &t->inst));
  return t;
}

static void env_close(env *t) {
  wp_instance_free(t->inst);
  wp_plugin_free(t->plugin);
  wp_engine_free(t->engine);
  free(t);
}

/* A 64 KiB input holding every byte value, NUL and invalid UTF-8 included. */
static uint8_t *pattern(size_t len) {
  uint8_t *b = malloc(len);
  assert_non_null(b);
  for (size_t i = 0; i < len; i++) b[i] = (uint8_t)(i * 7 + i / 256);
  return b;
}

WP_TEST(test_bytes_list) {
  env *t = env_open(bytes_wat());
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(t->inst, "reverse", "hello", 5, &out, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(out, "olleh", 5);
  assert_int_equal(out[len], 0); /* NUL after the output, as on the core path */

  assert_ok(wp_instance_call_bytes(t->inst, "reverse", "", 0, &out, &len));
  assert_int_equal(len, 0);
  assert_non_null(out);
  assert_int_equal(out[0], 0);
  assert_ok(wp_instance_call_bytes(t->inst, "reverse", NULL, 0, &out, &len));
  assert_int_equal(len, 0);

  size_t n = 64 * 1024;
  uint8_t *in = pattern(n);
  for (int round = 0; round < 3; round++) { /* memory is reused across calls */
    assert_ok(wp_instance_call_bytes(t->inst, "reverse", in, n, &out, &len));
    assert_int_equal(len, n);
    for (size_t i = 0; i < n; i++)
      if (out[i] != in[n - 1 - i]) fail_msg("byte %zu differs", i);
    assert_int_equal(out[n], 0);
  }
  /* By handle, the fast path. */
  wp_func_id id;
  assert_ok(wp_plugin_find_func(t->plugin, "reverse", &id));
  assert_ok(wp_instance_call_func_bytes(t->inst, id, "\0\xff\x01", 3, &out, &len));
  assert_int_equal(len, 3);
  assert_memory_equal(out, "\x01\xff\0", 3);
  free(in);
  env_close(t);
}

WP_TEST(test_strings) {
  env *t = env_open(bytes_wat());
  const char *s;
  assert_ok(wp_instance_call_string(t->inst, "upper", "héllo, world", &s));
  assert_string_equal(s, "HéLLO, WORLD");
  assert_ok(wp_instance_call_string(t->inst, "upper", "", &s));
  assert_string_equal(s, "");
  /* A function inside an exported interface, by its qualified name. */
  assert_ok(wp_instance_call_string(t->inst, "example:bytes/api#greet", "api", &s));
  assert_string_equal(s, "API");
  /* The mixed shapes. */
  assert_ok(wp_instance_call_string(t->inst, "to-bytes", "ünï", &s));
  assert_string_equal(s, "ünï");
  assert_ok(wp_instance_call_string(t->inst, "to-text", "abc", &s));
  assert_string_equal(s, "abc");
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(t->inst, "to-text", "x\0y", 3, &out, &len));
  assert_int_equal(len, 3);
  /* A string result with a NUL is fine as bytes, not as a C string. */
  assert_ok(wp_instance_call_bytes(t->inst, "with-nul", "", 0, &out, &len));
  assert_int_equal(len, 3);
  assert_memory_equal(out, "a\0b", 3);
  env_close(t);
}

/* UTF-8 on both sides: a string parameter refuses bad input before the
   call; string output must be UTF-8 without NUL bytes. */
WP_TEST(test_utf8_checks) {
  env *t = env_open(bytes_wat());
  const char *s;
  const uint8_t *out;
  size_t len;
  assert_error(wp_instance_call_bytes(t->inst, "upper", "\xff\xfe", 2, &out, &len),
               WP_ERR_BAD_INPUT, "not valid UTF-8, and its parameter is a string");
  assert_error(wp_instance_call_string(t->inst, "upper", "\xc3", &s), WP_ERR_BAD_INPUT,
               "not valid UTF-8");
  /* list<u8> output that is not UTF-8: "é" reversed. */
  assert_error(wp_instance_call_string(t->inst, "reverse", "é", &s), WP_ERR_ABI,
               "not a UTF-8 string without NUL bytes (call it with wp_instance_call_bytes)");
  assert_ok(wp_instance_reset(t->inst));
  assert_error(wp_instance_call_string(t->inst, "with-nul", "x", &s), WP_ERR_ABI,
               "'with-nul' returned 3 bytes");
  assert_ok(wp_instance_reset(t->inst));
  /* A string the component lifts from invalid UTF-8: Wasmtime refuses it. */
  wp_error *err = wp_instance_call_bytes(t->inst, "bad-utf8", "x", 1, &out, &len);
  assert_non_null(err);
  assert_non_null(strstr(wp_error_get_message(err), "bad-utf8"));
  wp_error_free(err);
  assert_ok(wp_instance_reset(t->inst));
  assert_ok(wp_instance_call_string(t->inst, "upper", "ok", &s));
  assert_string_equal(s, "OK");
  env_close(t);
}

/* Exports that are not bytes functions: the error names the WIT type and
   the call to use. */
WP_TEST(test_wrong_type) {
  env *t = env_open(bytes_wat());
  const uint8_t *out;
  size_t len;
  const char *s;
  assert_error(wp_instance_call_bytes(t->inst, "add", "x", 1, &out, &len), WP_ERR_BAD_INPUT,
               "'add' is not a bytes or string function: its type is func(a: u32, b: u32) -> u32");
  assert_error(wp_instance_call_string(t->inst, "add", "x", &s), WP_ERR_BAD_INPUT,
               "call it with wp_instance_invoke");
  assert_error(wp_instance_call_bytes(t->inst, "add", "x", 1, &out, &len), WP_ERR_BAD_INPUT,
               "wasmplug call PLUGIN add ARG");
  assert_error(wp_instance_call_bytes(t->inst, "nope", "x", 1, &out, &len), WP_ERR_NOT_FOUND,
               "nope");
  wp_func_id id;
  assert_ok(wp_plugin_find_func(t->plugin, "add", &id));
  assert_false(wp_plugin_is_bytes_func(t->plugin, id));
  assert_false(wp_plugin_is_bytes_func(t->plugin, 9999));
  static const char *const bytes_funcs[] = {"reverse",  "upper",   "echo",
                                            "to-bytes", "to-text", "example:bytes/api#greet"};
  for (size_t i = 0; i < sizeof bytes_funcs / sizeof *bytes_funcs; i++) {
    assert_ok(wp_plugin_find_func(t->plugin, bytes_funcs[i], &id));
    assert_true(wp_plugin_is_bytes_func(t->plugin, id));
  }
  /* The numeric call on a component export, even one already resolved by a
     call above: an error, not a look-up in the wrong kind's data. */
  wp_val args[2] = {{.kind = WP_I32, .of.i32 = 1}, {.kind = WP_I32, .of.i32 = 2}}, res[1];
  assert_error(wp_instance_call(t->inst, "add", args, 2, res, 1), WP_ERR_BAD_INPUT,
               "call it with wp_instance_invoke");
  assert_ok(wp_instance_call_bytes(t->inst, "reverse", "ab", 2, &out, &len));
  assert_error(wp_instance_call(t->inst, "reverse", args, 2, res, 1), WP_ERR_BAD_INPUT,
               "'reverse' is a component function (func(data: list<u8>) -> list<u8>)");
  int code = -1;
  assert_error(wp_instance_run(t->inst, &code), WP_ERR_NOT_FOUND, "_start");
  /* The instance is still fine: nothing was called. */
  assert_ok(wp_instance_call_bytes(t->inst, "reverse", "ab", 2, &out, &len));
  assert_memory_equal(out, "ba", 2);
  env_close(t);
}

WP_TEST(test_trap_then_reset) {
  env *t = env_open(bytes_wat());
  const uint8_t *out;
  size_t len;
  assert_error(wp_instance_call_bytes(t->inst, "boom", "x", 1, &out, &len), WP_ERR_TRAP, "boom");
  assert_ok(wp_instance_reset(t->inst));
  assert_ok(wp_instance_call_bytes(t->inst, "reverse", "xy", 2, &out, &len));
  assert_memory_equal(out, "yx", 2);
  env_close(t);
}

/* The limits hold inside the typed call: a timeout and fuel stop it. */
WP_TEST(test_limits) {
  wp_engine *engine = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 50);
  wp_plugin *p = NULL;
  wp_instance *inst = NULL;
  assert_ok(wp_plugin_load(engine, bytes_wat(), m, &p));
  assert_ok(wp_instance_new(p, &inst));
  const uint8_t *out;
  size_t len;
  assert_error(wp_instance_call_bytes(inst, "spin", "x", 1, &out, &len), WP_ERR_TIMEOUT, "spin");
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_call_bytes(inst, "reverse", "ab", 2, &out, &len));
  assert_memory_equal(out, "ba", 2);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(engine);
}

/* The same host code for every kind and language: find the export, ask
   whether it takes bytes, call it with a string. */
static void greet_with(wp_engine *engine, const char *path, const char *name, const char *want) {
  wp_plugin *p = NULL;
  wp_instance *inst = NULL;
  assert_ok(wp_plugin_load(engine, path, NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_func_id id;
  assert_ok(wp_plugin_find_func(p, name, &id));
  if (!wp_plugin_is_bytes_func(p, id)) fail_msg("%s: '%s' is not a bytes function", path, name);
  const char *out;
  assert_ok(wp_instance_call_string(inst, name, "world", &out));
  if (strcmp(out, want) != 0) fail_msg("%s: got '%s', want '%s'", path, out, want);
  const uint8_t *bytes;
  size_t len;
  assert_ok(wp_instance_call_func_bytes(inst, id, "Ada", 3, &bytes, &len));
  assert_true(len >= 3 && strstr((const char *)bytes, "Ada"));
  wp_instance_free(inst);
  wp_plugin_free(p);
}

WP_TEST(test_one_api_across_kinds) {
  wp_engine *engine = test_engine();
  greet_with(engine, fixture("echo.wat"), "echo", "world");
  greet_with(engine, bytes_wat(), "to-text", "world");
  greet_with(engine, WP_PLUGINS "/hello-c.wasm", "greet", "Hello, world!");
  greet_with(engine, WP_PLUGINS "/hello-go.wasm", "greet", "Hello, world!");
  greet_with(engine, WP_PLUGINS "/hello-c-component.wasm", "greet", "Hello, world!");
  greet_with(engine, WP_PLUGINS "/hello-c-component.wasm", "example:hello/greeter#greet",
             "Hello, world!");
  greet_with(engine, WP_PLUGINS "/hello-py-component.wasm", "greet", "Hello, world!");
  greet_with(engine, WP_PLUGINS "/hello-js-component.wasm", "greet", "Hello, world!");
  wp_engine_free(engine);
}

/* Through a pool: released instances keep serving bytes calls, and the
   output of one take is not disturbed by another instance's call. */
WP_TEST(test_pool) {
  wp_engine *engine = test_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(engine, bytes_wat(), NULL, &p));
  wp_pool *pool = NULL;
  assert_ok(wp_pool_new(p, 0, 4, &pool));
  for (int i = 0; i < 20; i++) {
    wp_instance *a = NULL, *b = NULL;
    assert_ok(wp_pool_take(pool, &a));
    assert_ok(wp_pool_take(pool, &b));
    const uint8_t *oa, *ob;
    size_t la, lb;
    assert_ok(wp_instance_call_bytes(a, "reverse", "abc", 3, &oa, &la));
    assert_ok(wp_instance_call_bytes(b, "reverse", "12345", 5, &ob, &lb));
    assert_int_equal(la, 3);
    assert_memory_equal(oa, "cba", 3);
    assert_memory_equal(ob, "54321", 5);
    if (i % 5 == 0) /* a failed call: the pool resets the instance */
      assert_error(wp_instance_call_bytes(a, "boom", "x", 1, &oa, &la), WP_ERR_TRAP, "boom");
    wp_pool_release(pool, a);
    wp_pool_release(pool, b);
  }
  wp_pool_free(pool);
  wp_plugin_free(p);
  wp_engine_free(engine);
}

/* A long loop: the guest's memory does not grow per call. */
WP_TEST(test_many_calls) {
  env *t = env_open(bytes_wat());
  size_t n = 64 * 1024;
  uint8_t *in = pattern(n);
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(t->inst, "reverse", in, n, &out, &len));
  uint64_t size = wp_instance_get_memory_size(t->inst);
  for (int i = 0; i < 500; i++)
    assert_ok(wp_instance_call_bytes(t->inst, "reverse", in, n, &out, &len));
  assert_int_equal(wp_instance_get_memory_size(t->inst), size);
  free(in);
  env_close(t);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bytes_list),           cmocka_unit_test(test_strings),
      cmocka_unit_test(test_utf8_checks),          cmocka_unit_test(test_wrong_type),
      cmocka_unit_test(test_trap_then_reset),      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_one_api_across_kinds), cmocka_unit_test(test_pool),
      cmocka_unit_test(test_many_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
