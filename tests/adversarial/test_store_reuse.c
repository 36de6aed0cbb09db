/*
 * test_store_reuse.c - fresh pooled instances built in the store of the one
 * before (src/instance/instance.c, wp_instance_retire). A fresh instance
 * must stay fresh in everything a plugin or its host can see: memory,
 * globals, its own memory budget, WASI state; dead instances kept in a store
 * must never take a pool slot a live instance needs, and must go when their
 * store goes. Plugins that define several memories, grow past the reuse
 * threshold or fail are never kept. Components too, whose resource handles
 * of one life the next must refuse.
 *
 * Reads the instance's and engine's internals (instance/instance.h,
 * engine/engine.h): how many dead instances a store holds is not API.
 */
#define _POSIX_C_SOURCE 200809L
#include "adv.h"

#include <unistd.h>

#include "engine/engine.h"
#include "instance/instance.h"

#define PAGE 65536u

/* A counter in a global, a marker written in memory, and growth. */
static const char plugin_wat[] =
    "(module\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $n (mut i32) (i32.const 0))\n"
    "  (func (export \"count\") (result i32)\n"
    "    (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n))\n"
    "  (func (export \"mark\") (result i32)\n"
    "    (local $old i32) (local.set $old (i32.load (i32.const 100)))\n"
    "    (i32.store (i32.const 100) (i32.const 7)) (local.get $old))\n"
    "  (func (export \"grow\") (param i32) (result i32) (memory.grow (local.get 0)))\n"
    "  (func (export \"pages\") (result i32) (memory.size))\n"
    "  (func (export \"trap\") unreachable))\n";

/* The same with a second memory: never kept in a reused store (the pool's
   spare slots count one memory per dead instance). */
static const char two_memories_wat[] = "(module (memory 1) (memory $b 1)\n"
                                       "  (func (export \"count\") (result i32) (i32.const 1)))\n";

static wp_plugin *load(wp_engine *e, const char *wat, uint64_t max_memory) {
  wp_plugin *p;
  wp_manifest *m = adv_manifest(max_memory, 0);
  assert_ok(adv_load(e, "reuse.wat", wat, m, &p));
  wp_manifest_free(m);
  return p;
}

static int32_t call_i32(wp_instance *inst, const char *name, int32_t arg, bool with_arg) {
  wp_val a = WP_VAL_I32(arg), r;
  assert_ok(wp_instance_call(inst, name, with_arg ? &a : NULL, with_arg ? 1 : 0, &r, 1));
  return r.of.i32;
}

/* Every round sees a new instance; its store is reused up to 8 lives; each
   gets the whole memory budget, whatever the dead ones in its store used. */
WP_TEST(test_fresh_in_reused_store) {
  wp_engine *e = adv_engine(16, 0);
  wp_plugin *p = load(e, plugin_wat, 16 * PAGE); /* 1 MiB: 15 pages to grow */
  assert_true(p->store_reusable);
  wp_pool *pool;
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  uint32_t most_dead = 0;
  wasmtime_store_t *first_store = NULL;
  int same_store = 0;
  for (int round = 0; round < 36; round++) { /* ends with a store holding 3 */
    wp_instance *inst;
    assert_ok(wp_pool_take(pool, &inst));
    if (inst->dead_in_store > most_dead) most_dead = inst->dead_in_store;
    if (round == 0) first_store = inst->store;
    else if (inst->store == first_store) same_store++;
    assert_int_equal(call_i32(inst, "pages", 0, false), 1);
    assert_int_equal(call_i32(inst, "count", 0, false), 1);
    assert_int_equal(call_i32(inst, "mark", 0, false), 0); /* no marker from before */
    /* 14 more pages (15 in all, under the 16-page budget): fits every time,
       so no dead instance's pages count against this one. */
    assert_int_equal(call_i32(inst, "grow", 14, true), 1);
    assert_int_equal(call_i32(inst, "grow", 2, true), -1); /* the budget holds */
    wp_pool_release(pool, inst);
  }
  /* The store was reused (up to 7 dead instances in it), then replaced. */
  assert_int_equal(most_dead, 7);
  assert_true(same_store >= 6);
  assert_true(atomic_load(&e->retained_dead) > 0);
  wp_pool_free(pool);
  assert_int_equal(atomic_load(&e->retained_dead), 0); /* gone with their stores */
  wp_plugin_free(p);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* Kept only when cheap and clean: not after a failure, not after growing
   past the threshold, not for a plugin defining two memories. */
WP_TEST(test_not_kept) {
  wp_engine *e = adv_engine(16, 0);
  wp_plugin *p = load(e, plugin_wat, 0);
  wp_pool *pool;
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  wp_instance *inst;
  assert_ok(wp_pool_take(pool, &inst));
  assert_error(wp_instance_call(inst, "trap", NULL, 0, NULL, 0), WP_ERR_TRAP, "unreachable");
  wp_pool_release(pool, inst);
  assert_ok(wp_pool_take(pool, &inst));
  assert_int_equal(inst->dead_in_store, 0); /* the failed one's store went */
  assert_int_equal(call_i32(inst, "grow", 32, true), 1); /* 2 MiB + 64 KiB */
  wp_pool_release(pool, inst);
  assert_ok(wp_pool_take(pool, &inst));
  assert_int_equal(inst->dead_in_store, 0); /* too big to keep */
  assert_int_equal(call_i32(inst, "pages", 0, false), 1);
  wp_pool_release(pool, inst);
  wp_pool_free(pool);
  wp_plugin_free(p);

  assert_int_equal(atomic_load(&e->retained_dead), 0);
  wp_engine_free(e);

  /* A pooled engine refuses two memories per module; without pooling they
     load, and their instances are not kept. */
  e = adv_engine(0, 0);
  p = load(e, two_memories_wat, 0);
  assert_false(p->store_reusable);
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  for (int i = 0; i < 3; i++) {
    assert_ok(wp_pool_take(pool, &inst));
    assert_int_equal(inst->dead_in_store, 0);
    assert_int_equal(call_i32(inst, "count", 0, false), 1);
    wp_pool_release(pool, inst);
  }
  wp_pool_free(pool);
  wp_plugin_free(p);
  assert_int_equal(atomic_load(&e->retained_dead), 0);
  wp_engine_free(e);
}

/* One call on a fresh instance of the plugin under test: it must work. */
typedef void (*use_fn)(wp_instance *inst);

static void use_count(wp_instance *inst) { assert_int_equal(call_i32(inst, "count", 0, false), 1); }

/*
 * Dead instances hold pool slots until their store goes; a full pool takes
 * them back (wp_pools_reclaim): with pooling 14 and a fresh pool keeping 7
 * dead ones, fourteen live instances still fit at once, and one more is
 * refused as before (WP_ERR_BUSY). Takes `p` and its engine `e` (pooling 14).
 */
static void dead_take_no_live_slot(wp_engine *e, wp_plugin *p, use_fn use) {
  wp_pool *pool;
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  for (int round = 0; round < 7; round++) { /* 7 dead: one store's worth */
    wp_instance *inst;
    assert_ok(wp_pool_take(pool, &inst));
    use(inst);
    wp_pool_release(pool, inst);
  }
  assert_int_equal(atomic_load(&e->retained_dead), 7);
  wp_instance *live[14];
  for (int i = 0; i < 14; i++) {
    assert_ok(wp_instance_new(p, &live[i]));
    use(live[i]);
  }
  assert_int_equal(atomic_load(&e->retained_dead), 0); /* taken back */
  wp_instance *more = NULL;
  assert_error(wp_instance_new(p, &more), WP_ERR_BUSY, "wp_engine_config_set_pooling");
  assert_null(more);
  /* The fresh pool still works once a slot is free. */
  wp_instance_free(live[13]);
  wp_instance *inst;
  assert_ok(wp_pool_take(pool, &inst));
  use(inst);
  wp_pool_release(pool, inst);
  for (int i = 0; i < 13; i++) wp_instance_free(live[i]);
  wp_pool_free(pool);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_dead_instances_take_no_live_slot) {
  wp_engine *e = adv_engine(14, 0);
  dead_take_no_live_slot(e, load(e, plugin_wat, 0), use_count);
}

/* Many fresh pools at once stay within the engine's budget of dead ones. */
WP_TEST(test_engine_budget) {
  wp_engine *e = adv_engine(16, 0); /* budget: 7 */
  wp_plugin *p = load(e, plugin_wat, 0);
  wp_pool *pools[4];
  for (int i = 0; i < 4; i++) assert_ok(wp_pool_new(p, 1, 1, &pools[i]));
  for (int round = 0; round < 6; round++) {
    for (int i = 0; i < 4; i++) {
      wp_instance *inst;
      assert_ok(wp_pool_take(pools[i], &inst));
      assert_int_equal(call_i32(inst, "count", 0, false), 1);
      wp_pool_release(pools[i], inst);
      assert_true(atomic_load(&e->retained_dead) <= e->retain_max);
    }
  }
  assert_int_equal(e->retain_max, 7);
  for (int i = 0; i < 4; i++) wp_pool_free(pools[i]);
  assert_int_equal(atomic_load(&e->retained_dead), 0);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- components ---------------------------------------------------------- */

#define TYPES WP_PLUGINS "/types-c-component.wasm"

static int g_counter_drops;
static void counter_drop(void *object, void *user_data) {
  (void)user_data;
  free(object);
  g_counter_drops++;
}

static wp_value *invoke(wp_instance *inst, const char *fn, wp_value *arg) {
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, fn, (const wp_value *const *)&arg, arg ? 1 : 0, &r));
  return r;
}

static bool have_types(void) {
  if (access(TYPES, R_OK) == 0) return true;
  print_message("SKIP: %s was not built (WASMPLUG_GUESTS off or no guest toolchain)\n", TYPES);
  return false;
}

/* The types component; the host imports the tests do not call trap. */
static wp_plugin *load_types(wp_engine *e) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  wp_plugin *p;
  assert_ok(wp_plugin_load(e, TYPES, m, &p));
  wp_manifest_free(m);
  assert_true(p->store_reusable); /* one memory, a few tables */
  return p;
}

/* A component's fresh instances share a store too, and a life's handles
   (host objects, guest resources) are refused by the next, as its objects
   are released when it retires. */
WP_TEST(test_component_in_reused_store) {
  if (!have_types()) skip();
  wp_engine *e = adv_engine(16, 0);
  const wp_resource_type *counter;
  assert_ok(wp_engine_define_resource(e, "example:types/host", "counter", counter_drop, NULL, NULL,
                                      &counter));
  wp_plugin *p = load_types(e);
  wp_pool *pool;
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  wp_value *old_host = NULL, *old_blob = NULL;
  uint32_t most_dead = 0;
  g_counter_drops = 0;
  for (int round = 0; round < 20; round++) {
    wp_instance *inst;
    assert_ok(wp_pool_take(pool, &inst));
    if (inst->dead_in_store > most_dead) most_dead = inst->dead_in_store;
    assert_int_equal(g_counter_drops, round); /* the last life's object went with it */
    wp_value *r = NULL;
    if (old_host) {
      assert_error(wp_instance_invoke(inst, "example:types/resources#bump",
                                      (const wp_value *const *)&old_host, 1, &r),
                   WP_ERR_BAD_INPUT, "another instance");
      assert_error(wp_instance_invoke(inst, "example:types/resources#blob-size",
                                      (const wp_value *const *)&old_blob, 1, &r),
                   WP_ERR_BAD_INPUT, "another instance");
      assert_error(wp_instance_drop_resource(inst, old_blob), WP_ERR_BAD_INPUT, "another instance");
      void *obj = NULL;
      assert_error(wp_value_get_resource(old_host, inst, counter, &obj), WP_ERR_BAD_INPUT,
                   "another instance");
      assert_null(r);
    }
    wp_value_free(old_host);
    wp_value_free(old_blob);
    old_host = wp_value_new_resource(inst, counter, calloc(1, 4));
    assert_non_null(old_host);
    void *obj = NULL;
    assert_ok(wp_value_get_resource(old_host, inst, counter, &obj));
    wp_value *bytes = wp_value_new_bytes("abcd", 4);
    old_blob = invoke(inst, "example:types/resources#[constructor]blob", bytes);
    wp_value_free(bytes);
    r = invoke(inst, "example:types/resources#blob-size", old_blob);
    assert_int_equal(wp_value_get_uint(r), 4);
    wp_value_free(r);
    wp_pool_release(pool, inst);
  }
  assert_true(most_dead >= 3); /* the store was reused */
  /* A life that trapped takes its store with it. */
  wp_instance *inst;
  assert_ok(wp_pool_take(pool, &inst));
  assert_true(inst->dead_in_store > 0);
  wp_value *r = NULL;
  assert_error(wp_instance_invoke(inst, "crash", NULL, 0, &r), WP_ERR_TRAP, "");
  wp_pool_release(pool, inst);
  assert_ok(wp_pool_take(pool, &inst));
  assert_int_equal(inst->dead_in_store, 0);
  wp_value_free(invoke(inst, "nop", NULL));
  wp_pool_release(pool, inst);
  wp_value_free(old_host);
  wp_value_free(old_blob);
  wp_pool_free(pool);
  assert_int_equal(g_counter_drops, 20);
  assert_int_equal(atomic_load(&e->retained_dead), 0);
  wp_plugin_free(p);
  wp_engine_free(e);
}

static void use_nop(wp_instance *inst) { wp_value_free(invoke(inst, "nop", NULL)); }

/* Dead component instances (their core instances, memory and tables) give
   their slots back to live ones, as core modules' do. */
WP_TEST(test_component_dead_take_no_live_slot) {
  if (!have_types()) skip();
  wp_engine *e = adv_engine(14, 0);
  dead_take_no_live_slot(e, load_types(e), use_nop);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fresh_in_reused_store),
      cmocka_unit_test(test_not_kept),
      cmocka_unit_test(test_dead_instances_take_no_live_slot),
      cmocka_unit_test(test_engine_budget),
      cmocka_unit_test(test_component_in_reused_store),
      cmocka_unit_test(test_component_dead_take_no_live_slot),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
