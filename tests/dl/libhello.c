/*
 * libhello.c - libwphello.so, a tiny native library for tests/dl and the
 * dl bench rows: the RFC's `char *hello(void)`, and functions taking and
 * returning structs by value and by pointer, for wasi:dl (src/host/dl).
 */
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define EXPORT __attribute__((visibility("default")))
#else
#define EXPORT
#endif

struct wp_point {
  int32_t x;
  int32_t y;
  double w;
};

EXPORT char *hello(void) {
  static char text[] = "hello";
  return text;
}

/* A string that is not UTF-8, for read-string's check. */
EXPORT const char *latin1(void) { return "caf\xe9"; }

EXPORT const char *null_string(void) { return 0; }

EXPORT int32_t add_i32(int32_t a, int32_t b) { return a + b; }

/* A native crash: writes through a null pointer (a real SIGSEGV, outside
   wasm code, which Wasmtime's handler passes on). Only process isolation
   keeps the host alive through it (tests/dl: test_native_crash_isolated). */
EXPORT int32_t crash_null(int32_t v) {
  volatile int32_t *volatile p = 0;
  *p = v;
  return v;
}

EXPORT int8_t neg_i8(int8_t a) { return (int8_t)-a; }

EXPORT double scale(double v, float by) { return v * by; }

/* By value, both ways. */
EXPORT double point_sum(struct wp_point p) { return p.x + p.y + p.w; }

EXPORT struct wp_point point_make(int32_t x, int32_t y, double w) {
  struct wp_point p = {x, y, w};
  return p;
}

/* By pointer: an out-parameter. */
EXPORT void point_double(struct wp_point *p) {
  p->x *= 2;
  p->y *= 2;
  p->w *= 2;
}

/* A pointer to a static struct, read by the plugin through deref. */
EXPORT const struct wp_point *point_origin(void) {
  static const struct wp_point origin = {7, 8, 0.5};
  return &origin;
}

/* Sums `n` bytes, for a buffer the plugin writes. */
EXPORT uint64_t sum_bytes(const uint8_t *p, uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; i++) s += p[i];
  return s;
}

/* The length of a string the plugin wrote. */
EXPORT uint64_t length(const char *s) {
  uint64_t n = 0;
  while (s[n]) n++;
  return n;
}
