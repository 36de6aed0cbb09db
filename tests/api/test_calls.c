/*
 * test_calls.c - numeric and bytes calls, and every way a call can fail:
 * each failure has the right kind and message, and the next call works.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "helpers.h"

typedef struct {
  wp_engine *engine;
  wp_plugin *plugin;
  wp_instance *inst;
} env;

static env *env_load(const char *name, wp_manifest *m) {
  env *t = calloc(1, sizeof *t);
  t->engine = test_engine();
  assert_ok(wp_plugin_load(t->engine, fixture(name), m, &t->plugin));
  assert_ok(wp_instance_new(t->plugin, &t->inst));
  return t;
}

static void env_free(env *t) {
  wp_instance_free(t->inst);
  wp_plugin_free(t->plugin);
  wp_engine_free(t->engine);
  free(t);
}

static int32_t add(wp_instance *inst, int32_t a, int32_t b) {
  wp_val args[2] = {WP_VAL_I32(a), WP_VAL_I32(b)}, r;
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  assert_int_equal(r.kind, WP_I32);
  return r.of.i32;
}

WP_TEST(test_numeric) {
  env *t = env_load("numeric.wat", NULL);
  assert_int_equal(add(t->inst, 2, 3), 5);
  assert_int_equal(add(t->inst, -7, 3), -4);

  wp_val a64[2] = {WP_VAL_I64(1ll << 40), WP_VAL_I64(5)}, r;
  assert_ok(wp_instance_call(t->inst, "add64", a64, 2, &r, 1));
  assert_true(r.kind == WP_I64 && r.of.i64 == (1ll << 40) + 5);
  wp_val af[2] = {WP_VAL_F32(1.5f), WP_VAL_F32(4.0f)};
  assert_ok(wp_instance_call(t->inst, "mulf32", af, 2, &r, 1));
  assert_true(r.kind == WP_F32 && r.of.f32 == 6.0f);
  wp_val ad[2] = {WP_VAL_F64(1.0), WP_VAL_F64(4.0)};
  assert_ok(wp_instance_call(t->inst, "divf64", ad, 2, &r, 1));
  assert_true(r.kind == WP_F64 && r.of.f64 == 0.25);

  wp_val one = WP_VAL_I32(-9), two[2];
  assert_ok(wp_instance_call(t->inst, "pair", &one, 1, two, 2));
  assert_true(two[0].of.i32 == -9 && two[1].kind == WP_I64 && two[1].of.i64 == -9);
  assert_ok(wp_instance_call(t->inst, "nothing", NULL, 0, NULL, 0));

  wp_func_id id;
  assert_ok(wp_plugin_find_func(t->plugin, "add", &id));
  wp_val args[2] = {WP_VAL_I32(40), WP_VAL_I32(2)};
  assert_ok(wp_instance_call_func(t->inst, id, args, 2, &r, 1));
  assert_int_equal(r.of.i32, 42);
  env_free(t);
}

WP_TEST(test_bad_arguments) {
  env *t = env_load("numeric.wat", NULL);
  wp_val r[2], one = WP_VAL_I32(1), three[3] = {WP_VAL_I32(1), WP_VAL_I32(2), WP_VAL_I32(3)};
  assert_error(wp_instance_call(t->inst, "add", &one, 1, r, 1), WP_ERR_BAD_INPUT,
               "takes 2 arguments (i32, i32), got 1");
  assert_error(wp_instance_call(t->inst, "add", three, 3, r, 1), WP_ERR_BAD_INPUT, "got 3");
  wp_val mixed[2] = {WP_VAL_I32(1), WP_VAL_F64(2)};
  assert_error(wp_instance_call(t->inst, "add", mixed, 2, r, 1), WP_ERR_BAD_INPUT,
               "argument 2 must be i32, got f64");
  wp_val good[2] = {WP_VAL_I32(1), WP_VAL_I32(2)};
  assert_error(wp_instance_call(t->inst, "add", good, 2, r, 2), WP_ERR_BAD_INPUT,
               "returns 1 result");
  assert_error(wp_instance_call(t->inst, "missing", NULL, 0, NULL, 0), WP_ERR_NOT_FOUND,
               "export 'missing' not found (exports: add, add64");
  assert_error(wp_instance_call_func(t->inst, 999, NULL, 0, NULL, 0), WP_ERR_BAD_INPUT,
               "function id 999");
  assert_error(wp_instance_call_bytes(t->inst, "add64", "x", 1, NULL, NULL), WP_ERR_BAD_INPUT,
               "'add64' is not a bytes function: its type is func (i64, i64) -> (i64)");
  assert_error(wp_instance_call_bytes(t->inst, "add", "x", 1, NULL, NULL), WP_ERR_ABI,
               "must export 'memory' and 'cabi_realloc'");
  assert_int_equal(add(t->inst, 1, 2), 3); /* the next call works */
  env_free(t);
}

WP_TEST(test_corrupt_bytes) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  static const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0xff, 0xff, 0xff};
  assert_error(wp_plugin_load_bytes(e, "junk.wasm", junk, sizeof junk, NULL, &p), WP_ERR_LOAD,
               "plugin 'junk.wasm': not a valid WebAssembly module");
  assert_error(wp_plugin_load_bytes(e, "text", "(module (func", 13, NULL, &p), WP_ERR_LOAD,
               "not valid WebAssembly text");
  assert_error(wp_plugin_load(e, fixture("no-such.wasm"), NULL, &p), WP_ERR_NOT_FOUND,
               "cannot open");
  assert_null(p);
  /* The engine still loads good plugins. */
  const char *wat = "(module (func (export \"f\") (result i32) i32.const 7))";
  assert_ok(wp_plugin_load_bytes(e, "good", wat, strlen(wat), NULL, &p));
  wp_instance *inst;
  wp_val r;
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call(inst, "f", NULL, 0, &r, 1));
  assert_int_equal(r.of.i32, 7);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* Runs `name`, expects `kind` + `needle`, then proves the instance recovers. */
static void fail_then_recover(env *t, const char *name, const wp_val *args, size_t nargs,
                              size_t nresults, wp_error_kind kind, const char *needle) {
  wp_val r[2];
  wp_error *err = wp_instance_call(t->inst, name, args, nargs, r, nresults);
  assert_non_null(err);
  if (kind == WP_ERR_TRAP || kind == WP_ERR_TIMEOUT) assert_non_null(wp_error_get_backtrace(err));
  assert_error(err, kind, needle);
  assert_ok(wp_instance_reset(t->inst));
  assert_int_equal(add(t->inst, 20, 22), 42);
}

WP_TEST(test_trap) {
  env *t = env_load("numeric.wat", NULL);
  fail_then_recover(t, "trap", NULL, 0, 0, WP_ERR_TRAP, "call 'trap' trapped: wasm `unreachable`");
  wp_val zero[2] = {WP_VAL_I32(1), WP_VAL_I32(0)};
  fail_then_recover(t, "div", zero, 2, 1, WP_ERR_TRAP, "integer divide by zero");
  wp_val one = WP_VAL_I32(0);
  fail_then_recover(t, "recurse", &one, 1, 1, WP_ERR_TRAP, "overflowed the wasm stack");
  env_free(t);
}

WP_TEST(test_timeout) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 50);
  env *t = env_load("numeric.wat", m);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  fail_then_recover(t, "spin", NULL, 0, 0, WP_ERR_TIMEOUT,
                    "call 'spin' ran past its 50 ms timeout");
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
  assert_true(ms >= 50); /* never stopped early */
  wp_manifest_free(m);
  env_free(t);
}

WP_TEST(test_fuel) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_fuel(m, 100000);
  env *t = env_load("numeric.wat", m);
  fail_then_recover(t, "spin", NULL, 0, 0, WP_ERR_FUEL, "ran out of fuel (limit 100000");
  assert_true(wp_instance_get_fuel_used(t->inst) > 0); /* the add call was metered */
  wp_manifest_free(m);
  env_free(t);
}

WP_TEST(test_memory_limit) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_max_memory(m, 4u << 16); /* 4 pages */
  env *t = env_load("numeric.wat", m);
  wp_val n = WP_VAL_I32(2), r;
  assert_ok(wp_instance_call(t->inst, "grow", &n, 1, &r, 1));
  assert_int_equal(r.of.i32, 1); /* grew from 1 to 3 pages */
  assert_ok(wp_instance_call(t->inst, "grow", &n, 1, &r, 1));
  assert_int_equal(r.of.i32, -1); /* 5 pages would pass the limit: refused */
  assert_ok(wp_instance_call(t->inst, "pages", NULL, 0, &r, 1));
  assert_int_equal(r.of.i32, 3);
  fail_then_recover(t, "bomb", NULL, 0, 0, WP_ERR_MEMORY_LIMIT, "memory reached the 256 KiB limit");
  env_free(t);

  /* One input too big for the limit: the guest's allocator fails at once. */
  t = env_load("echo.wat", m);
  static uint8_t big[1 << 20];
  const uint8_t *out;
  size_t len;
  assert_error(wp_instance_call_bytes(t->inst, "echo", big, sizeof big, &out, &len),
               WP_ERR_MEMORY_LIMIT, "memory grow was refused below the 256 KiB limit");
  assert_ok(wp_instance_reset(t->inst));
  assert_ok(wp_instance_call_bytes(t->inst, "echo", "fits", 4, &out, &len));
  assert_memory_equal(out, "fits", 4);
  wp_manifest_free(m);
  env_free(t);
}

static void *interrupt_later(void *arg) {
  struct timespec ts = {0, 30 * 1000000};
  nanosleep(&ts, NULL);
  wp_instance_interrupt(arg);
  return NULL;
}

WP_TEST(test_interrupt) {
  env *t = env_load("numeric.wat", NULL);
  pthread_t th;
  pthread_create(&th, NULL, interrupt_later, t->inst);
  fail_then_recover(t, "spin", NULL, 0, 0, WP_ERR_INTERRUPTED, "call 'spin' was interrupted");
  pthread_join(th, NULL);
  env_free(t);
}

WP_TEST(test_sha256_pin) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  const char *wat = "(module)";
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_sha256(
      m, "0000000000000000000000000000000000000000000000000000000000000000"));
  assert_error(wp_plugin_load_bytes(e, "pinned", wat, strlen(wat), m, &p), WP_ERR_LOAD,
               "sha256 mismatch: the manifest pins 0000");
  /* sha256("(module)") */
  assert_ok(wp_plugin_load_bytes(e, "unpinned", wat, strlen(wat), NULL, &p));
  char good[65];
  strcpy(good, wp_plugin_get_sha256(p));
  wp_plugin_free(p);
  assert_ok(wp_manifest_set_sha256(m, good));
  assert_ok(wp_plugin_load_bytes(e, "pinned", wat, strlen(wat), m, &p));
  assert_string_equal(wp_plugin_get_sha256(p), good);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

/* ---- bytes --------------------------------------------------------------- */

WP_TEST(test_bytes_echo) {
  env *t = env_load("echo.wat", NULL);
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(t->inst, "echo", "hello", 5, &out, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(out, "hello", 5);
  assert_int_equal(out[5], 0); /* NUL after the output */
  assert_ok(wp_instance_call_bytes(t->inst, "echo", "", 0, &out, &len));
  assert_int_equal(len, 0);
  static uint8_t big[200000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 7);
  assert_ok(wp_instance_call_bytes(t->inst, "echo", big, sizeof big, &out, &len));
  assert_int_equal(len, sizeof big);
  assert_memory_equal(out, big, sizeof big);
  const char *s;
  assert_ok(wp_instance_call_string(t->inst, "echo", "héllo", &s));
  assert_string_equal(s, "héllo");
  assert_error(wp_instance_call_string(t->inst, "echo", "\xff\xfe", &s), WP_ERR_BAD_INPUT,
               "not valid UTF-8");
  env_free(t);
}

/* What the CLI asks to choose between --input and numeric arguments. */
WP_TEST(test_is_bytes_func) {
  env *echo = env_load("echo.wat", NULL), *num = env_load("numeric.wat", NULL);
  wp_func_id id;
  assert_ok(wp_plugin_find_func(echo->plugin, "echo", &id));
  assert_true(wp_plugin_is_bytes_func(echo->plugin, id));
  assert_ok(wp_plugin_find_func(echo->plugin, "cabi_realloc", &id));
  assert_false(wp_plugin_is_bytes_func(echo->plugin, id));
  assert_ok(wp_plugin_find_func(echo->plugin, "cabi_post_echo", &id));
  assert_false(wp_plugin_is_bytes_func(echo->plugin, id));
  for (size_t i = 0; i < wp_plugin_export_count(echo->plugin); i++)
    if (wp_plugin_get_export(echo->plugin, i)->kind != WP_EXTERN_FUNC)
      assert_false(wp_plugin_is_bytes_func(echo->plugin, (wp_func_id)i));
  assert_false(wp_plugin_is_bytes_func(echo->plugin, 999));
  /* (i32, i32) -> i32, but no cabi_realloc: a numeric function. */
  assert_ok(wp_plugin_find_func(num->plugin, "add", &id));
  assert_false(wp_plugin_is_bytes_func(num->plugin, id));
  assert_false(wp_plugin_is_bytes_func(NULL, 0));

  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  wp_plugin *comp = NULL;
  assert_ok(wp_plugin_load(echo->engine, fixture("component.wat"), m, &comp));
  assert_ok(wp_plugin_find_func(comp, "add", &id));
  assert_false(wp_plugin_is_bytes_func(comp, id));
  wp_plugin_free(comp);
  wp_manifest_free(m);
  env_free(echo);
  env_free(num);
}

WP_TEST(test_bytes_abi_violations) {
  env *t = env_load("echo.wat", NULL);
  const uint8_t *out;
  size_t len;
  assert_error(
      wp_instance_call_bytes(t->inst, "bad_output", "x", 1, &out, &len), WP_ERR_ABI,
      "'bad_output' returned output [ptr=0xfffffff0, len=64] outside its memory of 128 KiB");
  assert_ok(wp_instance_call_bytes(t->inst, "echo", "ok", 2, &out, &len));
  assert_error(wp_instance_call_bytes(t->inst, "bad_retptr", "x", 1, &out, &len), WP_ERR_ABI,
               "return-area pointer 0x7ffffff0");
  assert_error(wp_instance_call_bytes(t->inst, "bad_log", "x", 1, &out, &len), WP_ERR_ABI,
               "passed a message [ptr=0x7ffffff0, len=100] to 'wasmplug.log', outside its memory");
  assert_error(wp_instance_call_bytes(t->inst, "fail", "x", 1, &out, &len), WP_ERR_PLUGIN,
               "'fail' reported an error: bad things");
  assert_ok(wp_instance_call_bytes(t->inst, "echo", "still fine", 10, &out, &len));
  assert_memory_equal(out, "still fine", 10);
  env_free(t);
}

WP_TEST(test_config_and_log) {
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_config(m, "greeting", "Howdy"));
  env *with = env_load("echo.wat", m), *without = env_load("echo.wat", NULL);
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(with->inst, "greeting", "", 0, &out, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(out, "Howdy", 5);
  assert_ok(wp_instance_call_bytes(without->inst, "greeting", "", 0, &out, &len));
  assert_int_equal(len, 0); /* deny by default: no config */
  wp_manifest_free(m);
  env_free(with);
  env_free(without);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numeric),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_corrupt_bytes),
      cmocka_unit_test(test_trap),
      cmocka_unit_test(test_timeout),
      cmocka_unit_test(test_fuel),
      cmocka_unit_test(test_memory_limit),
      cmocka_unit_test(test_interrupt),
      cmocka_unit_test(test_sha256_pin),
      cmocka_unit_test(test_bytes_echo),
      cmocka_unit_test(test_bytes_abi_violations),
      cmocka_unit_test(test_config_and_log),
      cmocka_unit_test(test_is_bytes_func),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
