/*
 * cases_component.c - calls into a component (the types example) through
 * wasmplug's typed values, and their baselines: the same exports called with
 * typed functions through Wasmtime's Rust API, measured by bench/rust
 * (--rust-harness) and read back from its JSON.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define TYPES_PLUGIN WP_BENCH_PLUGINS "/types-c-component.wasm"
#define KV_TEST WP_BENCH_PLUGINS "/kv-test.wasm"
#define KV_MEMORY WP_BENCH_PLUGINS "/kv-memory.wasm"

typedef struct comp_ctx {
  wp_instance *inst;
  wp_pool *pool;
  wp_func_id fn;
  const wp_value *arg; /* NULL: no argument */
} comp_ctx;

static wp_error *run_comp(void *ctx, size_t n) {
  comp_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_value *r = NULL;
    wp_error *err = wp_instance_invoke_func(c->inst, c->fn, &c->arg, c->arg ? 1 : 0, &r);
    if (!err && c->arg && (!r || !wp_value_equal(r, c->arg)))
      err = wp_error_new(WP_ERR_HOST, "bench: an echo returned something else");
    wp_value_free(r);
    if (err) return err;
  }
  return NULL;
}

static wp_error *run_comp_pool(void *ctx, size_t n) {
  comp_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_error *err = wp_pool_take(c->pool, &c->inst);
    if (!err) err = run_comp(c, 1);
    wp_pool_release(c->pool, c->inst);
    if (err) return err;
  }
  return NULL;
}

/* Rows the Rust harness measured, read from its JSON on stdout. */
static wp_error *rust_rows(const char *harness) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "'%s' '%s'%s", harness, TYPES_PLUGIN, bench_quick() ? " --quick" : "");
  fprintf(stderr, "  running %s\n", cmd);
  FILE *f = popen(cmd, "r");
  if (!f) return wp_error_new(WP_ERR_IO, "bench: cannot run %s", harness);
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  if (pclose(f) != 0) return wp_error_new(WP_ERR_HOST, "bench: the Rust harness failed: %s", buf);
  cJSON *j = cJSON_Parse(buf);
  static const struct {
    const char *key, *row;
  } keys[] = {
      {"rust_typed_nop_ns", "component_nop_rust_typed"},
      {"rust_typed_echo32_ns", "component_echo_32B_rust_typed"},
      {"rust_typed_bytes64k_ns", "component_list_u8_echo_64KiB_rust_typed"},
      {"rust_typed_u32_ns", "component_echo_u32_rust_typed"},
      {"rust_typed_point_ns", "component_echo_point_rust_typed"},
  };
  for (size_t i = 0; j && i < COUNT(keys); i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i].key);
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(j, "reps");
    if (cJSON_IsNumber(v))
      bench_add_external_row(keys[i].row, "ns/call", v->valuedouble,
                             cJSON_IsNumber(reps) ? reps->valueint : 0);
  }
  cJSON_Delete(j);
  return j ? NULL : wp_error_new(WP_ERR_HOST, "bench: the Rust harness printed no JSON: %s", buf);
}

static wp_error *measure_components(bench_env *env, const char *harness) {
  wp_manifest *m = wp_manifest_new();
  /* The types component imports a host interface the benchmark never calls. */
  wp_manifest_set_trap_missing_imports(m, true);
  wp_plugin *p = NULL;
  comp_ctx nop = {0}, echo = {0}, bytes = {0}, fresh = {0}, u32 = {0}, pt = {0};
  char text[33] = "0123456789abcdef0123456789abcdef";
  wp_value *arg = wp_value_new_string(text);
  /* The same 64 KiB as bench/rust's: byte i is i * 7 + 3 (mod 256). */
  enum { LIST_LEN = 64 * 1024 };
  uint8_t *buf = malloc(LIST_LEN);
  for (size_t i = 0; buf && i < LIST_LEN; i++) buf[i] = (uint8_t)(i * 7 + 3);
  wp_value *list = buf ? wp_value_new_bytes(buf, LIST_LEN) : NULL;
  free(buf);
  wp_value *num = wp_value_new_u32(4000000000u);
  const char *xy[] = {"x", "y"};
  wp_value *point = wp_value_new_record(
      xy, (wp_value *[]){wp_value_new_s32(-7), wp_value_new_s32(9)}, 2);
  wp_error *err = wp_plugin_load(env->engine, TYPES_PLUGIN, m, &p);
  wp_manifest_free(m);
  if (!err) err = wp_plugin_find_func(p, "nop", &nop.fn);
  if (!err) err = wp_plugin_find_func(p, "example:types/echo#echo-string", &echo.fn);
  if (!err) err = wp_instance_new(p, &nop.inst);
  if (!err) err = wp_instance_new(p, &echo.inst);
  if (!err) err = wp_plugin_find_func(p, "example:types/echo#echo-bytes", &bytes.fn);
  if (!err) err = wp_instance_new(p, &bytes.inst);
  if (!err) err = wp_plugin_find_func(p, "example:types/echo#echo-u32", &u32.fn);
  if (!err) err = wp_instance_new(p, &u32.inst);
  if (!err) err = wp_plugin_find_func(p, "example:types/echo#echo-point", &pt.fn);
  if (!err) err = wp_instance_new(p, &pt.inst);
  if (!err && !list) err = wp_error_new(WP_ERR_NO_MEMORY, "bench: out of memory");
  if (!err) err = wp_pool_new(p, 1, 1, &fresh.pool);
  fresh.fn = nop.fn;
  echo.arg = arg;
  bytes.arg = list;
  u32.arg = num;
  pt.arg = point;
  bench_case cases[] = {
      {"component_nop", "ns/call", 1, bench_batch(200000), bench_reps(11), 1, NULL, run_comp, NULL,
       &nop},
      {"component_echo_32B", "ns/call", 1, bench_batch(100000), bench_reps(11), 1, NULL, run_comp,
       NULL, &echo},
      {"component_list_u8_echo_64KiB", "ns/call", 1, bench_batch(2000), bench_reps(11), 1, NULL,
       run_comp, NULL, &bytes},
      {"component_echo_u32", "ns/call", 1, bench_batch(200000), bench_reps(11), 1, NULL, run_comp,
       NULL, &u32},
      {"component_echo_point", "ns/call", 1, bench_batch(100000), bench_reps(11), 1, NULL, run_comp,
       NULL, &pt},
  };
  bench_case pooled = {"component_pooled_fresh",
                       "us/iter",
                       1e3,
                       bench_batch(2000),
                       bench_reps(11),
                       1,
                       NULL,
                       run_comp_pool,
                       NULL,
                       &fresh};
  if (!err) err = bench_measure_group(cases, COUNT(cases));
  if (!err) err = bench_measure(&pooled);
  if (!err && harness) err = rust_rows(harness);
  wp_instance_free(nop.inst);
  wp_instance_free(echo.inst);
  wp_instance_free(bytes.inst);
  wp_instance_free(u32.inst);
  wp_instance_free(pt.inst);
  wp_value_free(num);
  wp_value_free(point);
  wp_value_free(list);
  wp_pool_free(fresh.pool);
  wp_plugin_free(p);
  wp_value_free(arg);
  return err;
}

static wp_error *read_all(const char *path, void **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return wp_error_new(WP_ERR_IO, "bench: cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *out = n > 0 ? malloc((size_t)n) : NULL;
  bool ok = *out && fread(*out, 1, (size_t)n, f) == (size_t)n;
  fclose(f);
  *len = ok ? (size_t)n : 0;
  return ok ? NULL : wp_error_new(WP_ERR_IO, "bench: cannot read %s", path);
}

/*
 * The RFC's keyvalue test case (docs/compose.md), kv-test's `run` (a dozen
 * keyvalue operations): through a load-time link (each operation forwarded
 * by the host to kv-memory's instance, handles mapped) beside the composed
 * component (the same calls inside one component), in one group.
 */
static wp_error *measure_compose(bench_env *env) {
  void *main = NULL, *plug = NULL, *composed = NULL;
  size_t mlen = 0, plen = 0, clen = 0;
  wp_plugin *pc = NULL, *pl = NULL;
  comp_ctx c = {0}, l = {0};
  wp_manifest *m = wp_manifest_new();
  wp_error *err = read_all(KV_TEST, &main, &mlen);
  if (!err) err = read_all(KV_MEMORY, &plug, &plen);
  wp_plug plugs[] = {{.name = "kv-memory.wasm", .bytes = plug, .len = plen}};
  if (!err) err = wp_compose(main, mlen, plugs, 1, &composed, &clen);
  if (!err) err = wp_plugin_load_bytes(env->engine, "kv-composed", composed, clen, NULL, &pc);
  if (!err) err = wp_manifest_set_link(m, "wasi:keyvalue/store@0.2.0-draft", KV_MEMORY);
  if (!err) err = wp_manifest_set_link(m, "example:compose/debug", KV_MEMORY);
  if (!err) err = wp_plugin_load(env->engine, KV_TEST, m, &pl);
  if (!err) err = wp_plugin_find_func(pc, "run", &c.fn);
  if (!err) err = wp_plugin_find_func(pl, "run", &l.fn);
  if (!err) err = wp_instance_new(pc, &c.inst);
  if (!err) err = wp_instance_new(pl, &l.inst);
  bench_case cases[] = {
      {"compose_kv_run_composed", "us/call", 1e3, bench_batch(5000), bench_reps(11), 1, NULL,
       run_comp, NULL, &c},
      {"compose_kv_run_linked", "us/call", 1e3, bench_batch(5000), bench_reps(11), 1, NULL,
       run_comp, NULL, &l},
  };
  if (!err) err = bench_measure_group(cases, COUNT(cases));
  wp_instance_free(c.inst);
  wp_instance_free(l.inst);
  wp_plugin_free(pc);
  wp_plugin_free(pl);
  wp_manifest_free(m);
  wp_free(composed);
  free(main);
  free(plug);
  return err;
}

wp_error *bench_components(bench_env *env, const char *rust_harness) {
  if (access(TYPES_PLUGIN, R_OK) != 0) {
    fprintf(stderr, "  component rows skipped: %s was not built\n", TYPES_PLUGIN);
    return NULL;
  }
  wp_error *err = measure_components(env, rust_harness);
  bench_judge("component_nop", "component_nop_rust_typed", TARGET_RATIO, 1.3);
  bench_judge("component_echo_32B", "component_echo_32B_rust_typed", TARGET_RATIO, 1.3);
  bench_judge("component_list_u8_echo_64KiB", "component_list_u8_echo_64KiB_rust_typed",
              TARGET_RATIO, 1.5);
  bench_judge("component_pooled_fresh", NULL, TARGET_MEDIAN, 4);
  if (!err && access(KV_TEST, R_OK) == 0 && access(KV_MEMORY, R_OK) == 0) {
    err = measure_compose(env);
    bench_judge("compose_kv_run_linked", "compose_kv_run_composed", TARGET_RATIO, 10);
  }
  return err;
}
