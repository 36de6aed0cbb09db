/*
 * test_capability.c - the capability framework (wasmplug/capability.h): a
 * capability registered by the test grants from the manifest's
 * "capabilities" section; its host function reads the grant of the calling
 * plugin; refused and unknown sections fail the load; grants are freed with
 * their plugin and capabilities with their engine.
 */
#include <cjson/cJSON.h>

#include "helpers.h"

/* The test capability "demo": its section is {"level": N}; the grant is N. */
typedef struct demo {
  int grants_made, grants_freed, freed;
} demo;

static demo the_demo;
static const wp_capability *demo_cap;

static wp_error *demo_grant(void *data, const char *plugin, const char *section, size_t len,
                            void **grant) {
  demo *d = data;
  *grant = NULL;
  if (!section) return NULL; /* nothing granted */
  assert_int_equal(strlen(section), len);
  cJSON *doc = cJSON_Parse(section);
  const cJSON *level = cJSON_GetObjectItemCaseSensitive(doc, "level");
  if (!cJSON_IsNumber(level)) {
    cJSON_Delete(doc);
    return wp_error_new(WP_ERR_BAD_INPUT, "plugin '%s': 'level' must be a number", plugin);
  }
  int *g = malloc(sizeof *g);
  assert_non_null(g);
  *g = level->valueint;
  cJSON_Delete(doc);
  d->grants_made++;
  *grant = g;
  return NULL;
}

static void demo_grant_free(void *data, void *grant) {
  ((demo *)data)->grants_freed++;
  free(grant);
}

static void demo_free(void *data) { ((demo *)data)->freed++; }

static const wp_capability_methods demo_methods = {
    .name = "demo", .grant = demo_grant, .grant_free = demo_grant_free, .free = demo_free};

/* demo.level() -> i32: the caller's grant, or -1 when it has none. */
static wp_error *h_level(wp_host_call *c, const wp_val *a, size_t na, wp_val *r, size_t nr,
                         void *ud) {
  (void)a;
  (void)na;
  (void)nr;
  (void)ud;
  const wp_plugin *p = wp_instance_get_plugin(wp_host_call_get_instance(c));
  const int *g = wp_plugin_get_grant(p, demo_cap);
  r[0] = WP_VAL_I32(g ? *g : -1);
  return NULL;
}

static const char WAT[] = "(module (import \"demo\" \"level\" (func $l (result i32)))"
                          " (func (export \"run\") (result i32) call $l))";

static wp_engine *demo_engine(void) {
  wp_engine *e = test_engine();
  the_demo = (demo){0};
  assert_ok(wp_engine_add_capability(e, &demo_methods, &the_demo, &demo_cap));
  wp_valkind i32 = WP_I32;
  assert_ok(wp_engine_define_func(e, "demo", "level", NULL, 0, &i32, 1, h_level, NULL, NULL));
  return e;
}

static wp_error *load(wp_engine *e, const char *manifest_json, wp_plugin **out) {
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(manifest_json, strlen(manifest_json), NULL, &m);
  if (!err) err = wp_plugin_load_bytes(e, "demo.wat", WAT, sizeof WAT - 1, m, out);
  wp_manifest_free(m);
  return err;
}

static int32_t run(wp_plugin *p) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  wp_val r;
  assert_ok(wp_instance_call(inst, "run", NULL, 0, &r, 1));
  wp_instance_free(inst);
  return r.of.i32;
}

WP_TEST(test_granted_and_not) {
  wp_engine *e = demo_engine();
  wp_plugin *granted = NULL, *plain = NULL;
  assert_ok(load(e, "{\"capabilities\": {\"demo\": {\"level\": 7}}}", &granted));
  assert_ok(load(e, "{}", &plain));
  assert_int_equal(run(granted), 7);
  assert_int_equal(run(plain), -1); /* no section: nothing granted */
  assert_int_equal(the_demo.grants_made, 1);
  wp_plugin_free(granted);
  assert_int_equal(the_demo.grants_freed, 1);
  wp_plugin_free(plain);
  assert_int_equal(the_demo.grants_freed, 1); /* a NULL grant is not freed */
  assert_int_equal(the_demo.freed, 0);
  wp_engine_free(e);
  assert_int_equal(the_demo.freed, 1);
}

WP_TEST(test_refused_and_unknown_sections) {
  wp_engine *e = demo_engine();
  wp_plugin *p = NULL;
  /* The capability refuses its section: the load fails and says where. */
  assert_error(
      load(e, "{\"name\": \"x\", \"capabilities\": {\"demo\": {\"level\": \"high\"}}}", &p),
      WP_ERR_BAD_INPUT, "plugin 'x': capabilities.demo: plugin 'x': 'level' must be");
  /* A section no capability of the engine claims. */
  assert_error(load(e, "{\"name\": \"y\", \"capabilities\": {\"nope\": {}}}", &p), WP_ERR_BAD_INPUT,
               "grants capability 'nope', which this engine does not have");
  assert_error(load(e, "{\"capabilities\": {\"nope\": {}}}", &p), WP_ERR_BAD_INPUT, "demo");
  /* The manifest itself: an object of capability names. */
  assert_error(load(e, "{\"capabilities\": [1]}", &p), WP_ERR_BAD_INPUT, "capabilities");
  assert_error(load(e, "{\"capabilities\": {\"Bad Name\": {}}}", &p), WP_ERR_BAD_INPUT,
               "is not a capability name");
  assert_error(load(e, "{\"capabilities\": {\"demo\": {}, \"demo\": {}}}", &p), WP_ERR_BAD_INPUT,
               "duplicate field 'capabilities.demo'");
  assert_null(p);
  assert_int_equal(the_demo.grants_made, 0);
  wp_engine_free(e);
}

WP_TEST(test_registration) {
  wp_engine *e = demo_engine();
  assert_ptr_equal(wp_engine_get_capability(e, "demo"), demo_cap);
  assert_ptr_equal(wp_capability_get_data(demo_cap), &the_demo);
  assert_null(wp_engine_get_capability(e, "nope"));
  assert_error(wp_engine_add_capability(e, &demo_methods, NULL, NULL), WP_ERR_BAD_INPUT,
               "capability 'demo' is already registered");
  static const wp_capability_methods bad = {.name = "Bad", .grant = demo_grant};
  assert_error(wp_engine_add_capability(e, &bad, NULL, NULL), WP_ERR_BAD_INPUT,
               "is not a capability name");
  static const wp_capability_methods no_grant = {.name = "other"};
  assert_error(wp_engine_add_capability(e, &no_grant, NULL, NULL), WP_ERR_BAD_INPUT,
               "methods->grant are required");
  /* A capability registered after a plugin loaded grants it nothing. */
  wp_plugin *p = NULL;
  assert_ok(load(e, "{\"capabilities\": {\"demo\": {\"level\": 1}}}", &p));
  static const wp_capability_methods late = {.name = "late", .grant = demo_grant};
  const wp_capability *late_cap = NULL;
  assert_ok(wp_engine_add_capability(e, &late, &the_demo, &late_cap));
  assert_null(wp_plugin_get_grant(p, late_cap));
  assert_non_null(wp_plugin_get_grant(p, demo_cap));
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_manifest_sections) {
  wp_manifest *m = wp_manifest_new();
  assert_int_equal(wp_manifest_capability_count(m), 0);
  assert_ok(wp_manifest_set_capability(m, "b", "{ \"x\" : [1, 2] }"));
  assert_ok(wp_manifest_set_capability(m, "a", "true"));
  assert_int_equal(wp_manifest_capability_count(m), 2);
  assert_string_equal(wp_manifest_capability_name(m, 0), "b");
  assert_string_equal(wp_manifest_get_capability(m, "b"), "{\"x\":[1,2]}"); /* compact */
  assert_string_equal(wp_manifest_get_capability(m, "a"), "true");
  assert_null(wp_manifest_get_capability(m, "c"));
  assert_ok(wp_manifest_set_capability(m, "b", "{}")); /* replaced */
  assert_string_equal(wp_manifest_get_capability(m, "b"), "{}");
  assert_error(wp_manifest_set_capability(m, "c", "{nope"), WP_ERR_BAD_INPUT, "not valid JSON");
  assert_error(wp_manifest_set_capability(m, "C", "{}"), WP_ERR_BAD_INPUT,
               "is not valid (lower-case");
  assert_ok(wp_manifest_set_capability(m, "b", NULL)); /* removed */
  assert_int_equal(wp_manifest_capability_count(m), 1);
  assert_string_equal(wp_manifest_capability_name(m, 0), "a");
  assert_string_equal(wp_manifest_get_capability(m, "a"), "true");
  assert_null(wp_manifest_get_capability(m, "b"));
  assert_ok(wp_manifest_set_capability(m, "zz", NULL)); /* removing what is not there */
  /* Sections survive the copy a plugin takes. */
  wp_engine *e = demo_engine();
  assert_ok(wp_manifest_set_capability(m, "demo", "{\"level\": 3}"));
  assert_ok(wp_manifest_set_capability(m, "a", NULL));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load_bytes(e, "demo.wat", WAT, sizeof WAT - 1, m, &p));
  wp_manifest_free(m);
  assert_int_equal(run(p), 3);
  wp_plugin_free(p);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_granted_and_not),
      cmocka_unit_test(test_refused_and_unknown_sections),
      cmocka_unit_test(test_registration),
      cmocka_unit_test(test_manifest_sections),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
