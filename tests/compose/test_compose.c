/*
 * test_compose.c - the RFC's own test case (docs/compose.md): kv-test,
 * which imports wasi:keyvalue/store, served by kv-memory, the reference
 * in-memory store, both ways: composed ahead of time (wp_compose) and
 * linked at load time (the manifest's "link"). Both must answer the same;
 * a plug that does not fit (kv-misfit: bucket.get returns a string) fails
 * both ways naming the function and both types.
 */
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#ifndef WP_COMPOSE_FIXTURES
#error "WP_COMPOSE_FIXTURES must name tests/compose/fixtures"
#endif
#define KV_TEST WP_PLUGINS "/kv-test.wasm"
#define KV_MEMORY WP_PLUGINS "/kv-memory.wasm"
#define KV_MISFIT WP_PLUGINS "/kv-misfit.wasm"
#define IFACE "wasi:keyvalue/store@0.2.0-draft"
#define DEBUG_IFACE "example:compose/debug"

/* What kv-test's run says when the store behaves. */
/* "live" counts kv-memory's bucket resources: dropping the handle kv-test
   holds must drop the plug's resource, composed or linked. */
#define EXPECTED                                                                       \
  "get b=two; exists a=true; delete a; exists a=false; get a=none; keys=b,c; live=1; " \
  "live=0; reopened: get c=333; live=0;"

static void *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *b = malloc((size_t)n + 1);
  assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

/* kv-test's run, called `times` times on one instance (a reset between calls
   when `reset`), each answer compared with EXPECTED. */
static void run_checks(wp_plugin *p, int times, bool reset) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  for (int i = 0; i < times; i++) {
    if (reset && i) assert_ok(wp_instance_reset(inst));
    wp_value *out = NULL;
    assert_ok(wp_instance_invoke(inst, "run", NULL, 0, &out));
    size_t len = 0;
    const char *s = wp_value_get_string(out, &len);
    /* Without a reset the store keeps the first run's data: "a" is gone,
       which changes nothing the run reports (it sets "a" again). */
    assert_string_equal(s, EXPECTED);
    wp_value_free(out);
  }
  wp_instance_free(inst);
}

static wp_error *compose_kv(const char *plug_path, void **out, size_t *out_len) {
  size_t mlen, plen;
  void *main = read_file(KV_TEST, &mlen), *plug = read_file(plug_path, &plen);
  wp_plug plugs[] = {{.name = plug_path, .bytes = plug, .len = plen}};
  wp_error *err = wp_compose(main, mlen, plugs, 1, out, out_len);
  free(main);
  free(plug);
  return err;
}

static wp_error *load_linked(wp_engine *e, const char *plug_path, wp_plugin **out) {
  wp_manifest *m = wp_manifest_new();
  wp_error *err = wp_manifest_set_link(m, IFACE, plug_path);
  /* The same file twice: one plug instance serves both interfaces. */
  if (!err) err = wp_manifest_set_link(m, DEBUG_IFACE, plug_path);
  if (!err) err = wp_plugin_load(e, KV_TEST, m, out);
  wp_manifest_free(m);
  return err;
}

WP_TEST(test_composed) {
  void *bytes = NULL;
  size_t len = 0;
  assert_ok(compose_kv(KV_MEMORY, &bytes, &len));
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load_bytes(e, "kv-composed", bytes, len, NULL, &p));
  /* Nothing is left to import: the store is inside. */
  for (size_t i = 0; i < wp_plugin_import_count(p); i++)
    assert_null(strstr(wp_plugin_get_import(p, i)->module ? wp_plugin_get_import(p, i)->module : "",
                       "keyvalue"));
  run_checks(p, 2, true);
  wp_plugin_free(p);
  wp_engine_free(e);
  wp_free(bytes);
}

WP_TEST(test_linked) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  assert_ok(load_linked(e, KV_MEMORY, &p));
  run_checks(p, 3, true);
  run_checks(p, 2, false);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* The same answer both ways, from the same JSON manifest form. */
WP_TEST(test_same_both_ways) {
  void *bytes = NULL;
  size_t len = 0;
  assert_ok(compose_kv(KV_MEMORY, &bytes, &len));
  wp_engine *e = test_engine();
  wp_plugin *composed = NULL, *linked = NULL;
  assert_ok(wp_plugin_load_bytes(e, "kv-composed", bytes, len, NULL, &composed));
  char json[1024];
  snprintf(json, sizeof json,
           "{\"link\": {\"" IFACE "\": \"kv-memory.wasm\", \"" DEBUG_IFACE
           "\": \"./kv-memory.wasm\"}}");
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(json, strlen(json), WP_PLUGINS, &m));
  const char *iface = NULL, *path = NULL;
  assert_true(wp_manifest_link_at(m, 0, &iface, &path));
  assert_string_equal(path, KV_MEMORY);
  assert_ok(wp_plugin_load(e, KV_TEST, m, &linked));
  wp_manifest_free(m);
  const char *a = NULL, *b = NULL;
  wp_instance *ia = NULL, *ib = NULL;
  assert_ok(wp_instance_new(composed, &ia));
  assert_ok(wp_instance_new(linked, &ib));
  wp_value *va = NULL, *vb = NULL;
  assert_ok(wp_instance_invoke(ia, "run", NULL, 0, &va));
  assert_ok(wp_instance_invoke(ib, "run", NULL, 0, &vb));
  size_t la, lb;
  a = wp_value_get_string(va, &la);
  b = wp_value_get_string(vb, &lb);
  assert_string_equal(a, b);
  wp_value_free(va);
  wp_value_free(vb);
  wp_instance_free(ia);
  wp_instance_free(ib);
  wp_plugin_free(composed);
  wp_plugin_free(linked);
  wp_engine_free(e);
  wp_free(bytes);
}

WP_TEST(test_misfit_composed) {
  void *bytes = NULL;
  size_t len = 0;
  wp_error *err = compose_kv(KV_MISFIT, &bytes, &len);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_LINK);
  assert_non_null(strstr(msg, "kv-misfit.wasm"));
  assert_non_null(strstr(msg, IFACE));
  assert_non_null(strstr(msg, "[method]bucket.get"));
  assert_non_null(strstr(msg, "expected"));
  assert_non_null(strstr(msg, "option<list<u8>>"));
  assert_non_null(strstr(msg, "found"));
  assert_non_null(strstr(msg, "option<string>"));
  wp_error_free(err);
}

WP_TEST(test_misfit_linked) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  wp_error *err = load_linked(e, KV_MISFIT, &p);
  assert_null(p);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  assert_int_equal(wp_error_get_kind(err), WP_ERR_LINK);
  assert_non_null(strstr(msg, "kv-misfit.wasm"));
  assert_non_null(strstr(msg, "[method]bucket.get"));
  assert_non_null(strstr(msg, "expected"));
  assert_non_null(strstr(msg, "option<list<u8>>"));
  assert_non_null(strstr(msg, "option<string>"));
  wp_error_free(err);
  wp_engine_free(e);
}

/* A plug that serves none of the imports is refused. */
WP_TEST(test_plug_serves_nothing) {
  size_t mlen, plen;
  void *main = read_file(KV_TEST, &mlen);
  void *plug = read_file(WP_PLUGINS "/hello-c-component.wasm", &plen);
  wp_plug plugs[] = {{.name = "hello-c-component.wasm", .bytes = plug, .len = plen}};
  void *out = NULL;
  size_t out_len = 0;
  assert_error(wp_compose(main, mlen, plugs, 1, &out, &out_len), WP_ERR_LINK,
               "plug 'hello-c-component.wasm' satisfies none of the imports");
  assert_error(wp_compose(main, mlen, plugs, 0, &out, &out_len), WP_ERR_BAD_INPUT, "no plug");
  free(main);
  free(plug);
}

/* Links the manifest cannot use: not imported, not a file. */
WP_TEST(test_bad_links) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_link(m, "wasi:keyvalue/atomics@0.2.0-draft", KV_MEMORY));
  assert_error(wp_plugin_load(e, KV_TEST, m, &p), WP_ERR_BAD_INPUT,
               "links 'wasi:keyvalue/atomics@0.2.0-draft', which the plugin does not import");
  wp_manifest_free(m);
  m = wp_manifest_new();
  assert_ok(wp_manifest_set_link(m, IFACE, WP_PLUGINS "/no-such-plug.wasm"));
  assert_error(wp_plugin_load(e, KV_TEST, m, &p), WP_ERR_NOT_FOUND, "cannot read the plug");
  wp_manifest_free(m);
  m = wp_manifest_new();
  assert_error(wp_manifest_set_link(m, "store", KV_MEMORY), WP_ERR_BAD_INPUT,
               "not an interface name");
  wp_manifest_free(m);
  const char *json = "{\"link\": {\"" IFACE "\": 3}}";
  assert_error(wp_manifest_parse(json, strlen(json), NULL, &m), WP_ERR_BAD_INPUT,
               "'link." IFACE "' must be a path (string), got number");
  json = "{\"link\": [\"kv-memory.wasm\"]}";
  assert_error(wp_manifest_parse(json, strlen(json), NULL, &m), WP_ERR_BAD_INPUT,
               "'link' must be an object of interface names to plug component paths");
  wp_engine_free(e);
}

/* A function passing a resource of another interface cannot cross a link;
   composition carries it. */
WP_TEST(test_uncarried) {
  wp_engine *e = test_engine();
  wp_plugin *p = NULL;
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_link(m, "example:uncarried/uses", WP_PLUGINS "/uncarried-plug.wasm"));
  assert_error(wp_plugin_load(e, WP_PLUGINS "/uncarried-main.wasm", m, &p), WP_ERR_LINK,
               "function 'make' passes resource 'blob' of another interface, which a load-time "
               "link cannot carry (compose the components instead");
  assert_null(p);
  wp_manifest_free(m);
  wp_engine_free(e);
  /* Composed, the resource stays one import both components share. */
  size_t mlen, plen, clen = 0;
  void *main = read_file(WP_PLUGINS "/uncarried-main.wasm", &mlen);
  void *plug = read_file(WP_PLUGINS "/uncarried-plug.wasm", &plen);
  wp_plug plugs[] = {{.name = "uncarried-plug.wasm", .bytes = plug, .len = plen}};
  void *composed = NULL;
  char *wit = NULL;
  assert_ok(wp_compose(main, mlen, plugs, 1, &composed, &clen));
  assert_ok(wp_component_wit(composed, clen, &wit));
  assert_non_null(strstr(wit, "import example:uncarried/blobs;"));
  assert_null(strstr(wit, "example:uncarried/uses"));
  wp_free(wit);
  wp_free(composed);
  free(main);
  free(plug);
}

/* Resources every way through a link, and composed: made by the plug, lent
   to it, given to it, dropped by the plugin; the plug's live count follows. */
static void check_owned(wp_plugin *p) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  wp_value *out = NULL;
  assert_ok(wp_instance_invoke(inst, "run", NULL, 0, &out));
  char *wave = wp_value_to_wave(out);
  /* get, live, consume, live after the plug dropped it, live after ours */
  assert_string_equal(wave, "[5, 1, 5, 0, 0]");
  wp_free(wave);
  wp_value_free(out);
  wp_instance_free(inst);
}

WP_TEST(test_owned_resources) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_link(m, "example:owned/counters", WP_PLUGINS "/owned-plug.wasm"));
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, WP_PLUGINS "/owned-main.wasm", m, &p));
  wp_manifest_free(m);
  check_owned(p);
  wp_plugin_free(p);
  size_t mlen, plen, clen = 0;
  void *main = read_file(WP_PLUGINS "/owned-main.wasm", &mlen);
  void *plug = read_file(WP_PLUGINS "/owned-plug.wasm", &plen);
  wp_plug plugs[] = {{.name = "owned-plug.wasm", .bytes = plug, .len = plen}};
  void *composed = NULL;
  assert_ok(wp_compose(main, mlen, plugs, 1, &composed, &clen));
  assert_ok(wp_plugin_load_bytes(e, "owned-composed", composed, clen, NULL, &p));
  check_owned(p);
  wp_plugin_free(p);
  wp_free(composed);
  free(main);
  free(plug);
  wp_engine_free(e);
}

/* The plug runs in the plugin's store: the plugin's timeout ends a call that
   spins in the plug, and the next call (after the reset) gets it again. Both
   components are text, so the fit is checked on the converted plug. */
WP_TEST(test_linked_timeout) {
  wp_engine *e = test_engine();
  wp_manifest *m = wp_manifest_new();
  assert_ok(wp_manifest_set_link(m, "example:spin/spin", WP_COMPOSE_FIXTURES "/spin-plug.wat"));
  wp_manifest_set_timeout_ms(m, 200);
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, WP_COMPOSE_FIXTURES "/spin-main.wat", m, &p));
  wp_manifest_free(m);
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  for (int i = 0; i < 2; i++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wp_value *out = NULL;
    assert_error(wp_instance_invoke(inst, "run", NULL, 0, &out), WP_ERR_TIMEOUT, "200 ms");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 2000);
    assert_ok(wp_instance_reset(inst));
  }
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_composed),       cmocka_unit_test(test_linked),
      cmocka_unit_test(test_same_both_ways), cmocka_unit_test(test_misfit_composed),
      cmocka_unit_test(test_misfit_linked),  cmocka_unit_test(test_plug_serves_nothing),
      cmocka_unit_test(test_bad_links),      cmocka_unit_test(test_uncarried),
      cmocka_unit_test(test_linked_timeout), cmocka_unit_test(test_owned_resources),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
