/*
 * test_pool.c - pools under threads, instance churn without leaks, and the
 * on-disk compile cache.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <unistd.h>

#include "helpers.h"

#define THREADS 4
#define CALLS_PER_THREAD 500
/* In process isolation a fresh instance is a process start: fewer calls. */
#define CALLS_PER_THREAD_ISOLATED 50

typedef struct {
  wp_pool *pool;
  wp_func_id count;
  int max_count; /* the largest counter value any call saw */
  int failures;
} worker;

/* Takes an instance, bumps its counter, releases it; many times. */
static void *work(void *arg) {
  worker *w = arg;
  int calls = test_isolated() ? CALLS_PER_THREAD_ISOLATED : CALLS_PER_THREAD;
  for (int i = 0; i < calls; i++) {
    wp_instance *inst;
    wp_val r;
    wp_error *err = wp_pool_take(w->pool, &inst);
    if (!err) err = wp_instance_call_func(inst, w->count, NULL, 0, &r, 1);
    if (err) {
      w->failures++;
      wp_error_free(err);
      continue;
    }
    if (r.of.i32 > w->max_count) w->max_count = r.of.i32;
    wp_pool_release(w->pool, inst);
  }
  return NULL;
}

static int run_threads(wp_plugin *p, uint32_t max_uses) {
  wp_pool *pool;
  assert_ok(wp_pool_new(p, max_uses, THREADS, &pool));
  worker w[THREADS];
  pthread_t th[THREADS];
  int max = 0;
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){.pool = pool};
    assert_ok(wp_plugin_find_func(p, "count", &w[i].count));
    pthread_create(&th[i], NULL, work, &w[i]);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].failures, 0);
    if (w[i].max_count > max) max = w[i].max_count;
  }
  wp_pool_free(pool);
  return max;
}

WP_TEST(test_pool_threads) {
  wp_engine *e = test_engine();
  wp_plugin *p;
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), NULL, &p));
  /* Fresh per call: every call sees a new instance, whose counter starts at 0. */
  assert_int_equal(run_threads(p, 1), 1);
  /* Reuse up to 10 calls: counters climb, but never past 10. */
  int max = run_threads(p, 10);
  assert_true(max > 1 && max <= 10);
  /* Unlimited reuse with 4 idle slots: some instance serves many calls. */
  assert_true(run_threads(p, 0) > 10);
  wp_plugin_free(p);
  wp_engine_free(e);
}

WP_TEST(test_pool_discards_failed) {
  wp_engine *e = test_engine();
  wp_plugin *p;
  wp_pool *pool;
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), NULL, &p));
  assert_ok(wp_pool_new(p, 0, 2, &pool));
  wp_instance *a, *b;
  wp_val r;
  assert_ok(wp_pool_take(pool, &a));
  assert_ok(wp_instance_call(a, "count", NULL, 0, &r, 1));
  assert_error(wp_instance_call(a, "trap", NULL, 0, NULL, 0), WP_ERR_TRAP, "unreachable");
  wp_pool_release(pool, a); /* failed: freed, not kept */
  assert_ok(wp_pool_take(pool, &b));
  assert_ok(wp_instance_call(b, "count", NULL, 0, &r, 1));
  assert_int_equal(r.of.i32, 1); /* a fresh instance */
  wp_pool_release(pool, b);
  assert_ok(wp_pool_take(pool, &b));
  assert_ok(wp_instance_call(b, "count", NULL, 0, &r, 1));
  assert_int_equal(r.of.i32, 2); /* the healthy one came back */
  wp_pool_release(pool, b);
  wp_pool_free(pool);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/*
 * A fresh pool (max_uses 1) builds each instance into the shell of a spent
 * one (pool.c): nothing of the old sandbox may show. Memory grown, a counter
 * bumped and a failed call all stay with the instance that made them.
 */
WP_TEST(test_pool_fresh_shells_start_clean) {
  wp_engine *e = test_engine();
  wp_plugin *p;
  wp_pool *pool;
  assert_ok(wp_plugin_load(e, fixture("numeric.wat"), NULL, &p));
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  for (int round = 0; round < 4; round++) {
    wp_instance *inst;
    wp_val arg = WP_VAL_I32(3), r;
    assert_ok(wp_pool_take(pool, &inst));
    assert_int_equal(wp_instance_get_fuel_used(inst), 0);
    assert_ok(wp_instance_call(inst, "pages", NULL, 0, &r, 1));
    assert_int_equal(r.of.i32, 1); /* the initial page only, whatever the last one grew */
    assert_ok(wp_instance_call(inst, "count", NULL, 0, &r, 1));
    assert_int_equal(r.of.i32, 1); /* a new counter */
    assert_ok(wp_instance_call(inst, "grow", &arg, 1, &r, 1));
    assert_int_equal(r.of.i32, 1);
    /* Every other round ends in a trap: the next instance is fresh all the same. */
    if (round % 2)
      assert_error(wp_instance_call(inst, "trap", NULL, 0, NULL, 0), WP_ERR_TRAP, "unreachable");
    wp_pool_release(pool, inst);
  }
  assert_int_equal(wp_pool_get_idle(pool), 0); /* spent shells are not idle instances */
  wp_pool_free(pool);
  wp_plugin_free(p);
  wp_engine_free(e);
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  if (f) fclose(f);
  return kib;
}

WP_TEST(test_instance_churn_no_leak) {
  if (test_isolated()) {
    /* Each instance is a process start there; test_isolation counts fds and
       children over 1,000 worker restarts instead. */
    print_message("skipped in process isolation: 10,000 worker starts; see test_isolation\n");
    skip();
  }
  wp_engine *e = test_engine();
  wp_plugin *p;
  assert_ok(wp_plugin_load(e, fixture("echo.wat"), NULL, &p));
  long after_warmup = 0;
  for (int i = 0; i < 10000; i++) {
    wp_instance *inst;
    const uint8_t *out;
    size_t len;
    assert_ok(wp_instance_new(p, &inst));
    assert_ok(wp_instance_call_bytes(inst, "echo", "churn", 5, &out, &len));
    wp_instance_free(inst);
    if (i == 999) after_warmup = rss_kib();
  }
  long growth = rss_kib() - after_warmup;
  print_message("RSS after 1,000 cycles %ld KiB, after 10,000: +%ld KiB\n", after_warmup, growth);
#ifdef __SANITIZE_ADDRESS__
  /* ASan's quarantine keeps freed memory resident, so RSS says nothing here;
     LeakSanitizer checks this run for leaks instead. */
  print_message("RSS check skipped under AddressSanitizer (quarantine); LSan checks leaks\n");
#else
  assert_true(growth < 4096); /* flat: 9,000 more cycles add under 4 MiB */
#endif
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* Compiled entries; the index's files (*.index) are not counted. */
static int count_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *ent;
  while (d && (ent = readdir(d)))
    if (ent->d_name[0] != '.' && strstr(ent->d_name, ".cwasm")) n++;
  if (d) closedir(d);
  return n;
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *ent;
  char path[4400];
  while (d && (ent = readdir(d))) {
    if (ent->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
    unlink(path);
  }
  if (d) closedir(d);
  rmdir(dir);
}

static wp_plugin *load_cached(const char *cache, const char *path) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, cache);
  wp_engine *e;
  wp_plugin *p;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  assert_ok(wp_plugin_load(e, path, NULL, &p));
  wp_engine_free(e); /* the plugin keeps the engine alive */
  return p;
}

WP_TEST(test_compile_cache) {
  char dir[] = "/tmp/wp-cache-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char cache[64];
  snprintf(cache, sizeof cache, "%s/compiled", dir);
  wp_plugin *p = load_cached(cache, fixture("numeric.wat"));
  assert_false(wp_plugin_was_cached(p));
  wp_plugin_free(p);
  assert_int_equal(count_files(cache), 1);

  p = load_cached(cache, fixture("numeric.wat"));
  assert_true(wp_plugin_was_cached(p));
  wp_instance *inst;
  wp_val args[2] = {WP_VAL_I32(2), WP_VAL_I32(3)}, r;
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  assert_int_equal(r.of.i32, 5);
  wp_instance_free(inst);
  wp_plugin_free(p);

  /* A damaged entry is thrown away and the plugin compiled again. */
  DIR *d = opendir(cache);
  struct dirent *ent;
  char entry[4400] = "";
  while ((ent = readdir(d)))
    if (strstr(ent->d_name, ".cwasm")) snprintf(entry, sizeof entry, "%s/%s", cache, ent->d_name);
  closedir(d);
  FILE *f = fopen(entry, "r+b");
  fseek(f, 0, SEEK_SET);
  fputs("garbage garbage garbage", f);
  fclose(f);
  p = load_cached(cache, fixture("numeric.wat"));
  assert_false(wp_plugin_was_cached(p));
  wp_plugin_free(p);
  p = load_cached(cache, fixture("numeric.wat"));
  assert_true(wp_plugin_was_cached(p));
  wp_plugin_free(p);
  remove_dir(cache);
  rmdir(dir);
}

#ifndef __SANITIZE_ADDRESS__
/* Address space used now, in bytes (VmSize). */
static unsigned long long vm_size(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  unsigned long long kib = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmSize: %llu kB", &kib) == 1) break;
  if (f) fclose(f);
  return kib << 10;
}
#endif

/*
 * Under `ulimit -v`, a pooling engine cannot reserve its slots; Wasmtime's C
 * API would abort the process, so wp_engine_new must refuse with an error.
 * Runs in a child process, whose limit cannot hurt the other tests.
 */
WP_TEST(test_address_space_limit) {
#ifdef __SANITIZE_ADDRESS__
  print_message(
      "skipped under AddressSanitizer: its shadow memory needs more address space than the limit leaves\n");
#else
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit rl = {vm_size() + (4ull << 30), vm_size() + (4ull << 30)};
    setrlimit(RLIMIT_AS, &rl);
    wp_engine *e = NULL;
    wp_error *err = wp_engine_new(NULL, &e);
    int ok = err && e == NULL && wp_error_get_kind(err) == WP_ERR_HOST &&
             strstr(wp_error_get_message(err), "needs about") &&
             strstr(wp_error_get_message(err), "wp_engine_config_set_pooling");
    wp_error_free(err);
    wp_engine_config *cfg = wp_engine_config_new();
    wp_engine_config_set_pooling(cfg, 0);
    wp_engine_config_set_cache_dir(cfg, NULL);
    err = wp_engine_new(cfg, &e);
    ok = ok && !err;
    wp_error_free(err);
    wp_engine_free(e);
    wp_engine_config_free(cfg);
    _exit(ok ? 0 : 1);
  }
  int status;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pool_threads),
      cmocka_unit_test(test_pool_discards_failed),
      cmocka_unit_test(test_pool_fresh_shells_start_clean),
      cmocka_unit_test(test_instance_churn_no_leak),
      cmocka_unit_test(test_compile_cache),
      cmocka_unit_test(test_address_space_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
