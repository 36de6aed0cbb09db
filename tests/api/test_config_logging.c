/*
 * test_config_logging.c - the config and logging capabilities
 * (src/host/config, src/host/logging): wasi:config/store answers from the
 * manifest's config, wasi:logging/logging reaches the engine's log callback
 * with the level and context, and capabilities.logging.level filters it.
 * Through a hand-written component (fixtures/config_logging.wat).
 */
#include "helpers.h"

typedef struct logged {
  int n;
  wp_log_level level;
  char plugin[64];
  char msg[256];
} logged;

static void on_log(void *user, wp_log_level level, const char *plugin, const char *msg,
                   size_t len) {
  logged *l = user;
  l->n++;
  l->level = level;
  snprintf(l->plugin, sizeof l->plugin, "%s", plugin);
  snprintf(l->msg, sizeof l->msg, "%.*s", (int)len, msg);
}

static wp_engine *engine_logging_to(logged *l) {
  wp_engine_config *cfg = wp_engine_config_new();
  test_isolation(cfg); /* WASMPLUG_TEST_ISOLATION=process: the _process run */
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 16);
  wp_engine_config_set_log(cfg, on_log, l);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

static wp_error *load(wp_engine *e, const char *manifest_json, wp_plugin **out) {
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(manifest_json, strlen(manifest_json), NULL, &m);
  if (!err) err = wp_plugin_load(e, fixture("config_logging.wat"), m, out);
  wp_manifest_free(m);
  return err;
}

/* Calls a string -> string export; returns a malloc'd copy of the result. */
static char *call_str(wp_instance *inst, const char *fn, const char *arg) {
  wp_value *a = arg ? wp_value_new_string(arg) : NULL;
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, fn, (const wp_value *const *)&a, arg ? 1 : 0, &r));
  size_t len;
  const char *s = wp_value_get_string(r, &len);
  assert_non_null(s);
  char *copy = strndup(s, len);
  wp_value_free(a);
  wp_value_free(r);
  return copy;
}

static void call_log(wp_instance *inst, uint32_t level, const char *context, const char *msg) {
  wp_value *args[3] = {wp_value_new_u32(level), wp_value_new_string(context),
                       wp_value_new_string(msg)};
  assert_ok(wp_instance_invoke(inst, "log", (const wp_value *const *)args, 3, NULL));
  for (int i = 0; i < 3; i++) wp_value_free(args[i]);
}

WP_TEST(test_config_store) {
  logged l = {0};
  wp_engine *e = engine_logging_to(&l);
  wp_plugin *p = NULL;
  assert_ok(load(e, "{\"config\": {\"greeting\": \"hello\", \"n\": \"3\"}}", &p));
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  char *v = call_str(inst, "config-get", "greeting");
  assert_string_equal(v, "hello");
  free(v);
  v = call_str(inst, "config-get", "nope");
  assert_string_equal(v, "<none>");
  free(v);
  v = call_str(inst, "config-get", "");
  assert_string_equal(v, "<none>");
  free(v);
  wp_value *r = NULL;
  assert_ok(wp_instance_invoke(inst, "config-count", NULL, 0, &r));
  assert_int_equal(wp_value_get_uint(r), 2);
  wp_value_free(r);
  v = call_str(inst, "config-first-key", NULL);
  assert_string_equal(v, "greeting"); /* in the order the manifest gives */
  free(v);
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* No config at all: nothing, and no error. */
  assert_ok(load(e, "{}", &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_invoke(inst, "config-count", NULL, 0, &r));
  assert_int_equal(wp_value_get_uint(r), 0);
  wp_value_free(r);
  v = call_str(inst, "config-first-key", NULL);
  assert_string_equal(v, "");
  free(v);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_logging) {
  logged l = {0};
  wp_engine *e = engine_logging_to(&l);
  wp_plugin *p = NULL;
  assert_ok(load(e, "{\"name\": \"logger\"}", &p));
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  call_log(inst, 2, "db", "connected");
  assert_int_equal(l.n, 1);
  assert_int_equal(l.level, WP_LOG_INFO);
  assert_string_equal(l.plugin, "logger");
  assert_string_equal(l.msg, "db: connected");
  call_log(inst, 0, "", "no context");
  assert_int_equal(l.n, 2);
  assert_int_equal(l.level, WP_LOG_TRACE);
  assert_string_equal(l.msg, "no context");
  call_log(inst, 5, "", "critical"); /* the engine's levels end at error */
  assert_int_equal(l.level, WP_LOG_ERROR);
  assert_int_equal(l.n, 3);
  /* A level outside the enum is the guest's bug: its call fails, nothing is logged. */
  wp_value *args[3] = {wp_value_new_u32(9), wp_value_new_string(""), wp_value_new_string("x")};
  wp_error *err = wp_instance_invoke(inst, "log", (const wp_value *const *)args, 3, NULL);
  assert_non_null(err);
  wp_error_free(err);
  for (int i = 0; i < 3; i++) wp_value_free(args[i]);
  assert_int_equal(l.n, 3);
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* capabilities.logging.level: below it, nothing reaches the callback. */
  assert_ok(load(e, "{\"capabilities\": {\"logging\": {\"level\": \"warn\"}}}", &p));
  assert_ok(wp_instance_new(p, &inst));
  call_log(inst, 2, "", "info is dropped");
  assert_int_equal(l.n, 3);
  call_log(inst, 3, "", "warn passes");
  assert_int_equal(l.n, 4);
  assert_string_equal(l.msg, "warn passes");
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* The section is checked when the plugin loads. */
  assert_error(load(e, "{\"capabilities\": {\"logging\": {\"level\": \"loud\"}}}", &p),
               WP_ERR_BAD_INPUT, "capabilities.logging.level must be one of");
  assert_error(load(e, "{\"capabilities\": {\"logging\": {\"levle\": \"warn\"}}}", &p),
               WP_ERR_BAD_INPUT, "unknown field 'levle'");
  assert_error(load(e, "{\"capabilities\": {\"logging\": true}}", &p), WP_ERR_BAD_INPUT,
               "capabilities.logging must be an object");
  wp_engine_free(e);
}

/* wp_engine_config_set_log_free: the log's data is released once, when the
   engine is finally destroyed: after its last plugin, not at wp_engine_free. */
static void count_free(void *user) {
  ((logged *)user)->level = (wp_log_level)-1, ((logged *)user)->n += 1000;
}

WP_TEST(test_log_free) {
  logged l = {0};
  wp_engine_config *cfg = wp_engine_config_new();
  test_isolation(cfg);
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_log(cfg, on_log, &l);
  wp_engine_config_set_log_free(cfg, count_free);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  wp_plugin *p = NULL;
  assert_ok(load(e, "{\"name\": \"late\"}", &p));
  wp_engine_free(e); /* the plugin keeps the engine */
  assert_int_equal(l.n, 0);
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  call_log(inst, 3, "", "still logging");
  assert_int_equal(l.n, 1);
  assert_string_equal(l.msg, "still logging");
  wp_instance_free(inst);
  assert_int_equal(l.n, 1);
  wp_plugin_free(p); /* the last reference: the data is released, once */
  assert_int_equal(l.n, 1001);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_store),
      cmocka_unit_test(test_logging),
      cmocka_unit_test(test_log_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
