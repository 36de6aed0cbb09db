/*
 * test_inputs.c - issue 7, item 6: parsers and setters.
 *
 * The manifest reader is linear in the number of keys; every variable
 * reaches the plugin, however many there are; text that would reach WASI or
 * a plugin and is not UTF-8 is refused as bad input naming where it is,
 * through the JSON reader and every setter; a .wat parse error quotes a
 * short excerpt, not the whole line; and a memory limit of 0 is refused in
 * JSON while wp_manifest_set_max_memory(m, 0) means the engine's limit.
 * After every refusal the same engine loads and runs the next plugin.
 */
#include "adv.h"

#include "util/utf8.h"

/* A plugin that reports what it was given: the number and total size of
   its environment variables (WASI), and config values (wasmplug). */
static const char probe_wat[] =
    "(module\n"
    "  (import \"wasi_snapshot_preview1\" \"environ_sizes_get\"\n"
    "    (func $sizes (param i32 i32) (result i32)))\n"
    "  (import \"wasmplug\" \"config_get\" (func $config_get (param i32 i32 i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $heap (mut i32) (i32.const 4096))\n"
    "  (data (i32.const 64) \"key199999\")\n"
    "  (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)\n"
    "    (local $p i32)\n"
    "    global.get $heap local.set $p\n"
    "    global.get $heap local.get 3 i32.add global.set $heap\n"
    "    local.get $p)\n"
    "  (func (export \"env_count\") (result i32)\n"
    "    (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 0)))\n"
    "  (func (export \"env_bytes\") (result i32)\n"
    "    (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 4)))\n"
    "  ;; the length of config value \"key199999\", or -1 when there is none\n"
    "  (func (export \"config_len\") (result i32)\n"
    "    (call $config_get (i32.const 64) (i32.const 9) (i32.const 16))\n"
    "    (if (result i32) (i32.load8_u (i32.const 16))\n"
    "      (then (i32.load (i32.const 24))) (else (i32.const -1)))))\n";

static wp_instance *probe(wp_engine *e, const wp_manifest *m, wp_plugin **plugin) {
  wp_instance *inst = NULL;
  assert_ok(adv_load(e, "probe.wat", probe_wat, m, plugin));
  assert_ok(wp_instance_new(*plugin, &inst));
  return inst;
}

/* ---- the manifest reader is linear ---------------------------------------- */

/* {"wasi": {"env": {...n keys...}}, "config": {...n keys...}} */
static char *big_manifest(size_t n, size_t *len) {
  size_t cap = n * 56 + 64, i;
  char *json = malloc(cap);
  assert_non_null(json);
  *len = (size_t)sprintf(json, "{\"wasi\": {\"env\": {");
  for (i = 0; i < n; i++)
    *len += (size_t)sprintf(json + *len, "%s\"ENV_%zu\": \"%zu\"", i ? ", " : "", i, i);
  *len += (size_t)sprintf(json + *len, "}}, \"config\": {");
  for (i = 0; i < n; i++)
    *len += (size_t)sprintf(json + *len, "%s\"key%zu\": \"value %zu\"", i ? ", " : "", i, i);
  *len += (size_t)sprintf(json + *len, "}}");
  return json;
}

/*
 * 200000 config keys and 200000 variables: a quadratic reader took minutes
 * on this; now it is a fraction of a second (the bound is generous for
 * slow and sanitized builds). Every variable reaches the plugin.
 */
WP_TEST(test_400k_keys_read_in_linear_time) {
  const size_t n = 200000;
  wp_engine *e = adv_engine(0, 0);
  wp_manifest *m = NULL;
  wp_plugin *p = NULL;
  size_t len;
  char *json = big_manifest(n, &len);
  int32_t got;

  double start = adv_now_ms();
  assert_ok(wp_manifest_parse(json, len, NULL, &m));
  double parse_ms = adv_now_ms() - start;
  wp_instance *inst = probe(e, m, &p); /* copies the manifest */
  double load_ms = adv_now_ms() - start - parse_ms;
  print_message("%zu keys: parsed in %.0f ms, loaded and instantiated in %.0f ms\n", 2 * n,
                parse_ms, load_ms);
  assert_true(parse_ms < 3000);
  assert_true(load_ms < 3000);
  assert_ok(adv_call_i32(inst, "env_count", &got));
  assert_int_equal(got, n);
  assert_ok(adv_call_i32(inst, "config_len", &got));
  assert_int_equal(got, strlen("value 199999"));
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  free(json);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* Not 256, not most: all of them, whole. */
WP_TEST(test_every_env_var_reaches_the_plugin) {
  wp_engine *e = adv_engine(0, 0);
  wp_manifest *m = wp_manifest_new();
  wp_plugin *p = NULL;
  char key[32], value[32];
  int32_t count, bytes, want_bytes = 0;

  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "VAR_%d", i);
    snprintf(value, sizeof value, "value-%d", i * 7);
    assert_ok(wp_manifest_set_env(m, key, value));
    want_bytes += (int32_t)(strlen(key) + 1 + strlen(value) + 1); /* "K=V\0" */
  }
  wp_instance *inst = probe(e, m, &p);
  assert_ok(adv_call_i32(inst, "env_count", &count));
  assert_ok(adv_call_i32(inst, "env_bytes", &bytes));
  assert_int_equal(count, 1000);
  assert_int_equal(bytes, want_bytes);
  assert_ok(adv_call_i32(inst, "config_len", &count));
  assert_int_equal(count, -1);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* ---- text must be UTF-8 ---------------------------------------------------- */

/* A BAD_INPUT naming `where`, in a message that is UTF-8 itself; then the
   engine still works. */
static void refused(wp_engine *e, wp_error *err, const char *where) {
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_true(wp_utf8_valid((const uint8_t *)msg, strlen(msg)));
  assert_error(err, WP_ERR_BAD_INPUT, where);
  adv_engine_still_works(e);
}

/* As refused, for text that is not UTF-8: the bad bytes shown escaped. */
static void refused_with(wp_engine *e, wp_error *err, const char *where, const char *escaped) {
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  if (!strstr(msg, escaped) || !strstr(msg, "not valid UTF-8")) {
    print_error("'%s' lacks '%s' or 'not valid UTF-8'\n", msg, escaped);
    wp_error_free(err);
    fail();
  }
  refused(e, err, where);
}

WP_TEST(test_setters_refuse_bad_text) {
  wp_engine *e = adv_engine(0, 0);
  wp_manifest *m = wp_manifest_new();
  wp_plugin *p = NULL;
  int32_t count;

  refused_with(e, wp_manifest_set_env(m, "X\xff", "1"), "environment variable name", "X\\xff");
  refused_with(e, wp_manifest_set_env(m, "X", "\xc3("), "environment variable \"X\"", "\\xc3(");
  refused(e, wp_manifest_set_env(m, "A=B", "1"), "contain no '='");
  refused(e, wp_manifest_set_env(m, "", "1"), "must be non-empty");
  refused_with(e, wp_manifest_add_arg(m, "\xe0\x80\x80"), "argument argv[0]", "\\xe0\\x80\\x80");
  refused_with(e, wp_manifest_allow_dir(m, "/tmp", "/data\xfe", false), "guest path", "/data\\xfe");
  refused_with(e, wp_manifest_set_config(m, "k\x80", "v"), "config key", "k\\x80");
  refused_with(e, wp_manifest_set_config(m, "k", "v\xed\xb0\x80"), "config key \"k\"",
               "v\\xed\\xb0\\x80");
  refused_with(e, wp_manifest_set_name(m, "plug\xff"), "plugin name", "plug\\xff");

  /* Nothing bad got in: the plugin sees an empty environment. */
  assert_ok(wp_manifest_set_env(m, "GOOD", "\xc3\xa9t\xc3\xa9"));
  wp_instance *inst = probe(e, m, &p);
  assert_ok(adv_call_i32(inst, "env_count", &count));
  assert_int_equal(count, 1);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
}

WP_TEST(test_json_refuses_bad_text) {
  static const struct {
    const char *json, *where, *escaped;
  } cases[] = {
      {"{\"wasi\": {\"env\": {\"X\xff\": \"1\"}}}", "'wasi.env' key", "X\\xff"},
      {"{\"wasi\": {\"env\": {\"X\": \"a\xff\"}}}", "'wasi.env.X'", "a\\xff"},
      {"{\"wasi\": {\"args\": [\"ok\", \"b\xc0\x80\"]}}", "'wasi.args[1]'", "b\\xc0\\x80"},
      {"{\"wasi\": {\"dirs\": [{\"host\": \"/tmp\", \"guest\": \"/\xf8\"}]}}",
       "'wasi.dirs[0].guest'", "/\\xf8"},
      {"{\"config\": {\"\xff\": \"v\"}}", "'config' key", "\\xff"},
      {"{\"config\": {\"k\": \"\xf0\x9f\x98\"}}", "'config.k'", "\\xf0\\x9f\\x98"},
      {"{\"name\": \"n\xa0\"}", "'name'", "n\\xa0"},
  };
  wp_engine *e = adv_engine(0, 0);

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wp_manifest *m = NULL;
    refused_with(e, wp_manifest_parse(cases[i].json, strlen(cases[i].json), NULL, &m),
                 cases[i].where, cases[i].escaped);
    assert_null(m);
  }
  /* \u0000 would end the C string early: refused, with where it is. */
  const char *nul = "{\"wasi\": {\"env\": {\"A\": \"x\\u0000y\"}}}";
  wp_manifest *m = NULL;
  refused(e, wp_manifest_parse(nul, strlen(nul), NULL, &m),
          "strings must not contain \\u0000 (at line 1, column 26");
  wp_engine_free(e);
}

/* ---- .wat errors quote a short excerpt ------------------------------------ */

WP_TEST(test_wat_error_quotes_an_excerpt) {
  wp_engine *e = adv_engine(0, 0);
  size_t nops = 20000, len = 0;
  char *wat = malloc(nops * 8 + 64);
  wp_plugin *p = NULL;
  wp_error *err;

  /* One 160 KB line with an error in its middle. */
  assert_non_null(wat);
  len += (size_t)sprintf(wat, "(module (func");
  for (size_t i = 0; i < nops; i++)
    len += (size_t)sprintf(wat + len, i == nops / 2 ? " bogus" : " nop");
  len += (size_t)sprintf(wat + len, "))");
  err = wp_plugin_load_bytes(e, "long.wat", wat, len, NULL, &p);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  print_message("%zu-byte line: %zu-byte message:\n%s\n", len, strlen(msg), msg);
  assert_true(strlen(msg) < 400);
  assert_non_null(strstr(msg, "\n    ...nop nop"));
  assert_non_null(strstr(msg, "bogus nop nop"));
  assert_non_null(strstr(msg, "...\n    ")); /* cut on the right too */
  /* The caret sits under the "b" of "bogus". */
  const char *excerpt = strstr(msg, "\n    ...") + 1, *caret = strrchr(msg, '\n') + 1;
  size_t col = (size_t)(strchr(caret, '^') - caret);
  assert_memory_equal(excerpt + col, "bogus", 5);
  assert_error(err, WP_ERR_LOAD,
               "not valid WebAssembly text: unknown operator or unexpected "
               "token at line 1, column 40015");

  /* A short line is quoted whole; tabs keep the caret in place. */
  const char *tabs = "(module\n  (func\n\t\tbogus))";
  assert_error(wp_plugin_load_bytes(e, "tabs.wat", tabs, strlen(tabs), NULL, &p), WP_ERR_LOAD,
               "at line 3, column 3\n      bogus))\n      ^");
  adv_engine_still_works(e);
  free(wat);
  wp_engine_free(e);
}

/* ---- a memory limit of 0 ---------------------------------------------------- */

WP_TEST(test_memory_limit_zero) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine *e = NULL;
  wp_manifest *m = NULL;
  wp_plugin *p = NULL;
  wp_instance *inst = NULL;
  wp_val pages = WP_VAL_I32(50), r;
  const char *zero = "{\"limits\": {\"memory\": 0}}";

  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 0);
  wp_engine_config_set_max_memory(cfg, 4u << 20);
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);

  assert_error(wp_manifest_parse(zero, strlen(zero), NULL, &m), WP_ERR_BAD_INPUT,
               "'limits.memory' must be at least 64 KiB (one page), got 0 bytes; omit it to "
               "use the engine's limit");
  assert_null(m);
  /* Through the setter, 0 is documented as "the engine's limit": 4 MiB. */
  m = wp_manifest_new();
  wp_manifest_set_max_memory(m, 0);
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), m, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call(inst, "grow", &pages, 1, &r, 1)); /* to 51 pages */
  assert_int_equal(r.of.i32, 1);
  pages = WP_VAL_I32(14);
  assert_ok(wp_instance_call(inst, "grow", &pages, 1, &r, 1)); /* 65 pages: over 4 MiB */
  assert_int_equal(r.of.i32, -1);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_400k_keys_read_in_linear_time),
      cmocka_unit_test(test_every_env_var_reaches_the_plugin),
      cmocka_unit_test(test_setters_refuse_bad_text),
      cmocka_unit_test(test_json_refuses_bad_text),
      cmocka_unit_test(test_wat_error_quotes_an_excerpt),
      cmocka_unit_test(test_memory_limit_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
