/*
 * cases_instance.c - what making sandboxes costs: a new instance, a fresh or
 * reused one from a pool, and loading the Go plugin cold (compiling) and from
 * the compile cache.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cases.h"
#include "harness.h"

/* ---- instances and pools -------------------------------------------------- */

static const char g_world[] = "world";
#define GREETING_LEN (sizeof "Hello, world!" - 1)

static wp_error *run_instance_new_free(void *ctx, size_t n) {
  bench_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_instance *inst;
    wp_error *err = wp_instance_new(env->hello, &inst);
    if (err) return err;
    wp_instance_free(inst);
  }
  return NULL;
}

typedef struct pool_ctx {
  wp_pool *pool;
  wp_func_id greet;
} pool_ctx;

static wp_error *run_pool(void *ctx, size_t n) {
  pool_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_instance *inst;
    const uint8_t *out;
    size_t out_len;
    wp_error *err = wp_pool_take(c->pool, &inst);
    if (err) return err;
    err = wp_instance_call_func_bytes(inst, c->greet, g_world, sizeof g_world - 1, &out, &out_len);
    wp_pool_release(c->pool, inst);
    if (err) return err;
    if (out_len != GREETING_LEN) return wp_error_new(WP_ERR_HOST, "greet returned a wrong length");
  }
  return NULL;
}

/* ---- loading the Go plugin ------------------------------------------------ */

#define GO_PLUGIN WP_BENCH_PLUGINS "/hello-go.wasm"
#define GO_MAX_BATCH 64

typedef struct go_ctx {
  wp_engine *engine;      /* cold: made per batch; cached: made once */
  char *dir;              /* the engine's cache directory */
  bool cold;
  wp_manifest *manifest;  /* NULL, or one pinning the plugin's sha256 */
  wp_plugin *loaded[GO_MAX_BATCH];
  size_t nloaded;
} go_ctx;

/* An engine with pooling off (a load does not touch instances) and its own
   cache directory. */
static wp_error *go_engine(const char *dir, wp_engine **out) {
  wp_engine_config *cfg = wp_engine_config_new();
  if (!cfg) return wp_error_new(WP_ERR_HOST, "bench: out of memory");
  wp_engine_config_set_cache_dir(cfg, dir);
  wp_engine_config_set_pooling(cfg, 0);
  wp_error *err = wp_engine_new(cfg, out);
  wp_engine_config_free(cfg);
  return err;
}

/* Cold: a fresh engine on an empty cache directory, so the load compiles. */
static wp_error *go_cold_before(void *ctx) {
  go_ctx *c = ctx;
  wp_error *err = bench_make_temp_dir(&c->dir);
  return err ? err : go_engine(c->dir, &c->engine);
}

static wp_error *run_go_load(void *ctx, size_t n) {
  go_ctx *c = ctx;
  if (n > GO_MAX_BATCH) return wp_error_new(WP_ERR_HOST, "bench: Go load batch too large");
  for (size_t i = 0; i < n; i++) {
    wp_error *err = wp_plugin_load(c->engine, GO_PLUGIN, c->manifest, &c->loaded[c->nloaded]);
    if (err) return err;
    bool cached = wp_plugin_was_cached(c->loaded[c->nloaded++]);
    if (cached == c->cold)
      return wp_error_new(WP_ERR_HOST, "bench: a %s load of %s was %s", c->cold ? "cold" : "cached",
                          GO_PLUGIN, cached ? "served from the cache" : "compiled, not cached");
  }
  return NULL;
}

/* Frees what a batch loaded (untimed); a cold batch's engine and directory too. */
static void go_after(void *ctx) {
  go_ctx *c = ctx;
  for (size_t i = 0; i < c->nloaded; i++) wp_plugin_free(c->loaded[i]);
  c->nloaded = 0;
  if (!c->cold) return;
  wp_engine_free(c->engine);
  c->engine = NULL;
  bench_free_temp_dir(c->dir);
  c->dir = NULL;
}

/* Instance costs: new + free alone (the baseline), a fresh pooled instance
   per call (max_uses 1), and one reused instance (max_uses 0). */
static wp_error *bench_instance_costs(bench_env *env) {
  pool_ctx fresh = {NULL, env->greet}, reused = {NULL, env->greet};
  wp_error *err = wp_pool_new(env->hello, 1, 1, &fresh.pool);
  if (!err) err = wp_pool_new(env->hello, 0, 1, &reused.pool);
  bench_case cases[] = {
      {"instance_new_free", "us/iter", 1e3, bench_batch(2000), bench_reps(11), 1, NULL,
       run_instance_new_free, NULL, env},
      {"pooled_fresh_instance", "us/iter", 1e3, bench_batch(2000), bench_reps(11), 1, NULL,
       run_pool, NULL, &fresh},
      {"pooled_reused_instance", "us/iter", 1e3, bench_batch(50000), bench_reps(11), 1, NULL,
       run_pool, NULL, &reused},
  };
  if (!err) err = bench_measure_group(cases, COUNT(cases));
  wp_pool_free(fresh.pool);
  wp_pool_free(reused.pool);
  bench_judge("pooled_fresh_instance", "instance_new_free", TARGET_MEDIAN, 2.5);
  bench_judge("pooled_reused_instance", "pooled_fresh_instance", TARGET_NONE, 0);
  return err;
}

/* Cold compiles take about a second each: few repetitions, one per batch.
   The warm-up compile (full run only) keeps one-time process costs such as
   Cranelift's thread pool start out of the first figure. */
static wp_error *bench_go_cold(void) {
  go_ctx c = {.cold = true};
  bench_case bc = {
      "go_compile_cold",     "ms/load",      1e6,         1,        bench_quick() ? 1 : 5,
      bench_quick() ? 0 : 1, go_cold_before, run_go_load, go_after, &c};
  return bench_measure(&bc);
}

/* Reading the file alone, as a load does: the part no cache can save. */
static wp_error *run_go_read(void *ctx, size_t n) {
  (void)ctx;
  for (size_t i = 0; i < n; i++) {
    FILE *f = fopen(GO_PLUGIN, "rb");
    if (!f) return wp_error_new(WP_ERR_IO, "bench: cannot open %s", GO_PLUGIN);
    bool ok = fseek(f, 0, SEEK_END) == 0;
    long size = ok ? ftell(f) : -1;
    uint8_t *buf = size > 0 ? malloc((size_t)size) : NULL;
    ok = buf && fseek(f, 0, SEEK_SET) == 0 && fread(buf, 1, (size_t)size, f) == (size_t)size;
    free(buf);
    fclose(f);
    if (!ok) return wp_error_new(WP_ERR_IO, "bench: cannot read %s", GO_PLUGIN);
  }
  return NULL;
}

/*
 * Cached: one engine on a directory one untimed load has filled. The same
 * load with the plugin's sha256 pinned is the baseline: a pin hashes the
 * file every time, as every load did before the cache's index (plugin.h);
 * reading the file is the floor.
 */
static wp_error *bench_go_cached(void) {
  go_ctx c = {.cold = false}, pinned = {.cold = false};
  wp_plugin *first = NULL;
  wp_error *err = bench_make_temp_dir(&c.dir);
  if (!err) err = go_engine(c.dir, &c.engine);
  if (!err) err = wp_plugin_load(c.engine, GO_PLUGIN, NULL, &first);
  if (!err && !(pinned.manifest = wp_manifest_new()))
    err = wp_error_new(WP_ERR_HOST, "bench: out of memory");
  if (!err) err = wp_manifest_set_sha256(pinned.manifest, wp_plugin_get_sha256(first));
  wp_plugin_free(first);
  pinned.engine = c.engine;
  bench_case cases[] = {
      {"go_load_pinned", "ms/load", 1e6, bench_batch(20), bench_reps(9), 1, NULL, run_go_load,
       go_after, &pinned},
      {"go_load_cached", "ms/load", 1e6, bench_batch(20), bench_reps(9), 1, NULL, run_go_load,
       go_after, &c},
      {"go_read_file", "ms/load", 1e6, bench_batch(20), bench_reps(9), 1, NULL, run_go_read, NULL,
       NULL},
  };
  if (!err) err = bench_measure_group(cases, COUNT(cases));
  go_after(&pinned); /* frees what a failed batch left */
  go_after(&c);
  wp_manifest_free(pinned.manifest);
  wp_engine_free(c.engine);
  bench_free_temp_dir(c.dir);
  bench_judge("go_load_cached", "go_load_pinned", TARGET_MEDIAN, 1);
  bench_judge("go_read_file", "go_load_cached", TARGET_NONE, 0);
  return err;
}

wp_error *bench_instances(bench_env *env) {
  wp_error *err = bench_instance_costs(env);
  if (!err) err = bench_go_cold();
  if (!err) err = bench_go_cached();
  return err;
}
