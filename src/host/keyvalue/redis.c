/*
 * redis.c - the redis backend (hiredis): a bucket is one Redis hash, so
 * that HLEN counts it, HSCAN pages through it and HINCRBY increments in it.
 * Checks that must be atomic with the write (max_keys, cas) run as Lua
 * scripts on the server.
 *
 * One connection per URL and engine, used under a lock, made on first use.
 * A call that fails on the connection drops it and reports the error; the
 * next call connects again. Before reusing an idle connection it is polled:
 * a server that restarted closed it, and the call goes to a new one instead
 * of failing (no command is ever sent twice).
 *
 * Every wait (connect, each command) lasts at most OWN_TIMEOUT_MS, or until
 * the plugin's call deadline (kv_ns.budget_ms) if that comes first: then the
 * operation fails with WP_ERR_TIMEOUT. A command that timed out leaves the
 * reply unread on the connection, so the connection is dropped (hiredis
 * marks the context failed anyway) and the next call makes a new one.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "host/keyvalue/kv.h"

typedef struct rds {
  pthread_mutex_t lock;
  redisContext *ctx;
  long ctx_timeout_ms; /* the socket timeout set on ctx (0: none yet) */
  char *url; /* for messages, without the password */
  char *host, *unix_path, *user, *password;
  int port;
  long db;
} rds;

/* The longest one wait (connect, a command) lasts, whatever the call's deadline. */
#define OWN_TIMEOUT_MS 2000

/* One operation's time: when the plugin's call ends (monotonic ms;
   UINT64_MAX: no deadline) and what it had when the operation started. */
typedef struct op {
  uint64_t deadline_ms, budget_ms;
} op;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Made before the connection's lock is taken: waiting for it counts too. */
static op op_start(const kv_ns *ns) {
  uint64_t now = now_ms();
  return (op){ns->budget_ms >= UINT64_MAX - now ? UINT64_MAX : now + ns->budget_ms, ns->budget_ms};
}

/* How long the next wait may last (ms, 0: the deadline has passed), and
   whether the call's deadline is what limits it. */
static long wait_ms(const op *o, bool *call_bound) {
  uint64_t now = now_ms();
  uint64_t left = o->deadline_ms == UINT64_MAX ? UINT64_MAX
                  : o->deadline_ms > now       ? o->deadline_ms - now
                                               : 0;
  *call_bound = left < OWN_TIMEOUT_MS;
  return *call_bound ? (long)left : OWN_TIMEOUT_MS;
}

static struct timeval tv_of(long ms) { return (struct timeval){ms / 1000, (ms % 1000) * 1000}; }

static wp_error *deadline_error(const rds *r, const op *o) {
  return wp_error_new(WP_ERR_TIMEOUT, "redis at %s: " KV_DEADLINE, r->url,
                      (unsigned long long)o->budget_ms);
}

/* Whether a failed context failed by running out of time (errno as it was
   right after the call). */
static bool timed_out(const redisContext *c, int e) {
  return c->err == REDIS_ERR_IO && (e == EAGAIN || e == EWOULDBLOCK || e == ETIMEDOUT);
}

static void rds_close(void *state) {
  rds *r = state;
  if (r->ctx) redisFree(r->ctx);
  pthread_mutex_destroy(&r->lock);
  free(r->url);
  free(r->host);
  free(r->unix_path);
  free(r->user);
  free(r->password);
  free(r);
}

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

static bool parse_db(const char *s, long *db) {
  if (!*s) return true;
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || v < 0 || v > 1000000 || end == s) return false;
  *db = v;
  return true;
}

/* redis://[[user]:password@]host[:port][/db]  or  unix:/path[?db=N] */
static bool parse_url(rds *r, const char *url) {
  r->port = 6379;
  if (strncmp(url, "unix:", 5) == 0) {
    const char *path = url + 5, *q = strchr(path, '?');
    if (path[0] != '/') return false;
    if (q && (strncmp(q, "?db=", 4) != 0 || !parse_db(q + 4, &r->db))) return false;
    r->unix_path = dup_n(path, q ? (size_t)(q - path) : strlen(path));
    return r->unix_path != NULL;
  }
  if (strncmp(url, "redis://", 8) != 0) return false;
  const char *p = url + 8, *at = strrchr(p, '@');
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon) return false;
    r->user = colon > p ? dup_n(p, (size_t)(colon - p)) : NULL;
    r->password = dup_n(colon + 1, (size_t)(at - colon - 1));
    if (!r->password) return false;
    p = at + 1;
  }
  const char *slash = strchr(p, '/');
  size_t hostport = slash ? (size_t)(slash - p) : strlen(p);
  if (slash && !parse_db(slash + 1, &r->db)) return false;
  const char *colon = memchr(p, ':', hostport);
  size_t hostlen = colon ? (size_t)(colon - p) : hostport;
  if (!hostlen) return false;
  if (colon) {
    char port[8];
    size_t n = hostport - hostlen - 1;
    if (!n || n >= sizeof port) return false;
    memcpy(port, colon + 1, n);
    port[n] = '\0';
    long v;
    if (!parse_db(port, &v) || v < 1 || v > 65535) return false;
    r->port = (int)v;
  }
  r->host = dup_n(p, hostlen);
  return r->host != NULL;
}

static wp_error *rds_open(const char *url, void **state) {
  rds *r = calloc(1, sizeof *r);
  if (!r) return KV_OOM();
  pthread_mutex_init(&r->lock, NULL);
  if (!parse_url(r, url)) {
    rds_close(r);
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "url: '%.128s' is not a Redis URL (redis://[:password@]host[:port][/db] "
                        "or unix:/path/redis.sock[?db=N])",
                        strchr(url, '@') ? "(hidden: it holds a password)" : url);
  }
  char buf[512];
  if (r->unix_path) snprintf(buf, sizeof buf, "unix:%s", r->unix_path);
  else snprintf(buf, sizeof buf, "redis://%s:%d/%ld", r->host, r->port, r->db);
  if (!(r->url = strdup(buf))) {
    rds_close(r);
    return KV_OOM();
  }
  *state = r;
  return NULL;
}

static void drop_conn(rds *r) {
  if (r->ctx) redisFree(r->ctx);
  r->ctx = NULL;
}

/* A reply, or NULL with *err set (the connection dropped when it failed). */
static redisReply *command(rds *r, const op *o, wp_error **err, int argc, const char **argv,
                           const size_t *lens) {
  bool call_bound;
  long ms = wait_ms(o, &call_bound);
  if (ms <= 0) {
    *err = deadline_error(r, o);
    return NULL;
  }
  if (ms != r->ctx_timeout_ms && redisSetTimeout(r->ctx, tv_of(ms)) == REDIS_OK)
    r->ctx_timeout_ms = ms;
  errno = 0;
  redisReply *rep = redisCommandArgv(r->ctx, argc, argv, lens);
  int e = errno;
  if (!rep) {
    if (timed_out(r->ctx, e) && call_bound) *err = deadline_error(r, o);
    else if (timed_out(r->ctx, e))
      *err = wp_error_new(WP_ERR_HOST,
                          "redis at %s did not answer within %d ms; the next call reconnects",
                          r->url, OWN_TIMEOUT_MS);
    else
      *err = wp_error_new(WP_ERR_HOST, "redis at %s: %s", r->url,
                          r->ctx->errstr[0] ? r->ctx->errstr : "the connection failed");
    drop_conn(r);
    return NULL;
  }
  if (rep->type == REDIS_REPLY_ERROR) {
    *err = wp_error_new(WP_ERR_HOST, "redis at %s: %.*s", r->url, (int)rep->len, rep->str);
    freeReplyObject(rep);
    return NULL;
  }
  return rep;
}

/* Whether an idle connection was closed by the server (readable at rest). */
static bool closed_by_peer(redisContext *c) {
  struct pollfd p = {.fd = c->fd, .events = POLLIN};
  return poll(&p, 1, 0) != 0;
}

static wp_error *connect_once(rds *r, const op *o) {
  if (r->ctx && !closed_by_peer(r->ctx)) return NULL;
  drop_conn(r);
  bool call_bound;
  long ms = wait_ms(o, &call_bound);
  if (ms <= 0) return deadline_error(r, o);
  errno = 0;
  redisContext *c = r->unix_path ? redisConnectUnixWithTimeout(r->unix_path, tv_of(ms))
                                 : redisConnectWithTimeout(r->host, r->port, tv_of(ms));
  int e = errno;
  if (!c) return KV_OOM();
  if (c->err) {
    wp_error *err = timed_out(c, e) && call_bound
                        ? deadline_error(r, o)
                        : wp_error_new(WP_ERR_HOST, "redis at %s is unreachable: %s", r->url,
                                       c->errstr);
    redisFree(c);
    return err;
  }
  r->ctx = c;
  r->ctx_timeout_ms = 0;
  wp_error *err = NULL;
  char db[24];
  snprintf(db, sizeof db, "%ld", r->db);
  if (r->password) {
    const char *argv[] = {"AUTH", r->user, r->password};
    size_t lens[] = {4, r->user ? strlen(r->user) : 0, strlen(r->password)};
    if (!r->user) argv[1] = r->password, lens[1] = lens[2];
    redisReply *rep = command(r, o, &err, r->user ? 3 : 2, argv, lens);
    if (rep) freeReplyObject(rep);
  }
  if (!err && r->db) {
    const char *argv[] = {"SELECT", db};
    size_t lens[] = {6, strlen(db)};
    redisReply *rep = command(r, o, &err, 2, argv, lens);
    if (rep) freeReplyObject(rep);
  }
  if (err) drop_conn(r);
  return err;
}

/* Runs one command on the bucket's hash (argv[1]) within the operation's time. */
static redisReply *call(rds *r, const op *o, wp_error **err, int argc, const char **argv,
                        const size_t *lens) {
  *err = connect_once(r, o);
  return *err ? NULL : command(r, o, err, argc, argv, lens);
}

static wp_error *full_or(wp_error *err, const kv_ns *ns) {
  if (!err || !strstr(wp_error_get_message(err), "KV_FULL")) return err;
  wp_error_free(err);
  return wp_error_new(WP_ERR_HOST,
                      "the bucket holds its max_keys (%llu) keys; delete some or raise max_keys",
                      (unsigned long long)ns->max_keys);
}

static wp_error *rds_get(void *state, const kv_ns *ns, const char *key, size_t klen, bool *found,
                         kv_bytes *value) {
  rds *r = state;
  wp_error *err = NULL;
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  const char *argv[] = {"HGET", ns->name, key};
  size_t lens[] = {4, ns->len, klen};
  redisReply *rep = call(r, &o, &err, 3, argv, lens);
  if (rep) {
    *found = rep->type == REDIS_REPLY_STRING;
    if (*found) {
      value->len = rep->len;
      value->data = malloc(rep->len ? rep->len : 1);
      if (!value->data) err = KV_OOM();
      else if (rep->len) memcpy(value->data, rep->str, rep->len);
    }
    freeReplyObject(rep);
  }
  pthread_mutex_unlock(&r->lock);
  return err;
}

static const char SET_LIMITED[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and "
    "redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return redis.error_reply('KV_FULL') end "
    "return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])";

static wp_error *rds_set(void *state, const kv_ns *ns, const char *key, size_t klen,
                         const uint8_t *v, size_t vlen) {
  rds *r = state;
  wp_error *err = NULL;
  char max[24];
  int maxlen = snprintf(max, sizeof max, "%" PRIu64, ns->max_keys);
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  redisReply *rep;
  if (ns->max_keys) {
    const char *argv[] = {"EVAL", SET_LIMITED, "1", ns->name, key, v ? (const char *)v : "", max};
    size_t lens[] = {4, sizeof SET_LIMITED - 1, 1, ns->len, klen, vlen, (size_t)maxlen};
    rep = call(r, &o, &err, 7, argv, lens);
  } else {
    const char *argv[] = {"HSET", ns->name, key, v ? (const char *)v : ""};
    size_t lens[] = {4, ns->len, klen, vlen};
    rep = call(r, &o, &err, 4, argv, lens);
  }
  if (rep) freeReplyObject(rep);
  pthread_mutex_unlock(&r->lock);
  return full_or(err, ns);
}

static wp_error *rds_del(void *state, const kv_ns *ns, const char *key, size_t klen) {
  rds *r = state;
  wp_error *err = NULL;
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  const char *argv[] = {"HDEL", ns->name, key};
  size_t lens[] = {4, ns->len, klen};
  redisReply *rep = call(r, &o, &err, 3, argv, lens);
  if (rep) freeReplyObject(rep);
  pthread_mutex_unlock(&r->lock);
  return err;
}

static wp_error *rds_exists(void *state, const kv_ns *ns, const char *key, size_t klen,
                            bool *found) {
  rds *r = state;
  wp_error *err = NULL;
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  const char *argv[] = {"HEXISTS", ns->name, key};
  size_t lens[] = {7, ns->len, klen};
  redisReply *rep = call(r, &o, &err, 3, argv, lens);
  if (rep) {
    *found = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    freeReplyObject(rep);
  }
  pthread_mutex_unlock(&r->lock);
  return err;
}

static wp_error *rds_keys(void *state, const kv_ns *ns, uint64_t cursor, kv_keys *out) {
  rds *r = state;
  wp_error *err = NULL;
  char cur[24], count[24];
  int curlen = snprintf(cur, sizeof cur, "%" PRIu64, cursor);
  int countlen = snprintf(count, sizeof count, "%d", WP_KV_PAGE);
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  const char *argv[] = {"HSCAN", ns->name, cur, "COUNT", count};
  size_t lens[] = {5, ns->len, (size_t)curlen, 5, (size_t)countlen};
  redisReply *rep = call(r, &o, &err, 5, argv, lens);
  if (rep) {
    const redisReply *items = rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                                      rep->element[0]->type == REDIS_REPLY_STRING &&
                                      rep->element[1]->type == REDIS_REPLY_ARRAY
                                  ? rep->element[1]
                                  : NULL;
    if (!items || !kv_parse_cursor(rep->element[0]->str, rep->element[0]->len, &out->next))
      err = wp_error_new(WP_ERR_HOST, "redis at %s: HSCAN answered something else than a page",
                         r->url);
    for (size_t i = 0; !err && i + 1 < items->elements; i += 2)
      if (items->element[i]->type != REDIS_REPLY_STRING ||
          !kv_keys_add(out, items->element[i]->str, items->element[i]->len))
        err = KV_OOM();
    freeReplyObject(rep);
  }
  pthread_mutex_unlock(&r->lock);
  return err;
}

static const char INCR_LIMITED[] =
    "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and "
    "redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return redis.error_reply('KV_FULL') end "
    "return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])";

static wp_error *rds_increment(void *state, const kv_ns *ns, const char *key, size_t klen,
                               int64_t delta, int64_t *out) {
  rds *r = state;
  wp_error *err = NULL;
  char d[24], max[24];
  int dlen = snprintf(d, sizeof d, "%" PRId64, delta);
  int maxlen = snprintf(max, sizeof max, "%" PRIu64, ns->max_keys);
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  redisReply *rep;
  if (ns->max_keys) {
    const char *argv[] = {"EVAL", INCR_LIMITED, "1", ns->name, key, d, max};
    size_t lens[] = {4, sizeof INCR_LIMITED - 1, 1, ns->len, klen, (size_t)dlen, (size_t)maxlen};
    rep = call(r, &o, &err, 7, argv, lens);
  } else {
    const char *argv[] = {"HINCRBY", ns->name, key, d};
    size_t lens[] = {7, ns->len, klen, (size_t)dlen};
    rep = call(r, &o, &err, 4, argv, lens);
  }
  if (rep) {
    if (rep->type == REDIS_REPLY_INTEGER) *out = rep->integer;
    else err = wp_error_new(WP_ERR_HOST, "redis at %s: HINCRBY answered no integer", r->url);
    freeReplyObject(rep);
  }
  pthread_mutex_unlock(&r->lock);
  return full_or(err, ns);
}

static const char CAS[] =
    "local v = redis.call('HGET', KEYS[1], ARGV[1]) "
    "if ARGV[2] == '1' then if v ~= ARGV[3] then return 0 end elseif v then return 0 end "
    "if not v and tonumber(ARGV[5]) > 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) "
    "then return redis.error_reply('KV_FULL') end "
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[4]) return 1";

static wp_error *rds_cas(void *state, const kv_ns *ns, const char *key, size_t klen,
                         const kv_bytes *expected, const uint8_t *v, size_t vlen, bool *swapped) {
  rds *r = state;
  wp_error *err = NULL;
  char max[24];
  int maxlen = snprintf(max, sizeof max, "%" PRIu64, ns->max_keys);
  *swapped = false;
  op o = op_start(ns);
  pthread_mutex_lock(&r->lock);
  const char *argv[] = {"EVAL",
                        CAS,
                        "1",
                        ns->name,
                        key,
                        expected ? "1" : "0",
                        expected && expected->data ? (const char *)expected->data : "",
                        v ? (const char *)v : "",
                        max};
  size_t lens[] = {4,    sizeof CAS - 1, 1, ns->len, klen, 1, expected ? expected->len : 0,
                   vlen, (size_t)maxlen};
  redisReply *rep = call(r, &o, &err, 9, argv, lens);
  if (rep) {
    *swapped = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    freeReplyObject(rep);
  }
  pthread_mutex_unlock(&r->lock);
  return full_or(err, ns);
}

const kv_methods kv_redis_methods = {
    .name = "redis",
    .open = rds_open,
    .close = rds_close,
    .get = rds_get,
    .set = rds_set,
    .del = rds_del,
    .exists = rds_exists,
    .keys = rds_keys,
    .increment = rds_increment,
    .cas = rds_cas,
};
