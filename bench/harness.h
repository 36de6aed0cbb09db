/*
 * harness.h - the measuring side of wasmplug-bench: options, repetitions and
 * medians, the row registry with baselines and targets, the table and the
 * JSON file, and the files and temporary directories cases need.
 *
 * Every figure is the median of several repetitions, each timing a batch of
 * many operations, after a warm-up. Baselines (raw Wasmtime, or a cheaper
 * operation) are measured in the same run, on the same machine state, so the
 * ratios mean something even on a noisy host. Targets that are not met are
 * reported, never hidden, and do not fail the run: only errors do.
 */
#ifndef WP_BENCH_HARNESS_H
#define WP_BENCH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <wasmplug.h>

#define COUNT(a) (sizeof(a) / sizeof(a)[0])

/* ---- options ---------------------------------------------------------------- */

typedef struct bench_opts {
  const char *out;          /* where the JSON goes */
  const char *rust_harness; /* bench/rust's binary, or NULL */
  const char *only;         /* --only GROUP[,GROUP...], or NULL: every group */
} bench_opts;

/* Whether group `name` (core, instances, components, proxywasm, keyvalue,
   httpout, dl) is to be measured. */
bool bench_wants(const bench_opts *o, const char *name);

/* Parses the command line; false (usage printed) if it is wrong. */
bool bench_parse_args(int argc, char **argv, bench_opts *o);

/* --quick: small batches and few repetitions, a smoke test in seconds. */
bool bench_quick(void);

/* A batch size: --quick shrinks it so the whole run takes seconds. */
size_t bench_batch(size_t full);

/* Repetitions: at least 5 in a full run, so the median means something. */
int bench_reps(int full);

/* ---- measuring ---------------------------------------------------------------- */

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

/*
 * Measures a group of related cases (a baseline and what is compared with
 * it) with their batches interleaved, and adds a row per case. All cases of a
 * group use the first one's repetition count.
 */
wp_error *bench_measure_group(const bench_case *cases, size_t ncases);

/* One case on its own. */
wp_error *bench_measure(const bench_case *c);

/* ---- rows -------------------------------------------------------------------- */

typedef enum bench_target {
  TARGET_NONE,
  TARGET_MEDIAN, /* median <= target, in the row's unit */
  TARGET_RATIO,  /* median / baseline <= target */
} bench_target;

/* A row measured elsewhere (the Rust harness): false if there is no room. */
bool bench_add_external_row(const char *name, const char *unit, double median, int reps);

/* Ties a row to its baseline and target; call after both were measured. A
   ratio compares with raw Wasmtime (what wasmplug adds); absolute targets are
   what an embedder can budget per operation. Missing rows are skipped. */
void bench_judge(const char *name, const char *baseline, bench_target kind, double target);

/* Prints the table of every row on stdout. */
void bench_print_table(void);

/* Writes every row as a JSON list of {"name", "unit", "median", ...}. */
wp_error *bench_write_json(const char *path);

/* ---- files ------------------------------------------------------------------- */

/* A fresh empty directory under $TMPDIR, remembered so it is always removed. */
wp_error *bench_make_temp_dir(char **out);

/* Removes a directory bench_make_temp_dir made (NULL or "" is allowed). */
void bench_free_temp_dir(char *dir);

/* Removes every directory still left. */
void bench_free_all_temp_dirs(void);

/* Reads a whole file into a malloc'ed buffer (NUL-terminated). */
wp_error *bench_read_file(const char *path, char **data, size_t *len);

#endif
