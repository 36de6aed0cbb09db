/*
 * test_cache_index.c - issue 15: the compile cache's index lets a load of an
 * unchanged plugin file skip hashing it (cache.c). A stale, damaged or lying
 * index must never make wasmplug run other code than the file holds:
 *   - a hit needs the same path, device, inode, size, mtime and ctime, and a
 *     file whose ctime is not WP_CACHE_INDEX_SETTLE_NS old is hashed;
 *   - a file rewritten with new contents is hashed again, also when its size
 *     and mtime are put back as they were (only ctime tells);
 *   - a pinned plugin is always hashed: an index that agrees with a wrong
 *     pin does not make it load;
 *   - an index naming code the cache does not have costs a hash, never an
 *     entry filed under the index's word;
 *   - a damaged record is ignored (and rewritten), one we did not write
 *     (symbolic link, writable by others) is refused like an entry.
 * Files must be older than the settle time for the index to be used, so
 * main() writes them all, then waits once.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adv.h"
#include "plugin/plugin.h"

/* Two plugins of the same size: only the constant differs. */
#define WAT_ONE "(module (func (export \"v\") (result i32) i32.const 1))"
#define WAT_TWO "(module (func (export \"v\") (result i32) i32.const 2))"
#define WAT_LONGER "(module (func (export \"v\") (result i32) i32.const 1234))"

static char g_top[64] = "/tmp/wp-adv-index-XXXXXX";

/* Plugin files main() writes before waiting: one per test, never shared. */
static const char *const g_files[] = {"hit.wat",  "changed.wat", "same-size.wat", "pinned.wat",
                                      "lie.wat",  "damaged.wat", "planted.wat",   "other.wat",
                                      "cold.wat", "plain.wat"};

static void plugin_path(const char *file, char *out, size_t cap) {
  snprintf(out, cap, "%s/%s", g_top, file);
}

static void write_text(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  assert_int_equal(close(fd), 0);
}

static void wait_settled(void) {
  struct timespec ts = {WP_CACHE_INDEX_SETTLE_NS / 1000000000 + 0, 200000000};
  while (nanosleep(&ts, &ts) != 0) continue;
}

/* An engine on its own cache directory <top>/cache-<tag>. */
typedef struct index_env {
  char dir[128];
  wp_engine *engine;
} index_env;

static void env_open(index_env *c, const char *tag) {
  snprintf(c->dir, sizeof c->dir, "%s/cache-%s", g_top, tag);
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, c->dir);
  wp_engine_config_set_pooling(cfg, 0);
  assert_ok(wp_engine_new(cfg, &c->engine));
  wp_engine_config_free(cfg);
}

static void env_close(index_env *c) { wp_engine_free(c->engine); }

/* What one load found. */
typedef struct loaded {
  bool indexed; /* the sha256 came from the index: the bytes were not hashed */
  bool cached;  /* the code came from the cache */
  char sha[65];
  int32_t v; /* what the plugin's v() returns: which code runs */
} loaded;

static wp_error *try_load(index_env *c, const char *path, const char *pin, loaded *out) {
  wp_manifest *m = NULL;
  if (pin) {
    m = wp_manifest_new();
    assert_ok(wp_manifest_set_sha256(m, pin));
  }
  wp_plugin *p = NULL;
  wp_error *err = wp_plugin_load(c->engine, path, m, &p);
  wp_manifest_free(m);
  if (err) return err;
  out->indexed = p->sha256_indexed;
  out->cached = wp_plugin_was_cached(p);
  snprintf(out->sha, sizeof out->sha, "%s", wp_plugin_get_sha256(p));
  wp_instance *inst;
  wp_val r;
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call(inst, "v", NULL, 0, &r, 1));
  out->v = r.of.i32;
  wp_instance_free(inst);
  wp_plugin_free(p);
  return NULL;
}

static loaded load(index_env *c, const char *path, const char *pin) {
  loaded l = {0};
  assert_ok(try_load(c, path, pin, &l));
  return l;
}

/* Asserts a load's outcome: indexed or hashed, cached or compiled, which code. */
static void assert_load(index_env *c, const char *path, const char *pin, bool indexed, bool cached,
                        int32_t v) {
  loaded l = load(c, path, pin);
  if (l.indexed != indexed || l.cached != cached || l.v != v) {
    print_error("%s: indexed %d cached %d v %d, expected %d %d %d\n", path, l.indexed, l.cached,
                l.v, indexed, cached, v);
    fail();
  }
}

static void sha_of(const char *text, char out[65]) {
  wp_sha256_hex((const uint8_t *)text, strlen(text), out);
}

/* The stamp wp_plugin_load would see for path (seen_ns is not used here). */
static wp_file_stamp stamp_of(const char *path) {
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  wp_file_stamp s = {
      .dev = (uint64_t)st.st_dev,
      .ino = (uint64_t)st.st_ino,
      .size = (uint64_t)st.st_size,
      .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
      .ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec,
  };
  return s;
}

static void index_path(const index_env *c, const char *path, char *out, size_t cap) {
  char name[96];
  wp_file_stamp s = stamp_of(path);
  wp_cache_index_name(path, &s, name, sizeof name);
  snprintf(out, cap, "%s/%s", c->dir, name);
}

/* Replaces the index file of path with `len` bytes of `data`, mode 0600. */
static void put_index(const index_env *c, const char *path, const char *data, size_t len) {
  char file[256];
  index_path(c, path, file, sizeof file);
  unlink(file);
  int fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, data, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
}

/* A well-formed record saying that path, as it is now, hashes to `sha`. */
static void forge_index(const index_env *c, const char *path, const char sha[65]) {
  char rec[WP_CACHE_INDEX_MAX];
  wp_file_stamp s = stamp_of(path);
  size_t len = wp_cache_index_record(path, &s, sha, rec, sizeof rec);
  assert_true(len > 0);
  put_index(c, path, rec, len);
}

static size_t count_with(const char *dir, const char *suffix) {
  DIR *d = opendir(dir);
  size_t n = 0, sl = strlen(suffix);
  for (struct dirent *e; d && (e = readdir(d));) {
    size_t l = strlen(e->d_name);
    n += l >= sl && strcmp(e->d_name + l - sl, suffix) == 0;
  }
  if (d) closedir(d);
  return n;
}

/* ---- hits ------------------------------------------------------------------ */

WP_TEST(test_index_hit) {
  index_env c;
  env_open(&c, "hit");
  char path[128], sha[65];
  plugin_path("hit.wat", path, sizeof path);
  sha_of(WAT_ONE, sha);
  assert_load(&c, path, NULL, false, false, 1); /* compiled, hashed, indexed */
  char file[256];
  index_path(&c, path, file, sizeof file);
  struct stat st;
  assert_int_equal(lstat(file, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(count_with(c.dir, ".index"), 1);
  assert_int_equal(count_with(c.dir, ".tmp"), 0);

  loaded l = load(&c, path, NULL);
  assert_true(l.indexed && l.cached);
  assert_int_equal(l.v, 1);
  assert_string_equal(l.sha, sha); /* wp_plugin_get_sha256 still tells the truth */

  /* Another path to the same file is another key: hashed once, then a hit. */
  char link[160];
  snprintf(link, sizeof link, "%s/hit-link.wat", g_top);
  assert_int_equal(symlink(path, link), 0);
  assert_load(&c, link, NULL, false, true, 1);
  assert_load(&c, link, NULL, true, true, 1);
  assert_int_equal(count_with(c.dir, ".index"), 2);
  env_close(&c);
}

/* No cache, no index: nothing is written, every load hashes. */
WP_TEST(test_index_needs_cache) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 0);
  index_env c = {.engine = NULL};
  assert_ok(wp_engine_new(cfg, &c.engine));
  wp_engine_config_free(cfg);
  char path[128];
  plugin_path("plain.wat", path, sizeof path);
  assert_load(&c, path, NULL, false, false, 1);
  assert_load(&c, path, NULL, false, false, 1);
  env_close(&c);
}

/* ---- changed files --------------------------------------------------------- */

/* New contents and a new mtime: hashed while the change is recent, hashed
   once after it settled (the record's stamp is not the file's), then a hit. */
WP_TEST(test_index_file_changed) {
  index_env c;
  env_open(&c, "changed");
  char path[128];
  plugin_path("changed.wat", path, sizeof path);
  assert_load(&c, path, NULL, false, false, 1);
  assert_load(&c, path, NULL, true, true, 1);

  write_text(path, WAT_LONGER);
  assert_load(&c, path, NULL, false, false, 1234); /* too recent to index */
  assert_load(&c, path, NULL, false, true, 1234);
  wait_settled();
  assert_load(&c, path, NULL, false, true, 1234); /* stale record: hashed, record replaced */
  assert_load(&c, path, NULL, true, true, 1234);
  assert_int_equal(count_with(c.dir, ".index"), 1);
  env_close(&c);
}

/* Rewritten in place with the same size, and its mtime put back: only ctime
   (which no one can set back) tells the change. */
WP_TEST(test_index_same_size_rewritten) {
  index_env c;
  env_open(&c, "same");
  char path[128], two[65];
  plugin_path("same-size.wat", path, sizeof path);
  sha_of(WAT_TWO, two);
  assert_load(&c, path, NULL, false, false, 1);
  assert_load(&c, path, NULL, true, true, 1);

  wp_file_stamp before = stamp_of(path);
  write_text(path, WAT_TWO);
  struct timespec times[2] = {
      {0, UTIME_OMIT}, {(time_t)(before.mtime_ns / 1000000000), before.mtime_ns % 1000000000}};
  assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
  wp_file_stamp after = stamp_of(path);
  assert_true(after.ino == before.ino && after.size == before.size &&
              after.mtime_ns == before.mtime_ns);

  loaded l = load(&c, path, NULL);
  assert_false(l.indexed);
  assert_int_equal(l.v, 2);
  assert_string_equal(l.sha, two);
  wait_settled();
  l = load(&c, path, NULL);
  assert_false(l.indexed); /* settled now, but its ctime is not the record's */
  assert_int_equal(l.v, 2);
  assert_string_equal(l.sha, two);
  assert_load(&c, path, NULL, true, true, 2);
  env_close(&c);
}

/* ---- lying and damaged records --------------------------------------------- */

/* A pinned plugin is hashed whatever the index says: a record that agrees
   with a wrong pin does not let it load, one that disagrees with the right
   pin does not stop it. */
WP_TEST(test_index_pinned_still_hashes) {
  index_env c;
  env_open(&c, "pinned");
  char path[128], one[65], two[65];
  plugin_path("pinned.wat", path, sizeof path);
  sha_of(WAT_ONE, one);
  sha_of(WAT_TWO, two);
  assert_load(&c, path, NULL, false, false, 1);
  assert_load(&c, path, NULL, true, true, 1);
  assert_load(&c, path, one, false, true, 1); /* pinned: hashed even with a good record */

  forge_index(&c, path, two);
  assert_error(try_load(&c, path, two, &(loaded){0}), WP_ERR_LOAD, "sha256 mismatch");
  assert_error(try_load(&c, path, two, &(loaded){0}), WP_ERR_LOAD, one); /* what it hashed to */
  assert_load(&c, path, one, false, true, 1);

  /* The record names other code the cache holds: a pinned load still runs
     the file's own. */
  char other[128];
  plugin_path("other.wat", other, sizeof other);
  write_text(other, WAT_TWO); /* recent: hashed, compiled, filed under its sha256 */
  assert_load(&c, other, NULL, false, false, 2);
  forge_index(&c, path, two);
  assert_load(&c, path, one, false, true, 1);
  env_close(&c);
}

/* A record naming code the cache does not have: the bytes are hashed, the
   code compiled is filed under their own sha256 (never the record's), the
   plugin reports that sha256, and the record is rewritten. */
WP_TEST(test_index_lie_without_entry) {
  index_env c;
  env_open(&c, "lie");
  char path[128], one[65], two[65];
  plugin_path("lie.wat", path, sizeof path);
  sha_of(WAT_ONE, one);
  sha_of(WAT_TWO, two);
  assert_load(&c, path, NULL, false, false, 1);
  forge_index(&c, path, two);
  loaded l = load(&c, path, NULL);
  assert_false(l.indexed);
  assert_true(l.cached); /* the file's own entry, found under its own sha256 */
  assert_int_equal(l.v, 1);
  assert_string_equal(l.sha, one);
  assert_load(&c, path, NULL, true, true, 1); /* the record was put right */

  /* The same with no entry at all: compiled, and stored under the truth. */
  index_env cold;
  env_open(&cold, "lie-cold");
  char cold_path[128];
  plugin_path("cold.wat", cold_path, sizeof cold_path);
  assert_int_equal(mkdir(cold.dir, 0700), 0);
  forge_index(&cold, cold_path, two);
  l = load(&cold, cold_path, NULL);
  assert_false(l.indexed || l.cached);
  assert_string_equal(l.sha, one);
  assert_int_equal(count_with(cold.dir, ".cwasm"), 1);
  DIR *d = opendir(cold.dir);
  bool truth = false;
  for (struct dirent *e; d && (e = readdir(d));)
    truth |= strncmp(e->d_name, one, 64) == 0 && strstr(e->d_name, ".cwasm") != NULL;
  closedir(d);
  assert_true(truth);
  assert_load(&cold, cold_path, NULL, true, true, 1);
  env_close(&cold);
  env_close(&c);
}

/* Damaged records: each is no answer (hashed, right code) and is replaced
   by a good one (the next load is a hit). */
WP_TEST(test_index_damaged_ignored) {
  index_env c;
  env_open(&c, "damaged");
  char path[128], one[65], rec[WP_CACHE_INDEX_MAX];
  plugin_path("damaged.wat", path, sizeof path);
  sha_of(WAT_ONE, one);
  assert_load(&c, path, NULL, false, false, 1);
  wp_file_stamp s = stamp_of(path);
  size_t len = wp_cache_index_record(path, &s, one, rec, sizeof rec);
  assert_true(len > 143);

  char bad[WP_CACHE_INDEX_MAX + 8];
  struct {
    const char *what;
    size_t at; /* byte to change (SIZE_MAX: none) */
    char to;
    size_t len;
  } cases[] = {
      {"empty", SIZE_MAX, 0, 0},
      {"cut short", SIZE_MAX, 0, len / 2},
      {"cut before its check", SIZE_MAX, 0, len - 71},
      {"a byte of the sha256 changed", len - 143 + 7, 'f', len},
      {"the sha256 in upper case", len - 143 + 7, 'A', len},
      {"a byte of the check changed", len - 2, '0', len},
      {"a byte of the stamp changed", 21, '9', len},
      {"one byte too many", len, '\n', len + 1},
      {"not a record", 0, 'X', len},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memcpy(bad, rec, len);
    bad[len] = '\n';
    if (cases[i].at != SIZE_MAX) {
      /* Make sure the byte really changes. */
      if (bad[cases[i].at] == cases[i].to) bad[cases[i].at] = cases[i].to == '0' ? '1' : 'e';
      else bad[cases[i].at] = cases[i].to;
    }
    put_index(&c, path, bad, cases[i].len);
    loaded l = load(&c, path, NULL);
    if (l.indexed || l.v != 1 || strcmp(l.sha, one) != 0) {
      print_error("index %s: indexed %d v %d sha %s\n", cases[i].what, l.indexed, l.v, l.sha);
      fail();
    }
    assert_load(&c, path, NULL, true, true, 1);
  }
  assert_int_equal(count_with(c.dir, ".tmp"), 0);
  env_close(&c);
}

/* A record we did not write (a symbolic link, one writable by others) is
   refused as a planted entry is, naming the file; removed, all is well. */
WP_TEST(test_index_planted_refused) {
  index_env c;
  env_open(&c, "planted");
  char path[128], file[256], elsewhere[160];
  plugin_path("planted.wat", path, sizeof path);
  assert_load(&c, path, NULL, false, false, 1);
  index_path(&c, path, file, sizeof file);

  snprintf(elsewhere, sizeof elsewhere, "%s/planted.index", g_top);
  assert_int_equal(rename(file, elsewhere), 0); /* a good record, reached through a link */
  assert_int_equal(symlink(elsewhere, file), 0);
  assert_error(try_load(&c, path, NULL, &(loaded){0}), WP_ERR_IO, "is a symbolic link");
  assert_error(try_load(&c, path, NULL, &(loaded){0}), WP_ERR_IO, file);
  assert_int_equal(unlink(file), 0);
  assert_load(&c, path, NULL, false, true, 1);

  assert_int_equal(chmod(file, 0620), 0);
  assert_error(try_load(&c, path, NULL, &(loaded){0}), WP_ERR_IO,
               "is writable by its group (mode 0620)");
  assert_int_equal(chmod(file, 0600), 0);
  assert_load(&c, path, NULL, true, true, 1);

  /* A pinned load never opens the index. */
  char one[65];
  sha_of(WAT_ONE, one);
  assert_int_equal(chmod(file, 0666), 0);
  assert_load(&c, path, one, false, true, 1);
  assert_int_equal(chmod(file, 0600), 0);
  adv_engine_still_works(c.engine);
  env_close(&c);
}

/* Removes the files and directories under g_top (two levels, no more). */
static void remove_top(void) {
  DIR *d = opendir(g_top);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char child[512];
    snprintf(child, sizeof child, "%s/%s", g_top, e->d_name);
    DIR *sub = opendir(child);
    for (struct dirent *f; sub && (f = readdir(sub));) {
      char grand[800];
      snprintf(grand, sizeof grand, "%s/%s", child, f->d_name);
      if (f->d_name[0] != '.') unlink(grand);
    }
    if (sub) closedir(sub);
    if (rmdir(child) != 0) unlink(child);
  }
  if (d) closedir(d);
  rmdir(g_top);
}

int main(void) {
  wp_test_save_wasm_signals();
  if (!mkdtemp(g_top)) return 1;
  for (size_t i = 0; i < sizeof g_files / sizeof g_files[0]; i++) {
    char path[128];
    plugin_path(g_files[i], path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f || fputs(WAT_ONE, f) < 0 || fclose(f) != 0) return 1;
  }
  wait_settled();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_index_hit),
      cmocka_unit_test(test_index_needs_cache),
      cmocka_unit_test(test_index_file_changed),
      cmocka_unit_test(test_index_same_size_rewritten),
      cmocka_unit_test(test_index_pinned_still_hashes),
      cmocka_unit_test(test_index_lie_without_entry),
      cmocka_unit_test(test_index_damaged_ignored),
      cmocka_unit_test(test_index_planted_refused),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  remove_top();
  return rc;
}
