/*
 * test_types.c - round trips of every WIT type through the C types component
 * (examples/types, built from source), host imports of every type, and the
 * lifecycle of host and guest resources.
 */
#include <unistd.h>

#include "helpers.h"

#define TYPES WP_PLUGINS "/types-c-component.wasm"

/* ---- the host side of example:types/host -------------------------------------- */

typedef struct counter {
  uint32_t value;
} counter;

static int g_drops, g_round_trips;
static const wp_resource_type *g_counter;
static wp_value *g_last_round_trip;

/* The counter type's user data: drop receives it; the engine frees it. */
static int g_counter_type_tag, g_counter_type_frees;

static void counter_type_free(void *user_data) {
  assert_ptr_equal(user_data, &g_counter_type_tag);
  g_counter_type_frees++;
}

static void counter_drop(void *object, void *user_data) {
  assert_ptr_equal(user_data, &g_counter_type_tag);
  g_drops++;
  free(object);
}

static wp_error *counter_new(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *ud) {
  (void)ud;
  assert_int_equal(nargs, 1);
  counter *c = malloc(sizeof *c);
  c->value = (uint32_t)wp_value_get_uint(args[0]);
  *result = wp_value_new_resource(wp_host_call_get_instance(call), g_counter, c);
  return NULL;
}

static wp_error *counter_increment(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                   wp_value **result, void *ud) {
  (void)ud;
  assert_int_equal(nargs, 1);
  void *obj = NULL;
  wp_error *err = wp_value_get_resource(args[0], wp_host_call_get_instance(call), g_counter, &obj);
  if (err) return err;
  counter *c = obj;
  *result = wp_value_new_u32(++c->value);
  return NULL;
}

static wp_error *round_trip(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *ud) {
  (void)call;
  (void)ud;
  assert_int_equal(nargs, 1);
  g_round_trips++;
  wp_value_free(g_last_round_trip);
  g_last_round_trip = wp_value_clone(args[0]);
  *result = wp_value_clone(args[0]);
  return NULL;
}

static char g_log[256];
static void on_log(void *ud, wp_log_level level, const char *plugin, const char *msg, size_t len) {
  (void)ud;
  (void)plugin;
  snprintf(g_log, sizeof g_log, "%s:%.*s", wp_log_level_name(level), (int)len, msg);
}

static wp_engine *types_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 8);
  wp_engine_config_set_log(cfg, on_log, NULL);
  test_isolation(cfg);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  const char *h = "example:types/host";
  assert_ok(wp_engine_define_resource(e, h, "counter", counter_drop, &g_counter_type_tag,
                                      counter_type_free, &g_counter));
  assert_ok(wp_engine_define_component_func(e, h, "[constructor]counter", counter_new, NULL, NULL));
  assert_ok(wp_engine_define_component_func(e, h, "[method]counter.increment", counter_increment,
                                            NULL, NULL));
  assert_ok(wp_engine_define_component_func(e, h, "round-trip", round_trip, NULL, NULL));
  return e;
}

static bool have_types(void) {
  if (access(TYPES, R_OK) == 0) return true;
  print_message("SKIP: %s was not built (WASMPLUG_GUESTS off or the guest toolchain missing)\n",
                TYPES);
  return false;
}

/* ---- values -------------------------------------------------------------------- */

static wp_value *point(int32_t x, int32_t y) {
  return wp_value_new_record((const char *[]){"x", "y"},
                             (wp_value *[]){wp_value_new_s32(x), wp_value_new_s32(y)}, 2);
}

static wp_value *strings(const char *a, const char *b) {
  return wp_value_new_list((wp_value *[]){wp_value_new_string(a), wp_value_new_string(b)}, 2);
}

static wp_value *everything(void) {
  const char *names[] = {"b",     "v-s8",  "v-u8",  "v-s16", "v-u16", "v-s32", "v-u32", "v-s64",
                         "v-u64", "v-f32", "v-f64", "c",     "s",     "l",     "bytes", "p",
                         "t",     "sh",    "col",   "o",     "r",     "f",     "nested"};
  wp_value *fields[] = {
      wp_value_new_bool(true),
      wp_value_new_s8(-128),
      wp_value_new_u8(255),
      wp_value_new_s16(-32768),
      wp_value_new_u16(65535),
      wp_value_new_s32(INT32_MIN),
      wp_value_new_u32(UINT32_MAX),
      wp_value_new_s64(INT64_MIN),
      wp_value_new_u64(UINT64_MAX),
      wp_value_new_f32(1.5f),
      wp_value_new_f64(-2.25e300),
      wp_value_new_char(0x1F600),
      wp_value_new_string("h\xc3\xa9llo"),
      strings("a", ""),
      wp_value_new_bytes("\0\1\2\xff", 4),
      point(-3, 4),
      wp_value_new_tuple((wp_value *[]){wp_value_new_u32(7), wp_value_new_string("seven")}, 2),
      wp_value_new_variant("rect", point(1, 2)),
      wp_value_new_enum("blue"),
      wp_value_new_some(point(5, 6)),
      wp_value_new_err(wp_value_new_enum("green")),
      wp_value_new_flags((const char *[]){"read", "exec"}, 2),
      wp_value_new_list(
          (wp_value *[]){wp_value_new_none(),
                         wp_value_new_some(wp_value_new_ok(wp_value_new_variant("empty", NULL))),
                         wp_value_new_some(wp_value_new_err(wp_value_new_string("bad")))},
          3),
  };
  return wp_value_new_record(names, fields, 23);
}

/* Calls `fn` with `v` (taken) and checks the result equals it. */
static void echo(wp_instance *inst, const char *fn, wp_value *v) {
  char name[128];
  snprintf(name, sizeof name, "example:types/echo#%s", fn);
  assert_non_null(v);
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, name, (const wp_value *const *)&v, 1, &r));
  if (!wp_value_equal(v, r)) {
    char *a = wp_value_to_wave(v), *b = wp_value_to_wave(r);
    print_error("%s: sent %s, got back %s\n", fn, a, b);
    wp_free(a);
    wp_free(b);
    fail();
  }
  wp_value_free(r);
  wp_value_free(v);
}

WP_TEST(test_round_trip_every_type) {
  if (!have_types()) skip();
  wp_engine *e = types_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, TYPES, NULL, &p));
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  echo(inst, "echo-bool", wp_value_new_bool(true));
  echo(inst, "echo-s8", wp_value_new_s8(-100));
  echo(inst, "echo-u8", wp_value_new_u8(200));
  echo(inst, "echo-s16", wp_value_new_s16(-30000));
  echo(inst, "echo-u16", wp_value_new_u16(60000));
  echo(inst, "echo-s32", wp_value_new_s32(-2000000000));
  echo(inst, "echo-u32", wp_value_new_u32(4000000000u));
  echo(inst, "echo-s64", wp_value_new_s64(INT64_MIN));
  echo(inst, "echo-u64", wp_value_new_u64(UINT64_MAX));
  echo(inst, "echo-f32", wp_value_new_f32(3.25f));
  echo(inst, "echo-f64", wp_value_new_f64(-1e-300));
  echo(inst, "echo-char", wp_value_new_char(0x10FFFF));
  echo(inst, "echo-string", wp_value_new_string("grüße 👋"));
  echo(inst, "echo-string", wp_value_new_string(""));
  echo(inst, "echo-bytes", wp_value_new_bytes("\0\1\2\3\xfe\xff", 6));
  echo(inst, "echo-list",
       wp_value_new_list(
           (wp_value *[]){wp_value_new_u32(1), wp_value_new_u32(2), wp_value_new_u32(3)}, 3));
  echo(inst, "echo-list", wp_value_new_list(NULL, 0));
  echo(inst, "echo-strings", strings("one", "two"));
  echo(inst, "echo-point", point(-7, 9));
  const char *ln[] = {"text", "at", "tags", "scale"};
  echo(inst, "echo-label",
       wp_value_new_record(ln,
                           (wp_value *[]){wp_value_new_string("hi"), point(1, 1), strings("x", "y"),
                                          wp_value_new_some(wp_value_new_f64(0.5))},
                           4));
  echo(inst, "echo-tuple",
       wp_value_new_tuple(
           (wp_value *[]){wp_value_new_u8(1), wp_value_new_string("two"), wp_value_new_f64(3.0)},
           3));
  echo(inst, "echo-shape", wp_value_new_variant("circle", wp_value_new_f64(2.5)));
  echo(inst, "echo-shape", wp_value_new_variant("empty", NULL));
  echo(inst, "echo-shapes",
       wp_value_new_list((wp_value *[]){wp_value_new_variant("rect", point(3, 4)),
                                        wp_value_new_variant("empty", NULL),
                                        wp_value_new_variant("circle", wp_value_new_f64(1))},
                         3));
  echo(inst, "echo-color", wp_value_new_enum("green"));
  echo(inst, "echo-option", wp_value_new_some(wp_value_new_string("x")));
  echo(inst, "echo-option", wp_value_new_none());
  echo(inst, "echo-result", wp_value_new_ok(wp_value_new_u32(5)));
  echo(inst, "echo-result", wp_value_new_err(wp_value_new_string("nope")));
  echo(inst, "echo-option-result", wp_value_new_some(wp_value_new_ok(wp_value_new_string("fine"))));
  echo(inst, "echo-option-result", wp_value_new_some(wp_value_new_err(wp_value_new_enum("red"))));
  echo(inst, "echo-option-result", wp_value_new_none());
  echo(inst, "echo-flags", wp_value_new_flags((const char *[]){"read", "write", "exec"}, 3));
  echo(inst, "echo-flags", wp_value_new_flags(NULL, 0));
  echo(inst, "echo-everything", everything());

  /* several parameters */
  wp_value *args[3] = {wp_value_new_u8(9), wp_value_new_string("nine"),
                       wp_value_new_list((wp_value *[]){point(9, 9)}, 1)};
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, "example:types/echo#echo-many", (const wp_value *const *)args,
                               3, &r));
  wp_value *want = wp_value_new_tuple(args, 3);
  assert_true(wp_value_equal(r, want));
  wp_value_free(want);
  wp_value_free(r);

  /* type errors deep inside a value say where */
  wp_value *bad = wp_value_new_variant("rect", wp_value_new_string("no"));
  assert_error(wp_instance_invoke(inst, "example:types/echo#echo-shape",
                                  (const wp_value *const *)&bad, 1, &r),
               WP_ERR_BAD_INPUT, "at (rect): expected record");
  wp_value_free(bad);
  bad = wp_value_new_enum("purple");
  assert_error(wp_instance_invoke(inst, "example:types/echo#echo-color",
                                  (const wp_value *const *)&bad, 1, &r),
               WP_ERR_BAD_INPUT, "unknown case 'purple'");
  wp_value_free(bad);
  bad = wp_value_new_char(0xD800);
  assert_error(wp_instance_invoke(inst, "example:types/echo#echo-char",
                                  (const wp_value *const *)&bad, 1, &r),
               WP_ERR_BAD_INPUT, "not a Unicode scalar value");
  wp_value_free(bad);
  echo(inst, "echo-u8", wp_value_new_u8(1)); /* still fine */
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_host_imports_every_type) {
  if (!have_types()) skip();
  wp_engine *e = types_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, TYPES, NULL, &p));
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *all = everything(), *r = NULL;
  g_round_trips = 0;
  assert_ok(wp_instance_invoke(inst, "call-host", (const wp_value *const *)&all, 1, &r));
  assert_int_equal(g_round_trips, 1);
  assert_true(wp_value_equal(g_last_round_trip, all)); /* what the host received */
  assert_true(wp_value_equal(r, all));                 /* what came back through the guest */
  wp_value_free(r);
  wp_value_free(all);
  wp_value_free(g_last_round_trip);
  g_last_round_trip = NULL;
  /* the wasmplug:plugin/host built-in log */
  wp_value *msg = wp_value_new_string("from the guest");
  assert_ok(wp_instance_invoke(inst, "say", (const wp_value *const *)&msg, 1, NULL));
  assert_string_equal(g_log, "info:from the guest");
  wp_value_free(msg);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

static uint32_t call_u32(wp_instance *inst, const char *fn, wp_value **args, size_t n) {
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, fn, (const wp_value *const *)args, n, &r));
  assert_non_null(r);
  uint32_t v = (uint32_t)wp_value_get_uint(r);
  wp_value_free(r);
  return v;
}

/* Invokes `fn` with `args`, expecting WP_ERR_BAD_INPUT. */
static void refused(wp_instance *inst, const char *fn, wp_value **args, size_t n) {
  wp_value *r = NULL;
  assert_error(wp_instance_invoke(inst, fn, (const wp_value *const *)args, n, &r), WP_ERR_BAD_INPUT,
               "");
  assert_null(r);
}

/* A resource handle is an index into its instance's tables: another instance,
   or the same one reset, or a pool's next fresh instance (perhaps built in
   the same store), must refuse it rather than reach some other object. */
WP_TEST(test_resource_handles_stay_with_their_instance) {
  if (!have_types()) skip();
  wp_engine *e = types_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, TYPES, NULL, &p));
  wp_instance *a, *b;
  assert_ok(wp_instance_new(p, &a));
  assert_ok(wp_instance_new(p, &b));
  counter *ca = malloc(sizeof *ca), *cb = malloc(sizeof *cb);
  ca->value = 10;
  cb->value = 20;
  wp_value *ha = wp_value_new_resource(a, g_counter, ca);
  wp_value *hb = wp_value_new_resource(b, g_counter, cb);
  assert_non_null(ha);
  assert_non_null(hb);
  refused(b, "example:types/resources#bump", &ha, 1);
  refused(a, "example:types/resources#bump", &hb, 1);
  void *obj = NULL;
  assert_error(wp_value_get_resource(ha, b, g_counter, &obj), WP_ERR_BAD_INPUT, "");
  assert_null(obj);
  assert_int_equal(ca->value, 10); /* neither counter was touched */
  assert_int_equal(cb->value, 20);
  /* each works where it belongs */
  assert_int_equal(call_u32(a, "example:types/resources#bump", &ha, 1), 11);
  assert_int_equal(call_u32(b, "example:types/resources#bump", &hb, 1), 21);
  /* a guest resource too */
  wp_value *bytes = wp_value_new_bytes("abc", 3), *blob = NULL;
  assert_ok(wp_instance_invoke(a, "example:types/resources#[constructor]blob",
                               (const wp_value *const *)&bytes, 1, &blob));
  refused(b, "example:types/resources#blob-size", &blob, 1);
  assert_error(wp_instance_drop_resource(b, blob), WP_ERR_BAD_INPUT, "");
  assert_int_equal(call_u32(a, "example:types/resources#blob-size", &blob, 1), 3);
  /* after a reset, a's old handles are refused as well */
  assert_ok(wp_instance_reset(a));
  refused(a, "example:types/resources#bump", &ha, 1);
  refused(a, "example:types/resources#blob-size", &blob, 1);
  assert_error(wp_instance_drop_resource(a, blob), WP_ERR_BAD_INPUT, "");
  assert_error(wp_value_get_resource(ha, a, g_counter, &obj), WP_ERR_BAD_INPUT, "");
  wp_value_free(ha);
  wp_value_free(blob);
  wp_value_free(hb);
  wp_value_free(bytes);
  wp_instance_free(a);
  wp_instance_free(b);

  /* A pool of fresh instances: each take is a new instance whose handles
     the next one refuses, whatever store it is built in (internals:
     tests/adversarial/test_store_reuse.c). */
  wp_pool *pool;
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  wp_value *old = NULL;
  for (int round = 0; round < 20; round++) {
    wp_instance *inst;
    assert_ok(wp_pool_take(pool, &inst));
    if (old) refused(inst, "example:types/resources#bump", &old, 1);
    wp_value_free(old);
    counter *c = malloc(sizeof *c);
    c->value = (uint32_t)round;
    old = wp_value_new_resource(inst, g_counter, c);
    assert_int_equal(call_u32(inst, "example:types/resources#bump", &old, 1), round + 1);
    wp_pool_release(pool, inst);
  }
  wp_value_free(old);
  wp_pool_free(pool);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_resources) {
  if (!have_types()) skip();
  wp_engine *e = types_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, TYPES, NULL, &p));
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  /* the guest makes, uses and drops a host counter: the drop callback runs once */
  g_drops = 0;
  wp_value *a[2] = {wp_value_new_u32(5), wp_value_new_u32(3)};
  assert_int_equal(call_u32(inst, "example:types/resources#count-with-host", a, 2), 8);
  assert_int_equal(g_drops, 1);
  wp_value_free(a[0]);
  wp_value_free(a[1]);
  /* the host lends a counter (borrow): no drop */
  counter *c = malloc(sizeof *c);
  c->value = 41;
  wp_value *h = wp_value_new_resource(inst, g_counter, c);
  assert_non_null(h);
  assert_int_equal(call_u32(inst, "example:types/resources#bump", &h, 1), 42);
  assert_int_equal(call_u32(inst, "example:types/resources#bump", &h, 1), 43);
  assert_int_equal(g_drops, 1);
  void *obj = NULL;
  assert_ok(wp_value_get_resource(h, inst, g_counter, &obj));
  assert_ptr_equal(obj, c);
  wp_value_free(h); /* forgets the handle; the object stays the instance's */
  /* the host gives a counter away (own): the guest drops it, the callback runs once */
  c = malloc(sizeof *c);
  c->value = 43;
  h = wp_value_new_resource(inst, g_counter, c);
  assert_int_equal(call_u32(inst, "example:types/resources#consume", &h, 1), 44);
  assert_int_equal(g_drops, 2);
  assert_error(wp_value_get_resource(h, inst, g_counter, &obj), WP_ERR_BAD_INPUT, "");
  wp_value_free(h);
  /* a guest resource: construct, borrow, call a method, drop */
  wp_value *bytes = wp_value_new_bytes("abcde", 5), *blob = NULL;
  assert_ok(wp_instance_invoke(inst, "example:types/resources#[constructor]blob",
                               (const wp_value *const *)&bytes, 1, &blob));
  assert_int_equal(wp_value_get_kind(blob), WP_TYPE_OWN);
  assert_int_equal(call_u32(inst, "example:types/resources#[method]blob.size", &blob, 1), 5);
  wp_value *more[2] = {blob, wp_value_new_bytes("fg", 2)};
  assert_ok(wp_instance_invoke(inst, "example:types/resources#[method]blob.append",
                               (const wp_value *const *)more, 2, NULL));
  assert_int_equal(call_u32(inst, "example:types/resources#blob-size", &blob, 1), 7);
  assert_ok(wp_instance_drop_resource(inst, blob));
  assert_error(wp_instance_invoke(inst, "example:types/resources#blob-size",
                                  (const wp_value *const *)&blob, 1, NULL),
               WP_ERR_BAD_INPUT, "already dropped");
  assert_error(wp_instance_drop_resource(inst, blob), WP_ERR_BAD_INPUT, "not a live owning handle");
  wp_value_free(blob);
  wp_value_free(more[1]);
  wp_value_free(bytes);
  /* a host object the plugin never dropped goes when the instance does, once */
  c = malloc(sizeof *c);
  c->value = 0;
  h = wp_value_new_resource(inst, g_counter, c);
  assert_int_equal(call_u32(inst, "example:types/resources#bump", &h, 1), 1);
  wp_value_free(h);
  assert_int_equal(g_drops, 2);
  wp_instance_free(inst); /* the first and the last counter: the plugin never dropped them */
  assert_int_equal(g_drops, 4);
  wp_plugin_free(p);
  int frees = g_counter_type_frees;
  wp_engine_free(e);
  assert_int_equal(g_counter_type_frees, frees + 1); /* the type's user data, once */
}

/* A list<u8> is one buffer inside a value, whichever way it was made; every
   accessor still sees its items, and it crosses a call as one copy. */
WP_TEST(test_bytes_values) {
  if (!have_types()) skip();
  wp_engine *e = types_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, TYPES, NULL, &p));
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  enum { N = 64 * 1024 };
  uint8_t *buf = malloc(N);
  for (size_t i = 0; i < N; i++) buf[i] = (uint8_t)(i * 7 + 3);
  wp_value *v = wp_value_new_bytes(buf, N), *r = NULL;
  assert_ok(wp_instance_invoke(inst, "example:types/echo#echo-bytes", (const wp_value *const *)&v,
                               1, &r));
  size_t len = 0;
  const uint8_t *got = wp_value_get_bytes(r, &len);
  assert_non_null(got);
  assert_int_equal(len, N);
  assert_memory_equal(got, buf, N);
  assert_int_equal(wp_value_get_count(r), N);
  assert_int_equal(wp_value_get_kind(wp_value_get_item(r, 5)), WP_TYPE_U8);
  assert_int_equal(wp_value_get_uint(wp_value_get_item(r, 5)), 38);
  assert_int_equal(wp_value_get_uint(wp_value_get_item(r, N - 1)), buf[N - 1]);
  assert_null(wp_value_get_item(r, N));
  assert_null(wp_value_get_name(r, 0));
  assert_true(wp_value_equal(r, v));
  wp_value *c = wp_value_clone(r);
  assert_true(wp_value_equal(c, v));
  wp_value_free(c);
  wp_value_free(r);
  /* without a result */
  assert_ok(wp_instance_invoke(inst, "example:types/echo#echo-bytes", (const wp_value *const *)&v,
                               1, NULL));
  wp_value_free(v);
  free(buf);
  /* a list of u8 values is held the same way */
  v = wp_value_new_list((wp_value *[]){wp_value_new_u8(1), wp_value_new_u8(255)}, 2);
  got = wp_value_get_bytes(v, &len);
  assert_non_null(got);
  assert_int_equal(len, 2);
  assert_int_equal(got[1], 255);
  wp_value *b = wp_value_new_bytes("\1\377", 2);
  assert_true(wp_value_equal(v, b));
  char *wave = wp_value_to_wave(v);
  assert_string_equal(wave, "[1, 255]");
  wp_free(wave);
  /* the type check still names the first item that does not fit */
  assert_error(wp_instance_invoke(inst, "example:types/echo#echo-list", (const wp_value *const *)&v,
                                  1, NULL),
               WP_ERR_BAD_INPUT, "at [0]: expected u32, got u8");
  wp_value_free(v);
  wp_value_free(b);
  v = wp_value_new_list(
      (wp_value *[]){wp_value_new_u32(1), wp_value_new_u32(2), wp_value_new_string("x")}, 3);
  assert_null(wp_value_get_bytes(v, &len));
  assert_int_equal(len, 0);
  assert_error(wp_instance_invoke(inst, "example:types/echo#echo-list", (const wp_value *const *)&v,
                                  1, NULL),
               WP_ERR_BAD_INPUT, "at [2]: expected u32, got string");
  wp_value_free(v);
  /* empty lists, and values that are not lists */
  v = wp_value_new_bytes(NULL, 0);
  assert_non_null(wp_value_get_bytes(v, &len));
  assert_int_equal(len, 0);
  assert_ok(wp_instance_invoke(inst, "example:types/echo#echo-bytes", (const wp_value *const *)&v,
                               1, &r));
  assert_int_equal(wp_value_get_count(r), 0);
  assert_non_null(wp_value_get_bytes(r, &len));
  wp_value_free(r);
  wp_value_free(v);
  v = wp_value_new_string("abc");
  assert_null(wp_value_get_bytes(v, &len));
  wp_value_free(v);
  /* func() takes the typed path too */
  assert_ok(wp_instance_invoke(inst, "nop", NULL, 0, &r));
  assert_null(r);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_limits_in_components) {
  if (!have_types()) skip();
  wp_engine *e = types_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_max_memory(m, 16u << 20);
  wp_manifest_set_fuel(m, 2000000);
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, TYPES, m, &p));
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *r = NULL;
  /* a memory bomb stops at the limit; the host is unharmed */
  wp_value *mib = wp_value_new_u32(1024);
  wp_error *err = wp_instance_invoke(inst, "hog", (const wp_value *const *)&mib, 1, &r);
  if (!err) {
    assert_true(wp_value_get_uint(r) < 16);
    wp_value_free(r);
  } else {
    wp_error_free(err);
  }
  assert_true(wp_instance_get_memory_size(inst) <= (16u << 20));
  wp_value_free(mib);
  assert_ok(wp_instance_reset(inst));
  /* a runaway loop runs out of fuel */
  wp_value *forever = wp_value_new_u64(UINT64_MAX);
  assert_error(wp_instance_invoke(inst, "spin", (const wp_value *const *)&forever, 1, &r),
               WP_ERR_FUEL, "fuel");
  wp_value_free(forever);
  assert_ok(wp_instance_reset(inst));
  /* a trap, with the plugin named */
  err = wp_instance_invoke(inst, "crash", NULL, 0, NULL);
  assert_non_null(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_TRAP);
  wp_error_free(err);
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_invoke(inst, "nop", NULL, 0, NULL));
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_every_type),
      cmocka_unit_test(test_host_imports_every_type),
      cmocka_unit_test(test_resources),
      cmocka_unit_test(test_resource_handles_stay_with_their_instance),
      cmocka_unit_test(test_bytes_values),
      cmocka_unit_test(test_limits_in_components),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
