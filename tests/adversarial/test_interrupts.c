/*
 * test_interrupts.c - issue 7 items 4 and 8.
 *
 * Item 4: an interrupt requested while the plugin is inside a host function
 * stops that call (WP_ERR_INTERRUPTED), even when the plugin returns right
 * after, and never carries over to the next, unrelated call.
 * Item 8: a start function or _initialize that never finishes cannot hold
 * wp_instance_new, wp_instance_reset or wp_pool_take for ever: the engine's
 * instantiation timeout (or the plugin's own timeout) ends it.
 */
#define _POSIX_C_SOURCE 200809L
#include "adv.h"

/* The host function interrupts its own caller's call, as another thread
   would while the host is busy. */
static wp_error *interrupt_me(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                              size_t nresults, void *ud) {
  (void)args, (void)nargs, (void)results, (void)nresults;
  int *calls = ud;
  (*calls)++;
  wp_instance_interrupt(wp_host_call_get_instance(call));
  return NULL;
}

static wp_error *nop(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                     size_t nresults, void *ud) {
  (void)call, (void)args, (void)nargs, (void)results, (void)nresults, (void)ud;
  return NULL;
}

static const char host_wat[] =
    "(module (import \"test\" \"interrupt_me\" (func $i)) (import \"test\" \"nop\" (func $n))\n"
    " (func (export \"call_host\") (result i32) (call $i) (i32.const 1))\n"
    " (func (export \"plain\") (result i32) (call $n) (i32.const 2)))";

WP_TEST(test_interrupt_in_host_function) {
  for (uint32_t timeout = 0; timeout <= 5000; timeout += 5000) { /* fast and slow call paths */
    wp_engine *e = adv_engine(4, 0);
    int calls = 0;
    assert_ok(wp_engine_define_func(e, "test", "interrupt_me", NULL, 0, NULL, 0, interrupt_me,
                                    &calls, NULL));
    assert_ok(wp_engine_define_func(e, "test", "nop", NULL, 0, NULL, 0, nop, NULL, NULL));
    wp_manifest *m = adv_manifest(0, timeout);
    wp_plugin *p;
    wp_instance *inst;
    assert_ok(adv_load(e, "host.wat", host_wat, m, &p));
    assert_ok(wp_instance_new(p, &inst));
    assert_error(adv_call_i32(inst, "call_host", NULL), WP_ERR_INTERRUPTED,
                 "'call_host' was interrupted");
    assert_int_equal(calls, 1);
    /* The request was used up by the call it was made during. */
    assert_ok(wp_instance_reset(inst));
    int32_t r = 0;
    for (int i = 0; i < 3; i++) {
      assert_ok(adv_call_i32(inst, "plain", &r));
      assert_int_equal(r, 2);
    }
    wp_instance_free(inst);
    wp_plugin_free(p);
    wp_manifest_free(m);
    adv_engine_still_works(e);
    wp_engine_free(e);
  }
}

/* The same through a component host function. */
static wp_error *comp_interrupt_me(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                   wp_value **result, void *ud) {
  (void)args, (void)nargs, (void)ud;
  wp_instance_interrupt(wp_host_call_get_instance(call));
  *result = wp_value_new_u32(7);
  return NULL;
}

static const char comp_wat[] =
    "(component\n"
    "  (import \"poke\" (func $poke (result u32)))\n"
    "  (core func $p (canon lower (func $poke)))\n"
    "  (core module $m (import \"h\" \"poke\" (func $poke (result i32)))\n"
    "    (func (export \"run\") (result i32) (call $poke))\n"
    "    (func (export \"plain\") (result i32) (i32.const 3)))\n"
    "  (core instance $i (instantiate $m (with \"h\" (instance (export \"poke\" (func $p))))))\n"
    "  (func (export \"run\") (result u32) (canon lift (core func $i \"run\")))\n"
    "  (func (export \"plain\") (result u32) (canon lift (core func $i \"plain\"))))";

WP_TEST(test_interrupt_in_component_host_function) {
  wp_engine *e = adv_engine(4, 0);
  assert_ok(wp_engine_define_component_func(e, NULL, "poke", comp_interrupt_me, NULL, NULL));
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "comp.wat", comp_wat, NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_value *r = NULL;
  assert_error(wp_instance_invoke(inst, "run", NULL, 0, &r), WP_ERR_INTERRUPTED, "interrupted");
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_invoke(inst, "plain", NULL, 0, &r));
  assert_int_equal(wp_value_get_uint(r), 3);
  wp_value_free(r);
  wp_instance_free(inst);
  wp_plugin_free(p);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* A request made between calls stops the next call (documented), and only
   that one, unless it is withdrawn. */
WP_TEST(test_interrupt_between_calls) {
  wp_engine *e = adv_engine(4, 0);
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "good.wat", adv_good_wat, NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_instance_interrupt(inst);
  wp_val args[2] = {WP_VAL_I32(1), WP_VAL_I32(2)}, r;
  assert_error(wp_instance_call(inst, "add", args, 2, &r, 1), WP_ERR_INTERRUPTED, "interrupted");
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  assert_int_equal(r.of.i32, 3);
  /* A withdrawn request stops nothing; a later one counts again. */
  wp_instance_interrupt(inst);
  wp_instance_cancel_interrupt(inst);
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  wp_instance_cancel_interrupt(inst); /* nothing pending: no effect */
  wp_instance_interrupt(inst);
  assert_error(wp_instance_call(inst, "add", args, 2, &r, 1), WP_ERR_INTERRUPTED, "interrupted");
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* A command that ends with proc_exit ends its call like any other: a
   pending request stops it, and is gone afterwards. */
WP_TEST(test_interrupt_and_proc_exit) {
  wp_engine *e = adv_engine(4, 0);
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, fixture("command.wat"), NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  wp_instance_interrupt(inst);
  int code = -1;
  assert_error(wp_instance_run(inst, &code), WP_ERR_INTERRUPTED, "'_start' was interrupted");
  assert_int_equal(code, -1);
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_run(inst, &code));
  assert_int_equal(code, 3);
  wp_instance_free(inst);
  wp_plugin_free(p);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

static const char start_loop_wat[] = "(module (func $loop (loop $l (br $l))) (start $loop))";
static const char init_loop_wat[] =
    "(module (func (export \"_initialize\") (loop $l (br $l))) (func (export \"f\")))";

static void expect_instantiate_timeout(wp_plugin *p, const char *needle) {
  wp_instance *inst = NULL;
  double t0 = adv_now_ms();
  assert_error(wp_instance_new(p, &inst), WP_ERR_TIMEOUT, needle);
  double took = adv_now_ms() - t0;
  assert_null(inst);
  if (took < 250 || took > 3000) {
    print_error("instantiation took %.0f ms, expected about 300\n", took);
    fail();
  }
}

WP_TEST(test_instantiation_timeout) {
  wp_engine *e = adv_engine(4, 300);
  const char *wats[] = {start_loop_wat, init_loop_wat};
  for (int i = 0; i < 2; i++) {
    wp_plugin *p;
    assert_ok(adv_load(e, "loop.wat", wats[i], NULL, &p));
    expect_instantiate_timeout(p, "300 ms instantiation timeout");
    /* Through a pool too. */
    wp_pool *pool;
    wp_instance *inst = NULL;
    assert_ok(wp_pool_new(p, 1, 1, &pool));
    assert_error(wp_pool_take(pool, &inst), WP_ERR_TIMEOUT, "instantiation timeout");
    wp_pool_free(pool);
    wp_plugin_free(p);
  }
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* A plugin with its own timeout is bounded by it, not the engine's. */
WP_TEST(test_instantiation_uses_plugin_timeout) {
  wp_engine *e = adv_engine(4, 0); /* the engine sets no bound */
  wp_manifest *m = adv_manifest(0, 300);
  wp_plugin *p;
  assert_ok(adv_load(e, "loop.wat", init_loop_wat, m, &p));
  expect_instantiate_timeout(p, "300 ms timeout");
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interrupt_in_host_function),
      cmocka_unit_test(test_interrupt_in_component_host_function),
      cmocka_unit_test(test_interrupt_between_calls),
      cmocka_unit_test(test_interrupt_and_proc_exit),
      cmocka_unit_test(test_instantiation_timeout),
      cmocka_unit_test(test_instantiation_uses_plugin_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
