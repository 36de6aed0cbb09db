/*
 * c_baseline.c - the C side of `make bench-bindings`: the two calls every
 * binding's bench.sh times, made from C through the public API, printed in
 * the protocol bench/bindings/run.py reads.
 *
 *   wasmplug-bench-bindings-c [--batch N] [--reps R]
 *
 * numeric_call:   add(i, 1) of tests/fixtures/numeric.wat through a function
 *                 handle found once (wp_plugin_find_func).
 * bytes_echo_32B: echo of tests/fixtures/echo.wat with 32 bytes in and out.
 * Each repetition times N calls and prints ns per call.
 */
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

static int fail(wp_error *err) {
  fprintf(stderr, "wasmplug-bench-bindings-c: %s\n", wp_error_get_message(err));
  wp_error_free(err);
  return 1;
}

static void print_row(const char *row, const double *ns, long reps) {
  printf("{\"row\": \"%s\", \"ns\": [", row);
  for (long r = 0; r < reps; r++) printf("%s%.2f", r ? ", " : "", ns[r]);
  printf("]}\n");
}

static wp_error *load(wp_engine *e, const char *file, const char *func, wp_plugin **p,
                      wp_instance **inst, wp_func_id *id) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", WP_BENCH_FIXTURES, file);
  wp_error *err = wp_plugin_load(e, path, NULL, p);
  if (!err) err = wp_instance_new(*p, inst);
  if (!err) err = wp_plugin_find_func(*p, func, id);
  return err;
}

int main(int argc, char **argv) {
  long batch = 200000, reps = 11;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--batch") == 0) batch = atol(argv[i + 1]);
    if (strcmp(argv[i], "--reps") == 0) reps = atol(argv[i + 1]);
  }
  if (batch < 1 || reps < 1) return 2;
  double *ns = calloc((size_t)reps, sizeof *ns);
  wp_engine *e = NULL;
  wp_plugin *num = NULL, *echo = NULL;
  wp_instance *num_inst = NULL, *echo_inst = NULL;
  wp_func_id add, echo_fn;
  wp_error *err = wp_engine_new(NULL, &e);
  if (!err) err = load(e, "numeric.wat", "add", &num, &num_inst, &add);
  if (!err) err = load(e, "echo.wat", "echo", &echo, &echo_inst, &echo_fn);
  if (err) return fail(err);

  for (long r = 0; r < reps; r++) {
    double t0 = now_ns();
    for (long i = 0; i < batch; i++) {
      wp_val args[2] = {WP_VAL_I32((int32_t)i), WP_VAL_I32(1)}, res;
      if ((err = wp_instance_call_func(num_inst, add, args, 2, &res, 1))) return fail(err);
      if (res.of.i32 != (int32_t)i + 1) return 1;
    }
    ns[r] = (now_ns() - t0) / (double)batch;
  }
  print_row("numeric_call", ns, reps);

  uint8_t in[32];
  memset(in, 'x', sizeof in);
  for (long r = 0; r < reps; r++) {
    double t0 = now_ns();
    for (long i = 0; i < batch; i++) {
      const uint8_t *out;
      size_t out_len;
      if ((err = wp_instance_call_func_bytes(echo_inst, echo_fn, in, sizeof in, &out, &out_len)))
        return fail(err);
      if (out_len != sizeof in) return 1;
    }
    ns[r] = (now_ns() - t0) / (double)batch;
  }
  print_row("bytes_echo_32B", ns, reps);

  wp_instance_free(num_inst);
  wp_instance_free(echo_inst);
  wp_plugin_free(num);
  wp_plugin_free(echo);
  wp_engine_free(e);
  free(ns);
  return 0;
}
