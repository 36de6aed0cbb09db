/*
 * test_pdk.c - the guest PDKs (issue 10): a C plugin exports a name that is
 * not a C identifier ("count-words", with WP_EXPORT_BYTES_AS) next to a plain
 * one, and the host finds and calls both, including "cabi_post_count-words";
 * a Go plugin needs one //go:wasmexport per export.
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

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_export_name_with_dash),
      cmocka_unit_test(test_go_one_export_per_function),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
