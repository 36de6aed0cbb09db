/*
 * test_component.c - components through the C API, with a hand-written
 * component (tests/fixtures/component.wat) so that no guest toolchain is
 * needed: calls by name and INTERFACE#FUNC, arity and type errors, host
 * imports, missing imports (error and trap), traps, timeouts, fuel,
 * interrupts, corrupt bytes, the AOT cache, sha256 pins and pooling.
 */
#include <pthread.h>
#include <time.h>

#include "helpers.h"

static int twice_calls;

static wp_error *twice(wp_host_call *call, const wp_value *const *args, size_t nargs,
                       wp_value **result, void *user_data) {
  (void)user_data;
  twice_calls++;
  assert_int_equal(nargs, 1);
  assert_int_equal(wp_value_get_kind(args[0]), WP_TYPE_U32);
  /* The import's type as the plugin declares it: twice(x: u32) -> u32. */
  const wp_functype *ft = wp_host_call_get_functype(call);
  assert_non_null(ft);
  assert_int_equal(wp_functype_param_count(ft), 1);
  assert_string_equal(wp_functype_param_name(ft, 0), "x");
  assert_int_equal(wp_type_get_kind(wp_functype_param_type(ft, 0)), WP_TYPE_U32);
  assert_int_equal(wp_type_get_kind(wp_functype_result(ft)), WP_TYPE_U32);
  uint64_t x = wp_value_get_uint(args[0]);
  if (x == 13) return wp_error_new(WP_ERR_HOST, "13 is unlucky");
  if (x == 15) { /* a host function may not call back into its own instance */
    wp_value *r = NULL;
    wp_error *err = wp_instance_invoke(wp_host_call_get_instance(call), "add", NULL, 0, &r);
    assert_null(r);
    return err ? err : wp_error_new(WP_ERR_HOST, "re-entry was allowed");
  }
  if (x == 14) {
    *result = wp_value_new_string("not a u32"); /* wrong type: must be refused, not crash */
    return NULL;
  }
  *result = wp_value_new_u32((uint32_t)x * 2);
  return NULL;
}

static wp_engine *engine_with_host(void) {
  wp_engine *e = test_engine();
  assert_ok(wp_engine_define_component_func(e, "example:test/host", "twice", twice, NULL, NULL));
  return e;
}

static wp_plugin *load(wp_engine *e, const wp_manifest *m) {
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, fixture("component.wat"), m, &p));
  return p;
}

/* Calls a u32 -> u32 / (u32, u32) -> u32 export and returns the result. */
static uint64_t call_u32(wp_instance *inst, const char *name, uint32_t a, int nargs, uint32_t b) {
  wp_value *args[2] = {wp_value_new_u32(a), wp_value_new_u32(b)};
  wp_value *r = NULL;
  wp_error *err = wp_instance_invoke(inst, name, (const wp_value *const *)args, (size_t)nargs, &r);
  wp_value_free(args[0]);
  wp_value_free(args[1]);
  assert_ok(err);
  assert_non_null(r);
  assert_int_equal(wp_value_get_kind(r), WP_TYPE_U32);
  uint64_t v = wp_value_get_uint(r);
  wp_value_free(r);
  return v;
}

WP_TEST(test_reflection) {
  wp_engine *e = engine_with_host();
  wp_plugin *p = load(e, NULL);
  assert_true(wp_plugin_is_component(p));
  assert_int_equal(wp_plugin_import_count(p), 1);
  const wp_extern_info *imp = wp_plugin_get_import(p, 0);
  assert_string_equal(imp->module, "example:test/host");
  assert_string_equal(imp->name, "twice");
  assert_string_equal(imp->type, "func(x: u32) -> u32");
  wp_func_id id;
  assert_ok(wp_plugin_find_func(p, "echo", &id));
  const wp_functype *ft = wp_plugin_get_functype(p, id);
  assert_non_null(ft);
  assert_string_equal(wp_functype_to_string(ft), "func(s: string) -> string");
  assert_int_equal(wp_functype_param_count(ft), 1);
  assert_string_equal(wp_functype_param_name(ft, 0), "s");
  assert_int_equal(wp_type_get_kind(wp_functype_param_type(ft, 0)), WP_TYPE_STRING);
  assert_int_equal(wp_type_get_kind(wp_functype_result(ft)), WP_TYPE_STRING);
  assert_ok(wp_plugin_find_func(p, "example:test/api#quadruple", &id));
  assert_string_equal(wp_plugin_get_export(p, id)->module, "example:test/api");
  assert_error(wp_plugin_find_func(p, "quadruple", &id), WP_ERR_NOT_FOUND,
               "example:test/api#quadruple");
  char *wit = NULL;
  FILE *f = fopen(fixture("component.wat"), "rb");
  char text[8192];
  size_t n = fread(text, 1, sizeof text, f);
  fclose(f);
  assert_ok(wp_component_wit(text, n, &wit));
  assert_non_null(strstr(wit, "export echo: func(s: string) -> string;"));
  assert_non_null(strstr(wit, "twice: func(x: u32) -> u32;"));
  wp_free(wit);
  assert_error(wp_component_wit("\0asm\1\0\0\0", 8, &wit), WP_ERR_LOAD, "core module");
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_calls_and_errors) {
  wp_engine *e = engine_with_host();
  wp_plugin *p = load(e, NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_int_equal(call_u32(inst, "add", 40, 2, 2), 42);
  /* nested interface export, which calls the host import twice */
  twice_calls = 0;
  assert_int_equal(call_u32(inst, "example:test/api#quadruple", 5, 1, 0), 20);
  assert_int_equal(twice_calls, 2);
  /* a string round trip, including non-ASCII */
  wp_value *s = wp_value_new_string("h\xc3\xa9llo \xf0\x9f\x98\x80");
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, "echo", (const wp_value *const *)&s, 1, &r));
  assert_true(wp_value_equal(s, r));
  wp_value_free(r);
  wp_value_free(s);
  /* arity and type mismatches name the argument; the next call works */
  wp_value *one = wp_value_new_u32(1), *str = wp_value_new_string("x");
  const wp_value *bad_arity[1] = {one};
  assert_error(wp_instance_invoke(inst, "add", bad_arity, 1, &r), WP_ERR_BAD_INPUT,
               "'add' takes 2 arguments, got 1");
  const wp_value *bad_type[2] = {one, str};
  assert_error(wp_instance_invoke(inst, "add", bad_type, 2, &r), WP_ERR_BAD_INPUT,
               "argument 2 ('b') of 'add': expected u32, got string");
  wp_value *bad_utf8 = wp_value_new_string_n("\xff\xfe", 2);
  assert_error(wp_instance_invoke(inst, "echo", (const wp_value *const *)&bad_utf8, 1, &r),
               WP_ERR_BAD_INPUT, "not valid UTF-8");
  wp_value_free(bad_utf8);
  assert_error(wp_instance_invoke(inst, "nope", NULL, 0, &r), WP_ERR_NOT_FOUND,
               "exports: example:test/api#quadruple, add");
  /* a failing host function, and one returning the wrong type */
  assert_error(wp_instance_invoke(inst, "example:test/api#quadruple",
                                  (const wp_value *const *)&(wp_value *){0}, 0, &r),
               WP_ERR_BAD_INPUT, "takes 1 argument");
  wp_value *thirteen = wp_value_new_u32(13), *fourteen = wp_value_new_u32(14);
  assert_error(wp_instance_invoke(inst, "example:test/api#quadruple",
                                  (const wp_value *const *)&thirteen, 1, &r),
               WP_ERR_HOST, "13 is unlucky");
  assert_ok(wp_instance_reset(inst));
  assert_error(wp_instance_invoke(inst, "example:test/api#quadruple",
                                  (const wp_value *const *)&fourteen, 1, &r),
               WP_ERR_HOST, "returned a wrong result: expected u32, got string");
  assert_ok(wp_instance_reset(inst));
  wp_value *fifteen = wp_value_new_u32(15);
  assert_error(wp_instance_invoke(inst, "example:test/api#quadruple",
                                  (const wp_value *const *)&fifteen, 1, &r),
               WP_ERR_BAD_INPUT, "called while another call runs on the same instance");
  wp_value_free(fifteen);
  assert_ok(wp_instance_reset(inst));
  assert_int_equal(call_u32(inst, "add", 1, 2, 2), 3);
  wp_value_free(thirteen);
  wp_value_free(fourteen);
  wp_value_free(one);
  wp_value_free(str);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_traps_and_limits) {
  wp_engine *e = engine_with_host();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 50);
  wp_plugin *p = load(e, m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *r = NULL;
  wp_error *err = wp_instance_invoke(inst, "crash", NULL, 0, &r);
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_TRAP);
  assert_non_null(strstr(wp_error_get_message(err), "unreachable"));
  wp_error_free(err);
  assert_ok(wp_instance_reset(inst));
  wp_value *forever = wp_value_new_u64(0); /* counts up from 1: never equals 0 */
  assert_error(wp_instance_invoke(inst, "spin", (const wp_value *const *)&forever, 1, &r),
               WP_ERR_TIMEOUT, "50 ms timeout");
  assert_ok(wp_instance_reset(inst));
  assert_int_equal(call_u32(inst, "add", 2, 2, 2), 4);
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* fuel */
  wp_manifest_set_timeout_ms(m, 0);
  wp_manifest_set_fuel(m, 100000);
  p = load(e, m);
  assert_ok(wp_instance_new(p, &inst));
  wp_value *small = wp_value_new_u64(100);
  assert_ok(wp_instance_invoke(inst, "spin", (const wp_value *const *)&small, 1, &r));
  assert_int_equal(wp_value_get_uint(r), 100);
  wp_value_free(r);
  assert_true(wp_instance_get_fuel_used(inst) > 100);
  assert_error(wp_instance_invoke(inst, "spin", (const wp_value *const *)&forever, 1, &r),
               WP_ERR_FUEL, "ran out of fuel");
  assert_ok(wp_instance_reset(inst));
  assert_int_equal(call_u32(inst, "add", 3, 2, 3), 6);
  wp_value_free(small);
  wp_value_free(forever);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

static void *interrupt_later(void *arg) {
  nanosleep(&(struct timespec){0, 30000000}, NULL);
  wp_instance_interrupt(arg);
  return NULL;
}

WP_TEST(test_interrupt) {
  wp_engine *e = engine_with_host();
  wp_plugin *p = load(e, NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  pthread_t t;
  pthread_create(&t, NULL, interrupt_later, inst);
  wp_value *forever = wp_value_new_u64(0), *r = NULL;
  assert_error(wp_instance_invoke(inst, "spin", (const wp_value *const *)&forever, 1, &r),
               WP_ERR_INTERRUPTED, "interrupted");
  pthread_join(t, NULL);
  wp_value_free(forever);
  assert_ok(wp_instance_reset(inst));
  assert_int_equal(call_u32(inst, "add", 2, 2, 5), 7);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_missing_imports) {
  wp_engine *e = test_engine(); /* no "twice" */
  wp_plugin *p = NULL;
  assert_error(
      wp_plugin_load(e, fixture("component.wat"), NULL, &p), WP_ERR_LINK,
      "1 import is not provided by the host: example:test/host#twice (func(x: u32) -> u32)");
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  p = load(e, m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_int_equal(call_u32(inst, "add", 1, 2, 1), 2); /* works without the import */
  wp_value *x = wp_value_new_u32(1), *r = NULL;
  assert_error(
      wp_instance_invoke(inst, "example:test/api#quadruple", (const wp_value *const *)&x, 1, &r),
      WP_ERR_TRAP,
      "import 'example:test/host#twice' (func(x: u32) -> u32) is not provided by the host");
  assert_ok(wp_instance_reset(inst));
  assert_int_equal(call_u32(inst, "add", 2, 2, 2), 4); /* and the next call works */
  wp_value_free(x);
  wp_instance_free(inst);
  wp_plugin_free(p);
  /* core modules cannot trap on missing imports */
  assert_error(wp_plugin_load(e, fixture("numeric.wat"), m, &p), WP_ERR_BAD_INPUT,
               "only components support");
  wp_manifest_free(m);
  wp_engine_free(e);
}

WP_TEST(test_corrupt_and_pinned) {
  wp_engine *e = engine_with_host();
  wp_plugin *p = NULL;
  static const unsigned char truncated[] = {0, 'a', 's', 'm', 0x0d, 0, 1, 0, 0x07, 0x05};
  assert_error(wp_plugin_load_bytes(e, "bad", truncated, sizeof truncated, NULL, &p), WP_ERR_LOAD,
               "not a valid WebAssembly component");
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_sha256(
      m, "0000000000000000000000000000000000000000000000000000000000000000"));
  assert_error(wp_plugin_load(e, fixture("component.wat"), m, &p), WP_ERR_LOAD, "sha256 mismatch");
  wp_manifest_free(m);
  p = load(e, NULL); /* still fine afterwards */
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_cache_and_pool) {
  char dir[] = "/tmp/wp-comp-cache-XXXXXX";
  assert_non_null(mkdtemp(dir));
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, dir);
  wp_engine_config_set_pooling(cfg, 8);
  test_isolation(cfg);
  wp_engine *e;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  assert_ok(wp_engine_define_component_func(e, "example:test/host", "twice", twice, NULL, NULL));
  wp_plugin *p1 = load(e, NULL), *p2 = load(e, NULL);
  assert_false(wp_plugin_was_cached(p1));
  assert_true(wp_plugin_was_cached(p2));
  wp_pool *pool;
  assert_ok(wp_pool_new(p2, 1, 4, &pool));
  for (int i = 0; i < 20; i++) {
    wp_instance *inst;
    assert_ok(wp_pool_take(pool, &inst));
    uint32_t x = 100 + (uint32_t)i; /* away from twice()'s special 13 and 14 */
    assert_int_equal(call_u32(inst, "example:test/api#quadruple", x, 1, 0), (uint64_t)x * 4);
    wp_pool_release(pool, inst);
  }
  wp_pool_free(pool);
  wp_plugin_free(p1);
  wp_plugin_free(p2);
  wp_engine_free(e);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

WP_TEST(test_values) {
  /* building, reading, cloning, comparing; NULL children propagate */
  const char *names[] = {"x", "y"};
  wp_value *rec = wp_value_new_record(names,
                                      (wp_value *[]){wp_value_new_s32(-1), wp_value_new_s32(2)}, 2);
  assert_non_null(rec);
  assert_int_equal(wp_value_get_count(rec), 2);
  assert_string_equal(wp_value_get_name(rec, 1), "y");
  assert_int_equal(wp_value_get_int(wp_value_get_field(rec, "x")), -1);
  assert_null(wp_value_get_field(rec, "z"));
  wp_value *list = wp_value_new_list(
      (wp_value *[]){rec, wp_value_new_variant("circle", wp_value_new_f64(1.5))}, 2);
  wp_value *copy = wp_value_clone(list);
  assert_true(wp_value_equal(list, copy));
  assert_string_equal(wp_value_get_case(wp_value_get_item(copy, 1)), "circle");
  assert_true(wp_value_get_f64(wp_value_get_payload(wp_value_get_item(copy, 1))) == 1.5);
  wp_value_free(copy);
  wp_value_free(list);
  assert_null(wp_value_new_list((wp_value *[]){wp_value_new_u8(1), NULL}, 2)); /* frees the u8 */
  assert_null(wp_value_new_some(NULL));
  const char *fl[] = {"read", "exec"};
  wp_value *flags = wp_value_new_flags(fl, 2);
  assert_true(wp_value_has_flag(flags, "exec"));
  assert_false(wp_value_has_flag(flags, "write"));
  wp_value_free(flags);
  wp_value *res = wp_value_new_err(wp_value_new_string("no"));
  assert_string_equal(wp_value_get_case(res), "err");
  assert_string_equal(wp_value_get_string(wp_value_get_payload(res), NULL), "no");
  char *wave = wp_value_to_wave(res);
  assert_string_equal(wave, "err(\"no\")");
  wp_free(wave);
  wp_value_free(res);
  wp_value *bytes = wp_value_new_bytes("ab", 2);
  assert_int_equal(wp_value_get_count(bytes), 2);
  assert_int_equal(wp_value_get_uint(wp_value_get_item(bytes, 1)), 'b');
  wp_value_free(bytes);
}

/* WASI preview 2 sees the manifest's grants and nothing else. */
WP_TEST(test_wasip2_grants) {
  setenv("WASMPLUG_TEST_HOST_ONLY", "leak", 1);
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_env(m, "GREETING", "hi"));
  assert_ok(wp_manifest_add_arg(m, "prog"));
  assert_ok(wp_manifest_add_arg(m, "--flag"));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, fixture("wasip2_env.wat"), m, &p));
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, "env", NULL, 0, &r));
  char *wave = wp_value_to_wave(r);
  assert_string_equal(wave, "[(\"GREETING\", \"hi\")]");
  wp_free(wave);
  wp_value_free(r);
  assert_ok(wp_instance_invoke(inst, "args", NULL, 0, &r));
  wave = wp_value_to_wave(r);
  assert_string_equal(wave, "[\"prog\", \"--flag\"]");
  wp_free(wave);
  wp_value_free(r);
  wp_instance_free(inst);
  wp_plugin_free(p);
  /* without grants: nothing */
  assert_ok(wp_plugin_load(e, fixture("wasip2_env.wat"), NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_invoke(inst, "env", NULL, 0, &r));
  assert_int_equal(wp_value_get_count(r), 0);
  wp_value_free(r);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reflection),       cmocka_unit_test(test_calls_and_errors),
      cmocka_unit_test(test_traps_and_limits), cmocka_unit_test(test_interrupt),
      cmocka_unit_test(test_missing_imports),  cmocka_unit_test(test_corrupt_and_pinned),
      cmocka_unit_test(test_cache_and_pool),   cmocka_unit_test(test_values),
      cmocka_unit_test(test_wasip2_grants),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
