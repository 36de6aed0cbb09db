/*
 * test_wasi_time.c - issue 7 item 2: time a plugin spends blocked inside
 * WASI counts. Whatever wait it asks for (preview 1 poll_oneoff with
 * relative, absolute, monotonic or wall-clock subscriptions; preview 2
 * pollable.block and poll), a call ends within about its timeout with
 * WP_ERR_TIMEOUT, an interrupt from another thread ends it with
 * WP_ERR_INTERRUPTED, a short sleep still sleeps, and the next call works.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adv.h"

#define TEN_S 10000000000ll
#define TIMEOUT_MS 200
/* Generous: the point is "about the timeout", not "ten seconds". */
#define WITHIN_MS 2000.0

static const char *adv_fixture(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", WP_ADV_FIXTURES, name);
  return buf;
}

typedef struct {
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst;
} env;

static env setup(const char *fixture_name, uint32_t timeout_ms) {
  env t;
  t.e = adv_engine(4, 0);
  wp_manifest *m = adv_manifest(0, timeout_ms);
  assert_ok(wp_plugin_load(t.e, adv_fixture(fixture_name), m, &t.p));
  wp_manifest_free(m);
  assert_ok(wp_instance_new(t.p, &t.inst));
  return t;
}

static void teardown(env *t) {
  wp_instance_free(t->inst);
  wp_plugin_free(t->p);
  adv_engine_still_works(t->e);
  wp_engine_free(t->e);
}

/* Calls a p1 export taking (i64) or (i32, i64) and returning the errno. */
static wp_error *p1_call(wp_instance *inst, const char *name, int32_t clock, int64_t ns,
                         int32_t *errno_out) {
  wp_val args[2], r;
  size_t n = 0;
  if (clock >= 0) args[n++] = WP_VAL_I32(clock);
  args[n++] = WP_VAL_I64(ns);
  wp_error *err = wp_instance_call(inst, name, args, n, &r, 1);
  if (!err && errno_out) *errno_out = r.of.i32;
  return err;
}

static void expect_timeout(wp_error *err, double started) {
  double took = adv_now_ms() - started;
  assert_error(err, WP_ERR_TIMEOUT, "200 ms timeout");
  if (took < TIMEOUT_MS - 5 || took > WITHIN_MS) {
    print_error("the call took %.0f ms, expected about %d\n", took, TIMEOUT_MS);
    fail();
  }
}

/* After a failure the instance is reset; a short sleep works and really sleeps. */
static void short_sleep_works(env *t) {
  assert_ok(wp_instance_reset(t->inst));
  double t0 = adv_now_ms();
  int32_t e = -1;
  assert_ok(p1_call(t->inst, "sleep", -1, 20 * 1000000ll, &e));
  double took = adv_now_ms() - t0;
  assert_int_equal(e, 0);
  assert_true(took >= 19.0);
  int32_t nevents = 0;
  assert_ok(adv_call_i32(t->inst, "nevents", &nevents));
  assert_int_equal(nevents, 1);
  wp_val r;
  assert_ok(wp_instance_call(t->inst, "userdata", NULL, 0, &r, 1));
  assert_int_equal(r.of.i64, 42);
}

WP_TEST(test_p1_relative_sleep) {
  env t = setup("sleep_p1.wat", TIMEOUT_MS);
  double t0 = adv_now_ms();
  expect_timeout(p1_call(t.inst, "sleep", -1, TEN_S, NULL), t0);
  short_sleep_works(&t);
  teardown(&t);
}

WP_TEST(test_p1_absolute_monotonic) {
  env t = setup("sleep_p1.wat", TIMEOUT_MS);
  double t0 = adv_now_ms();
  expect_timeout(p1_call(t.inst, "sleep_until", 1, TEN_S, NULL), t0);
  short_sleep_works(&t);
  teardown(&t);
}

WP_TEST(test_p1_absolute_realtime) {
  env t = setup("sleep_p1.wat", TIMEOUT_MS);
  double t0 = adv_now_ms();
  expect_timeout(p1_call(t.inst, "sleep_until", 0, TEN_S, NULL), t0);
  /* A short absolute wait is honoured, with its event. */
  assert_ok(wp_instance_reset(t.inst));
  int32_t e = -1;
  t0 = adv_now_ms();
  assert_ok(p1_call(t.inst, "sleep_until", 1, 30 * 1000000ll, &e));
  assert_int_equal(e, 0);
  assert_true(adv_now_ms() - t0 >= 25.0);
  teardown(&t);
}

/* Two clocks: the call returns when the short one is due, with one event. */
WP_TEST(test_p1_two_clocks) {
  env t = setup("sleep_p1.wat", 5000);
  wp_val args[2] = {WP_VAL_I64(TEN_S), WP_VAL_I64(20 * 1000000ll)}, r;
  double t0 = adv_now_ms();
  assert_ok(wp_instance_call(t.inst, "sleep_two", args, 2, &r, 1));
  assert_int_equal(r.of.i32, 0);
  assert_true(adv_now_ms() - t0 < WITHIN_MS);
  int32_t nevents = 0;
  assert_ok(adv_call_i32(t.inst, "nevents", &nevents));
  assert_int_equal(nevents, 1);
  assert_ok(wp_instance_call(t.inst, "userdata", NULL, 0, &r, 1));
  assert_int_equal(r.of.i64, 2);
  teardown(&t);
}

/* An fd subscription beside a long clock: stdin is always ready here, so
   the poll returns at once instead of sleeping. */
WP_TEST(test_p1_clock_and_stdin) {
  env t = setup("sleep_p1.wat", 5000);
  int32_t e = -1;
  double t0 = adv_now_ms();
  assert_ok(p1_call(t.inst, "sleep_or_stdin", -1, TEN_S, &e));
  assert_int_equal(e, 0);
  assert_true(adv_now_ms() - t0 < WITHIN_MS);
  /* Reading stdin (nothing granted) does not block either. */
  assert_ok(adv_call_i32(t.inst, "read_stdin", &e));
  assert_int_equal(e, 0);
  teardown(&t);
}

/*
 * Fresh pooled instances of one plugin may be built in the store of the one
 * before (instance.c, wp_instance_retire). The poll forwarded for an fd
 * subscription goes through a per-store trampoline bound to the caller's
 * memory: each new instance must get its own, so the events land in its own
 * memory and not in a dead instance's.
 */
WP_TEST(test_p1_forwarded_poll_fresh_instances) {
  wp_engine *e = adv_engine(4, 0);
  wp_manifest *m = adv_manifest(0, 5000);
  wp_plugin *p;
  wp_pool *pool;
  assert_ok(wp_plugin_load(e, adv_fixture("sleep_p1.wat"), m, &p));
  wp_manifest_free(m);
  assert_ok(wp_pool_new(p, 1, 1, &pool));
  for (int round = 0; round < 12; round++) {
    wp_instance *inst;
    int32_t err = -1, nevents = 0;
    assert_ok(wp_pool_take(pool, &inst));
    assert_ok(adv_call_i32(inst, "nevents_stdin", &nevents));
    assert_int_equal(nevents, 0); /* a fresh memory */
    assert_ok(p1_call(inst, "sleep_or_stdin", -1, TEN_S, &err));
    assert_int_equal(err, 0);
    assert_ok(adv_call_i32(inst, "nevents_stdin", &nevents));
    assert_true(nevents >= 1); /* stdin's event, in this instance's memory */
    wp_pool_release(pool, inst);
  }
  wp_pool_free(pool);
  wp_plugin_free(p);
  adv_engine_still_works(e);
  wp_engine_free(e);
}

/* A bad events pointer fails the poll at once (EFAULT), before any wait. */
WP_TEST(test_p1_bad_events_no_wait) {
  env t = setup("sleep_p1.wat", 5000);
  int32_t e = 0;
  double t0 = adv_now_ms();
  assert_ok(p1_call(t.inst, "sleep_bad_events", -1, TEN_S, &e));
  assert_int_equal(e, 21 /* EFAULT */);
  assert_true(adv_now_ms() - t0 < WITHIN_MS);
  teardown(&t);
}

typedef struct {
  wp_instance *inst;
  int delay_ms;
} interrupter;

static void *interrupt_later(void *arg) {
  interrupter *it = arg;
  struct timespec ts = {it->delay_ms / 1000, (long)(it->delay_ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
  wp_instance_interrupt(it->inst);
  return NULL;
}

/* No timeout at all: only an interrupt can end the sleep. */
WP_TEST(test_p1_interrupt) {
  env t = setup("sleep_p1.wat", 0);
  interrupter it = {t.inst, 150};
  pthread_t th;
  pthread_create(&th, NULL, interrupt_later, &it);
  double t0 = adv_now_ms();
  wp_error *err = p1_call(t.inst, "sleep", -1, TEN_S, NULL);
  double took = adv_now_ms() - t0;
  pthread_join(th, NULL);
  assert_error(err, WP_ERR_INTERRUPTED, "interrupted");
  assert_true(took >= 140.0 && took < WITHIN_MS);
  short_sleep_works(&t);
  teardown(&t);
}

static wp_error *p2_call(wp_instance *inst, const char *name, uint64_t ns, wp_value **result) {
  wp_value *arg = wp_value_new_u64(ns);
  wp_error *err = wp_instance_invoke(inst, name, (const wp_value *const *)&arg, 1, result);
  wp_value_free(arg);
  return err;
}

WP_TEST(test_p2_block_and_poll) {
  env t = setup("sleep_p2.wat", TIMEOUT_MS);
  const char *names[] = {"block", "block-until", "poll"};
  for (int i = 0; i < 3; i++) {
    double t0 = adv_now_ms();
    expect_timeout(p2_call(t.inst, names[i], (uint64_t)TEN_S, NULL), t0);
    assert_ok(wp_instance_reset(t.inst));
    /* A short wait still waits, and poll reports the one pollable ready. */
    wp_value *r = NULL;
    t0 = adv_now_ms();
    assert_ok(p2_call(t.inst, names[i], 20 * 1000000ull, &r));
    assert_true(adv_now_ms() - t0 >= 19.0);
    if (r) {
      assert_int_equal(wp_value_get_uint(r), 1);
      wp_value_free(r);
    }
  }
  teardown(&t);
}

WP_TEST(test_p2_interrupt) {
  env t = setup("sleep_p2.wat", 0);
  interrupter it = {t.inst, 150};
  pthread_t th;
  pthread_create(&th, NULL, interrupt_later, &it);
  double t0 = adv_now_ms();
  wp_error *err = p2_call(t.inst, "block", (uint64_t)TEN_S, NULL);
  double took = adv_now_ms() - t0;
  pthread_join(th, NULL);
  assert_error(err, WP_ERR_INTERRUPTED, "interrupted");
  assert_true(took >= 140.0 && took < WITHIN_MS);
  assert_ok(wp_instance_reset(t.inst));
  assert_ok(p2_call(t.inst, "block", 1000000ull, NULL));
  teardown(&t);
}

/* A granted directory holding a FIFO: opening it would block in open(2)
   until a writer came, out of reach of any deadline, so it is refused at
   once (ENXIO); regular files, and missing ones, behave as before. */
/* A directory with a FIFO, a file and a symlink to the FIFO. */
static void make_fifo_dir(char *dir) {
  char path[256];
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/fifo", dir);
  assert_int_equal(mkfifo(path, 0600), 0);
  snprintf(path, sizeof path, "%s/file", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("data", f);
  fclose(f);
  snprintf(path, sizeof path, "%s/link", dir);
  assert_int_equal(symlink("fifo", path), 0);
}

static void remove_fifo_dir(const char *dir) {
  char path[256];
  const char *names[] = {"link", "file", "fifo"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
}

WP_TEST(test_p2_open_fifo_refused) {
  char dir[] = "/tmp/wp-adv-fifo-XXXXXX";
  make_fifo_dir(dir);
  wp_engine *e = adv_engine(4, 0);
  wp_manifest *m = adv_manifest(0, TIMEOUT_MS);
  assert_ok(wp_manifest_allow_dir(m, dir, "/", false));
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, adv_fixture("open_p2.wat"), m, &p));
  assert_ok(wp_instance_new(p, &inst));
  struct {
    uint32_t which, follow, want;
  } cases[] = {
      {0, 0, 20 /* no-device: the FIFO */},
      {1, 0, 0 /* the file */},
      {2, 1, 20 /* the link, followed to the FIFO */},
      {3, 0, 21 /* no-entry */},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wp_value *args[2] = {wp_value_new_u32(cases[i].which), wp_value_new_u32(cases[i].follow)},
             *r = NULL;
    double t0 = adv_now_ms();
    assert_ok(wp_instance_invoke(inst, "open", (const wp_value *const *)args, 2, &r));
    assert_true(adv_now_ms() - t0 < WITHIN_MS);
    assert_int_equal(wp_value_get_uint(r), cases[i].want);
    wp_value_free(r);
    wp_value_free(args[0]);
    wp_value_free(args[1]);
  }
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
  remove_fifo_dir(dir);
}

WP_TEST(test_p1_open_fifo_refused) {
  char dir[] = "/tmp/wp-adv-fifo-XXXXXX";
  make_fifo_dir(dir);
  wp_engine *e = adv_engine(4, 0);
  wp_manifest *m = adv_manifest(0, TIMEOUT_MS);
  assert_ok(wp_manifest_allow_dir(m, dir, "/", false));
  wp_plugin *p;
  wp_instance *inst;
  assert_ok(wp_plugin_load(e, adv_fixture("open_p1.wat"), m, &p));
  assert_ok(wp_instance_new(p, &inst));
  struct {
    int which, follow, want;
  } cases[] = {
      {0, 0, 60 /* ENXIO: the FIFO */},
      {1, 0, 0 /* the file */},
      {2, 1, 60 /* the link, followed to the FIFO */},
      {3, 0, 44 /* ENOENT */},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wp_val args[2] = {WP_VAL_I32(cases[i].which), WP_VAL_I32(cases[i].follow)}, r;
    double t0 = adv_now_ms();
    assert_ok(wp_instance_call(inst, "open", args, 2, &r, 1));
    assert_true(adv_now_ms() - t0 < WITHIN_MS);
    assert_int_equal(r.of.i32, cases[i].want);
  }
  /* The link itself, not followed: an error from the open, not a wait. */
  wp_val args[2] = {WP_VAL_I32(2), WP_VAL_I32(0)}, r;
  assert_ok(wp_instance_call(inst, "open", args, 2, &r, 1));
  assert_int_not_equal(r.of.i32, 0);
  /* The bytes the host borrowed to stat the path are back. */
  assert_ok(wp_instance_call(inst, "canary", NULL, 0, &r, 1));
  assert_memory_equal(&r.of.i64, "canary-c", 8);
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_manifest_free(m);
  adv_engine_still_works(e);
  wp_engine_free(e);
  remove_fifo_dir(dir);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_p1_relative_sleep),
      cmocka_unit_test(test_p1_absolute_monotonic),
      cmocka_unit_test(test_p1_absolute_realtime),
      cmocka_unit_test(test_p1_two_clocks),
      cmocka_unit_test(test_p1_clock_and_stdin),
      cmocka_unit_test(test_p1_bad_events_no_wait),
      cmocka_unit_test(test_p1_forwarded_poll_fresh_instances),
      cmocka_unit_test(test_p1_interrupt),
      cmocka_unit_test(test_p2_block_and_poll),
      cmocka_unit_test(test_p2_interrupt),
      cmocka_unit_test(test_p1_open_fifo_refused),
      cmocka_unit_test(test_p2_open_fifo_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
