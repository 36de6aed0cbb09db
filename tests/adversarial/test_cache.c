/*
 * test_cache.c - issue 7, item 9: the compile cache holds native code the
 * host runs, so another local user must not be able to plant any. A cache
 * directory that is not ours or is writable by others is refused, an entry
 * we did not write (symbolic link, FIFO, someone else's, writable by others)
 * is refused, temporary files never follow or reuse an existing name, and
 * after every refusal a load with a good directory works on the same engine.
 *
 * Tests run as root here; the ownership checks compare with geteuid(), which
 * root does not bypass. Tests that need another owner chown to nobody and are
 * skipped (with a message) when not run as root.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adv.h"

#define NOBODY 65534

/* A fresh private directory holding the cache directory "<tmp>/compiled". */
typedef struct cache_env {
  char top[64];
  char dir[96];
  wp_engine *engine;
} cache_env;

static void env_open(cache_env *c) {
  snprintf(c->top, sizeof c->top, "/tmp/wp-adv-cache-XXXXXX");
  assert_non_null(mkdtemp(c->top));
  snprintf(c->dir, sizeof c->dir, "%s/compiled", c->top);
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, c->dir);
  wp_engine_config_set_pooling(cfg, 0);
  assert_ok(wp_engine_new(cfg, &c->engine));
  wp_engine_config_free(cfg);
}

/* Removes a directory tree of files, links, FIFOs and directories. */
static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    unlink(path);
    return;
  }
  DIR *d = opendir(path);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char child[512];
    snprintf(child, sizeof child, "%s/%s", path, e->d_name);
    remove_tree(child);
  }
  if (d) closedir(d);
  rmdir(path);
}

static void env_close(cache_env *c) {
  wp_engine_free(c->engine);
  remove_tree(c->top);
}

/* Loads numeric.wat through the engine's cache; returns the error, or NULL
   with *cached telling whether the code came from the cache. */
static wp_error *try_load(cache_env *c, bool *cached) {
  wp_plugin *p = NULL;
  wp_error *err = wp_plugin_load(c->engine, fixture("numeric.wat"), NULL, &p);
  if (err) return err;
  *cached = wp_plugin_was_cached(p);
  wp_plugin_free(p);
  return NULL;
}

/* A load that works and a call on it: what must hold after every refusal. */
static void assert_load_and_call(cache_env *c, bool want_cached) {
  wp_plugin *p;
  wp_instance *inst;
  wp_val args[2] = {WP_VAL_I32(40), WP_VAL_I32(2)}, r;
  assert_ok(wp_plugin_load(c->engine, fixture("numeric.wat"), NULL, &p));
  assert_int_equal(wp_plugin_was_cached(p), want_cached);
  assert_ok(wp_instance_new(p, &inst));
  assert_ok(wp_instance_call(inst, "add", args, 2, &r, 1));
  assert_int_equal(r.of.i32, 42);
  wp_instance_free(inst);
  wp_plugin_free(p);
}

/* The one entry in the cache directory (a first load writes it). */
static void entry_path(const cache_env *c, char *out, size_t cap) {
  DIR *d = opendir(c->dir);
  assert_non_null(d);
  out[0] = '\0';
  for (struct dirent *e; (e = readdir(d));)
    if (strstr(e->d_name, ".cwasm") && !strstr(e->d_name, ".tmp"))
      snprintf(out, cap, "%s/%s", c->dir, e->d_name);
  closedir(d);
  assert_true(out[0] != '\0');
}

/* Files in the directory but the index's (test_cache_index.c tests those). */
static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] != '.' && !strstr(e->d_name, ".index");
  if (d) closedir(d);
  return n;
}

static bool skip_unless_root(const char *what) {
  if (geteuid() == 0) return false;
  print_message("skipped (%s): chown to another user needs root\n", what);
  return true;
}

/* Asserts a refused load: kind IO, the path, the reason, the fix. */
static void assert_refused(cache_env *c, const char *path, const char *reason, const char *fix) {
  bool cached;
  wp_error *err = try_load(c, &cached);
  assert_non_null(err);
  const char *msg = wp_error_get_message(err);
  if (wp_error_get_kind(err) != WP_ERR_IO || !strstr(msg, path) || !strstr(msg, reason) ||
      !strstr(msg, fix) || !strstr(msg, "plugin 'numeric.wat'")) {
    print_error("unexpected refusal (%s): %s\n", wp_error_kind_name(wp_error_get_kind(err)), msg);
    wp_error_free(err);
    fail();
  }
  wp_error_free(err);
}

/* ---- the directory -------------------------------------------------------- */

WP_TEST(test_cache_creates_private_dir_and_entries) {
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  struct stat st;
  assert_int_equal(stat(c.dir, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0700);
  char entry[512];
  entry_path(&c, entry, sizeof entry);
  assert_int_equal(lstat(entry, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 0077, 0);
  assert_int_equal(count_entries(c.dir), 1); /* no temporary file left */
  assert_load_and_call(&c, true);
  env_close(&c);
}

WP_TEST(test_cache_dir_writable_by_others_refused) {
  static const struct {
    mode_t mode;
    const char *reason;
  } cases[] = {
      {0770, "is writable by its group (mode 0770)"},
      {0702, "is writable by others (mode 0702)"},
      {0777, "is writable by group and others (mode 0777)"},
      {01777, "is writable by group and others (mode 1777)"}, /* sticky, like /tmp: still refused */
  };
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false); /* an entry exists: refusal is not "nothing cached" */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(chmod(c.dir, cases[i].mode), 0);
    assert_refused(&c, c.dir, cases[i].reason, "chmod go-w");
    assert_refused(&c, c.dir, "wp_engine_config_set_cache_dir", "NULL turns the cache off");
  }
  assert_int_equal(chmod(c.dir, 0750), 0); /* group-readable is fine */
  assert_load_and_call(&c, true);
  env_close(&c);
}

WP_TEST(test_cache_dir_owned_by_another_user_refused) {
  if (skip_unless_root("directory owner")) return;
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  assert_int_equal(chown(c.dir, NOBODY, NOBODY), 0);
  assert_refused(&c, c.dir, "is owned by uid 65534, not by the user running the host (uid 0)",
                 "pick a directory that only this user can write");
  /* chmod would not help: the message must not suggest it. */
  bool cached;
  wp_error *err = try_load(&c, &cached);
  assert_non_null(err);
  assert_null(strstr(wp_error_get_message(err), "chmod"));
  wp_error_free(err);
  assert_int_equal(chown(c.dir, 0, 0), 0);
  assert_load_and_call(&c, true);
  env_close(&c);
}

/* A symbolic link as the directory is followed, and its target is what is
   checked: a link to a private directory works, one to an open one does not. */
WP_TEST(test_cache_dir_symlink_checks_target) {
  cache_env c;
  env_open(&c);
  char real[128];
  snprintf(real, sizeof real, "%s/real", c.top);
  assert_int_equal(mkdir(real, 0700), 0);
  assert_int_equal(symlink(real, c.dir), 0);
  assert_load_and_call(&c, false);
  assert_int_equal(count_entries(real), 1);
  assert_load_and_call(&c, true);
  assert_int_equal(chmod(real, 0777), 0);
  assert_refused(&c, c.dir, "is writable by group and others (mode 0777)", "chmod go-w");
  assert_int_equal(chmod(real, 0700), 0);
  assert_load_and_call(&c, true);
  env_close(&c);
}

/* ---- entries -------------------------------------------------------------- */

/* A planted symbolic link in place of the entry is never followed. */
WP_TEST(test_cache_entry_symlink_refused) {
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  char entry[512], elsewhere[160];
  entry_path(&c, entry, sizeof entry);
  snprintf(elsewhere, sizeof elsewhere, "%s/planted.cwasm", c.top);
  assert_int_equal(rename(entry, elsewhere), 0); /* valid code, reached through a link */
  assert_int_equal(symlink(elsewhere, entry), 0);
  assert_refused(&c, entry, "is a symbolic link", "rm '");
  assert_int_equal(unlink(entry), 0);
  assert_load_and_call(&c, false);
  assert_load_and_call(&c, true);
  env_close(&c);
}

WP_TEST(test_cache_entry_not_ours_refused) {
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  char entry[512];
  entry_path(&c, entry, sizeof entry);
  assert_int_equal(chmod(entry, 0666), 0);
  assert_refused(&c, entry, "is writable by group and others (mode 0666)", "rm '");
  assert_int_equal(chmod(entry, 0620), 0);
  assert_refused(&c, entry, "is writable by its group (mode 0620)", "rm '");
  assert_int_equal(chmod(entry, 0600), 0);
  if (!skip_unless_root("entry owner")) {
    assert_int_equal(chown(entry, NOBODY, NOBODY), 0);
    assert_refused(&c, entry, "is owned by uid 65534", "did not write it");
    assert_int_equal(chown(entry, 0, 0), 0);
  }
  assert_load_and_call(&c, true);
  env_close(&c);
}

/* A FIFO in place of the entry must neither hang the load nor be read. */
WP_TEST(test_cache_entry_fifo_refused) {
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  char entry[512];
  entry_path(&c, entry, sizeof entry);
  assert_int_equal(unlink(entry), 0);
  assert_int_equal(mkfifo(entry, 0600), 0);
  double t0 = adv_now_ms();
  assert_refused(&c, entry, "is not a regular file", "rm '");
  assert_true(adv_now_ms() - t0 < 2000); /* opening it for reading would block for ever */
  assert_int_equal(unlink(entry), 0);
  assert_load_and_call(&c, false);
  env_close(&c);
}

/* ---- temporary files ----------------------------------------------------- */

/* Names <entry>.<pid>.<n>.tmp already taken, the first by a symbolic link to
   a file outside: writing the entry must skip them, never write through the
   link, and still produce a good entry. */
WP_TEST(test_cache_temp_name_taken) {
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  char entry[512], victim[160], tmp[600];
  entry_path(&c, entry, sizeof entry);
  assert_int_equal(unlink(entry), 0);
  snprintf(victim, sizeof victim, "%s/victim", c.top);
  FILE *f = fopen(victim, "w");
  assert_non_null(f);
  fputs("precious", f);
  fclose(f);
  snprintf(tmp, sizeof tmp, "%s.%ld.0.tmp", entry, (long)getpid());
  assert_int_equal(symlink(victim, tmp), 0);
  snprintf(tmp, sizeof tmp, "%s.%ld.1.tmp", entry, (long)getpid());
  assert_int_equal(mkfifo(tmp, 0600), 0);

  assert_load_and_call(&c, false);
  struct stat st;
  assert_int_equal(lstat(victim, &st), 0);
  assert_int_equal(st.st_size, 8); /* untouched */
  assert_int_equal(lstat(entry, &st), 0);
  assert_true(S_ISREG(st.st_mode) && st.st_size > 0);
  assert_int_equal(count_entries(c.dir), 3); /* the entry and the two squatters */
  assert_load_and_call(&c, true);
  env_close(&c);
}

/* Every temporary name taken: the entry is not written, the load still works. */
WP_TEST(test_cache_all_temp_names_taken) {
  cache_env c;
  env_open(&c);
  assert_load_and_call(&c, false);
  char entry[512], tmp[600];
  entry_path(&c, entry, sizeof entry);
  assert_int_equal(unlink(entry), 0);
  for (int n = 0; n < 16; n++) {
    snprintf(tmp, sizeof tmp, "%s.%ld.%d.tmp", entry, (long)getpid(), n);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
  }
  assert_load_and_call(&c, false);
  assert_int_equal(count_entries(c.dir), 16);
  assert_load_and_call(&c, false); /* still nothing cached, still working */
  env_close(&c);
}

int main(void) {
  wp_test_save_wasm_signals();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cache_creates_private_dir_and_entries),
      cmocka_unit_test(test_cache_dir_writable_by_others_refused),
      cmocka_unit_test(test_cache_dir_owned_by_another_user_refused),
      cmocka_unit_test(test_cache_dir_symlink_checks_target),
      cmocka_unit_test(test_cache_entry_symlink_refused),
      cmocka_unit_test(test_cache_entry_not_ours_refused),
      cmocka_unit_test(test_cache_entry_fifo_refused),
      cmocka_unit_test(test_cache_temp_name_taken),
      cmocka_unit_test(test_cache_all_temp_names_taken),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
