/*
 * harness.c - how wasmplug-bench measures and reports (see harness.h): the
 * clock, medians, interleaved repetitions, the rows and their targets, the
 * table, the JSON file, and temporary directories that are always removed.
 */
#include "harness.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef WP_BENCH_DEFAULT_OUT
#define WP_BENCH_DEFAULT_OUT "bench/core.json"
#endif

#define MAX_ROWS 128
#define MAX_REPS 16
#define MAX_TEMP_DIRS 16

/* ======================================================================== */
/* Options, clock, statistics                                               */
/* ======================================================================== */

static bool g_quick;

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--out PATH] [--quick] [--rust-harness PATH] [--only GROUP[,GROUP...]]\n"
          "  groups: core, instances, components, proxywasm, keyvalue, httpout, dl\n",
          argv0);
}

/* Whether every name in "a,b,c" is a group main.c measures. */
static bool known_groups(const char *list) {
  static const char *const groups[] = {"core",     "instances", "components", "proxywasm",
                                       "keyvalue", "httpout",   "dl"};
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ","), k = 0;
    while (k < sizeof groups / sizeof *groups &&
           !(strlen(groups[k]) == len && strncmp(groups[k], p, len) == 0))
      k++;
    if (k == sizeof groups / sizeof *groups) return false;
    p += len + (p[len] == ',');
  }
  return *list != '\0';
}

bool bench_parse_args(int argc, char **argv, bench_opts *o) {
  *o = (bench_opts){.out = WP_BENCH_DEFAULT_OUT};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) g_quick = true;
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) o->out = argv[++i];
    else if (strcmp(argv[i], "--rust-harness") == 0 && i + 1 < argc) o->rust_harness = argv[++i];
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc && known_groups(argv[i + 1]))
      o->only = argv[++i];
    else {
      usage(argv[0]);
      return false;
    }
  }
  return true;
}

bool bench_quick(void) { return g_quick; }

bool bench_wants(const bench_opts *o, const char *name) {
  if (!o->only) return true;
  size_t n = strlen(name);
  for (const char *p = o->only; *p;) {
    size_t len = strcspn(p, ",");
    if (len == n && strncmp(p, name, n) == 0) return true;
    p += len + (p[len] == ',');
  }
  return false;
}

size_t bench_batch(size_t full) {
  size_t n = g_quick ? full / 50 : full;
  return n ? n : 1;
}

int bench_reps(int full) { return g_quick ? (full < 3 ? full : 3) : full; }

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

typedef struct row {
  const char *name, *unit;
  double median, min, max; /* in `unit` */
  int reps;
  const char *baseline;    /* name of the row this one is compared with, or NULL */
  double baseline_median, ratio;
  bench_target target_kind;
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

void bench_judge(const char *name, const char *baseline, bench_target kind, double target) {
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

bool bench_add_external_row(const char *name, const char *unit, double median, int reps) {
  if (g_nrows == MAX_ROWS) return false;
  g_rows[g_nrows++] = (row){
      .name = name, .unit = unit, .median = median, .min = median, .max = median, .reps = reps};
  fprintf(stderr, "  %-24s %10.3f %s\n", name, median, unit);
  return true;
}

/* ======================================================================== */
/* The measuring loop                                                        */
/* ======================================================================== */

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
 * Warm-ups first, then repetition i of every case before repetition i + 1 of
 * any. Other load on the machine then hits all of them alike, which keeps the
 * ratios honest on a busy host.
 */
wp_error *bench_measure_group(const bench_case *cases, size_t ncases) {
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

wp_error *bench_measure(const bench_case *c) { return bench_measure_group(c, 1); }

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

wp_error *bench_make_temp_dir(char **out) {
  const char *base = getenv("TMPDIR");
  for (int i = 0; i < MAX_TEMP_DIRS; i++) {
    if (g_temp_dirs[i][0]) continue;
    snprintf(g_temp_dirs[i], sizeof g_temp_dirs[i], "%s/wasmplug-bench-XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(g_temp_dirs[i])) {
      g_temp_dirs[i][0] = '\0';
      return wp_error_new(WP_ERR_IO, "bench: cannot make a temporary directory: %s",
                          strerror(errno));
    }
    *out = g_temp_dirs[i];
    return NULL;
  }
  return wp_error_new(WP_ERR_HOST, "bench: too many temporary directories");
}

void bench_free_temp_dir(char *dir) {
  if (!dir || !dir[0]) return;
  remove_dir(dir);
  dir[0] = '\0';
}

void bench_free_all_temp_dirs(void) {
  for (int i = 0; i < MAX_TEMP_DIRS; i++) bench_free_temp_dir(g_temp_dirs[i]);
}

wp_error *bench_read_file(const char *path, char **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return wp_error_new(WP_ERR_IO, "bench: cannot open %s: %s", path, strerror(errno));
  char *buf = NULL;
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
      fread(buf, 1, (size_t)size, f) == (size_t)size) {
    fclose(f);
    buf[size] = '\0';
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
  snprintf(spread, sizeof spread, "%.1f%%",
           r->median > 0 ? 100 * (r->max - r->min) / r->median : 0);
  const char *status = r->target_kind == TARGET_NONE ? "-" : r->met ? "met" : "not met";
  printf("%-24s %10.3f  %-8s %-24s %7s  %-15s %-8s %5s/%d\n", r->name, r->median, r->unit,
         r->baseline ? r->baseline : "-", ratio, target, status, spread, r->reps);
}

void bench_print_table(void) {
  printf("\n%-24s %10s  %-8s %-24s %7s  %-15s %-8s %s\n", "name", "median", "unit", "baseline",
         "ratio", "target", "status", "spread/reps");
  for (int i = 0; i < g_nrows; i++) print_row(&g_rows[i]);
  if (g_quick) printf("(--quick: small batches, figures are only a smoke test)\n");
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

wp_error *bench_write_json(const char *path) {
  cJSON *list = cJSON_CreateArray();
  for (int i = 0; i < g_nrows; i++) cJSON_AddItemToArray(list, row_json(&g_rows[i]));
  char *text = cJSON_Print(list);
  cJSON_Delete(list);
  if (!text) return wp_error_new(WP_ERR_HOST, "bench: out of memory writing JSON");
  wp_error *err = make_parent_dirs(path);
  FILE *f = err ? NULL : fopen(path, "w");
  if (!err && !f)
    err = wp_error_new(WP_ERR_IO, "bench: cannot write %s: %s", path, strerror(errno));
  if (f && (fputs(text, f) < 0 || fputc('\n', f) < 0 || fclose(f) != 0))
    err = wp_error_new(WP_ERR_IO, "bench: cannot write %s", path);
  cJSON_free(text);
  if (!err) printf("wrote %s\n", path);
  return err;
}
