/*
 * helpers.h - what the API tests share: cmocka, fixture paths, an engine per
 * test, and assertions on wp_error values.
 */
#ifndef WP_TEST_HELPERS_H
#define WP_TEST_HELPERS_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wasmplug.h"

#ifndef WP_FIXTURES
#error "WP_FIXTURES must name the tests/fixtures directory"
#endif

/* Path of a fixture file in a static buffer. */
static inline const char *fixture(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", WP_FIXTURES, name);
  return buf;
}

/* Fails the test with the error's message if err is not NULL. */
#define assert_ok(expr)                                                \
  do {                                                                 \
    wp_error *e_ = (expr);                                             \
    if (e_) {                                                          \
      print_error("unexpected error: %s\n", wp_error_get_message(e_)); \
      wp_error_free(e_);                                               \
      fail();                                                          \
    }                                                                  \
  } while (0)

/* Asserts err has `kind` and its message contains `needle`; frees it. */
#define assert_error(expr, kind, needle) \
  assert_error_at((expr), (kind), (needle), __FILE__, __LINE__)

static inline void assert_error_at(wp_error *err, wp_error_kind kind, const char *needle,
                                   const char *file, int line) {
  if (!err) {
    print_error("%s:%d: expected a '%s' error, got success\n", file, line,
                wp_error_kind_name(kind));
    fail();
  }
  const char *msg = wp_error_get_message(err);
  if (wp_error_get_kind(err) != kind || !strstr(msg, needle)) {
    print_error("%s:%d: expected a '%s' error containing '%s', got '%s': %s\n", file, line,
                wp_error_kind_name(kind), needle, wp_error_kind_name(wp_error_get_kind(err)), msg);
    wp_error_free(err);
    fail();
  }
  wp_error_free(err);
}

/*
 * WASMPLUG_TEST_ISOLATION=process runs a suite's plugins in worker processes
 * (wasmplug/isolation.h): ctest runs the call suites both ways, with the
 * worker from $WASMPLUG_WORKER (the build's wasmplug).
 */
static inline void test_isolation(wp_engine_config *cfg) {
  const char *iso = getenv("WASMPLUG_TEST_ISOLATION");
  if (iso && strcmp(iso, "process") == 0) wp_engine_config_set_isolation(cfg, WP_ISOLATION_PROCESS);
}

static inline bool test_isolated(void) {
  const char *iso = getenv("WASMPLUG_TEST_ISOLATION");
  return iso && strcmp(iso, "process") == 0;
}

/* An engine with no disk cache and a small pool, for tests. */
static inline wp_engine *test_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 16);
  test_isolation(cfg);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  return e;
}

/*
 * Wasmtime turns wasm traps into signals (SIGILL, SIGSEGV, SIGBUS, SIGFPE)
 * that its own handlers catch. cmocka installs handlers for the same signals
 * around every test, which would take those traps away from Wasmtime. So
 * main() makes an engine first (Wasmtime installs its handlers then), saves
 * them, and every test puts them back as its first step.
 */
static struct sigaction wp_wasm_handlers[4];
static const int wp_wasm_signals[4] = {SIGILL, SIGSEGV, SIGBUS, SIGFPE};

static inline void wp_test_save_wasm_signals(void) {
  wp_engine *e = NULL;
  wp_error *err = wp_engine_new(NULL, &e);
  if (err) {
    fprintf(stderr, "cannot make an engine: %s\n", wp_error_get_message(err));
    exit(1);
  }
  wp_engine_free(e);
  for (int i = 0; i < 4; i++) sigaction(wp_wasm_signals[i], NULL, &wp_wasm_handlers[i]);
}

static inline void wp_test_wasm_signals(void) {
  for (int i = 0; i < 4; i++) sigaction(wp_wasm_signals[i], &wp_wasm_handlers[i], NULL);
}

/* A cmocka test whose body runs with Wasmtime's signal handlers. */
#define WP_TEST(name)              \
  static void name##_body(void);   \
  static void name(void **state) { \
    (void)state;                   \
    wp_test_wasm_signals();        \
    name##_body();                 \
  }                                \
  static void name##_body(void)

#endif
