/*
 * core.c - wasmplug's core benchmarks: what the library adds on top of raw
 * Wasmtime for calls, bytes calls, guest-to-host calls, instances and loads.
 *
 *   wasmplug-bench [--out PATH] [--quick] [--rust-harness PATH]
 *
 * --rust-harness runs bench/rust (the same component called through
 * Wasmtime's Rust API with typed functions) and adds its figures as the
 * baselines of the component rows.
 *
 * Prints a table and writes a JSON list of {"name", "unit", "median", ...}.
 * Every figure is the median of several repetitions, each timing a batch of
 * many operations, after a warm-up. Baselines (raw Wasmtime, or a cheaper
 * operation) are measured in the same run, on the same machine state, so the
 * ratios mean something even on a noisy host. Targets that are not met are
 * reported, never hidden, and do not fail the run: only errors do.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasmplug.h>
#include <wasmtime.h>

#ifndef WP_BENCH_FIXTURES
#error "WP_BENCH_FIXTURES (the .wat fixture directory) must be defined by the build"
#endif
#ifndef WP_BENCH_PLUGINS
#error "WP_BENCH_PLUGINS (the built example plugins) must be defined by the build"
#endif
#ifndef WP_BENCH_DEFAULT_OUT
#define WP_BENCH_DEFAULT_OUT "bench/core.json"
#endif
#ifndef WP_BENCH_GUESTS
#define WP_BENCH_GUESTS 1
#endif

#define MAX_ROWS 32
#define MAX_REPS 16
#define MAX_TEMP_DIRS 16

/* ======================================================================== */
/* Options, clock, statistics                                               */
/* ======================================================================== */

static bool g_quick;

/* A batch size: --quick shrinks it so the whole run takes seconds. */
static size_t batch(size_t full) {
  size_t n = g_quick ? full / 50 : full;
  return n ? n : 1;
}

/* Repetitions: at least 5 in a full run, so the median means something. */
static int reps(int full) { return g_quick ? (full < 3 ? full : 3) : full; }

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts in place and returns the median. */
static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ======================================================================== */
/* Results                                                                   */
/* ======================================================================== */

typedef enum target_kind {
  TARGET_NONE,
  TARGET_MEDIAN, /* median <= target, in the row's unit */
  TARGET_RATIO,  /* median / baseline <= target */
} target_kind;

typedef struct row {
  const char *name, *unit;
  double median, min, max; /* in `unit` */
  int reps;
  const char *baseline;    /* name of the row this one is compared with, or NULL */
  double baseline_median, ratio;
  target_kind target_kind;
  double target;
  bool met;
} row;

static row g_rows[MAX_ROWS];
static int g_nrows;

static row *find_row(const char *name) {
  for (int i = 0; i < g_nrows; i++)
    if (strcmp(g_rows[i].name, name) == 0) return &g_rows[i];
  return NULL;
}

/* Ties a row to its baseline and target; done after both were measured. */
static void judge(const char *name, const char *baseline, target_kind kind, double target) {
  row *r = find_row(name), *b = baseline ? find_row(baseline) : NULL;
  if (!r) return; /* skipped (example plugins not built) */
  r->baseline = b ? b->name : NULL;
  if (b) {
    r->baseline_median = b->median;
    r->ratio = b->median > 0 ? r->median / b->median : 0;
  }
  r->target_kind = kind;
  r->target = target;
  if (kind == TARGET_MEDIAN) r->met = r->median <= target;
  if (kind == TARGET_RATIO) r->met = b && r->ratio <= target;
}

/* ======================================================================== */
/* The measuring loop                                                        */
/* ======================================================================== */

/*
 * One benchmark. `run` performs `n` operations and is the only timed part;
 * `before` and `after` (optional) run around every batch, untimed, for work
 * that must not be counted (making a cold engine, freeing loaded plugins).
 */
typedef struct bench_case {
  const char *name, *unit;
  double unit_ns; /* nanoseconds in one `unit` */
  size_t n;
  int reps, warmups;
  wp_error *(*before)(void *ctx);
  wp_error *(*run)(void *ctx, size_t n);
  void (*after)(void *ctx);
  void *ctx;
} bench_case;

/* Runs one batch and returns its time per operation in ns (via *per_op). */
static wp_error *one_batch(const bench_case *c, double *per_op) {
  wp_error *err = c->before ? c->before(c->ctx) : NULL;
  if (err) return err;
  uint64_t t0 = now_ns();
  err = c->run(c->ctx, c->n);
  uint64_t t1 = now_ns();
  if (c->after) c->after(c->ctx);
  *per_op = (double)(t1 - t0) / (double)c->n;
  return err;
}

/* Records the median of `samples` (ns per operation) as a row of `c`'s. */
static wp_error *add_row(const bench_case *c, double *samples, int nreps) {
  if (g_nrows == MAX_ROWS) return wp_error_new(WP_ERR_HOST, "bench: too many rows");
  row *r = &g_rows[g_nrows++];
  *r = (row){.name = c->name, .unit = c->unit, .reps = nreps};
  r->median = median(samples, nreps) / c->unit_ns; /* sorts: min and max are the ends */
  r->min = samples[0] / c->unit_ns;
  r->max = samples[nreps - 1] / c->unit_ns;
  fprintf(stderr, "  %-24s %10.3f %s\n", c->name, r->median, c->unit);
  return NULL;
}

/*
 * Measures a group of related cases (a baseline and what is compared with
 * it) with their batches interleaved: warm-ups first, then repetition i of
 * every case before repetition i + 1 of any. Other load on the machine then
 * hits all of them alike, which keeps the ratios honest on a busy host. All
 * cases of a group use the first one's repetition count.
 */
static wp_error *measure_group(const bench_case *cases, size_t ncases) {
  static double samples[MAX_ROWS][MAX_REPS];
  double ignored;
  int nreps = cases[0].reps < MAX_REPS ? cases[0].reps : MAX_REPS;
  if (ncases > MAX_ROWS) return wp_error_new(WP_ERR_HOST, "bench: group too large");
  for (size_t c = 0; c < ncases; c++)
    for (int i = 0; i < cases[c].warmups; i++) {
      wp_error *err = one_batch(&cases[c], &ignored);
      if (err) return err;
    }
  for (int i = 0; i < nreps; i++)
    for (size_t c = 0; c < ncases; c++) {
      wp_error *err = one_batch(&cases[c], &samples[c][i]);
      if (err) return err;
    }
  for (size_t c = 0; c < ncases; c++) {
    wp_error *err = add_row(&cases[c], samples[c], nreps);
    if (err) return err;
  }
  return NULL;
}

static wp_error *measure(const bench_case *c) { return measure_group(c, 1); }

/* ======================================================================== */
/* Files and temporary directories                                           */
/* ======================================================================== */

static char g_temp_dirs[MAX_TEMP_DIRS][512];

/* Removes a cache directory: it only ever holds files, so one level is enough. */
static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (d) {
    char path[1024];
    for (struct dirent *e; (e = readdir(d));) {
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
    closedir(d);
  }
  rmdir(dir);
}

/* A fresh empty directory under $TMPDIR, remembered so it is always removed. */
static wp_error *make_temp_dir(char **out) {
  const char *base = getenv("TMPDIR");
  for (int i = 0; i < MAX_TEMP_DIRS; i++) {
    if (g_temp_dirs[i][0]) continue;
    snprintf(g_temp_dirs[i], sizeof g_temp_dirs[i], "%s/wasmplug-bench-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(g_temp_dirs[i])) {
      g_temp_dirs[i][0] = '\0';
      return wp_error_new(WP_ERR_IO, "bench: cannot make a temporary directory: %s", strerror(errno));
    }
    *out = g_temp_dirs[i];
    return NULL;
  }
  return wp_error_new(WP_ERR_HOST, "bench: too many temporary directories");
}

static void free_temp_dir(char *dir) {
  if (!dir || !dir[0]) return;
  remove_dir(dir);
  dir[0] = '\0';
}

static void free_all_temp_dirs(void) {
  for (int i = 0; i < MAX_TEMP_DIRS; i++) free_temp_dir(g_temp_dirs[i]);
}

static wp_error *read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return wp_error_new(WP_ERR_IO, "bench: cannot open %s: %s", path, strerror(errno));
  char *buf = NULL;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
      fread(buf, 1, (size_t)size, f) == (size_t)size) {
    fclose(f);
    *data = buf;
    *len = (size_t)size;
    return NULL;
  }
  fclose(f);
  free(buf);
  return wp_error_new(WP_ERR_IO, "bench: cannot read %s", path);
}

/* mkdir -p of the directory part of `path`. */
static wp_error *make_parent_dirs(const char *path) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return NULL;
  *slash = '\0';
  for (char *s = dir + 1; *s; s++) {
    if (*s != '/') continue;
    *s = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) break;
    *s = '/';
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return wp_error_new(WP_ERR_IO, "bench: cannot make directory %s: %s", dir, strerror(errno));
  return NULL;
}

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
  wp_error *err = read_file(path, &text, &len);
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

/* One call of call_nop(n): n guest-to-host calls. */
static wp_error *run_raw_nop(void *ctx, size_t n) {
  raw_env *env = ctx;
  wasmtime_val_raw_t raw[1] = {{.i32 = (int32_t)n}};
  wasm_trap_t *trap = NULL;
  wasmtime_error_t *werr = wasmtime_func_call_unchecked(env->ctx, &env->call_nop, raw, 1, &trap);
  return werr || trap ? raw_error("call_nop", werr, trap) : NULL;
}

/* ======================================================================== */
/* wasmplug                                                                  */
/* ======================================================================== */

typedef struct wp_env {
  wp_engine *engine;
  wp_plugin *numeric, *echo, *host, *hello;
  wp_instance *numeric_inst, *echo_inst, *host_inst, *hello_inst;
  wp_func_id add, echo_fn, call_nop, greet;
} wp_env;

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

static wp_error *host_scale(wp_host_call *call, const wp_val *args, size_t nargs,
                            wp_val *results, size_t nresults, void *ud) {
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
  if (!err) err = wp_engine_define_func(e, "test", "fail", i32x2, 1, i32x2, 1, host_fail, NULL, NULL);
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

static wp_error *wp_setup(wp_env *env) {
  /* Defaults (pooling on, as an embedder would have it) but no disk cache,
     so the benchmark leaves nothing in the user's ~/.cache. No log callback:
     echo.wat and hello-c log on every call, and printing would swamp the
     figures. */
  wp_engine_config *cfg = wp_engine_config_new();
  if (!cfg) return wp_error_new(WP_ERR_HOST, "bench: out of memory");
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_error *err = wp_engine_new(cfg, &env->engine);
  wp_engine_config_free(cfg);
  if (!err) err = define_host_funcs(env->engine);
  if (!err) err = load_one(env->engine, WP_BENCH_FIXTURES "/numeric.wat", "add", &env->numeric,
                           &env->numeric_inst, &env->add);
  if (!err) err = load_one(env->engine, WP_BENCH_FIXTURES "/echo.wat", "echo", &env->echo,
                           &env->echo_inst, &env->echo_fn);
  if (!err) err = load_one(env->engine, WP_BENCH_FIXTURES "/host.wat", "call_nop", &env->host,
                           &env->host_inst, &env->call_nop);
  if (!err && WP_BENCH_GUESTS)
    err = load_one(env->engine, WP_BENCH_PLUGINS "/hello-c.wasm", "greet", &env->hello,
                   &env->hello_inst, &env->greet);
  return err;
}

static void wp_teardown(wp_env *env) {
  wp_instance *insts[] = {env->numeric_inst, env->echo_inst, env->host_inst, env->hello_inst};
  wp_plugin *plugins[] = {env->numeric, env->echo, env->host, env->hello};
  for (size_t i = 0; i < 4; i++) wp_instance_free(insts[i]);
  for (size_t i = 0; i < 4; i++) wp_plugin_free(plugins[i]);
  wp_engine_free(env->engine);
}

static wp_error *run_wp_add(void *ctx, size_t n) {
  wp_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
    wp_error *err = wp_instance_call_func(env->numeric_inst, env->add, args, 2, &res, 1);
    if (err) return err;
    if (res.of.i32 != (int32_t)i + 1) return wp_error_new(WP_ERR_HOST, "add gave a wrong sum");
  }
  return NULL;
}

static wp_error *run_wp_add_by_name(void *ctx, size_t n) {
  wp_env *env = ctx;
  for (size_t i = 0; i < n; i++) {
    wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
    wp_error *err = wp_instance_call(env->numeric_inst, "add", args, 2, &res, 1);
    if (err) return err;
    if (res.of.i32 != (int32_t)i + 1) return wp_error_new(WP_ERR_HOST, "add gave a wrong sum");
  }
  return NULL;
}

static wp_error *run_wp_nop(void *ctx, size_t n) {
  wp_env *env = ctx;
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

/* ---- instances and pools -------------------------------------------------- */

static const char g_world[] = "world";
#define GREETING_LEN (sizeof "Hello, world!" - 1)

static wp_error *run_instance_new_free(void *ctx, size_t n) {
  wp_env *env = ctx;
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
  wp_error *err = make_temp_dir(&c->dir);
  return err ? err : go_engine(c->dir, &c->engine);
}

static wp_error *run_go_load(void *ctx, size_t n) {
  go_ctx *c = ctx;
  if (n > GO_MAX_BATCH) return wp_error_new(WP_ERR_HOST, "bench: Go load batch too large");
  for (size_t i = 0; i < n; i++) {
    wp_error *err = wp_plugin_load(c->engine, GO_PLUGIN, NULL, &c->loaded[c->nloaded]);
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
  free_temp_dir(c->dir);
  c->dir = NULL;
}

/* ======================================================================== */
/* The benchmarks                                                            */
/* ======================================================================== */

#define COUNT(a) (sizeof (a) / sizeof (a)[0])

/* Fast rows: 11 repetitions of ~20 ms batches, so a burst of load from
   elsewhere spoils a repetition or two, which the median discards. */
static wp_error *bench_numeric(raw_env *raw, wp_env *env) {
  bench_case cases[] = {
      {"numeric_call_raw", "ns/call", 1, batch(500000), reps(11), 1, NULL, run_raw_add, NULL, raw},
      {"numeric_call", "ns/call", 1, batch(500000), reps(11), 1, NULL, run_wp_add, NULL, env},
      {"numeric_call_by_name", "ns/call", 1, batch(500000), reps(11), 1, NULL, run_wp_add_by_name,
       NULL, env},
  };
  return measure_group(cases, COUNT(cases));
}

static wp_error *bench_bytes(wp_env *env) {
  static uint8_t small[32], big[4096];
  memset(small, 'a', sizeof small);
  memset(big, 'b', sizeof big);
  bytes_ctx echo32 = {env->echo_inst, env->echo_fn, small, sizeof small, sizeof small};
  bytes_ctx echo4k = {env->echo_inst, env->echo_fn, big, sizeof big, sizeof big};
  bytes_ctx greet32 = {env->hello_inst, env->greet, small, sizeof small,
                       sizeof small + sizeof "Hello, !" - 1};
  bench_case cases[] = {
      {"bytes_echo_32B", "ns/call", 1, batch(100000), reps(11), 1, NULL, run_bytes, NULL, &echo32},
      {"bytes_echo_4KiB", "ns/call", 1, batch(100000), reps(11), 1, NULL, run_bytes, NULL, &echo4k},
      {"bytes_greet_c_32B", "ns/call", 1, batch(100000), reps(11), 1, NULL, run_bytes, NULL,
       &greet32},
  };
  return measure_group(cases, COUNT(cases) - (WP_BENCH_GUESTS ? 0 : 1));
}

/* One batch is one call of call_nop(1,000,000): per guest-to-host call, the
   single host-to-guest entry around it is noise (~30 ns in ~10 ms). */
static wp_error *bench_guest_to_host(raw_env *raw, wp_env *env) {
  bench_case cases[] = {
      {"guest_to_host_raw", "ns/call", 1, batch(1000000), reps(11), 1, NULL, run_raw_nop, NULL, raw},
      {"guest_to_host", "ns/call", 1, batch(1000000), reps(11), 1, NULL, run_wp_nop, NULL, env},
  };
  return measure_group(cases, COUNT(cases));
}

/* Instance costs: new + free alone (the baseline), a fresh pooled instance
   per call (max_uses 1), and one reused instance (max_uses 0). */
static wp_error *bench_instances(wp_env *env) {
  pool_ctx fresh = {NULL, env->greet}, reused = {NULL, env->greet};
  wp_error *err = wp_pool_new(env->hello, 1, 1, &fresh.pool);
  if (!err) err = wp_pool_new(env->hello, 0, 1, &reused.pool);
  bench_case cases[] = {
      {"instance_new_free", "us/iter", 1e3, batch(2000), reps(11), 1, NULL, run_instance_new_free,
       NULL, env},
      {"pooled_fresh_instance", "us/iter", 1e3, batch(2000), reps(11), 1, NULL, run_pool, NULL,
       &fresh},
      {"pooled_reused_instance", "us/iter", 1e3, batch(50000), reps(11), 1, NULL, run_pool, NULL,
       &reused},
  };
  if (!err) err = measure_group(cases, COUNT(cases));
  wp_pool_free(fresh.pool);
  wp_pool_free(reused.pool);
  return err;
}

/* Cold compiles take about a second each: few repetitions, one per batch.
   The warm-up compile (full run only) keeps one-time process costs such as
   Cranelift's thread pool start out of the first figure. */
static wp_error *bench_go_cold(void) {
  go_ctx c = {.cold = true};
  bench_case bc = {"go_compile_cold", "ms/load", 1e6, 1, g_quick ? 1 : 5, g_quick ? 0 : 1,
                   go_cold_before, run_go_load, go_after, &c};
  return measure(&bc);
}

/* Cached: one engine on a directory one untimed load has filled. */
static wp_error *bench_go_cached(void) {
  go_ctx c = {.cold = false};
  wp_plugin *first = NULL;
  wp_error *err = make_temp_dir(&c.dir);
  if (!err) err = go_engine(c.dir, &c.engine);
  if (!err) err = wp_plugin_load(c.engine, GO_PLUGIN, NULL, &first);
  wp_plugin_free(first);
  bench_case bc = {"go_load_cached", "ms/load", 1e6, batch(20), reps(9), 1,
                   NULL, run_go_load, go_after, &c};
  if (!err) err = measure(&bc);
  go_after(&c); /* frees what a failed batch left */
  wp_engine_free(c.engine);
  free_temp_dir(c.dir);
  return err;
}

/* ---- components ------------------------------------------------------------- */

#define TYPES_PLUGIN WP_BENCH_PLUGINS "/types-c-component.wasm"

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
      err = wp_error_new(WP_ERR_HOST, "bench: echo-string returned something else");
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
  snprintf(cmd, sizeof cmd, "'%s' '%s'%s", harness, TYPES_PLUGIN, g_quick ? " --quick" : "");
  fprintf(stderr, "  running %s\n", cmd);
  FILE *f = popen(cmd, "r");
  if (!f) return wp_error_new(WP_ERR_IO, "bench: cannot run %s", harness);
  char buf[8192];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  if (pclose(f) != 0) return wp_error_new(WP_ERR_HOST, "bench: the Rust harness failed: %s", buf);
  cJSON *j = cJSON_Parse(buf);
  static const struct { const char *key, *row; } keys[] = {
      {"rust_typed_nop_ns", "component_nop_rust_typed"},
      {"rust_typed_echo32_ns", "component_echo_32B_rust_typed"},
  };
  for (size_t i = 0; j && i < COUNT(keys); i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i].key);
    if (!cJSON_IsNumber(v) || g_nrows == MAX_ROWS) continue;
    const cJSON *reps_ = cJSON_GetObjectItemCaseSensitive(j, "reps");
    g_rows[g_nrows++] = (row){.name = keys[i].row, .unit = "ns/call", .median = v->valuedouble,
                              .min = v->valuedouble, .max = v->valuedouble,
                              .reps = cJSON_IsNumber(reps_) ? reps_->valueint : 0};
    fprintf(stderr, "  %-24s %10.3f ns/call\n", keys[i].row, v->valuedouble);
  }
  cJSON_Delete(j);
  return j ? NULL : wp_error_new(WP_ERR_HOST, "bench: the Rust harness printed no JSON: %s", buf);
}

static wp_error *bench_components(wp_env *env, const char *harness) {
  wp_manifest *m = wp_manifest_new();
  /* The types component imports a host interface the benchmark never calls. */
  wp_manifest_set_trap_missing_imports(m, true);
  wp_plugin *p = NULL;
  comp_ctx nop = {0}, echo = {0}, fresh = {0};
  char text[33] = "0123456789abcdef0123456789abcdef";
  wp_value *arg = wp_value_new_string(text);
  wp_error *err = wp_plugin_load(env->engine, TYPES_PLUGIN, m, &p);
  wp_manifest_free(m);
  if (!err) err = wp_plugin_find_func(p, "nop", &nop.fn);
  if (!err) err = wp_plugin_find_func(p, "example:types/echo#echo-string", &echo.fn);
  if (!err) err = wp_instance_new(p, &nop.inst);
  if (!err) err = wp_instance_new(p, &echo.inst);
  if (!err) err = wp_pool_new(p, 1, 1, &fresh.pool);
  fresh.fn = nop.fn;
  echo.arg = arg;
  bench_case cases[] = {
      {"component_nop", "ns/call", 1, batch(200000), reps(11), 1, NULL, run_comp, NULL, &nop},
      {"component_echo_32B", "ns/call", 1, batch(100000), reps(11), 1, NULL, run_comp, NULL, &echo},
  };
  bench_case pooled = {"component_pooled_fresh", "us/iter", 1e3, batch(2000), reps(11), 1, NULL,
                       run_comp_pool, NULL, &fresh};
  if (!err) err = measure_group(cases, COUNT(cases));
  if (!err) err = measure(&pooled);
  if (!err && harness) err = rust_rows(harness);
  wp_instance_free(nop.inst);
  wp_instance_free(echo.inst);
  wp_pool_free(fresh.pool);
  wp_plugin_free(p);
  wp_value_free(arg);
  return err;
}

static wp_error *bench_all(raw_env *raw, wp_env *env, const char *harness) {
  wp_error *err = bench_numeric(raw, env);
  if (!err) err = bench_bytes(env);
  if (!err) err = bench_guest_to_host(raw, env);
  if (!err && WP_BENCH_GUESTS) err = bench_instances(env);
  if (!err && WP_BENCH_GUESTS) err = bench_go_cold();
  if (!err && WP_BENCH_GUESTS) err = bench_go_cached();
  if (!err && WP_BENCH_GUESTS && access(TYPES_PLUGIN, R_OK) != 0)
    fprintf(stderr, "  component rows skipped: %s was not built\n", TYPES_PLUGIN);
  else if (!err && WP_BENCH_GUESTS) err = bench_components(env, harness);
  return err;
}

/* Baselines and targets. A ratio compares with raw Wasmtime (what wasmplug
   adds); absolute targets are what an embedder can budget per operation. */
static void judge_all(void) {
  judge("numeric_call", "numeric_call_raw", TARGET_RATIO, 1.3);
  judge("numeric_call_by_name", "numeric_call_raw", TARGET_NONE, 0);
  judge("bytes_echo_32B", NULL, TARGET_MEDIAN, 150);
  judge("guest_to_host", "guest_to_host_raw", TARGET_MEDIAN, 15);
  judge("pooled_fresh_instance", "instance_new_free", TARGET_MEDIAN, 10);
  judge("pooled_reused_instance", "pooled_fresh_instance", TARGET_NONE, 0);
  judge("go_load_cached", "go_compile_cold", TARGET_MEDIAN, 2);
  judge("component_nop", "component_nop_rust_typed", TARGET_NONE, 0);
  judge("component_echo_32B", "component_echo_32B_rust_typed", TARGET_RATIO, 2);
  judge("component_pooled_fresh", NULL, TARGET_MEDIAN, 30);
}

/* ======================================================================== */
/* Output                                                                    */
/* ======================================================================== */

static void format_target(const row *r, char *buf, size_t cap) {
  if (r->target_kind == TARGET_RATIO) snprintf(buf, cap, "ratio <= %g", r->target);
  else if (r->target_kind == TARGET_MEDIAN) snprintf(buf, cap, "<= %g %.2s", r->target, r->unit);
  else snprintf(buf, cap, "-");
}

static void print_row(const row *r) {
  char ratio[32] = "-", target[48], spread[32];
  if (r->baseline) snprintf(ratio, sizeof ratio, "%.3g", r->ratio);
  format_target(r, target, sizeof target);
  snprintf(spread, sizeof spread, "%.1f%%", r->median > 0 ? 100 * (r->max - r->min) / r->median : 0);
  const char *status = r->target_kind == TARGET_NONE ? "-" : r->met ? "met" : "not met";
  printf("%-24s %10.3f  %-8s %-24s %7s  %-15s %-8s %5s/%d\n", r->name, r->median, r->unit,
         r->baseline ? r->baseline : "-", ratio, target, status, spread, r->reps);
}

static void print_table(void) {
  printf("\n%-24s %10s  %-8s %-24s %7s  %-15s %-8s %s\n", "name", "median", "unit", "baseline",
         "ratio", "target", "status", "spread/reps");
  for (int i = 0; i < g_nrows; i++) print_row(&g_rows[i]);
  if (g_quick) printf("(--quick: small batches, figures are only a smoke test)\n");
  if (!WP_BENCH_GUESTS)
    printf("(example plugins not built (WASMPLUG_GUESTS=OFF): hello-c/hello-go rows skipped)\n");
}

static cJSON *row_json(const row *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", r->name);
  cJSON_AddStringToObject(o, "unit", r->unit);
  cJSON_AddNumberToObject(o, "median", r->median);
  cJSON_AddNumberToObject(o, "min", r->min);
  cJSON_AddNumberToObject(o, "max", r->max);
  cJSON_AddNumberToObject(o, "reps", r->reps);
  if (r->baseline) {
    cJSON_AddStringToObject(o, "baseline", r->baseline);
    cJSON_AddNumberToObject(o, "baseline_median", r->baseline_median);
    cJSON_AddNumberToObject(o, "ratio", r->ratio);
  }
  if (r->target_kind != TARGET_NONE) {
    cJSON_AddStringToObject(o, "target_of", r->target_kind == TARGET_RATIO ? "ratio" : "median");
    cJSON_AddNumberToObject(o, "target", r->target);
    cJSON_AddBoolToObject(o, "met", r->met);
  }
  return o;
}

static wp_error *write_json(const char *path) {
  cJSON *list = cJSON_CreateArray();
  for (int i = 0; i < g_nrows; i++) cJSON_AddItemToArray(list, row_json(&g_rows[i]));
  char *text = cJSON_Print(list);
  cJSON_Delete(list);
  if (!text) return wp_error_new(WP_ERR_HOST, "bench: out of memory writing JSON");
  wp_error *err = make_parent_dirs(path);
  FILE *f = err ? NULL : fopen(path, "w");
  if (!err && !f) err = wp_error_new(WP_ERR_IO, "bench: cannot write %s: %s", path, strerror(errno));
  if (f && (fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0))
    err = wp_error_new(WP_ERR_IO, "bench: cannot write %s", path);
  cJSON_free(text);
  if (!err) printf("wrote %s\n", path);
  return err;
}

/* ======================================================================== */
/* main                                                                      */
/* ======================================================================== */

static int usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--out PATH] [--quick] [--rust-harness PATH]\n", argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *out = WP_BENCH_DEFAULT_OUT, *harness = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) g_quick = true;
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out = argv[++i];
    else if (strcmp(argv[i], "--rust-harness") == 0 && i + 1 < argc) harness = argv[++i];
    else return usage(argv[0]);
  }
  raw_env raw = {0};
  wp_env env = {0};
  fprintf(stderr, "wasmplug-bench%s: measuring (progress on stderr, table on stdout)\n",
          g_quick ? " --quick" : "");
  wp_error *err = raw_setup(&raw);
  if (!err) err = wp_setup(&env);
  if (!err) err = bench_all(&raw, &env, harness);
  wp_teardown(&env);
  raw_teardown(&raw);
  free_all_temp_dirs();
  if (!err) {
    judge_all();
    print_table();
    err = write_json(out);
  }
  if (!err) return 0;
  fprintf(stderr, "wasmplug-bench: %s error: %s\n", wp_error_kind_name(wp_error_get_kind(err)),
          wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}
