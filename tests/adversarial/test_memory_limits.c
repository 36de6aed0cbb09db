/*
 * test_memory_limits.c - issue 7 items 3 and 7: one memory budget per
 * instance, whatever the plugin declares (many memories, big tables,
 * table.grow), with pooling off and on; exact error kinds (memory limit for
 * an oversized initial memory, a refused memory.grow followed by an abort,
 * a component that fails at its limit; abi for a component returning bad
 * strings; busy when the pool has no free slot); modules that do not fit the
 * pool say which setting to raise.
 */
#define _POSIX_C_SOURCE 200809L
#include "adv.h"

#define MiB (1ull << 20)

/* Four memories of one page; grow(n) grows each by n pages and counts the
   growths that succeeded; die(n) traps if one is refused. */
static const char four_memories[] =
    "(module (memory $a 1) (memory $b 1) (memory $c 1) (memory $d 1)\n"
    " (func $ok (param i32) (result i32) (i32.ne (local.get 0) (i32.const -1)))\n"
    " (func (export \"grow\") (param $n i32) (result i32)\n"
    "   (i32.add (i32.add (call $ok (memory.grow $a (local.get $n))) (call $ok (memory.grow $b (local.get $n))))\n"
    "            (i32.add (call $ok (memory.grow $c (local.get $n))) (call $ok (memory.grow $d (local.get $n))))))\n"
    " (func (export \"die\") (param $n i32) (result i32)\n"
    "   (if (i32.eq (memory.grow $d (local.get $n)) (i32.const -1)) (then unreachable)) (i32.const 0)))";

/* With an 8 MiB budget, four memories cannot each take 40 pages (2.5 MiB):
   only three growths fit. A per-memory limit would have allowed all four. */
static void many_memories(uint32_t pooling) {
  wp_engine *e = adv_engine(pooling, 0);
  wp_manifest *m = adv_manifest(8 * MiB, 0);
  wp_plugin *p;
  wp_instance *inst;
  wp_error *err = adv_load(e, "memories.wat", four_memories, m, &p);
  if (pooling) {
    /* A pooled instance has one memory per module: refused at load, with
       the setting that helps. */
    assert_error(err, WP_ERR_LOAD, "wp_engine_config_set_pooling(cfg, 0)");
  } else {
    assert_ok(err);
    assert_ok(wp_instance_new(p, &inst));
    wp_val arg = WP_VAL_I32(40), r;
    assert_ok(wp_instance_call(inst, "grow", &arg, 1, &r, 1));
    assert_int_equal(r.of.i32, 3);
    arg = WP_VAL_I32(100);
    assert_error(wp_instance_call(inst, "die", &arg, 1, &r, 1), WP_ERR_MEMORY_LIMIT, "8 MiB limit");
    wp_instance_free(inst);
    wp_plugin_free(p);
  }
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

WP_TEST(test_many_memories_share_the_limit) { many_memories(0); }
WP_TEST(test_many_memories_pooled) { many_memories(4); }

/* table.grow is charged 8 bytes per element: 1M elements do not fit 4 MiB. */
WP_TEST(test_table_grow_counts) {
  static const char wat[] =
      "(module (table $t 1 funcref) (memory 1)\n"
      " (func (export \"grow\") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0))))";
  for (uint32_t pooling = 0; pooling <= 4; pooling += 4) {
    wp_engine *e = adv_engine(pooling, 0);
    wp_manifest *m = adv_manifest(4 * MiB, 0);
    wp_plugin *p;
    wp_instance *inst;
    assert_ok(adv_load(e, "table.wat", wat, m, &p));
    assert_ok(wp_instance_new(p, &inst));
    wp_val arg = WP_VAL_I32(1000000), r;
    assert_ok(wp_instance_call(inst, "grow", &arg, 1, &r, 1));
    assert_int_equal(r.of.i32, -1);
    arg = WP_VAL_I32(1000);
    assert_ok(wp_instance_call(inst, "grow", &arg, 1, &r, 1));
    assert_int_equal(r.of.i32, 1); /* the old size: growing a little still works */
    wp_instance_free(inst);
    wp_plugin_free(p);
    wp_manifest_free(m);
    adv_engine_still_works(e);
    wp_engine_free(e);
  }
}

/* Twenty tables of 100k elements (16 MiB in all) do not fit 8 MiB: the
   instantiation fails with a memory limit error. */
WP_TEST(test_many_big_tables) {
  char wat[4096] = "(module";
  for (int i = 0; i < 20; i++) strcat(wat, " (table 100000 funcref)");
  strcat(wat, ")");
  wp_engine *e = adv_engine(0, 0);
  wp_manifest *m = adv_manifest(8 * MiB, 0);
  wp_plugin *p;
  wp_instance *inst = NULL;
  assert_ok(adv_load(e, "tables.wat", wat, m, &p));
  assert_error(wp_instance_new(p, &inst), WP_ERR_MEMORY_LIMIT, "8 MiB limit");
  assert_null(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* An initial memory above the limit is a memory limit error, not a trap. */
WP_TEST(test_initial_memory_above_limit) {
  static const char wat[] = "(module (memory (export \"memory\") 300) (func (export \"f\")))";
  wp_engine *e = adv_engine(0, 0);
  wp_manifest *m = adv_manifest(8 * MiB, 0);
  wp_plugin *p;
  wp_instance *inst = NULL;
  assert_ok(adv_load(e, "big.wat", wat, m, &p));
  assert_error(wp_instance_new(p, &inst), WP_ERR_MEMORY_LIMIT, "8 MiB limit");
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* A refused grow far below the limit's last page, then the guest aborts:
   memory limit (the old guess, "cannot grow by one more page", said trap). */
WP_TEST(test_refused_grow_then_abort) {
  static const char wat[] =
      "(module (memory (export \"memory\") 1)\n"
      " (func (export \"alloc\") (result i32)\n"
      "   (if (i32.eq (memory.grow (i32.const 1000)) (i32.const -1)) (then unreachable)) (i32.const 0)))";
  wp_engine *e = adv_engine(4, 0);
  wp_manifest *m = adv_manifest(16 * MiB, 0);
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "grow.wat", wat, m, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_error(adv_call_i32(inst, "alloc", NULL), WP_ERR_MEMORY_LIMIT, "16 MiB limit");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* With pooling, modules too big for a slot are refused at load naming the
   setting to raise. */
WP_TEST(test_pool_fit_messages) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 4);
  wp_engine_config_set_max_memory(cfg, 8 * MiB);
  wp_engine *e;
  assert_ok(wp_engine_new(cfg, &e));
  wp_plugin *p;
  assert_error(adv_load(e, "mem.wat", "(module (memory 300))", NULL, &p), WP_ERR_LOAD,
               "wp_engine_config_set_max_memory");
  assert_error(adv_load(e, "tab.wat", "(module (table 200000 funcref))", NULL, &p), WP_ERR_LOAD,
               "wp_engine_config_set_pool_table_elements");
  adv_engine_still_works(e);
  wp_engine_free(e);
  /* Raising the setting lets the table in. */
  wp_engine_config_set_pool_table_elements(cfg, 300000);
  assert_ok(wp_engine_new(cfg, &e));
  assert_ok(adv_load(e, "tab.wat", "(module (table 200000 funcref))", NULL, &p));
  wp_plugin_free(p);
  wp_engine_free(e);
  wp_engine_config_free(cfg);
}

/* All slots taken: a distinct, retryable error naming the pooling setting. */
WP_TEST(test_pool_exhausted_is_busy) {
  static const char wat[] = "(module (memory 1) (func (export \"f\")))";
  wp_engine *e = adv_engine(2, 0);
  wp_plugin *p;
  wp_instance *a, *b, *c = NULL;
  assert_ok(adv_load(e, "slot.wat", wat, NULL, &p));
  assert_ok(wp_instance_new(p, &a));
  assert_ok(wp_instance_new(p, &b));
  assert_error(wp_instance_new(p, &c), WP_ERR_BUSY, "wp_engine_config_set_pooling");
  assert_null(c);
  wp_instance_free(b);
  assert_ok(wp_instance_new(p, &c)); /* retry after a slot is free */
  wp_instance_free(a);
  wp_instance_free(c);
  wp_plugin_free(p);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* A component: `grow` fails after its core module reaches the limit; `bad`
   returns a string that is not UTF-8, `oob` one outside its memory. */
static const char component_wat[] =
    "(component\n"
    "  (core module $m\n"
    "    (memory (export \"memory\") 1)\n"
    "    (func (export \"realloc\") (param i32 i32 i32 i32) (result i32) (i32.const 1024))\n"
    "    (func (export \"grow\") (result i32)\n"
    "      (if (i32.eq (memory.grow (i32.const 2000)) (i32.const -1)) (then unreachable)) (i32.const 0))\n"
    "    (data (i32.const 64) \"\\ff\\fe\\fd\")\n"
    "    (func (export \"bad\") (result i32)\n"
    "      (i32.store (i32.const 16) (i32.const 64)) (i32.store (i32.const 20) (i32.const 3)) (i32.const 16))\n"
    "    (func (export \"oob\") (result i32)\n"
    "      (i32.store (i32.const 16) (i32.const 0x7ffffff0)) (i32.store (i32.const 20) (i32.const 64)) (i32.const 16)))\n"
    "  (core instance $i (instantiate $m))\n"
    "  (func (export \"grow\") (result u32) (canon lift (core func $i \"grow\")))\n"
    "  (func (export \"bad\") (result string)\n"
    "    (canon lift (core func $i \"bad\") (memory (core memory $i \"memory\")) (realloc (core func $i \"realloc\"))))\n"
    "  (func (export \"oob\") (result string)\n"
    "    (canon lift (core func $i \"oob\") (memory (core memory $i \"memory\")) (realloc (core func $i \"realloc\")))))";

WP_TEST(test_component_kinds) {
  wp_engine *e = adv_engine(4, 0);
  wp_manifest *m = adv_manifest(16 * MiB, 0);
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(adv_load(e, "comp.wat", component_wat, m, &p));
  assert_ok(wp_instance_new(p, &inst));
  /* Its one core memory, as the limiter counts it. */
  assert_int_equal(wp_instance_get_memory_size(inst), 65536);
  wp_value *r = NULL;
  assert_error(wp_instance_invoke(inst, "grow", NULL, 0, &r), WP_ERR_MEMORY_LIMIT, "16 MiB limit");
  assert_ok(wp_instance_reset(inst));
  assert_error(wp_instance_invoke(inst, "bad", NULL, 0, &r), WP_ERR_ABI, "utf-8");
  assert_ok(wp_instance_reset(inst));
  assert_error(wp_instance_invoke(inst, "oob", NULL, 0, &r), WP_ERR_ABI, "out of bounds");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_memories_share_the_limit),
      cmocka_unit_test(test_many_memories_pooled),
      cmocka_unit_test(test_table_grow_counts),
      cmocka_unit_test(test_many_big_tables),
      cmocka_unit_test(test_initial_memory_above_limit),
      cmocka_unit_test(test_refused_grow_then_abort),
      cmocka_unit_test(test_pool_fit_messages),
      cmocka_unit_test(test_pool_exhausted_is_busy),
      cmocka_unit_test(test_component_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
