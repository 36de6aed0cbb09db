/*
 * sqlite.c - the sqlite backend: table wasmplug_kv (bucket, key, value) of a
 * database file, one connection per file and engine, used under a lock
 * (statements prepared once). WAL lets readers of other processes go on
 * while one writes; writes that read first (increment, cas, a set that
 * must count) run in BEGIN IMMEDIATE transactions, so they are atomic
 * across processes too. A page of keys is ORDER BY key with an offset.
 *
 * A database locked by another process is waited for up to BUSY_TIMEOUT_MS,
 * or until the plugin's call deadline (kv_ns.budget_ms) if that comes
 * first, which fails the operation with WP_ERR_TIMEOUT.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/keyvalue/kv.h"

enum { S_GET, S_UPDATE, S_INSERT, S_DELETE, S_COUNT, S_KEYS, S_BEGIN, S_COMMIT, S_ROLLBACK, S_N };

static const char *const sql[S_N] = {
    "SELECT value FROM wasmplug_kv WHERE bucket = ?1 AND key = ?2",
    "UPDATE wasmplug_kv SET value = ?3 WHERE bucket = ?1 AND key = ?2",
    "INSERT OR REPLACE INTO wasmplug_kv (bucket, key, value) VALUES (?1, ?2, ?3)",
    "DELETE FROM wasmplug_kv WHERE bucket = ?1 AND key = ?2",
    "SELECT count(*) FROM wasmplug_kv WHERE bucket = ?1",
    "SELECT key FROM wasmplug_kv WHERE bucket = ?1 ORDER BY key LIMIT ?2 OFFSET ?3",
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
};

#define BUSY_TIMEOUT_MS 5000

typedef struct lite {
  pthread_mutex_t lock;
  sqlite3 *db;
  sqlite3_stmt *st[S_N];
  char *path;
  /* Under the lock: the busy timeout set on db, and the operation's budget. */
  int busy_ms;
  uint64_t budget_ms;
} lite;

/* Waits for a locked database no longer than the operation may; lock held. */
static void set_budget(lite *l, const kv_ns *ns) {
  l->budget_ms = ns->budget_ms;
  int ms = ns->budget_ms < BUSY_TIMEOUT_MS ? (int)ns->budget_ms : BUSY_TIMEOUT_MS;
  if (ms != l->busy_ms) sqlite3_busy_timeout(l->db, ms);
  l->busy_ms = ms;
}

static wp_error *db_error(lite *l, const char *what) {
  if (sqlite3_errcode(l->db) == SQLITE_BUSY && l->budget_ms < BUSY_TIMEOUT_MS)
    return wp_error_new(WP_ERR_TIMEOUT, "sqlite %s (%s): the database is locked, and " KV_DEADLINE,
                        what, l->path, (unsigned long long)l->budget_ms);
  return wp_error_new(WP_ERR_HOST, "sqlite %s (%s): %s", what, l->path, sqlite3_errmsg(l->db));
}

static void lite_close(void *state) {
  lite *l = state;
  for (int i = 0; i < S_N; i++) sqlite3_finalize(l->st[i]);
  sqlite3_close(l->db);
  pthread_mutex_destroy(&l->lock);
  free(l->path);
  free(l);
}

static wp_error *lite_open(const char *path, void **state) {
  lite *l = calloc(1, sizeof *l);
  if (!l || !(l->path = strdup(path))) {
    free(l);
    return KV_OOM();
  }
  pthread_mutex_init(&l->lock, NULL);
  /* Create the file private, and never through a symlink. */
  int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    wp_error *err = wp_error_new(WP_ERR_IO, "cannot open the sqlite file '%s': %s", path,
                                 strerror(errno));
    lite_close(l);
    return err;
  }
  close(fd);
  int rc = sqlite3_open_v2(
      path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
  wp_error *err = NULL;
  if (rc != SQLITE_OK) {
    err = wp_error_new(WP_ERR_IO, "cannot open the sqlite file '%s': %s", path,
                       l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
  } else {
    sqlite3_busy_timeout(l->db, BUSY_TIMEOUT_MS);
    l->busy_ms = BUSY_TIMEOUT_MS;
    l->budget_ms = UINT64_MAX;
    if (sqlite3_exec(l->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS wasmplug_kv (bucket TEXT NOT NULL, key TEXT NOT "
                     "NULL, value BLOB NOT NULL, PRIMARY KEY (bucket, key)) WITHOUT ROWID;",
                     NULL, NULL, NULL) != SQLITE_OK)
      err = wp_error_new(WP_ERR_IO, "cannot set up the sqlite file '%s': %s", path,
                         sqlite3_errmsg(l->db));
  }
  for (int i = 0; !err && i < S_N; i++)
    if (sqlite3_prepare_v3(l->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &l->st[i], NULL) !=
        SQLITE_OK)
      err = wp_error_new(WP_ERR_IO, "sqlite file '%s': %s", path, sqlite3_errmsg(l->db));
  if (err) {
    lite_close(l);
    return err;
  }
  *state = l;
  return NULL;
}

/* The statement, reset and bound to (bucket, key). */
static sqlite3_stmt *stmt(lite *l, int which, const kv_ns *ns, const char *key, size_t klen) {
  sqlite3_stmt *s = l->st[which];
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  sqlite3_bind_text(s, 1, ns->name, (int)ns->len, SQLITE_STATIC);
  if (key) sqlite3_bind_text(s, 2, key, (int)klen, SQLITE_STATIC);
  return s;
}

static bool run(lite *l, int which) {
  sqlite3_reset(l->st[which]);
  return sqlite3_step(l->st[which]) == SQLITE_DONE;
}

/* The value at key into *value (found or not); lock held. */
static wp_error *read_value(lite *l, const kv_ns *ns, const char *key, size_t klen, bool *found,
                            kv_bytes *value) {
  sqlite3_stmt *s = stmt(l, S_GET, ns, key, klen);
  int rc = sqlite3_step(s);
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_DONE) return NULL;
  if (rc != SQLITE_ROW) return db_error(l, "get");
  size_t n = (size_t)sqlite3_column_bytes(s, 0);
  const void *d = sqlite3_column_blob(s, 0);
  value->data = malloc(n ? n : 1);
  value->len = n;
  if (!value->data) return KV_OOM();
  if (n) memcpy(value->data, d, n);
  sqlite3_reset(s);
  return NULL;
}

/* Inserts or replaces key, counting the bucket first when it is new and
   limited; inside a transaction, lock held. */
static wp_error *write_value(lite *l, const kv_ns *ns, const char *key, size_t klen, bool exists,
                             const uint8_t *v, size_t vlen) {
  if (!exists && ns->max_keys) {
    sqlite3_stmt *c = stmt(l, S_COUNT, ns, NULL, 0);
    if (sqlite3_step(c) != SQLITE_ROW) return db_error(l, "count");
    sqlite3_int64 n = sqlite3_column_int64(c, 0);
    sqlite3_reset(c);
    if ((uint64_t)n >= ns->max_keys)
      return wp_error_new(WP_ERR_HOST,
                          "the bucket holds its max_keys (%llu) keys; delete some or raise "
                          "max_keys",
                          (unsigned long long)ns->max_keys);
  }
  sqlite3_stmt *s = stmt(l, S_INSERT, ns, key, klen);
  sqlite3_bind_blob(s, 3, vlen ? (const void *)v : "", (int)vlen, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? NULL : db_error(l, "set");
}

/* Runs body in BEGIN IMMEDIATE .. COMMIT (ROLLBACK when it fails). */
#define IN_TRANSACTION(l, err, body)                                       \
  do {                                                                     \
    if (!run(l, S_BEGIN)) {                                                \
      err = db_error(l, "begin");                                          \
      break;                                                               \
    }                                                                      \
    body;                                                                  \
    if (!err && !run(l, S_COMMIT)) err = db_error(l, "commit");            \
    if (err && !sqlite3_get_autocommit((l)->db)) (void)run(l, S_ROLLBACK); \
  } while (0)

static wp_error *lite_get(void *state, const kv_ns *ns, const char *key, size_t klen, bool *found,
                          kv_bytes *value) {
  lite *l = state;
  pthread_mutex_lock(&l->lock);
  set_budget(l, ns);
  wp_error *err = read_value(l, ns, key, klen, found, value);
  pthread_mutex_unlock(&l->lock);
  return err;
}

static wp_error *lite_set(void *state, const kv_ns *ns, const char *key, size_t klen,
                          const uint8_t *v, size_t vlen) {
  lite *l = state;
  wp_error *err = NULL;
  pthread_mutex_lock(&l->lock);
  set_budget(l, ns);
  /* Replacing needs no count: try that first, outside a transaction. */
  sqlite3_stmt *s = stmt(l, S_UPDATE, ns, key, klen);
  sqlite3_bind_blob(s, 3, vlen ? (const void *)v : "", (int)vlen, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) err = db_error(l, "set");
  else if (sqlite3_changes(l->db) == 0)
    IN_TRANSACTION(l, err, {
      bool found = false;
      kv_bytes old = {0};
      err = read_value(l, ns, key, klen, &found, &old);
      free(old.data);
      if (!err) err = write_value(l, ns, key, klen, found, v, vlen);
    });
  pthread_mutex_unlock(&l->lock);
  return err;
}

static wp_error *lite_del(void *state, const kv_ns *ns, const char *key, size_t klen) {
  lite *l = state;
  pthread_mutex_lock(&l->lock);
  set_budget(l, ns);
  sqlite3_stmt *s = stmt(l, S_DELETE, ns, key, klen);
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  wp_error *err = rc == SQLITE_DONE ? NULL : db_error(l, "delete");
  pthread_mutex_unlock(&l->lock);
  return err;
}

static wp_error *lite_exists(void *state, const kv_ns *ns, const char *key, size_t klen,
                             bool *found) {
  kv_bytes v = {0};
  wp_error *err = lite_get(state, ns, key, klen, found, &v);
  free(v.data);
  return err;
}

static wp_error *lite_keys(void *state, const kv_ns *ns, uint64_t cursor, kv_keys *out) {
  lite *l = state;
  wp_error *err = NULL;
  if (cursor > (uint64_t)INT64_MAX) return NULL; /* past the end */
  pthread_mutex_lock(&l->lock);
  set_budget(l, ns);
  sqlite3_stmt *s = stmt(l, S_KEYS, ns, NULL, 0);
  sqlite3_bind_int64(s, 2, WP_KV_PAGE + 1); /* one more: is there a next page? */
  sqlite3_bind_int64(s, 3, (sqlite3_int64)cursor);
  int rc;
  bool more = false;
  while (!err && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (out->n == WP_KV_PAGE) {
      more = true;
      break;
    }
    const char *k = (const char *)sqlite3_column_text(s, 0);
    if (!k || !kv_keys_add(out, k, (size_t)sqlite3_column_bytes(s, 0))) err = KV_OOM();
  }
  if (!err && !more && rc != SQLITE_DONE) err = db_error(l, "list keys");
  sqlite3_reset(s);
  out->next = more ? cursor + out->n : 0;
  pthread_mutex_unlock(&l->lock);
  return err;
}

static wp_error *lite_increment(void *state, const kv_ns *ns, const char *key, size_t klen,
                                int64_t delta, int64_t *out) {
  lite *l = state;
  wp_error *err = NULL;
  pthread_mutex_lock(&l->lock);
  set_budget(l, ns);
  IN_TRANSACTION(l, err, {
    bool found = false;
    kv_bytes old = {0};
    int64_t v = 0;
    err = read_value(l, ns, key, klen, &found, &old);
    if (!err && found && !kv_parse_i64(old.data, old.len, &v))
      err = wp_error_new(WP_ERR_HOST, "the value of '%.*s' is not a decimal integer", (int)klen,
                         key);
    else if (!err && !kv_add_i64(&v, delta))
      err = wp_error_new(WP_ERR_HOST, "incrementing '%.*s' by %lld would overflow a 64-bit integer",
                         (int)klen, key, (long long)delta);
    free(old.data);
    if (!err) {
      char text[24];
      int n = snprintf(text, sizeof text, "%lld", (long long)v);
      err = write_value(l, ns, key, klen, found, (const uint8_t *)text, (size_t)n);
    }
    if (!err) *out = v;
  });
  pthread_mutex_unlock(&l->lock);
  return err;
}

static wp_error *lite_cas(void *state, const kv_ns *ns, const char *key, size_t klen,
                          const kv_bytes *expected, const uint8_t *v, size_t vlen, bool *swapped) {
  lite *l = state;
  wp_error *err = NULL;
  *swapped = false;
  pthread_mutex_lock(&l->lock);
  set_budget(l, ns);
  IN_TRANSACTION(l, err, {
    bool found = false;
    kv_bytes old = {0};
    err = read_value(l, ns, key, klen, &found, &old);
    bool match = expected ? found && old.len == expected->len &&
                                (!old.len || memcmp(old.data, expected->data, old.len) == 0)
                          : !found;
    free(old.data);
    if (!err && match) err = write_value(l, ns, key, klen, found, v, vlen);
    *swapped = !err && match;
  });
  pthread_mutex_unlock(&l->lock);
  return err;
}

const kv_methods kv_sqlite_methods = {
    .name = "sqlite",
    .open = lite_open,
    .close = lite_close,
    .get = lite_get,
    .set = lite_set,
    .del = lite_del,
    .exists = lite_exists,
    .keys = lite_keys,
    .increment = lite_increment,
    .cas = lite_cas,
};
