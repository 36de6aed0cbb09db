/*
 * test_abi_messages.c - what the bytes-ABI boundary says when a plugin
 * breaks it (found by fuzz/fuzz_abi): an error reported through
 * wasmplug.error never leaks into the next call, the text a plugin gives
 * wasmplug.error is made printable before it reaches a message, and a
 * misaligned return area is called misaligned, not "outside its memory".
 */
#define _POSIX_C_SOURCE 200809L
#include "adv.h"

static const char wat[] =
    "(module (import \"wasmplug\" \"error\" (func $err (param i32 i32)))\n"
    " (import \"wasmplug\" \"config_get\" (func $cfg (param i32 i32 i32)))\n"
    " (memory (export \"memory\") 1)\n"
    " (data (i32.const 512) \"\\00bad \\ff\\fe text\\0a\\1b[31m \\\\ ok\")\n"
    " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 1024))\n"
    " ;; reports an error, then returns a return area outside memory\n"
    " (func (export \"err_then_bad\") (param i32 i32) (result i32)\n"
    "   (call $err (i32.const 512) (i32.const 4)) (i32.const 0x7ffffff0))\n"
    " (func (export \"good\") (param i32 i32) (result i32)\n"
    "   (i32.store (i32.const 16) (i32.const 512)) (i32.store (i32.const 20) (i32.const 0)) (i32.const 16))\n"
    " ;; reports an error made of a NUL, bytes that are not UTF-8 and control characters\n"
    " (func (export \"ugly_error\") (param i32 i32) (result i32)\n"
    "   (call $err (i32.const 512) (i32.const 26))\n"
    "   (i32.store (i32.const 16) (i32.const 512)) (i32.store (i32.const 20) (i32.const 0)) (i32.const 16))\n"
    " (func (export \"misaligned\") (param i32 i32) (result i32) (i32.const 18))\n"
    " (func (export \"cfg_misaligned\") (param i32 i32) (result i32)\n"
    "   (call $cfg (i32.const 512) (i32.const 1) (i32.const 18)) (i32.const 16)))";

typedef struct {
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst;
} env;

static env setup(void) {
  env t;
  t.e = adv_engine(4, 0);
  assert_ok(adv_load(t.e, "abi.wat", wat, NULL, &t.p));
  assert_ok(wp_instance_new(t.p, &t.inst));
  return t;
}

static void teardown(env *t) {
  wp_instance_free(t->inst);
  wp_plugin_free(t->p);
  adv_engine_still_works(t->e);
  wp_engine_free(t->e);
}

static wp_error *call(wp_instance *inst, const char *name) {
  const uint8_t *out;
  size_t len;
  return wp_instance_call_bytes(inst, name, "x", 1, &out, &len);
}

/* No reset in between, on purpose: the next call must not inherit it. */
WP_TEST(test_plugin_error_does_not_leak) {
  env t = setup();
  assert_error(call(t.inst, "err_then_bad"), WP_ERR_ABI, "outside its memory of 64 KiB");
  assert_ok(call(t.inst, "good"));
  teardown(&t);
}

WP_TEST(test_plugin_error_made_printable) {
  env t = setup();
  wp_error *err = call(t.inst, "ugly_error");
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_PLUGIN);
  const char *msg = wp_error_get_message(err);
  assert_non_null(strstr(msg, "\\x00bad \\xff\\xfe text\\x0a\\x1b[31m \\x5c ok"));
  for (const char *c = msg; *c; c++) assert_true((unsigned char)*c >= 0x20);
  wp_error_free(err);
  assert_ok(call(t.inst, "good"));
  teardown(&t);
}

WP_TEST(test_misaligned_return_areas) {
  env t = setup();
  wp_error *err = call(t.inst, "misaligned");
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_ABI);
  assert_non_null(strstr(wp_error_get_message(err), "0x12 that is not 4-aligned"));
  assert_null(strstr(wp_error_get_message(err), "outside"));
  wp_error_free(err);
  assert_ok(wp_instance_reset(t.inst));
  err = call(t.inst, "cfg_misaligned");
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_ABI);
  assert_non_null(strstr(wp_error_get_message(err),
                         "return area at 0x12 to 'wasmplug.config_get', which is not 4-aligned"));
  wp_error_free(err);
  assert_ok(wp_instance_reset(t.inst));
  assert_ok(call(t.inst, "good"));
  teardown(&t);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plugin_error_does_not_leak),
      cmocka_unit_test(test_plugin_error_made_printable),
      cmocka_unit_test(test_misaligned_return_areas),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
