/*
 * cases_core.c - calls into core modules: numeric calls, bytes calls and
 * guest-to-host calls, each beside its baseline, the same call through
 * Wasmtime's C API directly; and the engine and plugins every topic shares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasmtime.h>

#include "cases.h"
#include "harness.h"

/* ======================================================================== */
/* Raw Wasmtime: the baselines                                               */
/* ======================================================================== */

typedef struct raw_env {
  wasm_engine_t *engine;
  wasmtime_store_t *store;
  wasmtime_context_t *ctx;
  wasmtime_linker_t *linker;
  wasmtime_module_t *numeric, *host;
  wasmtime_instance_t numeric_inst, host_inst;
  wasmtime_func_t add, call_nop;
} raw_env;

/* Turns a Wasmtime failure into a wp_error, so all errors print one way. */
static wp_error *raw_error(const char *what, wasmtime_error_t *werr, wasm_trap_t *trap) {
  wasm_name_t msg = {0, NULL};
  if (werr) wasmtime_error_message(werr, &msg);
  else if (trap) wasm_trap_message(trap, &msg);
  wp_error *err = wp_error_new(WP_ERR_HOST, "raw wasmtime: %s: %.*s", what, (int)msg.size,
                               msg.data ? msg.data : "");
  wasm_byte_vec_delete(&msg);
  if (werr) wasmtime_error_delete(werr);
  if (trap) wasm_trap_delete(trap);
  return err;
}

/* Compiles a .wat fixture with wasmtime_wat2wasm and wasmtime_module_new. */
static wp_error *raw_compile(raw_env *env, const char *file, wasmtime_module_t **out) {
  char path[1024], *text = NULL;
  size_t len = 0;
  snprintf(path, sizeof path, "%s/%s", WP_BENCH_FIXTURES, file);
  wp_error *err = bench_read_file(path, &text, &len);
  if (err) return err;
  wasm_byte_vec_t wasm;
  wasmtime_error_t *werr = wasmtime_wat2wasm(text, len, &wasm);
  free(text);
  if (werr) return raw_error(file, werr, NULL);
  werr = wasmtime_module_new(env->engine, (const uint8_t *)wasm.data, wasm.size, out);
  wasm_byte_vec_delete(&wasm);
  return werr ? raw_error(file, werr, NULL) : NULL;
}

/* The host function of the baseline: does nothing, like the wasmplug one. */
static wasm_trap_t *raw_nop(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *raw,
                            size_t n) {
  (void)env, (void)caller, (void)raw, (void)n;
  return NULL;
}

static wp_error *raw_define(raw_env *env, const char *name, const wasm_valkind_t *ps, size_t np,
                            const wasm_valkind_t *rs, size_t nr) {
  wasm_valtype_vec_t params, results;
  wasm_valtype_vec_new_uninitialized(&params, np);
  wasm_valtype_vec_new_uninitialized(&results, nr);
  for (size_t i = 0; i < np; i++) params.data[i] = wasm_valtype_new(ps[i]);
  for (size_t i = 0; i < nr; i++) results.data[i] = wasm_valtype_new(rs[i]);
  wasm_functype_t *type = wasm_functype_new(&params, &results);
  wasmtime_error_t *werr = wasmtime_linker_define_func_unchecked(
      env->linker, "test", 4, name, strlen(name), type, raw_nop, NULL, NULL);
  wasm_functype_delete(type);
  return werr ? raw_error(name, werr, NULL) : NULL;
}

/* host.wat imports five functions; only `nop` runs, but all must link. */
static wp_error *raw_define_host(raw_env *env) {
  static const wasm_valkind_t i32x3[] = {WASM_I32, WASM_I32, WASM_I32};
  static const wasm_valkind_t i64f64[] = {WASM_I64, WASM_F64}, f64[] = {WASM_F64};
  wp_error *err = raw_define(env, "add", i32x3, 2, i32x3, 1);
  if (!err) err = raw_define(env, "scale", i64f64, 2, f64, 1);
  if (!err) err = raw_define(env, "upper", i32x3, 3, NULL, 0);
  if (!err) err = raw_define(env, "fail", i32x3, 1, i32x3, 1);
  if (!err) err = raw_define(env, "nop", NULL, 0, NULL, 0);
  return err;
}

static wp_error *raw_export(raw_env *env, wasmtime_instance_t *inst, const char *name,
                            wasmtime_func_t *out) {
  wasmtime_extern_t item;
  if (!wasmtime_instance_export_get(env->ctx, inst, name, strlen(name), &item) ||
      item.kind != WASMTIME_EXTERN_FUNC)
    return wp_error_new(WP_ERR_NOT_FOUND, "raw wasmtime: no exported function '%s'", name);
  *out = item.of.func;
  return NULL;
}

/* Engine with epoch interruption on, as wasmplug's, so both pay for the checks. */
static wp_error *raw_engine(raw_env *env) {
  wasm_config_t *cfg = wasm_config_new();
  wasmtime_config_epoch_interruption_set(cfg, true);
  env->engine = wasm_engine_new_with_config(cfg);
  if (!env->engine) return wp_error_new(WP_ERR_HOST, "raw wasmtime: cannot make an engine");
  env->store = wasmtime_store_new(env->engine, NULL, NULL);
  env->ctx = wasmtime_store_context(env->store);
  /* No timer thread advances this engine's epoch: a far deadline never fires. */
  wasmtime_context_set_epoch_deadline(env->ctx, UINT64_C(1) << 40);
  env->linker = wasmtime_linker_new(env->engine);
  return NULL;
}

static wp_error *raw_instantiate(raw_env *env, wasmtime_module_t *m, wasmtime_instance_t *inst) {
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_linker_instantiate(env->linker, env->ctx, m, inst, &trap);
  return werr || trap ? raw_error("instantiate", werr, trap) : NULL;
}

static wp_error *raw_setup(raw_env *env) {
  wp_error *err = raw_engine(env);
  if (!err) err = raw_define_host(env);
  if (!err) err = raw_compile(env, "numeric.wat", &env->numeric);
  if (!err) err = raw_compile(env, "host.wat", &env->host);
  if (!err) err = raw_instantiate(env, env->numeric, &env->numeric_inst);
  if (!err) err = raw_instantiate(env, env->host, &env->host_inst);
  if (!err) err = raw_export(env, &env->numeric_inst, "add", &env->add);
  if (!err) err = raw_export(env, &env->host_inst, "call_nop", &env->call_nop);
  return err;
}

static void raw_teardown(raw_env *env) {
  if (env->linker) wasmtime_linker_delete(env->linker);
  if (env->store) wasmtime_store_delete(env->store);
  if (env->numeric) wasmtime_module_delete(env->numeric);
  if (env->host) wasmtime_module_delete(env->host);
  if (env->engine) wasm_engine_delete(env->engine);
}

static wp_error *run_raw_add(void *ctx, size_t n) {
  raw_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wasmtime_val_raw_t raw[2] = {{.i32 = (int32_t)i}, {.i32 = 1}};
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *werr = wasmtime_func_call_unchecked(env->ctx, &env->add, raw, 2, &trap);
    if (werr || trap) return raw_error("add", werr, trap);
    if (raw[0].i32 != (int32_t)i + 1) return wp_error_new(WP_ERR_HOST, "raw add gave a wrong sum");
  }
  return NULL;
}

/*
 * The floor under any numeric call API: the thinnest wrapper there can be
 * around the baseline's call, taking and giving wp_vals as wasmplug's does
 * but checking nothing (no kinds, arity, instance state, interrupts or plugin
 * errors) and called directly rather than through a shared library. What a
 * real API costs beyond raw is this row's cost plus its checks' (README,
 * Performance).
 */
static __attribute__((noinline)) wp_error *
floor_call(raw_env *env, const wp_val *args, size_t nargs, wp_val *results, size_t nresults) {
  wasmtime_val_raw_t raw[2];
  /* add's values are i32s, copied as such: 8-byte copies, wasmplug's one
     copy for every kind, measured 1.22-1.27x raw here instead of 1.04-1.08x
     (an 8-byte load spanning WP_VAL_I32's 4-byte store waits for it). */
  for (size_t i = 0; i < nargs; i++) raw[i].i32 = args[i].of.i32;
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(env->ctx, &env->add, raw, 2, &trap);
  if (werr || trap) return raw_error("add", werr, trap);
  for (size_t i = 0; i < nresults; i++) {
    results[i].kind = WP_I32;
    results[i].of.i64 = (uint32_t)raw[i].i32;
  }
  return NULL;
}

static wp_error *run_floor_add(void *ctx, size_t n) {
  raw_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
    wp_error *err = floor_call(env, args, 2, &res, 1);
    if (err) return err;
    if (res.of.i32 != (int32_t)i + 1)
      return wp_error_new(WP_ERR_HOST, "floor add gave a wrong sum");
  }
  return NULL;
}

/* One call of call_nop(n): n guest-to-host calls. */
static wp_error *run_raw_nop(void *ctx, size_t n) {
  raw_env *env = ctx;
  wasmtime_val_raw_t raw[1] = {{.i32 = (int32_t)n}};
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(env->ctx, &env->call_nop, raw, 1, &trap);
  return werr || trap ? raw_error("call_nop", werr, trap) : NULL;
}

/* The baselines' engine, store and instances; bench_setup makes them first. */
static raw_env g_raw;

/* ======================================================================== */
/* wasmplug                                                                  */
/* ======================================================================== */

/* Host functions host.wat imports. Only `nop` is timed; it is empty so the
   figure is wasmplug's trampoline and Wasmtime's transition, nothing else. */
static wp_error *host_nop(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                          size_t nresults, void *ud) {
  (void)call, (void)args, (void)nargs, (void)results, (void)nresults, (void)ud;
  return NULL;
}

static wp_error *host_add(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                          size_t nresults, void *ud) {
  (void)call, (void)nargs, (void)nresults, (void)ud;
  results[0] = WP_VAL_I32(args[0].of.i32 + args[1].of.i32);
  return NULL;
}

static wp_error *host_scale(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                            size_t nresults, void *ud) {
  (void)call, (void)nargs, (void)nresults, (void)ud;
  results[0] = WP_VAL_F64((double)args[0].of.i64 * args[1].of.f64);
  return NULL;
}

static wp_error *host_fail(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                           size_t nresults, void *ud) {
  (void)call, (void)results, (void)nargs, (void)nresults, (void)ud;
  return wp_error_new(WP_ERR_HOST, "failed with %d", args[0].of.i32);
}

static wp_error *host_upper(wp_host_call *call, const uint8_t *input, size_t len, void *ud) {
  (void)ud;
  return wp_host_call_set_output(call, input, len);
}

/* Defined before host.wat is loaded: a plugin links against what exists then. */
static wp_error *define_host_funcs(wp_engine *e) {
  static const wp_valkind i32x2[] = {WP_I32, WP_I32}, i64f64[] = {WP_I64, WP_F64};
  static const wp_valkind f64[] = {WP_F64};
  wp_error *err = wp_engine_define_func(e, "test", "nop", NULL, 0, NULL, 0, host_nop, NULL, NULL);
  if (!err) err = wp_engine_define_func(e, "test", "add", i32x2, 2, i32x2, 1, host_add, NULL, NULL);
  if (!err)
    err = wp_engine_define_func(e, "test", "scale", i64f64, 2, f64, 1, host_scale, NULL, NULL);
  if (!err)
    err = wp_engine_define_func(e, "test", "fail", i32x2, 1, i32x2, 1, host_fail, NULL, NULL);
  if (!err) err = wp_engine_define_bytes(e, "test", "upper", host_upper, NULL, NULL);
  return err;
}

/* Loads a plugin, makes one instance of it and finds one export. */
static wp_error *load_one(wp_engine *e, const char *path, const char *func, wp_plugin **plugin,
                          wp_instance **inst, wp_func_id *id) {
  wp_error *err = wp_plugin_load(e, path, NULL, plugin);
  if (!err) err = wp_plugin_find_func(*plugin, func, id);
  if (!err) err = wp_instance_new(*plugin, inst);
  return err;
}

static wp_error *env_setup(bench_env *env) {
  /* Defaults (pooling on, as an embedder would have it) but no disk cache,
     so the benchmark leaves nothing in the user's ~/.cache. No log callback:
     echo.wat and hello-c log on every call, and printing would swamp the
     figures. */
  wp_engine_config *cfg = wp_engine_config_new();
  if (!cfg) return wp_error_new(WP_ERR_HOST, "bench: out of memory");
  wp_engine_config_set_cache_dir(cfg, NULL);
  /* The isolation rows' worker: this build's wasmplug, unless named. */
  const char *worker = getenv("WASMPLUG_WORKER");
  wp_engine_config_set_worker_path(cfg, worker && *worker ? worker : WP_BENCH_WORKER);
  wp_error *err = wp_engine_new(cfg, &env->engine);
  wp_engine_config_free(cfg);
  if (!err) err = define_host_funcs(env->engine);
  if (!err)
    err = load_one(env->engine, WP_BENCH_FIXTURES "/numeric.wat", "add", &env->numeric,
                   &env->numeric_inst, &env->add);
  if (!err)
    err = load_one(env->engine, WP_BENCH_FIXTURES "/echo.wat", "echo", &env->echo, &env->echo_inst,
                   &env->echo_fn);
  if (!err)
    err = load_one(env->engine, WP_BENCH_FIXTURES "/host.wat", "call_nop", &env->host,
                   &env->host_inst, &env->call_nop);
  if (!err && WP_BENCH_GUESTS)
    err = load_one(env->engine, WP_BENCH_PLUGINS "/hello-c.wasm", "greet", &env->hello,
                   &env->hello_inst, &env->greet);
  return err;
}

static void env_teardown(bench_env *env) {
  wp_instance *insts[] = {env->numeric_inst, env->echo_inst, env->host_inst, env->hello_inst};
  wp_plugin *plugins[] = {env->numeric, env->echo, env->host, env->hello};
  for (size_t i = 0; i < 4; i++) wp_instance_free(insts[i]);
  for (size_t i = 0; i < 4; i++) wp_plugin_free(plugins[i]);
  wp_engine_free(env->engine);
}

wp_error *bench_setup(bench_env *env) {
  wp_error *err = raw_setup(&g_raw);
  return err ? err : env_setup(env);
}

void bench_teardown(bench_env *env) {
  env_teardown(env);
  raw_teardown(&g_raw);
}

static wp_error *run_wp_add(void *ctx, size_t n) {
  bench_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
    wp_error *err = wp_instance_call_func(env->numeric_inst, env->add, args, 2, &res, 1);
    if (err) return err;
    if (res.of.i32 != (int32_t)i + 1) return wp_error_new(WP_ERR_HOST, "add gave a wrong sum");
  }
  return NULL;
}

static wp_error *run_wp_add_by_name(void *ctx, size_t n) {
  bench_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
    wp_error *err = wp_instance_call(env->numeric_inst, "add", args, 2, &res, 1);
    if (err) return err;
    if (res.of.i32 != (int32_t)i + 1) return wp_error_new(WP_ERR_HOST, "add gave a wrong sum");
  }
  return NULL;
}

static wp_error *run_wp_nop(void *ctx, size_t n) {
  bench_env *env = ctx;
  wp_val arg = WP_VAL_I32((int32_t)n);
  return wp_instance_call_func(env->host_inst, env->call_nop, &arg, 1, NULL, 0);
}

/* ---- bytes calls --------------------------------------------------------- */

typedef struct bytes_ctx {
  wp_instance *inst;
  wp_func_id func;
  const uint8_t *input;
  size_t len;
  size_t out_len; /* the output length a correct call returns */
} bytes_ctx;

static wp_error *run_bytes(void *ctx, size_t n) {
  bytes_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    const uint8_t *out;
    size_t out_len;
    wp_error *err = wp_instance_call_func_bytes(c->inst, c->func, c->input, c->len, &out, &out_len);
    if (err) return err;
    if (out_len != c->out_len)
      return wp_error_new(WP_ERR_HOST, "bytes call returned %zu bytes, expected %zu", out_len,
                          c->out_len);
  }
  return NULL;
}

/* ======================================================================== */
/* The benchmarks                                                            */
/* ======================================================================== */

/* Fast rows: 11 repetitions of ~20 ms batches, so a burst of load from
   elsewhere spoils a repetition or two, which the median discards. */
static wp_error *bench_numeric(raw_env *raw, bench_env *env) {
  bench_case cases[] = {
      {"numeric_call_raw", "ns/call", 1, bench_batch(500000), bench_reps(11), 1, NULL, run_raw_add,
       NULL, raw},
      {"numeric_call_floor", "ns/call", 1, bench_batch(500000), bench_reps(11), 1, NULL,
       run_floor_add, NULL, raw},
      {"numeric_call", "ns/call", 1, bench_batch(500000), bench_reps(11), 1, NULL, run_wp_add, NULL,
       env},
      {"numeric_call_by_name", "ns/call", 1, bench_batch(500000), bench_reps(11), 1, NULL,
       run_wp_add_by_name, NULL, env},
  };
  wp_error *err = bench_measure_group(cases, COUNT(cases));
  bench_judge("numeric_call", "numeric_call_raw", TARGET_RATIO, 1.1);
  bench_judge("numeric_call_by_name", "numeric_call_raw", TARGET_NONE, 0);
  bench_judge("numeric_call_floor", "numeric_call_raw", TARGET_NONE, 0);
  return err;
}

static wp_error *bench_bytes(bench_env *env) {
  static uint8_t small[32], big[4096];
  memset(small, 'a', sizeof small);
  memset(big, 'b', sizeof big);
  bytes_ctx echo32 = {env->echo_inst, env->echo_fn, small, sizeof small, sizeof small};
  bytes_ctx echo4k = {env->echo_inst, env->echo_fn, big, sizeof big, sizeof big};
  bytes_ctx greet32 = {env->hello_inst, env->greet, small, sizeof small,
                       sizeof small + sizeof "Hello, !" - 1};
  bench_case cases[] = {
      {"bytes_echo_32B", "ns/call", 1, bench_batch(100000), bench_reps(11), 1, NULL, run_bytes,
       NULL, &echo32},
      {"bytes_echo_4KiB", "ns/call", 1, bench_batch(100000), bench_reps(11), 1, NULL, run_bytes,
       NULL, &echo4k},
      {"bytes_greet_c_32B", "ns/call", 1, bench_batch(100000), bench_reps(11), 1, NULL, run_bytes,
       NULL, &greet32},
  };
  wp_error *err = bench_measure_group(cases, COUNT(cases) - (WP_BENCH_GUESTS ? 0 : 1));
  bench_judge("bytes_echo_32B", NULL, TARGET_MEDIAN, 80);
  return err;
}

/* One batch is one call of call_nop(1,000,000): per guest-to-host call, the
   single host-to-guest entry around it is noise (~30 ns in ~10 ms). */
static wp_error *bench_guest_to_host(raw_env *raw, bench_env *env) {
  bench_case cases[] = {
      {"guest_to_host_raw", "ns/call", 1, bench_batch(1000000), bench_reps(11), 1, NULL,
       run_raw_nop, NULL, raw},
      {"guest_to_host", "ns/call", 1, bench_batch(1000000), bench_reps(11), 1, NULL, run_wp_nop,
       NULL, env},
  };
  wp_error *err = bench_measure_group(cases, COUNT(cases));
  bench_judge("guest_to_host", "guest_to_host_raw", TARGET_MEDIAN, 15);
  return err;
}

/* ---- process isolation ----------------------------------------------------- */

/* The same plugins as above, each instance in a worker process. */
typedef struct iso_ctx {
  wp_plugin *numeric, *echo;
  wp_instance *numeric_inst, *echo_inst;
  bench_env view; /* run_wp_add's view: the isolated numeric instance */
} iso_ctx;

static wp_error *iso_setup(bench_env *env, iso_ctx *c) {
  wp_manifest *m = wp_manifest_new();
  if (!m) return wp_error_new(WP_ERR_HOST, "bench: out of memory");
  wp_manifest_set_isolation(m, WP_ISOLATION_PROCESS);
  wp_error *err = wp_plugin_load(env->engine, WP_BENCH_FIXTURES "/numeric.wat", m, &c->numeric);
  if (!err) err = wp_plugin_load(env->engine, WP_BENCH_FIXTURES "/echo.wat", m, &c->echo);
  if (!err) err = wp_instance_new(c->numeric, &c->numeric_inst);
  if (!err) err = wp_instance_new(c->echo, &c->echo_inst);
  wp_manifest_free(m);
  c->view = *env;
  c->view.numeric_inst = c->numeric_inst;
  return err;
}

static void iso_teardown(iso_ctx *c) {
  wp_instance_free(c->numeric_inst);
  wp_instance_free(c->echo_inst);
  wp_plugin_free(c->numeric);
  wp_plugin_free(c->echo);
}

/* A call crossing into a worker process and back (two socket writes, two
   reads, two context switches), beside the same call in-process, same run. */
static wp_error *bench_isolation(bench_env *env) {
  iso_ctx c = {0};
  wp_error *err = iso_setup(env, &c);
  static uint8_t small[32];
  memset(small, 'a', sizeof small);
  bytes_ctx in32 = {env->echo_inst, env->echo_fn, small, sizeof small, sizeof small};
  bytes_ctx iso32 = {c.echo_inst, env->echo_fn, small, sizeof small, sizeof small};
  bench_case cases[] = {
      {"numeric_call_inprocess", "ns/call", 1, bench_batch(20000), bench_reps(7), 1, NULL,
       run_wp_add, NULL, env},
      {"numeric_call_process", "ns/call", 1, bench_batch(20000), bench_reps(7), 1, NULL, run_wp_add,
       NULL, &c.view},
      {"bytes_echo_32B_inprocess", "ns/call", 1, bench_batch(20000), bench_reps(7), 1, NULL,
       run_bytes, NULL, &in32},
      {"bytes_echo_32B_process", "ns/call", 1, bench_batch(20000), bench_reps(7), 1, NULL,
       run_bytes, NULL, &iso32},
  };
  if (!err) err = bench_measure_group(cases, COUNT(cases));
  bench_judge("numeric_call_process", "numeric_call_inprocess", TARGET_MEDIAN, 50000);
  bench_judge("bytes_echo_32B_process", "bytes_echo_32B_inprocess", TARGET_MEDIAN, 50000);
  iso_teardown(&c);
  return err;
}

wp_error *bench_core(bench_env *env) {
  wp_error *err = bench_numeric(&g_raw, env);
  if (!err) err = bench_bytes(env);
  if (!err) err = bench_guest_to_host(&g_raw, env);
  if (!err) err = bench_isolation(env);
  return err;
}
