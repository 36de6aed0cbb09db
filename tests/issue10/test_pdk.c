/*
 * test_pdk.c - the guest PDKs (issue 10): a C plugin exports a name that is
 * not a C identifier ("count-words", with WP_EXPORT_BYTES_AS) next to a plain
 * one, and the host finds and calls both, including "cabi_post_count-words";
 * a Go plugin needs one //go:wasmexport per export; the AssemblyScript PDK
 * (pdk/assemblyscript) through a plugin that uses every part of it
 * (issue10/pdk/as/pdk_test.ts).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "helpers.h"

static const char *plugin_path(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s.wasm", WP_PLUGINS, name);
  return buf;
}

static uint32_t pending_output(wp_instance *inst) {
  wp_val res;
  assert_ok(wp_instance_call(inst, "pending_output", NULL, 0, &res, 1));
  return (uint32_t)res.of.i32;
}

/* Calls `name` with `in` and checks the output is `want`. */
static void expect_call(wp_instance *inst, const char *name, const char *in, const char *want) {
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, name, in, strlen(in), &out, &len));
  assert_int_equal(len, strlen(want));
  assert_memory_equal(out, want, len);
}

WP_TEST(test_export_name_with_dash) {
  wp_engine *e = test_engine();
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, plugin_path("pdk-count-words"), NULL, &p));
  wp_func_id id;
  assert_ok(wp_plugin_find_func(p, "count-words", &id));
  assert_true(wp_plugin_is_bytes_func(p, id));
  assert_ok(wp_plugin_find_func(p, "cabi_post_count-words", &id));
  assert_false(wp_plugin_is_bytes_func(p, id));
  assert_ok(wp_plugin_find_func(p, "count_bytes", &id));
  assert_true(wp_plugin_is_bytes_func(p, id));
  assert_ok(wp_plugin_find_func(p, "cabi_post_count_bytes", &id));
  /* The C name of the handler is not exported. */
  assert_error(wp_plugin_find_func(p, "count_words", &id), WP_ERR_NOT_FOUND, "count_words");

  assert_ok(wp_instance_new(p, &inst));
  expect_call(inst, "count-words", "the quick  brown\tfox\n", "4");
  /* The host ran cabi_post_count-words: the plugin freed its output. */
  assert_int_equal(pending_output(inst), 0);
  expect_call(inst, "count-words", "", "0");
  expect_call(inst, "count-words", "  one  ", "1");
  expect_call(inst, "count_bytes", "four", "4");
  char big[5000];
  for (size_t i = 0; i < sizeof big - 1; i++) big[i] = i % 2 ? ' ' : 'w';
  big[sizeof big - 1] = '\0';
  for (int i = 0; i < 1000; i++) expect_call(inst, "count-words", big, "2500");
  assert_int_equal(pending_output(inst), 0);

  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* The Go hello example has one //go:wasmexport (greet, a string handler)
   and no cabi_post_greet: each output stays alive until the next call. */
WP_TEST(test_go_one_export_per_function) {
  wp_engine *e = test_engine();
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, plugin_path("hello-go"), NULL, &p));
  wp_func_id id;
  assert_ok(wp_plugin_find_func(p, "greet", &id));
  assert_true(wp_plugin_is_bytes_func(p, id));
  assert_error(wp_plugin_find_func(p, "cabi_post_greet", &id), WP_ERR_NOT_FOUND, "cabi_post_greet");
  assert_ok(wp_instance_new(p, &inst));
  size_t n = 1 << 20;
  char *name = malloc(n + 1), *want = malloc(n + 16);
  assert_non_null(name);
  assert_non_null(want);
  for (int round = 0; round < 20; round++) {
    memset(name, 'a' + round, n);
    name[n] = '\0';
    snprintf(want, n + 16, "Hello, %s!", name);
    const uint8_t *out;
    size_t len;
    assert_ok(wp_instance_call_bytes(inst, "greet", name, n, &out, &len));
    assert_int_equal(len, n + 8);
    assert_memory_equal(out, want, len);
  }
  expect_call(inst, "greet", "", "Hello, !");
  free(name);
  free(want);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- the AssemblyScript PDK ------------------------------------------------------ */

#define AS_LOG_MAX 16
static struct {
  wp_log_level level;
  char msg[256];
} as_log[AS_LOG_MAX];
static int as_logged;

static void as_on_log(void *ud, wp_log_level level, const char *plugin, const char *msg,
                      size_t len) {
  (void)ud;
  (void)plugin;
  if (as_logged >= AS_LOG_MAX) return;
  as_log[as_logged].level = level;
  snprintf(as_log[as_logged].msg, sizeof as_log[as_logged].msg, "%.*s", (int)len, msg);
  as_logged++;
}

static wp_error *as_call_me(wp_host_call *c, const uint8_t *in, size_t len, void *ud) {
  (void)ud;
  char buf[128];
  int n = snprintf(buf, sizeof buf, "Hello %.*s", (int)len, (const char *)in);
  return wp_host_call_set_output(c, buf, (size_t)n);
}

static bool have_as(void) {
#ifdef WP_AS_PLUGINS
  return true;
#else
  print_message("SKIP: the AssemblyScript test plugin was not built (WASMPLUG_COMPONENTS=OFF)\n");
  return false;
#endif
}

/* An instance of pdk-test-as with the log callback, plugin.call_me and, when
   `key` is given, that config key set to `value`. */
static wp_instance *as_instance(wp_engine **engine, wp_plugin **plugin, const char *key,
                                const char *value) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 4);
  wp_engine_config_set_log(cfg, as_on_log, NULL);
  test_isolation(cfg);
  assert_ok(wp_engine_new(cfg, engine));
  wp_engine_config_free(cfg);
  assert_ok(wp_engine_define_string(*engine, "plugin", "call_me", as_call_me, NULL, NULL));
  wp_manifest *m = NULL;
  if (key) {
    m = wp_manifest_new();
    assert_ok(wp_manifest_set_config(m, key, value));
  }
  assert_ok(wp_plugin_load(*engine, plugin_path("pdk-test-as"), m, plugin));
  wp_manifest_free(m);
  wp_instance *inst;
  assert_ok(wp_instance_new(*plugin, &inst));
  as_logged = 0;
  return inst;
}

static void as_free(wp_engine *e, wp_plugin *p, wp_instance *inst) {
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* Bytes in and out: binary data, empty and large inputs, a numeric export,
   and outputs freed with cabi_post_<name> or at the next call. */
WP_TEST(test_as_bytes) {
  if (!have_as()) skip();
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst = as_instance(&e, &p, NULL, NULL);
  wp_func_id id;
  assert_ok(wp_plugin_find_func(p, "echo", &id));
  assert_true(wp_plugin_is_bytes_func(p, id));
  assert_ok(wp_plugin_find_func(p, "cabi_post_echo", &id));
  assert_error(wp_plugin_find_func(p, "cabi_post_echo_nopost", &id), WP_ERR_NOT_FOUND,
               "echo_nopost");

  const uint8_t bin[] = {0, 1, 2, 0xff, 0xfe, 0, '\n', 0x80};
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, "echo", bin, sizeof bin, &out, &len));
  assert_int_equal(len, sizeof bin);
  assert_memory_equal(out, bin, len);
  assert_ok(wp_instance_call_bytes(inst, "echo", "", 0, &out, &len));
  assert_int_equal(len, 0);

  wp_val args[2] = {{.kind = WP_I32, .of.i32 = 40}, {.kind = WP_I32, .of.i32 = 2}}, res;
  assert_ok(wp_instance_call(inst, "add", args, 2, &res, 1));
  assert_int_equal(res.of.i32, 42);

  /* 1000 calls of 256 KiB each way, with and without a cabi_post: a leak of
     the inputs or outputs would grow memory by hundreds of MiB. */
  size_t n = 256 * 1024;
  uint8_t *big = malloc(n);
  assert_non_null(big);
  const char *names[] = {"echo", "echo_nopost"};
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < 500; i++) {
      for (size_t j = 0; j < n; j += 4096) big[j] = (uint8_t)(i + j / 4096 + k);
      assert_ok(wp_instance_call_bytes(inst, names[k], big, n, &out, &len));
      assert_int_equal(len, n);
      assert_memory_equal(out, big, n);
    }
  }
  free(big);
  assert_true(wp_instance_get_memory_size(inst) < 8u << 20); /* about 1.5 MiB */
  as_free(e, p, inst);
}

/* Strings: UTF-8 decoded and encoded by the PDK, ß upper-cased to SS. */
WP_TEST(test_as_strings) {
  if (!have_as()) skip();
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst = as_instance(&e, &p, NULL, NULL);
  const char *out;
  assert_ok(wp_instance_call_string(inst, "shout",
                                    "gr\xc3\xbc\xc3\x9f"
                                    "e \xe2\x9c\x93",
                                    &out));
  assert_string_equal(out, "GR\xc3\x9cSSE \xe2\x9c\x93/8");
  assert_ok(wp_instance_call_string(inst, "shout", "", &out));
  assert_string_equal(out, "/0");
  assert_ok(
      wp_instance_call_string(inst, "shout", "\xf0\x9f\x98\x80x", &out)); /* a surrogate pair */
  assert_string_equal(out, "\xf0\x9f\x98\x80X/3");
  as_free(e, p, inst);
}

/* fail() is WP_ERR_PLUGIN with the last message; a throw traps (WP_ERR_TRAP)
   and the PDK's abort handler logs why; config values, set and not. */
WP_TEST(test_as_errors_and_config) {
  if (!have_as()) skip();
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst = as_instance(&e, &p, "greeting",
                                  "Gr\xc3\xbc\xc3\x9f"
                                  "e");
  const char *out;
  wp_error *err = wp_instance_call_string(inst, "fail_with", "bad input", &out);
  assert_error(err, WP_ERR_PLUGIN, "bad input");
  /* the instance still works after a failed call */
  assert_ok(wp_instance_call_string(inst, "config", "greeting", &out));
  assert_string_equal(out, "Gr\xc3\xbc\xc3\x9f"
                           "e");
  assert_error(wp_instance_call_string(inst, "config", "nope", &out), WP_ERR_PLUGIN,
               "nope is not set");
  err = wp_instance_call_string(inst, "fail_with", "x", &out);
  assert_non_null(err);
  assert_null(strstr(wp_error_get_message(err), "first message"));
  wp_error_free(err);

  as_logged = 0;
  assert_error(wp_instance_call_string(inst, "abort_with", "boom", &out), WP_ERR_TRAP,
               "abort_with");
  assert_int_equal(as_logged, 1);
  assert_int_equal(as_log[0].level, WP_LOG_ERROR);
  assert_non_null(strstr(as_log[0].msg, "abort: boom ("));
  assert_non_null(strstr(as_log[0].msg, "tests/issue10/pdk/as/pdk_test.ts:"));
  /* after a trap the instance is reset: it works again */
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_call_string(inst, "shout", "ok", &out));
  assert_string_equal(out, "OK/2");
  as_free(e, p, inst);
}

/* Logging at every level (text and bytes) and host function calls, with
   bytes and with strings, empty input included. */
WP_TEST(test_as_log_and_host_calls) {
  if (!have_as()) skip();
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst = as_instance(&e, &p, NULL, NULL);
  const char *out;
  assert_ok(wp_instance_call_string(inst, "log_all", "x\xc3\xa9", &out));
  assert_string_equal(out, "logged");
  assert_int_equal(as_logged, 5);
  const char *want[] = {"trace x\xc3\xa9", "debug x\xc3\xa9", "info x\xc3\xa9", "warn x\xc3\xa9",
                        "x\xc3\xa9"};
  wp_log_level levels[] = {WP_LOG_TRACE, WP_LOG_DEBUG, WP_LOG_INFO, WP_LOG_WARN, WP_LOG_ERROR};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(as_log[i].level, levels[i]);
    assert_string_equal(as_log[i].msg, want[i]);
  }
  assert_ok(wp_instance_call_string(inst, "call_twice", "Ada", &out));
  assert_string_equal(out, "Hello Ada|Hello Ada");
  assert_ok(wp_instance_call_string(inst, "call_twice", "", &out));
  assert_string_equal(out, "Hello |Hello ");
  for (int i = 0; i < 2000; i++)
    assert_ok(wp_instance_call_string(inst, "call_twice", "Nic", &out));
  assert_string_equal(out, "Hello Nic|Hello Nic");
  as_free(e, p, inst);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_export_name_with_dash),
      cmocka_unit_test(test_go_one_export_per_function),
      cmocka_unit_test(test_as_bytes),
      cmocka_unit_test(test_as_strings),
      cmocka_unit_test(test_as_errors_and_config),
      cmocka_unit_test(test_as_log_and_host_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
