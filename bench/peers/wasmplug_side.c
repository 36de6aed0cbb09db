/*
 * wasmplug_side.c - the wasmplug side of `make bench-peers` (bench/peers/run.py):
 * the rows src/main.rs measures through Extism, measured the same way here
 * through wasmplug's public API, with guests/wasmplug.wat (the counterpart
 * of guests/extism.wat) and the example Go plugin.
 *
 *   wasmplug-bench-peers-c --wat guests/wasmplug.wat --go hello-go.wasm --cache DIR
 *                          [--scale F] [--reps R]
 *
 * Each row: one untimed warm-up batch, then R repetitions, each timing a
 * batch of operations; prints one JSON line per row, {"row", "ns": [per op]}.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasmplug.h"

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#define LOAD_MAX_BATCH 64

typedef struct ctx {
  wp_engine *engine, *go_engine;
  wp_plugin *plugin;
  wp_instance *inst;
  wp_pool *fresh;
  wp_func_id nop, echo, call_host;
  const char *go_path;
  uint8_t *input;
  size_t input_len;
  wp_plugin *loaded[LOAD_MAX_BATCH]; /* the plugins a load batch made, freed untimed */
  size_t nloaded;
} ctx;

typedef wp_error *(*batch_fn)(ctx *c, size_t n);

/* Frees what a load batch made: untimed, as in wasmplug-bench's go_load_cached. */
static void free_loaded(ctx *c) {
  for (size_t i = 0; i < c->nloaded; i++) wp_plugin_free(c->loaded[i]);
  c->nloaded = 0;
}

/* One warm-up batch, then `reps` timed ones. */
static wp_error *measure(const char *row, ctx *c, batch_fn fn, size_t n, int reps) {
  double ns[64];
  if (reps > 64) reps = 64;
  wp_error *err = fn(c, n);
  free_loaded(c);
  for (int r = 0; !err && r < reps; r++) {
    double t0 = now_ns();
    err = fn(c, n);
    ns[r] = (now_ns() - t0) / (double)n;
    free_loaded(c);
  }
  if (err) return err;
  printf("{\"row\": \"%s\", \"ns\": [", row);
  for (int r = 0; r < reps; r++) printf("%s%.2f", r ? ", " : "", ns[r]);
  printf("]}\n");
  fflush(stdout);
  return NULL;
}

static wp_error *host_nop(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                          size_t nresults, void *ud) {
  (void)call, (void)args, (void)nargs, (void)results, (void)nresults, (void)ud;
  return NULL;
}

static wp_error *run_nop(ctx *c, size_t n) {
  static const uint8_t none[1];
  for (size_t i = 0; i < n; i++) {
    const uint8_t *out;
    size_t out_len;
    wp_error *err = wp_instance_call_func_bytes(c->inst, c->nop, none, 0, &out, &out_len);
    if (err) return err;
  }
  return NULL;
}

static wp_error *run_echo(ctx *c, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t *out;
    size_t out_len;
    wp_error *err = wp_instance_call_func_bytes(c->inst, c->echo, c->input, c->input_len, &out,
                                                &out_len);
    if (err) return err;
    if (out_len != c->input_len)
      return wp_error_new(WP_ERR_HOST, "echo returned %zu bytes, not %zu", out_len, c->input_len);
  }
  return NULL;
}

/* A fresh pooled instance per call (max_uses 1), as wp_pool serves them. */
static wp_error *run_fresh(ctx *c, size_t n) {
  static const uint8_t none[1];
  for (size_t i = 0; i < n; i++) {
    wp_instance *inst;
    const uint8_t *out;
    size_t out_len;
    wp_error *err = wp_pool_take(c->fresh, &inst);
    if (err) return err;
    err = wp_instance_call_func_bytes(inst, c->nop, none, 0, &out, &out_len);
    wp_pool_release(c->fresh, inst);
    if (err) return err;
  }
  return NULL;
}

/* One call making n guest-to-host calls; the call's own cost is spread over n. */
static wp_error *run_host_call(ctx *c, size_t n) {
  wp_val arg = WP_VAL_I32((int32_t)n);
  return wp_instance_call_func(c->inst, c->call_host, &arg, 1, NULL, 0);
}

/* Loads from the compile cache (an untimed load filled it). */
static wp_error *run_load(ctx *c, size_t n) {
  if (n > LOAD_MAX_BATCH) return wp_error_new(WP_ERR_HOST, "load batch over %d", LOAD_MAX_BATCH);
  for (size_t i = 0; i < n; i++) {
    wp_plugin *p;
    wp_error *err = wp_plugin_load(c->go_engine, c->go_path, NULL, &p);
    if (err) return err;
    c->loaded[c->nloaded++] = p;
    if (!wp_plugin_was_cached(p))
      return wp_error_new(WP_ERR_HOST, "a load of %s was not cached", c->go_path);
  }
  return NULL;
}

static size_t scaled(double scale, size_t full) {
  size_t n = (size_t)((double)full * scale);
  return n ? n : 1;
}

static wp_error *echo_row(ctx *c, const char *row, size_t len, size_t n, int reps) {
  c->input = malloc(len);
  if (!c->input) return wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < len; i++) c->input[i] = (uint8_t)('a' + i % 26);
  c->input_len = len;
  const uint8_t *out;
  size_t out_len;
  wp_error *err = wp_instance_call_func_bytes(c->inst, c->echo, c->input, len, &out, &out_len);
  if (!err && (out_len != len || memcmp(out, c->input, len) != 0))
    err = wp_error_new(WP_ERR_HOST, "echo of %zu bytes returned other bytes", len);
  if (!err) err = measure(row, c, run_echo, n, reps);
  free(c->input);
  c->input = NULL;
  return err;
}

/* The Go plugin's engine: pooling off (a load makes no instance) and a cache. */
static wp_error *go_engine(const char *dir, wp_engine **out) {
  wp_engine_config *cfg = wp_engine_config_new();
  if (!cfg) return wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  wp_engine_config_set_cache_dir(cfg, dir);
  wp_engine_config_set_pooling(cfg, 0);
  wp_error *err = wp_engine_new(cfg, out);
  wp_engine_config_free(cfg);
  return err;
}

static wp_error *run_all(ctx *c, const char *wat, const char *cache, double scale, int reps) {
  /* Defaults (pooling on, as an embedder has it), no disk cache for the
     small guest: it is compiled once per process, as on the Extism side. */
  wp_engine_config *cfg = wp_engine_config_new();
  if (!cfg) return wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_error *err = wp_engine_new(cfg, &c->engine);
  wp_engine_config_free(cfg);
  if (!err)
    err = wp_engine_define_func(c->engine, "peers", "nop", NULL, 0, NULL, 0, host_nop, NULL, NULL);
  if (!err) err = wp_plugin_load(c->engine, wat, NULL, &c->plugin);
  if (!err) err = wp_plugin_find_func(c->plugin, "nop", &c->nop);
  if (!err) err = wp_plugin_find_func(c->plugin, "echo", &c->echo);
  if (!err) err = wp_plugin_find_func(c->plugin, "call_host", &c->call_host);
  if (!err) err = wp_instance_new(c->plugin, &c->inst);
  if (!err) err = wp_pool_new(c->plugin, 1, 1, &c->fresh);

  if (!err) err = measure("minimal_call", c, run_nop, scaled(scale, 20000), reps);
  if (!err) err = echo_row(c, "echo_32B", 32, scaled(scale, 20000), reps);
  if (!err) err = echo_row(c, "echo_4KiB", 4096, scaled(scale, 5000), reps);
  if (!err) err = measure("fresh_instance_call", c, run_fresh, scaled(scale, 500), reps);
  if (!err) err = measure("host_call", c, run_host_call, scaled(scale, 200000), reps);

  wp_plugin *first = NULL;
  wp_instance *go_inst = NULL;
  const char *hello = NULL;
  if (!err) err = go_engine(cache, &c->go_engine);
  if (!err) err = wp_plugin_load(c->go_engine, c->go_path, NULL, &first);
  if (!err) err = wp_instance_new(first, &go_inst);
  if (!err) err = wp_instance_call_string(go_inst, "greet", "world", &hello);
  if (!err && strcmp(hello, "Hello, world!") != 0)
    err = wp_error_new(WP_ERR_HOST, "the Go plugin said '%s'", hello);
  wp_instance_free(go_inst);
  wp_plugin_free(first);
  if (!err) err = measure("load_cached_go", c, run_load, scaled(scale, 10), reps);
  return err;
}

int main(int argc, char **argv) {
  const char *wat = NULL, *cache = NULL;
  double scale = 1;
  int reps = 11;
  ctx c = {0};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--wat") == 0) wat = argv[i + 1];
    else if (strcmp(argv[i], "--go") == 0) c.go_path = argv[i + 1];
    else if (strcmp(argv[i], "--cache") == 0) cache = argv[i + 1];
    else if (strcmp(argv[i], "--scale") == 0) scale = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--reps") == 0) reps = atoi(argv[i + 1]);
    else wat = NULL, i = argc;
  }
  if (!wat || !c.go_path || !cache || scale <= 0 || reps < 1) {
    fprintf(stderr, "usage: wasmplug-bench-peers-c --wat F --go F --cache DIR [--scale F] "
                    "[--reps R]\n");
    return 2;
  }
  wp_error *err = run_all(&c, wat, cache, scale, reps);
  free_loaded(&c);
  wp_pool_free(c.fresh);
  wp_instance_free(c.inst);
  wp_plugin_free(c.plugin);
  wp_engine_free(c.go_engine);
  wp_engine_free(c.engine);
  if (!err) return 0;
  fprintf(stderr, "wasmplug-bench-peers-c: %s\n", wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}
