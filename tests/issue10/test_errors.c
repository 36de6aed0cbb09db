/*
 * test_errors.c - errors that point at the fix (issue 10), library side:
 * a Go program built as a WASI command, a short list of missing component
 * imports, trap mode for components whose interfaces `use` resources of
 * others, the place a timeout was set, and memory refused below the limit.
 */
#include <unistd.h>

#include "helpers.h"

#ifndef WP_ERRORS_FIXTURES
#error "WP_ERRORS_FIXTURES must name tests/issue10/fixtures_errors"
#endif

static const char *errors_fixture(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", WP_ERRORS_FIXTURES, name);
  return buf;
}

static const char *plugin_path(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", WP_PLUGINS, name);
  return buf;
}

static wp_plugin *load_ok(wp_engine *e, const char *path, const wp_manifest *m) {
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, path, m, &p));
  return p;
}

static uint32_t add_u32(wp_instance *inst, uint32_t a, uint32_t b) {
  wp_value *args[2] = {wp_value_new_u32(a), wp_value_new_u32(b)}, *r = NULL;
  assert_ok(wp_instance_invoke(inst, "add", (const wp_value *const *)args, 2, &r));
  assert_non_null(r);
  uint32_t v = (uint32_t)wp_value_get_uint(r);
  wp_value_free(args[0]);
  wp_value_free(args[1]);
  wp_value_free(r);
  return v;
}

/* ---- a Go command ---------------------------------------------------------- */

WP_TEST(test_go_command) {
  wp_engine *e = test_engine();
  wp_plugin *p = load_ok(e, plugin_path("hello-go-command.wasm"), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst)); /* no _initialize: nothing runs yet */
  const uint8_t *out;
  size_t len;
  wp_error *err = wp_instance_call_bytes(inst, "greet", "world", 5, &out, &len);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_TRAP);
  assert_non_null(strstr(msg, "plugin 'hello-go-command.wasm': "));
  assert_non_null(strstr(msg, "is a Go program built as a WASI command (it exports _start and no "
                              "_initialize)"));
  assert_non_null(strstr(msg, "`GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`"));
  wp_error_free(err);
  /* A numeric call of the same export says the same. */
  wp_val args[2] = {WP_VAL_I32(0), WP_VAL_I32(0)}, r;
  assert_ok(wp_instance_reset(inst));
  assert_error(wp_instance_call(inst, "greet", args, 2, &r, 1), WP_ERR_TRAP,
               "'greet' trapped because the plugin is a Go program built as a WASI command");
  wp_instance_free(inst);
  wp_plugin_free(p);
  /* The same program built with -buildmode=c-shared works. */
  p = load_ok(e, plugin_path("hello-go.wasm"), NULL);
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call_bytes(inst, "greet", "world", 5, &out, &len));
  assert_int_equal(len, 13);
  assert_memory_equal(out, "Hello, world!", 13);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- missing component imports ---------------------------------------------- */

WP_TEST(test_missing_imports_short) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  wp_error *err = wp_plugin_load(e, errors_fixture("many_missing.wat"), NULL, &p);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_LINK);
  assert_non_null(
      strstr(msg, "plugin 'many_missing.wat': 13 imports are not provided by the host: the "
                  "world's own imports (log-line), example:kv/store@0.2.0 (6: bucket, open, "
                  "[method]bucket.get, ...), example:kv/atomics@0.2.0 (increment), "
                  "example:messaging/producer@0.1.0 (send) and 3 more interfaces. Define them "
                  "with wp_engine_define_component_func"));
  assert_non_null(strstr(msg, "--missing-imports trap"));
  assert_true(strlen(msg) < 600); /* not a 2 KB line */
  wp_error_free(err);
  /* Trap mode loads it; what it exports works. */
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  p = load_ok(e, errors_fixture("many_missing.wat"), m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_int_equal(add_u32(inst, 40, 2), 42);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

/* A JavaScript component built with componentize-js's default features
   imports wasi:http/types and outgoing-handler: the host links them now. */
WP_TEST(test_js_default_features) {
  const char *path = plugin_path("hello-js-default.wasm");
  if (access(path, R_OK) != 0) {
    print_message("skipped: %s not built (no componentize-js)\n", path);
    return;
  }
  wp_engine *e = test_engine();
  wp_plugin *p = load_ok(e, path, NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *name = wp_value_new_string("world"), *r = NULL;
  assert_ok(wp_instance_invoke(inst, "greet", (const wp_value *const *)&name, 1, &r));
  size_t len;
  const char *s = wp_value_get_string(r, &len);
  assert_non_null(s);
  assert_string_equal(s, "Hello, world!");
  wp_value_free(name);
  wp_value_free(r);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- trap mode and resources ---------------------------------------------------- */

/* Missing resources get stubs; only calls that reach a missing import trap. */
WP_TEST(test_trap_missing_resources) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  wp_plugin *p = load_ok(e, errors_fixture("missing_resources.wat"), m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_int_equal(add_u32(inst, 1, 2), 3);
  wp_value *r = NULL;
  assert_error(
      wp_instance_invoke(inst, "open-bucket", NULL, 0, &r), WP_ERR_TRAP,
      "import 'example:missing/store#open' (func() -> bucket) is not provided by the host");
  assert_null(r);
  assert_ok(wp_instance_reset(inst));
  assert_int_equal(add_u32(inst, 2, 2), 4);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

/* An interface that `use`s a WASI resource: instantiating its stubs used to
   fail with "mismatched resource types". */
WP_TEST(test_trap_uses_wasi_resource) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  /* pollable comes from wasi:io/poll: only the function is missing */
  assert_error(wp_plugin_load(e, errors_fixture("uses_wasi_resource.wat"), NULL, &p), WP_ERR_LINK,
               "1 import is not provided by the host: example:missing/waiter#subscribe "
               "(func() -> pollable).");
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  p = load_ok(e, errors_fixture("uses_wasi_resource.wat"), m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_int_equal(add_u32(inst, 20, 22), 42);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

static wp_error *make_thing(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *user_data) {
  (void)call, (void)args, (void)nargs, (void)result, (void)user_data;
  return wp_error_new(WP_ERR_HOST, "not called");
}

/* A resource the host defines in one interface and another `use`s: defined
   once, it is not missing from the second. */
WP_TEST(test_uses_host_resource) {
  wp_engine *e = test_engine();
  const wp_resource_type *thing;
  assert_ok(wp_engine_define_resource(e, "example:res/types", "thing", NULL, NULL, NULL, &thing));
  assert_ok(wp_engine_define_component_func(e, "example:res/make", "make", make_thing, NULL, NULL));
  wp_plugin *p = load_ok(e, errors_fixture("uses_host_resource.wat"), NULL);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_int_equal(add_u32(inst, 3, 4), 7);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- where the timeout was set ------------------------------------------------- */

/* Calls numeric.wat's endless "spin" under `m` and checks the hint. */
static void spin_times_out(wp_engine *e, const wp_manifest *m, const char *hint) {
  wp_plugin *p = load_ok(e, fixture("numeric.wat"), m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  assert_error(wp_instance_call(inst, "spin", NULL, 0, NULL, 0), WP_ERR_TIMEOUT, hint);
  wp_instance_free(inst);
  wp_plugin_free(p);
}

WP_TEST(test_timeout_origin) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 20);
  spin_times_out(e, m,
                 "call 'spin' ran past its 20 ms timeout (set by wp_manifest_set_timeout_ms; "
                 "raise it if the call needs longer)");
  assert_ok(wp_manifest_set_timeout_origin(m, "--timeout-ms"));
  spin_times_out(e, m, "ran past its 20 ms timeout (set by --timeout-ms;");
  wp_manifest_set_timeout_ms(m, 25); /* the setter forgets the origin */
  spin_times_out(e, m, "ran past its 25 ms timeout (set by wp_manifest_set_timeout_ms;");
  wp_manifest_free(m);

  const char *json = "{\"limits\": {\"timeout_ms\": 20}}";
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  spin_times_out(e, m, "(set by limits.timeout_ms in the manifest; raise it");
  wp_manifest_free(m);

  char path[] = "/tmp/wp-test-errors-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
  close(fd);
  assert_ok(wp_manifest_load(path, &m));
  char hint[256];
  snprintf(hint, sizeof hint, "(set by limits.timeout_ms in manifest '%s'; raise it", path);
  spin_times_out(e, m, hint);
  assert_ok(wp_manifest_set_timeout_origin(m, NULL)); /* back to the default */
  spin_times_out(e, m, "(set by wp_manifest_set_timeout_ms;");
  wp_manifest_free(m);
  unlink(path);
  wp_engine_free(e);
}

/* The CLI names its flag. */
WP_TEST(test_timeout_origin_cli) {
  char cmd[8192], line[4096];
  snprintf(cmd, sizeof cmd, "'%s' call --timeout-ms 20 '%s' spin 2>&1", WP_CLI,
           fixture("numeric.wat"));
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  bool found = false;
  while (fgets(line, sizeof line, f))
    found |= strstr(line, "ran past its 20 ms timeout (set by --timeout-ms;") != NULL;
  assert_int_not_equal(pclose(f), 0);
  assert_true(found);
}

/* ---- memory refused below the limit --------------------------------------------- */

WP_TEST(test_memory_refused_below_limit) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_max_memory(m, 1u << 20);
  wp_plugin *p = load_ok(e, errors_fixture("grow_refused.wat"), m);
  wp_instance *inst;
  assert_ok(wp_instance_new(p, &inst));
  /* 13 pages in use; 4 more would make 17, past the 16 of 1 MiB */
  assert_error(wp_instance_call(inst, "fill", NULL, 0, NULL, 0), WP_ERR_MEMORY_LIMIT,
               "plugin 'grow_refused.wat': 'fill' failed after a memory grow was refused below "
               "the 1 MiB limit: 832 KiB in use, and the grow asked for 1088 KiB in all (raise "
               "limits.memory in the manifest, wp_manifest_set_max_memory or --max-memory): wasm "
               "`unreachable`");
  assert_ok(wp_instance_reset(inst));
  wp_val pages;
  assert_ok(wp_instance_call(inst, "pages", NULL, 0, &pages, 1));
  assert_int_equal(pages.of.i32, 1);
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* A memory too big to start with. */
  const char *big = "(module (memory 20))";
  assert_ok(wp_plugin_load_bytes(e, "big", big, strlen(big), m, &p));
  inst = NULL;
  assert_error(wp_instance_new(p, &inst), WP_ERR_MEMORY_LIMIT,
               "plugin 'big': 'instantiation' failed: its memories and tables need 1280 KiB to "
               "start, over the 1 MiB limit (raise limits.memory");
  assert_null(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);

  /* The same under the engine's limit names the engine's setting. */
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_max_memory(cfg, 1u << 20);
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  p = load_ok(e, errors_fixture("grow_refused.wat"), NULL);
  assert_ok(wp_instance_new(p, &inst));
  assert_error(wp_instance_call(inst, "fill", NULL, 0, NULL, 0), WP_ERR_MEMORY_LIMIT,
               "832 KiB in use, and the grow asked for 1088 KiB in all (the engine's limit: "
               "raise wp_engine_config_set_max_memory, or give the plugin limits.memory)");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_go_command),
      cmocka_unit_test(test_missing_imports_short),
      cmocka_unit_test(test_js_default_features),
      cmocka_unit_test(test_trap_missing_resources),
      cmocka_unit_test(test_trap_uses_wasi_resource),
      cmocka_unit_test(test_uses_host_resource),
      cmocka_unit_test(test_timeout_origin),
      cmocka_unit_test(test_timeout_origin_cli),
      cmocka_unit_test(test_memory_refused_below_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
