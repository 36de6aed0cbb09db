/*
 * test_helper_exports.c - issue 7 item 1: exports the host calls by name
 * (cabi_realloc, _initialize, _start, cabi_post_<name>) are checked against
 * their exact types at load. A plugin declaring one with extra parameters
 * (which would make the host read past its raw buffer) or extra results
 * (write past it) fails to load with an error naming the export, its type
 * and the expected one; the engine keeps working.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "adv.h"

/* A bytes export and memory, plus the helper under test in `helper`. */
static char *module_with(const char *helper) {
  static char buf[4096];
  snprintf(buf, sizeof buf,
           "(module (memory (export \"memory\") 1)\n"
           " (func (export \"f\") (param i32 i32) (result i32) (i32.const 16))\n"
           " %s)",
           helper);
  return buf;
}

static void expect_refused(wp_engine *e, const char *helper, const char *export_name,
                           const char *their_type, const char *expected) {
  wp_plugin *p;
  wp_error *err = adv_load(e, "helper.wat", module_with(helper), NULL, &p);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  if (wp_error_get_kind(err) != WP_ERR_LOAD || !strstr(msg, export_name) ||
      !strstr(msg, their_type) || !strstr(msg, expected)) {
    print_error("helper %s: got %s: %s\n", helper, wp_error_kind_name(wp_error_get_kind(err)), msg);
    fail();
  }
  wp_error_free(err);
  assert_null(p);
  adv_engine_still_works(e);
}

#define REALLOC_OK "func (i32, i32, i32, i32) -> (i32)"

WP_TEST(test_cabi_realloc_params) {
  wp_engine *e = adv_engine(0, 0);
  expect_refused(e,
                 "(func (export \"cabi_realloc\") (param i32 i32 i32 i32 i32 i32 i32 i32)"
                 " (result i32) (i32.const 0))",
                 "'cabi_realloc'", "(i32, i32, i32, i32, i32, i32, i32, i32)", REALLOC_OK);
  expect_refused(
      e, "(func (export \"cabi_realloc\") (param i64 i32 i32 i32) (result i32) (i32.const 0))",
      "'cabi_realloc'", "(i64, i32, i32, i32)", REALLOC_OK);
  wp_engine_free(e);
}

WP_TEST(test_cabi_realloc_results) {
  wp_engine *e = adv_engine(0, 0);
  expect_refused(e,
                 "(func (export \"cabi_realloc\") (param i32 i32 i32 i32)"
                 " (result i64 i64 i64 i64 i64 i64 i64 i64)"
                 " (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4)"
                 " (i64.const 5) (i64.const 6) (i64.const 7) (i64.const 8))",
                 "'cabi_realloc'", "-> (i64, i64, i64, i64, i64, i64, i64, i64)", REALLOC_OK);
  expect_refused(e, "(func (export \"cabi_realloc\") (param i32 i32 i32 i32))", "'cabi_realloc'",
                 "-> ()", REALLOC_OK);
  wp_engine_free(e);
}

WP_TEST(test_initialize_and_start) {
  wp_engine *e = adv_engine(0, 0);
  const char *names[] = {"_initialize", "_start"};
  for (int i = 0; i < 2; i++) {
    char helper[512], quoted[64];
    snprintf(quoted, sizeof quoted, "'%s'", names[i]);
    snprintf(helper, sizeof helper,
             "(func (export \"%s\") (param i32 i64 f32 f64 i32 i32 i32 i32 i32))", names[i]);
    expect_refused(e, helper, quoted, "(i32, i64, f32, f64, i32, i32, i32, i32, i32)",
                   "func () -> ()");
    snprintf(
        helper, sizeof helper,
        "(func (export \"%s\") (result i64 i64 i64 i64 i64 i64)"
        " (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6))",
        names[i]);
    expect_refused(e, helper, quoted, "-> (i64, i64, i64, i64, i64, i64)", "func () -> ()");
  }
  wp_engine_free(e);
}

WP_TEST(test_cabi_post) {
  wp_engine *e = adv_engine(0, 0);
  expect_refused(e, "(func (export \"cabi_post_f\") (param i32 i32 i32 i32 i32 i32))",
                 "'cabi_post_f'", "(i32, i32, i32, i32, i32, i32)", "func (i32) -> ()");
  expect_refused(e,
                 "(func (export \"cabi_post_f\") (param i32) (result i64 i64 i64 i64)"
                 " (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4))",
                 "'cabi_post_f'", "-> (i64, i64, i64, i64)", "func (i32) -> ()");
  wp_engine_free(e);
}

/* The right types load and run: realloc, post and _initialize are called. */
WP_TEST(test_right_types_work) {
  wp_engine *e = adv_engine(0, 0);
  static const char wat[] =
      "(module (memory (export \"memory\") 1)\n"
      " (global $posts (mut i32) (i32.const 0)) (global $inits (mut i32) (i32.const 0))\n"
      " (func (export \"_initialize\") (global.set $inits (i32.add (global.get $inits) (i32.const 1))))\n"
      " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 256))\n"
      " (func (export \"cabi_post_echo\") (param i32) (global.set $posts (i32.add (global.get $posts) (i32.const 1))))\n"
      " (func (export \"echo\") (param i32 i32) (result i32)\n"
      "   (i32.store (i32.const 16) (local.get 0)) (i32.store (i32.const 20) (local.get 1)) (i32.const 16))\n"
      " (func (export \"posts\") (result i32) (global.get $posts))\n"
      " (func (export \"inits\") (result i32) (global.get $inits)))";
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "right.wat", wat, NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, "echo", "hello", 5, &out, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(out, "hello", 5);
  int32_t n = 0;
  assert_ok(adv_call_i32(inst, "posts", &n));
  assert_int_equal(n, 1);
  assert_ok(adv_call_i32(inst, "inits", &n));
  assert_int_equal(n, 1);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* A cabi_post_ for an export that is not a bytes function is never called,
   so its type does not matter. */
WP_TEST(test_post_of_numeric_export_ignored) {
  wp_engine *e = adv_engine(0, 0);
  static const char wat[] = "(module (func (export \"n\") (result i64) (i64.const 7))\n"
                            " (func (export \"cabi_post_n\") (param i64) (unreachable)))";
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "numeric.wat", wat, NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_val r;
  assert_ok(wp_instance_call(inst, "n", NULL, 0, &r, 1));
  assert_int_equal(r.of.i64, 7);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/*
 * Export names that agree up to a NUL byte ("f" and "f\0g"): the C strings
 * the host keeps are both "f", so a lookup by that name would hand export 1's
 * call (three raw slots) the function of export 0. Each id must reach its own
 * function, on its first call (the general path) and its next (the planned).
 */
WP_TEST(test_export_names_with_nul) {
  wp_engine *e = adv_engine(0, 0);
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "nul.wat",
                     "(module (func (export \"f\") (result i32) (i32.const 1))\n"
                     " (func (export \"f\\00g\") (param i64 i64 i64) (result i64) (local.get 2)))",
                     NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  for (int round = 0; round < 2; round++) {
    wp_val r, args[3] = {WP_VAL_I64(5), WP_VAL_I64(6), WP_VAL_I64(7)};
    assert_ok(wp_instance_call_func(inst, 0, NULL, 0, &r, 1));
    assert_int_equal(r.of.i32, 1);
    assert_ok(wp_instance_call_func(inst, 1, args, 3, &r, 1));
    assert_int_equal(r.kind, WP_I64);
    assert_int_equal(r.of.i64, 7);
  }
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cabi_realloc_params),
      cmocka_unit_test(test_cabi_realloc_results),
      cmocka_unit_test(test_initialize_and_start),
      cmocka_unit_test(test_cabi_post),
      cmocka_unit_test(test_right_types_work),
      cmocka_unit_test(test_post_of_numeric_export_ignored),
      cmocka_unit_test(test_export_names_with_nul),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
