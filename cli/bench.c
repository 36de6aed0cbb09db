/*
 * bench.c - `wasmplug bench PLUGIN EXPORT [ARGS...]`: times repeated calls
 * of one export, made as `wasmplug call` makes them, on one reused instance
 * and on a fresh pooled instance per call, and prints medians per call.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char usage[] =
    "usage: wasmplug bench PLUGIN EXPORT [ARGS...] [OPTIONS]\n"
    "\n"
    "Calls an export many times and prints the median time per call over\n"
    "repetitions, with the fastest and slowest repetition. ARGS and --input are\n"
    "given as to `wasmplug call` (numbers, bytes, or WAVE values for components).\n"
    "The first call runs before timing with the plugin's logs and output shown;\n"
    "later calls run silently.\n"
    "\n"
    "modes:\n"
    "  reused   every call on the same instance\n"
    "  fresh    every call on a fresh instance from a pool (instantiation,\n"
    "           the call, and freeing the instance)\n"
    "\n"
    "options (besides those of `wasmplug call`: --input, --manifest, --fuel...):\n"
    "  --mode reused|fresh|both  what to time (default both)\n"
    "  --reps N                  repetitions (default 11)\n"
    "  --iterations N            calls per repetition (default: as many as take\n"
    "                            about 20 ms, found by a calibration run)\n"
    "  --format text|json        json prints one object per mode:\n"
    "                            {\"name\", \"unit\", \"median\", \"min\", \"max\",\n"
    "                            \"iterations\", \"reps\"}, times in ns per call\n"
    "\n"
    "exit codes: 0 success, 1 a call failed, 2 usage, 3 the plugin could not be\n"
    "loaded or linked.\n";

#define MAX_REPS 1000
#define TARGET_REP_S 0.02

typedef struct bench_opts {
  uint32_t reps;
  uint64_t iterations; /* 0: calibrate */
  bool reused, fresh, json;
} bench_opts;

static bool parse_count(const char *val, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long n = strtoull(val, &end, 10);
  if (errno || end == val || *end || val[0] == '-' || n == 0 || n > max) return false;
  *out = n;
  return true;
}

static int bench_option(void *ud, const char *name, const char *val) {
  bench_opts *b = ud;
  uint64_t n;
  if (strcmp(name, "--reps") == 0) {
    if (!parse_count(val, MAX_REPS, &n)) {
      fprintf(stderr, "wasmplug: --reps takes a number from 1 to %d, got '%s'\n", MAX_REPS, val);
      return 0;
    }
    b->reps = (uint32_t)n;
  } else if (strcmp(name, "--iterations") == 0) {
    if (!parse_count(val, UINT32_MAX, &n)) {
      fprintf(stderr, "wasmplug: --iterations takes a number from 1 to %u, got '%s'\n",
              (unsigned)UINT32_MAX, val);
      return 0;
    }
    b->iterations = n;
  } else if (strcmp(name, "--mode") == 0) {
    bool both = strcmp(val, "both") == 0;
    b->reused = both || strcmp(val, "reused") == 0;
    b->fresh = both || strcmp(val, "fresh") == 0;
    if (!b->reused && !b->fresh) {
      fprintf(stderr, "wasmplug: --mode takes reused, fresh or both, got '%s'\n", val);
      return 0;
    }
  } else if (strcmp(name, "--format") == 0) {
    if (strcmp(val, "text") != 0 && strcmp(val, "json") != 0) {
      fprintf(stderr, "wasmplug: --format takes text or json, got '%s'\n", val);
      return 0;
    }
    b->json = strcmp(val, "json") == 0;
  } else {
    return -1;
  }
  return 1;
}

/* ---- one call, prepared once (cli_call_prepare: as `wasmplug call` makes it) ---- */

static wp_error *call_once(wp_instance *inst, const cli_call *c) {
  switch (c->kind) {
  case CLI_CALL_NUMERIC: {
    wp_val results[CLI_MAX_ARGS];
    return wp_instance_call_func(inst, c->id, c->args, c->nargs, results, c->nresults);
  }
  case CLI_CALL_BYTES: {
    const uint8_t *out;
    size_t out_len;
    return wp_instance_call_func_bytes(inst, c->id, c->input ? c->input : "", c->len, &out,
                                       &out_len);
  }
  case CLI_CALL_WAVE: {
    wp_value *r = NULL;
    wp_error *err = wp_instance_invoke_func(inst, c->id, (const wp_value *const *)c->values,
                                            c->nargs, &r);
    wp_value_free(r);
    return err;
  }
  }
  return NULL;
}

/* ---- timing ------------------------------------------------------------------ */

/* A mode: calls on `inst`, or on a fresh instance from `pool` each. */
typedef struct bench_mode {
  const char *name, *label;
  bool on;
  wp_instance *inst;
  wp_pool *pool;
  double per_call[MAX_REPS]; /* seconds, one per repetition */
  uint64_t iterations;
} bench_mode;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* n calls; *elapsed in seconds. */
static wp_error *run(bench_mode *m, const cli_call *c, uint64_t n, double *elapsed) {
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    wp_instance *inst = m->inst;
    wp_error *err = m->pool ? wp_pool_take(m->pool, &inst) : NULL;
    if (!err) err = call_once(inst, c);
    if (m->pool) wp_pool_release(m->pool, inst);
    if (err) return err;
  }
  *elapsed = now_s() - t0;
  return NULL;
}

/* Calls per repetition: doubled until a run takes TARGET_REP_S / 4, then
   scaled to about TARGET_REP_S. */
static wp_error *calibrate(bench_mode *m, const cli_call *c, uint64_t *n) {
  uint64_t k = 1;
  for (;;) {
    double t;
    wp_error *err = run(m, c, k, &t);
    if (err) return err;
    if (t >= TARGET_REP_S / 4 || k >= (1u << 30)) {
      double scaled = (double)k * TARGET_REP_S / (t > 0 ? t : 1e-9);
      *n = scaled<1 ? 1 : scaled>(double) UINT32_MAX ? UINT32_MAX : (uint64_t)scaled;
      return NULL;
    }
    k *= 2;
  }
}

static wp_error *measure(bench_mode *m, const cli_call *c, const bench_opts *b) {
  m->iterations = b->iterations;
  wp_error *err = m->iterations ? NULL : calibrate(m, c, &m->iterations);
  for (uint32_t r = 0; !err && r < b->reps; r++) {
    double t;
    err = run(m, c, m->iterations, &t);
    if (!err) m->per_call[r] = t / (double)m->iterations;
  }
  return err;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts the repetitions; the median of an even count is the mean of the two
   middle ones. */
static double median_of(double *v, uint32_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "68.1 ns", "2.95 us", "1.20 ms" */
static void put_time(char *buf, size_t size, double s) {
  if (s < 1e-6) snprintf(buf, size, "%.1f ns", s * 1e9);
  else if (s < 1e-3) snprintf(buf, size, "%.2f us", s * 1e6);
  else snprintf(buf, size, "%.2f ms", s * 1e3);
}

static void report(bench_mode *modes, size_t n, const bench_opts *b, const cli_opts *o) {
  if (b->json) putchar('[');
  else printf("%s %s: medians of %u repetitions\n", o->positional[0], o->positional[1], b->reps);
  for (size_t i = 0, shown = 0; i < n; i++) {
    bench_mode *m = &modes[i];
    if (!m->on) continue;
    double med = median_of(m->per_call, b->reps);
    double lo = m->per_call[0], hi = m->per_call[b->reps - 1];
    if (b->json) {
      printf("%s{\"name\": \"%s\", \"unit\": \"ns/call\", \"median\": %.3f, \"min\": %.3f, "
             "\"max\": %.3f, \"iterations\": %llu, \"reps\": %u}",
             shown++ ? ", " : "", m->name, med * 1e9, lo * 1e9, hi * 1e9,
             (unsigned long long)m->iterations, b->reps);
      continue;
    }
    char tm[32], tl[32], th[32];
    put_time(tm, sizeof tm, med);
    put_time(tl, sizeof tl, lo);
    put_time(th, sizeof th, hi);
    printf("  %-16s %10s/call  (fastest %s, slowest %s; %llu calls per repetition; %.0f "
           "calls/s)\n",
           m->label, tm, tl, th, (unsigned long long)m->iterations, med > 0 ? 1 / med : 0);
  }
  if (b->json) puts("]");
}

/* ---- the command --------------------------------------------------------------- */

/* Plugin stdout and stderr go to our stderr during the first call only. */
static int plugin_output(void *ud, wp_instance *inst, const uint8_t *data, size_t len) {
  (void)inst;
  if (*(const bool *)ud) return 0;
  return fwrite(data, 1, len, stderr) == len ? 0 : -1;
}

/* Times the modes asked for; prints them. */
static int bench_plugin(wp_engine *engine, cli_opts *o, const bench_opts *b, bool *quiet) {
  wp_plugin *plugin = NULL;
  wp_error *err = wp_plugin_load(engine, o->positional[0], o->manifest, &plugin);
  if (err) return cli_fail(err);
  cli_call call;
  bench_mode modes[2] = {{.name = "reused_instance", .label = "reused instance", .on = b->reused},
                         {.name = "fresh_instance", .label = "fresh instance", .on = b->fresh}};
  o->command = "bench"; /* hints give a bench command line */
  int rc = cli_call_prepare(plugin, o, &call);
  if (rc == CLI_OK) err = wp_instance_new(plugin, &modes[0].inst);
  /* The first call, with the plugin's logs and output; then silence. */
  if (rc == CLI_OK && !err) err = call_once(modes[0].inst, &call);
  *quiet = true;
  cli_parse_log_level("off", &o->log_level);
  if (rc == CLI_OK && !err && b->fresh) err = wp_pool_new(plugin, 1, 1, &modes[1].pool);
  for (size_t i = 0; rc == CLI_OK && !err && i < 2; i++)
    if (modes[i].on) err = measure(&modes[i], &call, b);
  if (rc == CLI_OK && err) rc = cli_fail(err);
  else if (rc == CLI_OK) report(modes, 2, b, o);
  wp_pool_free(modes[1].pool);
  wp_instance_free(modes[0].inst);
  cli_call_clear(&call);
  wp_plugin_free(plugin);
  return rc;
}

int cmd_bench(int argc, char **argv) {
  cli_opts o;
  bench_opts b = {.reps = 11, .reused = true, .fresh = true};
  cli_extra extra = {bench_option, &b};
  int start = cli_start(argc, argv, &o, usage, 2, SIZE_MAX, &extra);
  if (start >= 0) return start;
  bool quiet = false;
  wp_manifest_set_stdout(o.manifest, WP_STDIO_CALLBACK, plugin_output, &quiet);
  wp_manifest_set_stderr(o.manifest, WP_STDIO_CALLBACK, plugin_output, &quiet);
  /* Fresh instances come from the pooling allocator, as in a server. */
  wp_engine *engine = cli_engine_pooled(&o, b.fresh ? 4 : 0);
  int rc = engine ? bench_plugin(engine, &o, &b, &quiet) : CLI_LOAD_FAILED;
  wp_engine_free(engine);
  cli_opts_free(&o);
  return rc;
}
