/*
 * test_examples.c - the example plugins, built from source in C, Go and
 * AssemblyScript, called through the API: greet, logging, config, and a host
 * callback.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "helpers.h"

static char logged[512];
static wp_log_level logged_level;

static void on_log(void *ud, wp_log_level level, const char *plugin, const char *msg, size_t len) {
  (void)ud;
  logged_level = level;
  snprintf(logged, sizeof logged, "%s: %.*s", plugin, (int)len, msg);
}

static wp_error *call_me(wp_host_call *c, const uint8_t *in, size_t len, void *ud) {
  (void)ud;
  char buf[128];
  int n = snprintf(buf, sizeof buf, "Hello %.*s", (int)len, (const char *)in);
  return wp_host_call_set_output(c, buf, (size_t)n);
}

static const char *plugin_path(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s.wasm", WP_PLUGINS, name);
  return buf;
}

static wp_engine *example_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  test_isolation(cfg); /* WASMPLUG_TEST_ISOLATION=process: the _process run */
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 8);
  wp_engine_config_set_log(cfg, on_log, NULL);
  wp_engine *e;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  assert_ok(wp_engine_define_string(e, "plugin", "call_me", call_me, NULL, NULL));
  return e;
}

static void check_hello(const char *name) {
  wp_engine *e = example_engine();
  wp_manifest *m = wp_manifest_new();
  wp_plugin *plain, *custom;
  wp_instance *a, *b;
  assert_ok(wp_plugin_load(e, plugin_path(name), NULL, &plain));
  assert_ok(wp_manifest_set_config(m, "greeting", "Howdy"));
  assert_ok(wp_plugin_load(e, plugin_path(name), m, &custom));
  assert_ok(wp_instance_new(plain, &a));
  assert_ok(wp_instance_new(custom, &b));
  const char *out;
  logged[0] = '\0';
  assert_ok(wp_instance_call_string(a, "greet", "world", &out));
  assert_string_equal(out, "Hello, world!");
  char want[128];
  snprintf(want, sizeof want, "%s.wasm: greeting world", name);
  assert_string_equal(logged, want);
  assert_int_equal(logged_level, WP_LOG_INFO);
  /* many calls on one instance: no state leaks between them */
  for (int i = 0; i < 1000; i++) assert_ok(wp_instance_call_string(a, "greet", "again", &out));
  assert_string_equal(out, "Hello, again!");
  assert_ok(wp_instance_call_string(b, "greet", "world", &out));
  assert_string_equal(out, "Howdy, world!");
  assert_ok(wp_instance_call_string(a, "greet", "", &out));
  assert_string_equal(out, "Hello, !");
  wp_instance_free(a);
  wp_instance_free(b);
  wp_plugin_free(plain);
  wp_plugin_free(custom);
  wp_manifest_free(m);
  wp_engine_free(e);
}

static void check_callback(const char *name) {
  wp_engine *e = example_engine();
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, plugin_path(name), NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  const char *out;
  assert_ok(wp_instance_call_string(inst, "callback", "Nic", &out));
  assert_string_equal(out, "Hello Nic");
  assert_ok(wp_instance_call_string(inst, "callback", "", &out));
  assert_string_equal(out, "Hello Nic"); /* the default name */
  assert_ok(wp_instance_call_string(inst, "callback", "Ada", &out));
  assert_string_equal(out, "Hello Ada");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_hello_c) { check_hello("hello-c"); }
WP_TEST(test_hello_go) { check_hello("hello-go"); }
WP_TEST(test_callback_c) { check_callback("callback-c"); }
WP_TEST(test_callback_go) { check_callback("callback-go"); }

/* The AssemblyScript examples are built with the guest tools (asc comes with
   them): WP_AS_PLUGINS is defined when the build has them. */
#ifdef WP_AS_PLUGINS
WP_TEST(test_hello_as) { check_hello("hello-as"); }
WP_TEST(test_callback_as) { check_callback("callback-as"); }
#else
static void skip_as(void) {
  print_message("SKIP: the AssemblyScript examples were not built (WASMPLUG_COMPONENTS=OFF)\n");
  skip();
}
WP_TEST(test_hello_as) { skip_as(); }
WP_TEST(test_callback_as) { skip_as(); }
#endif

/* The C hello plugin needs no WASI; the Go one does (its runtime). The
   AssemblyScript one needs none either, and exports the same functions as
   the C one. */
WP_TEST(test_example_imports) {
  wp_engine *e = example_engine();
  wp_plugin *c, *go;
  assert_ok(wp_plugin_load(e, plugin_path("hello-c"), NULL, &c));
  assert_ok(wp_plugin_load(e, plugin_path("hello-go"), NULL, &go));
  bool c_wasi = false, go_wasi = false;
  for (size_t i = 0; i < wp_plugin_import_count(c); i++)
    c_wasi |= strcmp(wp_plugin_get_import(c, i)->module, "wasi_snapshot_preview1") == 0;
  for (size_t i = 0; i < wp_plugin_import_count(go); i++)
    go_wasi |= strcmp(wp_plugin_get_import(go, i)->module, "wasi_snapshot_preview1") == 0;
  assert_false(c_wasi);
  assert_true(go_wasi);
#ifdef WP_AS_PLUGINS
  wp_plugin *as;
  assert_ok(wp_plugin_load(e, plugin_path("hello-as"), NULL, &as));
  for (size_t i = 0; i < wp_plugin_import_count(as); i++) {
    const char *module = wp_plugin_get_import(as, i)->module;
    assert_string_equal(module, "wasmplug"); /* no WASI, no env.abort */
  }
  const char *same[] = {"greet", "cabi_post_greet", "cabi_realloc", "_initialize"};
  wp_func_id id;
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
    assert_ok(wp_plugin_find_func(c, same[i], &id));
    assert_ok(wp_plugin_find_func(as, same[i], &id));
  }
  assert_ok(wp_plugin_find_func(as, "greet", &id));
  assert_true(wp_plugin_is_bytes_func(as, id));
  wp_plugin_free(as);
#endif
  wp_plugin_free(c);
  wp_plugin_free(go);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello_c),         cmocka_unit_test(test_hello_go),
      cmocka_unit_test(test_callback_c),      cmocka_unit_test(test_callback_go),
      cmocka_unit_test(test_hello_as),        cmocka_unit_test(test_callback_as),
      cmocka_unit_test(test_example_imports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
