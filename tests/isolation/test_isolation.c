/*
 * test_isolation.c - process isolation (wasmplug/isolation.h): a worker that
 * dies or falls silent is a clean error and the next call works on a fresh
 * one; limits, interrupts, host functions and logs cross the boundary; no
 * process or fd is left behind after 1,000 crash/restart cycles.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "isolation/wire.h"

static wp_engine *iso_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 16);
  wp_engine_config_set_isolation(cfg, WP_ISOLATION_PROCESS);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

typedef struct {
  wp_engine *engine;
  wp_plugin *plugin;
  wp_instance *inst;
} env;

static env *env_load(wp_engine *e, const char *name, const wp_manifest *m) {
  env *t = calloc(1, sizeof *t);
  t->engine = e ? e : iso_engine();
  assert_ok(wp_plugin_load(t->engine, fixture(name), m, &t->plugin));
  assert_ok(wp_instance_new(t->plugin, &t->inst));
  assert_true(wp_instance_get_worker_pid(t->inst) > 0);
  return t;
}

static void env_free(env *t) {
  wp_instance_free(t->inst);
  wp_plugin_free(t->plugin);
  wp_engine_free(t->engine);
  free(t);
}

static int32_t add(wp_instance *inst, int32_t a, int32_t b) {
  wp_val args[2] = {WP_VAL_I32(a), WP_VAL_I32(b)}, r;
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  return r.of.i32;
}

static double ms_since(const struct timespec *a) {
  struct timespec b;
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Children of this process, zombies included (ppid in /proc/PID/stat). */
static int count_children(void) {
  DIR *d = opendir("/proc");
  struct dirent *ent;
  int n = 0;
  char path[300], buf[512];
  while (d && (ent = readdir(d))) {
    if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/stat", ent->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *close_paren = strrchr(buf, ')');
    int ppid;
    char state;
    if (close_paren && sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid())
      n++;
  }
  if (d) closedir(d);
  return n;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  while (d && readdir(d)) n++;
  if (d) closedir(d);
  return n;
}

/* ---- crashes and restarts ---------------------------------------------------- */

WP_TEST(test_killed_between_calls) {
  env *t = env_load(NULL, "numeric.wat", NULL);
  assert_int_equal(add(t->inst, 2, 3), 5);
  int pid = wp_instance_get_worker_pid(t->inst);
  /* As abort() in a native library would. (A SIGSEGV sent with kill is not
     a fault: the worker's Wasmtime handler takes it for a wasm trap's and
     lets it pass; a real fault outside wasm code kills the worker.) */
  assert_int_equal(kill(pid, SIGABRT), 0);
  wp_val args[2] = {WP_VAL_I32(1), WP_VAL_I32(1)}, r;
  wp_error *err = wp_instance_call(t->inst, "add", args, 2, &r, 1);
  assert_non_null(err);
  assert_non_null(strstr(wp_error_get_message(err), "was killed by signal 6 (SIGABRT)"));
  assert_error(err, WP_ERR_TRAP, "its next call or reset starts a fresh worker");
  assert_int_equal(wp_instance_get_worker_pid(t->inst), 0); /* reaped */
  assert_int_equal(add(t->inst, 20, 22), 42);
  assert_true(wp_instance_get_worker_pid(t->inst) > 0);
  assert_int_not_equal(wp_instance_get_worker_pid(t->inst), pid);
  env_free(t);
}

typedef struct {
  int pid;
  int sig;
  long after_ms;
} killer;

static void *kill_later(void *arg) {
  killer *k = arg;
  sleep_ms(k->after_ms);
  kill(k->pid, k->sig);
  return NULL;
}

WP_TEST(test_killed_during_call) {
  env *t = env_load(NULL, "numeric.wat", NULL);
  killer k = {wp_instance_get_worker_pid(t->inst), SIGKILL, 50};
  pthread_t th;
  pthread_create(&th, NULL, kill_later, &k);
  assert_error(wp_instance_call(t->inst, "spin", NULL, 0, NULL, 0), WP_ERR_TRAP,
               "'spin' failed: its worker process (pid");
  pthread_join(th, NULL);
  assert_int_equal(add(t->inst, 1, 2), 3);
  /* The pool drops an instance whose worker died. */
  wp_pool *pool;
  wp_instance *inst;
  assert_ok(wp_pool_new(t->plugin, 0, 4, &pool));
  assert_ok(wp_pool_take(pool, &inst));
  int pid = wp_instance_get_worker_pid(inst);
  kill(pid, SIGKILL);
  assert_error(wp_instance_call(inst, "nothing", NULL, 0, NULL, 0), WP_ERR_TRAP, "SIGKILL");
  wp_pool_release(pool, inst);
  assert_int_equal(wp_pool_get_idle(pool), 0);
  assert_ok(wp_pool_take(pool, &inst));
  int reused = wp_instance_get_worker_pid(inst);
  wp_pool_release(pool, inst);
  assert_ok(wp_pool_take(pool, &inst)); /* a healthy one is reused, worker and all */
  assert_int_equal(wp_instance_get_worker_pid(inst), reused);
  wp_pool_release(pool, inst);
  wp_pool_free(pool);
  env_free(t);
}

/* A worker stopped in its tracks (as a native library stuck in a loop would
   be) is killed by the host's watchdog: the call's timeout plus the margin. */
WP_TEST(test_watchdog) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 50);
  env *t = env_load(NULL, "numeric.wat", m);
  int pid = wp_instance_get_worker_pid(t->inst);
  kill(pid, SIGSTOP);
  struct timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_error(wp_instance_call(t->inst, "nothing", NULL, 0, NULL, 0), WP_ERR_TIMEOUT,
               "ran past its 50 ms limit and its worker process did not answer within 1000 ms");
  double ms = ms_since(&a);
  assert_true(ms >= 50 + WP_ISOLATION_WATCHDOG_MARGIN_MS && ms < 5000);
  assert_int_equal(wp_instance_get_worker_pid(t->inst), 0);
  assert_int_equal(add(t->inst, 1, 2), 3);
  wp_manifest_free(m);
  env_free(t);
}

/* ---- limits, enforced by the worker ------------------------------------------ */

WP_TEST(test_limits) {
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_timeout_ms(m, 50);
  env *t = env_load(NULL, "numeric.wat", m);
  int pid = wp_instance_get_worker_pid(t->inst);
  struct timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  wp_error *err = wp_instance_call(t->inst, "spin", NULL, 0, NULL, 0);
  assert_non_null(wp_error_get_backtrace(err));
  assert_error(err, WP_ERR_TIMEOUT, "call 'spin' ran past its 50 ms timeout");
  assert_true(ms_since(&a) >= 50 && ms_since(&a) < 1000);
  assert_int_equal(wp_instance_get_worker_pid(t->inst), pid); /* the worker stopped it */
  assert_ok(wp_instance_reset(t->inst));
  assert_int_equal(wp_instance_get_worker_pid(t->inst), pid); /* reset in place */
  assert_int_equal(add(t->inst, 1, 2), 3);
  wp_manifest_free(m);
  env_free(t);

  m = wp_manifest_new();
  wp_manifest_set_fuel(m, 100000);
  t = env_load(NULL, "numeric.wat", m);
  assert_error(wp_instance_call(t->inst, "spin", NULL, 0, NULL, 0), WP_ERR_FUEL,
               "ran out of fuel (limit 100000");
  assert_ok(wp_instance_reset(t->inst));
  assert_int_equal(add(t->inst, 1, 2), 3);
  assert_true(wp_instance_get_fuel_used(t->inst) > 0);
  wp_manifest_free(m);
  env_free(t);

  m = wp_manifest_new();
  wp_manifest_set_max_memory(m, 4u << 16);
  t = env_load(NULL, "numeric.wat", m);
  wp_val n = WP_VAL_I32(2), r;
  assert_ok(wp_instance_call(t->inst, "grow", &n, 1, &r, 1));
  assert_int_equal(r.of.i32, 1);
  assert_int_equal(wp_instance_get_memory_size(t->inst), 3u << 16); /* the worker's, reported */
  assert_ok(wp_instance_call(t->inst, "grow", &n, 1, &r, 1));
  assert_int_equal(r.of.i32, -1);
  assert_error(wp_instance_call(t->inst, "bomb", NULL, 0, NULL, 0), WP_ERR_MEMORY_LIMIT,
               "memory reached the 256 KiB limit");
  wp_manifest_free(m);
  env_free(t);
}

static void *interrupt_later(void *arg) {
  sleep_ms(30);
  wp_instance_interrupt(arg);
  return NULL;
}

WP_TEST(test_interrupt) {
  env *t = env_load(NULL, "numeric.wat", NULL);
  pthread_t th;
  pthread_create(&th, NULL, interrupt_later, t->inst);
  struct timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_error(wp_instance_call(t->inst, "spin", NULL, 0, NULL, 0), WP_ERR_INTERRUPTED,
               "call 'spin' was interrupted");
  assert_true(ms_since(&a) < 2000);
  pthread_join(th, NULL);
  assert_ok(wp_instance_reset(t->inst));
  assert_int_equal(add(t->inst, 1, 2), 3); /* the request was used up */
  /* A request made while no call runs stops the next call, and only it. */
  wp_instance_interrupt(t->inst);
  assert_error(wp_instance_call(t->inst, "nothing", NULL, 0, NULL, 0), WP_ERR_INTERRUPTED,
               "interrupted");
  assert_int_equal(add(t->inst, 2, 2), 4);
  env_free(t);
}

/* ---- host functions and logs ------------------------------------------------- */

static const char *host_wat =
    "(module\n"
    "  (import \"env\" \"twice\" (func $twice (param i64) (result i64)))\n"
    "  (import \"env\" \"upper\" (func $upper (param i32 i32 i32)))\n"
    "  (import \"env\" \"fail\" (func $fail (param i32) (result i32)))\n"
    "  (memory (export \"memory\") 1)\n"
    "  (global $bump (mut i32) (i32.const 1024))\n"
    "  (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32)\n"
    "    (local $p i32) (local.set $p (global.get $bump))\n"
    "    (global.set $bump (i32.add (global.get $bump) (local.get 3))) (local.get $p))\n"
    "  (func (export \"quad\") (param i64) (result i64) (call $twice (call $twice (local.get 0))))\n"
    "  (func (export \"shout\") (param i32 i32) (result i32)\n"
    "    (call $upper (local.get 0) (local.get 1) (i32.const 16)) (i32.const 16))\n"
    "  (func (export \"bad\") (result i32) (call $fail (i32.const 7))))\n";

typedef struct {
  pthread_t caller;
  int calls;
  wp_instance *inst;
} host_state;

static wp_error *twice(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                       size_t nresults, void *ud) {
  (void)nargs;
  (void)nresults;
  host_state *s = ud;
  /* On the thread that called the plugin, with the caller's instance. */
  if (!pthread_equal(pthread_self(), s->caller) || wp_host_call_get_instance(call) != s->inst)
    return wp_error_new(WP_ERR_HOST, "wrong thread or instance");
  s->calls++;
  results[0] = WP_VAL_I64(args[0].of.i64 * 2);
  return NULL;
}

static wp_error *upper(wp_host_call *call, const uint8_t *in, size_t len, void *ud) {
  (void)ud;
  char buf[64];
  if (len > sizeof buf) return wp_error_new(WP_ERR_HOST, "too long");
  for (size_t i = 0; i < len; i++)
    buf[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32 : in[i]);
  return wp_host_call_set_output(call, buf, len);
}

static wp_error *refuse(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                        size_t nresults, void *ud) {
  (void)call;
  (void)nargs;
  (void)results;
  (void)nresults;
  (void)ud;
  return wp_error_new(WP_ERR_HOST, "no luck with %d", args[0].of.i32);
}

WP_TEST(test_host_functions) {
  wp_engine *e = iso_engine();
  host_state s = {pthread_self(), 0, NULL};
  wp_valkind i64 = WP_I64, i32 = WP_I32;
  assert_ok(wp_engine_define_func(e, "env", "twice", &i64, 1, &i64, 1, twice, &s, NULL));
  assert_ok(wp_engine_define_bytes(e, "env", "upper", upper, NULL, NULL));
  assert_ok(wp_engine_define_func(e, "env", "fail", &i32, 1, &i32, 1, refuse, NULL, NULL));
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load_bytes(e, "host.wat", host_wat, strlen(host_wat), NULL, &p));
  assert_ok(wp_instance_new(p, &inst));
  s.inst = inst;
  wp_val arg = WP_VAL_I64(5), r;
  assert_ok(wp_instance_call(inst, "quad", &arg, 1, &r, 1));
  assert_true(r.kind == WP_I64 && r.of.i64 == 20);
  assert_int_equal(s.calls, 2);
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(inst, "shout", "quiet", 5, &out, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(out, "QUIET", 5);
  /* The host function's error comes back whole, in the in-process words. */
  assert_error(wp_instance_call(inst, "bad", NULL, 0, &r, 1), WP_ERR_HOST,
               "plugin 'host.wat': 'bad' failed in a host function: host function 'env.fail' "
               "failed: no luck with 7");
  assert_ok(wp_instance_reset(inst));
  assert_ok(wp_instance_call(inst, "quad", &arg, 1, &r, 1));
  assert_true(r.of.i64 == 20);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

typedef struct {
  int lines;
  char last[128];
} log_sink;

static void on_log(void *ud, wp_log_level level, const char *plugin, const char *msg, size_t len) {
  log_sink *s = ud;
  (void)level;
  s->lines++;
  snprintf(s->last, sizeof s->last, "%s: %.*s", plugin, (int)len, msg);
}

WP_TEST(test_log_and_config) {
  log_sink sink = {0, ""};
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_log(cfg, on_log, &sink);
  wp_engine *e;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  /* The manifest alone asks for isolation here. */
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_isolation(m, WP_ISOLATION_PROCESS);
  assert_ok(wp_manifest_set_config(m, "greeting", "Howdy"));
  env *t = env_load(e, "echo.wat", m);
  const uint8_t *out;
  size_t len;
  assert_ok(wp_instance_call_bytes(t->inst, "echo", "hi", 2, &out, &len));
  assert_int_equal(sink.lines, 1);
  assert_string_equal(sink.last, "echo.wat: echoing");
  assert_ok(wp_instance_call_bytes(t->inst, "greeting", "", 0, &out, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(out, "Howdy", 5);
  wp_manifest_free(m);
  env_free(t);
}

/* ---- errors of setup ------------------------------------------------------------ */

WP_TEST(test_missing_worker) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_isolation(cfg, WP_ISOLATION_PROCESS);
  wp_engine_config_set_worker_path(cfg, "/nonexistent/wasmplug");
  wp_engine *e;
  assert_ok(wp_engine_new(cfg, &e));
  wp_plugin *p;
  wp_instance *inst = NULL;
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), NULL, &p));
  assert_error(wp_instance_new(p, &inst), WP_ERR_NOT_FOUND,
               "cannot start its worker process '/nonexistent/wasmplug' (No such file or "
               "directory): install wasmplug, or name the worker with $WASMPLUG_WORKER");
  assert_null(inst);
  wp_plugin_free(p);
  wp_engine_free(e);

  /* A program that is no worker: it exits without an answer. */
  wp_engine_config_set_worker_path(cfg, "/bin/true");
  assert_ok(wp_engine_new(cfg, &e));
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), NULL, &p));
  assert_error(wp_instance_new(p, &inst), WP_ERR_TRAP, "exited with status 0");
  wp_plugin_free(p);
  wp_engine_free(e);
  wp_engine_config_free(cfg);
}

/* Component exports take and return wp_values, which cross as WAVE text. */
WP_TEST(test_components) {
  wp_engine *e = iso_engine();
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_trap_missing_imports(m, true);
  env *t = env_load(e, "component.wat", m);
  assert_true(wp_plugin_is_component(t->plugin));
  wp_func_id id;
  assert_ok(wp_plugin_find_func(t->plugin, "add", &id));
  assert_non_null(wp_plugin_get_functype(t->plugin, id));
  wp_value *args[2] = {wp_value_new_u32(40), wp_value_new_u32(2)}, *r = NULL;
  assert_ok(wp_instance_invoke(t->inst, "add", (const wp_value *const *)args, 2, &r));
  assert_int_equal(wp_value_get_kind(r), WP_TYPE_U32);
  assert_int_equal(wp_value_get_uint(r), 42);
  wp_value_free(r);
  /* The host checks the arguments, in the in-process words. */
  assert_error(wp_instance_invoke(t->inst, "add", (const wp_value *const *)args, 1, &r),
               WP_ERR_BAD_INPUT, "'add' takes 2 arguments, got 1");
  wp_value_free(args[0]);
  wp_value_free(args[1]);
  wp_manifest_free(m);
  env_free(t);
}

/* ---- host resources (example:types/host's counter) ------------------------ */

#define TYPES WP_PLUGINS "/types-c-component.wasm"

/* Counters live in a static array so that each one's drops can be counted
   after its drop callback ran. */
typedef struct counter {
  uint32_t value;
  int drops;
} counter;

static counter g_counters[16];
static size_t g_ncounters;
static const wp_resource_type *g_counter;
static wp_instance *g_kill_in_increment; /* kill this instance's worker inside increment */

static void counter_drop(void *object, void *ud) {
  (void)ud;
  ((counter *)object)->drops++;
}

static int total_drops(void) {
  int n = 0;
  for (size_t i = 0; i < g_ncounters; i++) {
    assert_true(g_counters[i].drops <= 1); /* never twice */
    n += g_counters[i].drops;
  }
  return n;
}

static counter *new_counter(uint32_t value) {
  assert_true(g_ncounters < 16);
  counter *c = &g_counters[g_ncounters++];
  *c = (counter){value, 0};
  return c;
}

static wp_error *counter_new(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *ud) {
  (void)ud;
  assert_int_equal(nargs, 1);
  counter *c = new_counter((uint32_t)wp_value_get_uint(args[0]));
  *result = wp_value_new_resource(wp_host_call_get_instance(call), g_counter, c);
  return *result ? NULL : wp_error_new(WP_ERR_HOST, "no handle");
}

static wp_error *counter_increment(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                   wp_value **result, void *ud) {
  (void)ud;
  assert_int_equal(nargs, 1);
  void *obj = NULL;
  wp_instance *inst = wp_host_call_get_instance(call);
  wp_error *err = wp_value_get_resource(args[0], inst, g_counter, &obj);
  if (err) return err;
  if (inst == g_kill_in_increment) kill(wp_instance_get_worker_pid(inst), SIGKILL);
  *result = wp_value_new_u32(++((counter *)obj)->value);
  return NULL;
}

static wp_error *round_trip(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *ud) {
  (void)call;
  (void)nargs;
  (void)ud;
  *result = wp_value_clone(args[0]);
  return NULL;
}

static env *types_env(void) {
  if (access(TYPES, R_OK) != 0) return NULL;
  wp_engine *e = iso_engine();
  const char *h = "example:types/host";
  assert_ok(wp_engine_define_resource(e, h, "counter", counter_drop, NULL, NULL, &g_counter));
  assert_ok(wp_engine_define_component_func(e, h, "[constructor]counter", counter_new, NULL, NULL));
  assert_ok(wp_engine_define_component_func(e, h, "[method]counter.increment", counter_increment,
                                            NULL, NULL));
  assert_ok(wp_engine_define_component_func(e, h, "round-trip", round_trip, NULL, NULL));
  env *t = calloc(1, sizeof *t);
  t->engine = e;
  assert_ok(wp_plugin_load(e, TYPES, NULL, &t->plugin));
  assert_ok(wp_instance_new(t->plugin, &t->inst));
  assert_true(wp_instance_get_worker_pid(t->inst) > 0);
  g_ncounters = 0;
  g_kill_in_increment = NULL;
  return t;
}

static wp_error *call_res(wp_instance *inst, const char *fn, wp_value **args, size_t n,
                          uint32_t *out) {
  char name[96];
  snprintf(name, sizeof name, "example:types/resources#%s", fn);
  wp_value *r = NULL;
  wp_error *err = wp_instance_invoke(inst, name, (const wp_value *const *)args, n, &r);
  if (!err) *out = (uint32_t)wp_value_get_uint(r);
  wp_value_free(r);
  return err;
}

/* The plugin constructs a host counter, calls its method (the handle comes
   back to the host, which finds its object) and drops it: one drop. The host
   lends one (no drop) and gives one away (the plugin's drop runs it). */
WP_TEST(test_host_resources) {
  env *t = types_env();
  if (!t) skip();
  uint32_t got = 0;
  wp_value *a[2] = {wp_value_new_u32(5), wp_value_new_u32(3)};
  assert_ok(call_res(t->inst, "count-with-host", a, 2, &got));
  assert_int_equal(got, 8);
  assert_int_equal(g_ncounters, 1);
  assert_int_equal(total_drops(), 1);
  wp_value_free(a[0]);
  wp_value_free(a[1]);

  counter *lent = new_counter(41);
  wp_value *h = wp_value_new_resource(t->inst, g_counter, lent);
  assert_non_null(h);
  assert_int_equal(wp_value_get_kind(h), WP_TYPE_OWN);
  for (uint32_t i = 42; i < 45; i++) {
    assert_ok(call_res(t->inst, "bump", &h, 1, &got));
    assert_int_equal(got, i);
  }
  void *obj = NULL;
  assert_ok(wp_value_get_resource(h, t->inst, g_counter, &obj));
  assert_ptr_equal(obj, lent);
  assert_int_equal(total_drops(), 1);

  counter *given = new_counter(9);
  wp_value *o = wp_value_new_resource(t->inst, g_counter, given);
  assert_ok(call_res(t->inst, "consume", &o, 1, &got));
  assert_int_equal(got, 10);
  assert_int_equal(given->drops, 1);
  assert_error(wp_value_get_resource(o, t->inst, g_counter, &obj), WP_ERR_BAD_INPUT,
               "not a live 'counter'");
  /* A dropped handle cannot cross again. */
  assert_error(call_res(t->inst, "bump", &o, 1, &got), WP_ERR_BAD_INPUT, "");
  wp_value_free(o);
  assert_int_equal(total_drops(), 2);

  /* A handle made for the isolated instance is not an in-process one's. */
  wp_manifest *m = wp_manifest_new();
  wp_manifest_set_isolation(m, WP_ISOLATION_NONE);
  wp_plugin *p2 = NULL;
  wp_instance *i2 = NULL;
  assert_ok(wp_plugin_load(t->engine, TYPES, m, &p2));
  assert_ok(wp_instance_new(p2, &i2));
  assert_int_equal(wp_instance_get_worker_pid(i2), 0);
  assert_error(call_res(i2, "bump", &h, 1, &got), WP_ERR_BAD_INPUT,
               "made for an instance in a worker process");
  assert_error(wp_value_get_resource(h, i2, g_counter, &obj), WP_ERR_BAD_INPUT, "");
  assert_error(wp_instance_drop_resource(i2, h), WP_ERR_BAD_INPUT, "");
  wp_instance_free(i2);
  wp_plugin_free(p2);
  wp_manifest_free(m);
  assert_int_equal(total_drops(), 2);

  /* A reset drops what the old instance held, once; the handle names nothing after. */
  assert_ok(wp_instance_reset(t->inst));
  assert_int_equal(lent->drops, 1);
  assert_int_equal(total_drops(), 3);
  assert_error(wp_value_get_resource(h, t->inst, g_counter, &obj), WP_ERR_BAD_INPUT, "");
  wp_value_free(h);
  env_free(t);
  assert_int_equal(total_drops(), 3);
}

/* Freeing the instance drops every object its worker held, and those made
   for it but never sent, once each. */
WP_TEST(test_host_resources_instance_freed) {
  env *t = types_env();
  if (!t) skip();
  uint32_t got;
  counter *lent = new_counter(1), *unsent = new_counter(2);
  wp_value *h = wp_value_new_resource(t->inst, g_counter, lent);
  wp_value *u = wp_value_new_resource(t->inst, g_counter, unsent);
  assert_ok(call_res(t->inst, "bump", &h, 1, &got));
  assert_ok(call_res(t->inst, "bump", &h, 1, &got));
  assert_int_equal(got, 3);
  wp_value_free(h);
  wp_value_free(u);
  assert_int_equal(total_drops(), 0);
  env_free(t);
  assert_int_equal(lent->drops, 1);
  assert_int_equal(unsent->drops, 1);
  assert_int_equal(total_drops(), 2);
}

/* A worker killed in the middle of a call (inside a host method) or between
   calls: the host drops what it held, once, and the next call works. */
WP_TEST(test_host_resources_worker_killed) {
  env *t = types_env();
  if (!t) skip();
  uint32_t got;
  counter *lent = new_counter(7);
  wp_value *h = wp_value_new_resource(t->inst, g_counter, lent);
  assert_ok(call_res(t->inst, "bump", &h, 1, &got));
  g_kill_in_increment = t->inst;
  wp_value *a[2] = {wp_value_new_u32(0), wp_value_new_u32(3)};
  assert_error(call_res(t->inst, "count-with-host", a, 2, &got), WP_ERR_TRAP,
               "was killed by signal 9 (SIGKILL)");
  g_kill_in_increment = NULL;
  /* the lent counter and the one count-with-host made */
  assert_int_equal(g_ncounters, 2);
  assert_int_equal(total_drops(), 2);
  void *obj;
  assert_error(wp_value_get_resource(h, t->inst, g_counter, &obj), WP_ERR_BAD_INPUT, "");
  wp_value_free(h);

  /* A fresh worker serves the next call. */
  assert_ok(call_res(t->inst, "count-with-host", a, 2, &got));
  assert_int_equal(got, 3);
  assert_int_equal(total_drops(), 3);

  /* Killed between calls: the next call fails, the objects are dropped. */
  counter *held = new_counter(0);
  h = wp_value_new_resource(t->inst, g_counter, held);
  assert_ok(call_res(t->inst, "bump", &h, 1, &got));
  kill(wp_instance_get_worker_pid(t->inst), SIGKILL);
  assert_error(call_res(t->inst, "bump", &h, 1, &got), WP_ERR_TRAP, "SIGKILL");
  assert_int_equal(held->drops, 1);
  wp_value_free(h);
  wp_value_free(a[0]);
  wp_value_free(a[1]);
  env_free(t);
  assert_int_equal(total_drops(), 4);
}

/* The handles of a component value travel beside its WAVE text, in its order. */
static wp_error *fake_out(void *ctx, const wp_value *v, wp_wire_handle *h) {
  (void)ctx;
  *h = (wp_wire_handle){WP_WIRE_HOST_OBJECT, 3, 70 + (uint64_t)wp_value_get_kind(v)};
  return NULL;
}

static wp_value *fake_in(void *ctx, const wp_type *type, const wp_wire_handle *h) {
  int *seen = ctx;
  assert_int_equal(h->index, 3);
  (*seen)++;
  wp_value *v = wp_value_new_bool(true); /* stands for the handle */
  (void)type;
  return v;
}

WP_TEST(test_wire_value_handles) {
  env *t = types_env();
  if (!t) skip();
  wp_func_id id;
  assert_ok(wp_plugin_find_func(t->plugin, "example:types/resources#bump", &id));
  const wp_type *borrow = wp_functype_param_type(wp_plugin_get_functype(t->plugin, id), 0);
  assert_int_equal(wp_type_get_kind(borrow), WP_TYPE_BORROW);
  counter *c = new_counter(0);
  wp_value *h = wp_value_new_resource(t->inst, g_counter, c);
  wp_buf b = {0};
  wp_wire_begin(&b, WP_FR_HOSTCALL);
  assert_ok(wp_wire_value(&b, h, fake_out, NULL));
  /* A received frame starts at its type: skip the length. */
  wp_buf in = {.data = b.data + 4, .len = b.len - 4};
  wp_wire_reader r = wp_wire_reader_of(&in);
  wp_value *got = NULL;
  wp_error *err = NULL;
  int seen = 0;
  assert_true(wp_wire_get_value(&r, borrow, fake_in, &seen, &got, &err));
  assert_null(err);
  assert_true(wp_wire_done(&r));
  assert_int_equal(seen, 1);
  wp_value_free(got);
  /* the text alone: a handle too few */
  wp_wire_begin(&b, WP_FR_HOSTCALL);
  wp_wire_str(&b, "<resource>");
  wp_wire_u32(&b, 0);
  in = (wp_buf){.data = b.data + 4, .len = b.len - 4};
  r = wp_wire_reader_of(&in);
  assert_true(wp_wire_get_value(&r, borrow, fake_in, &seen, &got, &err));
  assert_non_null(err);
  assert_non_null(strstr(wp_error_get_message(err), "no handle was carried"));
  wp_error_free(err);
  /* a count of handles past the frame's end: a bad frame */
  wp_wire_begin(&b, WP_FR_HOSTCALL);
  assert_ok(wp_wire_value(&b, h, fake_out, NULL));
  wp_wire_u8(&b, 0);
  in = (wp_buf){.data = b.data + 4, .len = b.len - 4};
  r = wp_wire_reader_of(&in);
  b.data[b.len - 18] = 2; /* the count (u32) before one handle (13 bytes) and the u8 */
  assert_false(wp_wire_get_value(&r, borrow, fake_in, &seen, &got, &err));
  /* WAVE read through the public API still has no spelling for handles */
  assert_error(wp_value_from_wave(borrow, "<resource>", &got), WP_ERR_BAD_INPUT,
               "resources cannot be written in WAVE");
  wp_buf_free(&b);
  wp_value_free(h);
  env_free(t);
  assert_int_equal(c->drops, 1);
}

WP_TEST(test_manifest_json) {
  wp_manifest *m = NULL;
  const char *json = "{\"name\":\"x\",\"isolation\":\"process\",\"limits\":{\"timeout_ms\":50,"
                     "\"fuel\":9},\"config\":{\"a\":\"b\"},\"wasi\":{\"args\":[\"x\",\"-v\"],"
                     "\"env\":{\"K\":\"V\"},\"stdout\":\"capture\"},"
                     "\"capabilities\":{\"logging\":{}}}";
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  assert_int_equal(wp_manifest_get_isolation(m), WP_ISOLATION_PROCESS);
  char *text = wp_manifest_to_json(m);
  assert_non_null(strstr(text, "\"isolation\":\"process\""));
  assert_non_null(strstr(text, "\"timeout_ms\":50"));
  assert_non_null(strstr(text, "\"config\":{\"a\":\"b\"}"));
  wp_manifest *back = NULL;
  assert_ok(wp_manifest_parse(text, strlen(text), NULL, &back));
  char *again = wp_manifest_to_json(back);
  assert_string_equal(text, again); /* a fixed point */
  wp_free(text);
  wp_free(again);
  wp_manifest_free(back);
  wp_manifest_free(m);
  const char *bad = "{\"isolation\":\"thread\"}";
  assert_error(wp_manifest_parse(bad, strlen(bad), NULL, &m), WP_ERR_BAD_INPUT,
               "'isolation' must be \"none\" or \"process\", got \"thread\"");
}

/* ---- no leaks ----------------------------------------------------------------------- */

WP_TEST(test_thousand_crashes) {
  const int cycles = getenv("WP_ISOLATION_CYCLES") ? atoi(getenv("WP_ISOLATION_CYCLES")) : 1000;
  env *t = env_load(NULL, "numeric.wat", NULL);
  assert_int_equal(add(t->inst, 1, 1), 2);
  int children = count_children(), fds = count_fds();
  assert_int_equal(children, 1);
  struct timespec a;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < cycles; i++) {
    int pid = wp_instance_get_worker_pid(t->inst);
    assert_true(pid > 0);
    kill(pid, i % 2 ? SIGKILL : SIGABRT);
    wp_val args[2] = {WP_VAL_I32(i), WP_VAL_I32(1)}, r;
    assert_error(wp_instance_call(t->inst, "add", args, 2, &r, 1), WP_ERR_TRAP,
                 i % 2 ? "(SIGKILL)" : "(SIGABRT)");
    assert_int_equal(add(t->inst, i, 1), i + 1); /* a fresh worker */
  }
  print_message("%d crash/restart cycles in %.0f ms\n", cycles, ms_since(&a));
  assert_int_equal(count_children(), children);
  assert_int_equal(count_fds(), fds);
  env_free(t);
  assert_int_equal(count_children(), 0);
  assert_int_equal(count_fds(), fds - 1); /* the instance's socket went with it */
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* nothing left to reap */
}

/* The engine's keyvalue default reaches the worker: an isolated plugin's
   bucket without a backend lands in the same sqlite file as the host's. */
static void test_keyvalue_default(void **state) {
  (void)state;
  char dir[] = "/tmp/wp-iso-kv-XXXXXX", path[64], spec[160], manifest[256];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/kv.db", dir);
  snprintf(spec, sizeof spec, "{\"backend\": \"sqlite\", \"path\": \"%s\"}", path);
  wp_engine *e = iso_engine();
  assert_ok(wp_engine_set_keyvalue_default(e, spec));
  wp_manifest *m = NULL;
  const char *granted = "{\"capabilities\": {\"keyvalue\": {\"buckets\": {\"counter\": {}}}}}";
  assert_ok(wp_manifest_parse(granted, strlen(granted), NULL, &m));
  wp_plugin *p = NULL;
  wp_instance *inst = NULL;
  assert_ok(wp_plugin_load(e, WP_PLUGINS "/kv-core.wasm", m, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_true(wp_instance_get_worker_pid(inst) > 0);
  const char *out = NULL;
  assert_ok(wp_instance_call_string(inst, "kv", "incr\ncounter\nn\n41", &out));
  assert_string_equal(out, "ok:41");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);

  /* An in-process engine reads it back from the file. */
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  snprintf(manifest, sizeof manifest,
           "{\"capabilities\": {\"keyvalue\": {\"buckets\": {\"counter\": "
           "{\"backend\": \"sqlite\", \"path\": \"%s\"}}}}}",
           path);
  assert_ok(wp_manifest_parse(manifest, strlen(manifest), NULL, &m));
  assert_ok(wp_plugin_load(e, WP_PLUGINS "/kv-core.wasm", m, &p));
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call_string(inst, "kv", "incr\ncounter\nn\n1", &out));
  assert_string_equal(out, "ok:42");
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  wp_engine_free(e);
  unlink(path);
  rmdir(dir);
}

int main(void) {
  /* The crash tests abort workers hundreds of times: no core files. */
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_killed_between_calls),
      cmocka_unit_test(test_killed_during_call),
      cmocka_unit_test(test_watchdog),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_interrupt),
      cmocka_unit_test(test_host_functions),
      cmocka_unit_test(test_log_and_config),
      cmocka_unit_test(test_missing_worker),
      cmocka_unit_test(test_components),
      cmocka_unit_test(test_host_resources),
      cmocka_unit_test(test_host_resources_instance_freed),
      cmocka_unit_test(test_host_resources_worker_killed),
      cmocka_unit_test(test_wire_value_handles),
      cmocka_unit_test(test_manifest_json),
      cmocka_unit_test(test_keyvalue_default),
      cmocka_unit_test(test_thousand_crashes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
