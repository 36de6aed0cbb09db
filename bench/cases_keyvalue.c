/*
 * cases_keyvalue.c - the keyvalue capability (src/host/keyvalue/): get and
 * set of a 100-byte value from a component (tests/keyvalue's guest, through
 * wasi:keyvalue@0.2.0-draft2) on each backend, beside the same operation
 * done directly from C on that backend in the same run: the same SQL on the
 * same table with sqlite3, the same HSET/HGET with hiredis on a
 * redis-server started here. The difference is the cost of crossing into
 * the plugin and back. The memory backend has no public C entry point: its
 * baseline is the same operation from the core guest (bytes ABI).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cases.h"
#include "harness.h"

#define KV_COMPONENT WP_BENCH_PLUGINS "/kv-component.wasm"
#define KV_CORE WP_BENCH_PLUGINS "/kv-core.wasm"

static char g_value[101];

typedef struct kv_ctx {
  wp_instance *inst;
  const char *cmd;
  sqlite3_stmt *stmt;
  redisContext *redis;
  bool set;
} kv_ctx;

static wp_error *run_guest(void *ctx, size_t n) {
  kv_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    const char *out = NULL;
    wp_error *err = wp_instance_call_string(c->inst, "kv", c->cmd, &out);
    if (err) return err;
    if (strncmp(out, "ok", 2) != 0) return wp_error_new(WP_ERR_HOST, "bench: kv answered %s", out);
  }
  return NULL;
}

static wp_error *run_sqlite(void *ctx, size_t n) {
  kv_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    sqlite3_reset(c->stmt);
    int rc = sqlite3_step(c->stmt);
    if (rc != (c->set ? SQLITE_DONE : SQLITE_ROW))
      return wp_error_new(WP_ERR_HOST, "bench: sqlite step gave %d", rc);
  }
  return NULL;
}

static wp_error *run_redis(void *ctx, size_t n) {
  kv_ctx *c = ctx;
  for (size_t i = 0; i < n; i++) {
    const char *argv[] = {c->set ? "HSET" : "HGET", "wasmplug:kv:b", "k", g_value};
    size_t lens[] = {4, 13, 1, 100};
    redisReply *r = redisCommandArgv(c->redis, c->set ? 4 : 3, argv, lens);
    if (!r || r->type == REDIS_REPLY_ERROR) {
      if (r) freeReplyObject(r);
      return wp_error_new(WP_ERR_HOST, "bench: redis failed");
    }
    freeReplyObject(r);
  }
  return NULL;
}

/* ---- redis-server ------------------------------------------------------------ */

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(s, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

static pid_t start_redis(const char *dir, int port) {
  if (access("/usr/bin/redis-server", X_OK) != 0 || !port) return 0;
  char p[16];
  snprintf(p, sizeof p, "%d", port);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl("/usr/bin/redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
          "--appendonly", "no", "--dir", dir, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; pid > 0 && i < 500; i++) {
    redisContext *c = redisConnect("127.0.0.1", port);
    bool up = c && !c->err;
    if (c) redisFree(c);
    if (up) return pid;
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  if (pid > 0) kill(pid, SIGTERM), waitpid(pid, NULL, 0);
  return 0;
}

/* ---- one backend -------------------------------------------------------------- */

static wp_error *load(wp_engine *e, const char *path, const char *bucket_json, wp_instance **inst,
                      wp_plugin **p) {
  char json[1024];
  snprintf(json, sizeof json,
           "{\"name\": \"kv-bench\", \"capabilities\": {\"keyvalue\": {\"buckets\": {\"b\": "
           "{%s, \"max_keys\": 0}}}}}",
           bucket_json);
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(json, strlen(json), NULL, &m);
  if (!err) err = wp_plugin_load(e, path, m, p);
  wp_manifest_free(m);
  if (!err) err = wp_instance_new(*p, inst);
  return err;
}

/* The component's get and set rows beside `base_get` and `base_set`. */
static wp_error *measure(const char *backend, wp_instance *comp, kv_ctx *base_get, kv_ctx *base_set,
                         const char *base_name) {
  static char set_cmd[160];
  snprintf(set_cmd, sizeof set_cmd, "set\nb\nk\n%s", g_value);
  kv_ctx cget = {.inst = comp, .cmd = "get\nb\nk"}, cset = {.inst = comp, .cmd = set_cmd};
  /* The harness keeps row names: they must outlive this call. */
  static char all_names[3][4][64];
  static int used;
  if (used == 3) return wp_error_new(WP_ERR_HOST, "bench: more keyvalue backends than names");
  char(*names)[64] = all_names[used++];
  snprintf(names[0], sizeof names[0], "kv_%s_set_100B_%s", backend, base_name);
  snprintf(names[1], sizeof names[1], "kv_%s_set_100B_component", backend);
  snprintf(names[2], sizeof names[2], "kv_%s_get_100B_%s", backend, base_name);
  snprintf(names[3], sizeof names[3], "kv_%s_get_100B_component", backend);
  bool guest_base = base_set->inst != NULL;
  bench_case sets[] = {
      {names[0], "us/op", 1e3, bench_batch(2000), bench_reps(7), 1, NULL,
       guest_base        ? run_guest
       : base_set->redis ? run_redis
                         : run_sqlite,
       NULL, base_set},
      {names[1], "us/op", 1e3, bench_batch(2000), bench_reps(7), 1, NULL, run_guest, NULL, &cset},
  };
  bench_case gets[] = {
      {names[2], "us/op", 1e3, bench_batch(2000), bench_reps(7), 1, NULL,
       guest_base        ? run_guest
       : base_get->redis ? run_redis
                         : run_sqlite,
       NULL, base_get},
      {names[3], "us/op", 1e3, bench_batch(2000), bench_reps(7), 1, NULL, run_guest, NULL, &cget},
  };
  wp_error *err = bench_measure_group(sets, COUNT(sets));
  if (!err) err = bench_measure_group(gets, COUNT(gets));
  if (!err) {
    bench_judge(names[1], names[0], TARGET_NONE, 0);
    bench_judge(names[3], names[2], TARGET_NONE, 0);
  }
  return err;
}

static wp_error *bench_memory(bench_env *env) {
  wp_plugin *pc = NULL, *pk = NULL;
  wp_instance *comp = NULL, *core = NULL;
  const char *b = "\"backend\": \"memory\"";
  wp_error *err = load(env->engine, KV_COMPONENT, b, &comp, &pc);
  if (!err) err = load(env->engine, KV_CORE, b, &core, &pk);
  static char set_cmd[160];
  snprintf(set_cmd, sizeof set_cmd, "set\nb\nk\n%s", g_value);
  kv_ctx get = {.inst = core, .cmd = "get\nb\nk"}, set = {.inst = core, .cmd = set_cmd};
  if (!err) err = run_guest(&set, 1);
  if (!err) err = measure("memory", comp, &get, &set, "core");
  wp_instance_free(comp);
  wp_instance_free(core);
  wp_plugin_free(pc);
  wp_plugin_free(pk);
  return err;
}

static wp_error *bench_sqlite(bench_env *env, const char *dir) {
  char path[4200], b[4300];
  snprintf(path, sizeof path, "%s/kv.db", dir);
  snprintf(b, sizeof b, "\"backend\": \"sqlite\", \"path\": \"%s\"", path);
  wp_plugin *p = NULL;
  wp_instance *comp = NULL;
  sqlite3 *db = NULL;
  kv_ctx get = {0}, set = {.set = true};
  wp_error *err = load(env->engine, KV_COMPONENT, b, &comp, &p);
  if (!err &&
      (sqlite3_open(path, &db) != SQLITE_OK ||
       sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK ||
       sqlite3_prepare_v2(db,
                          "INSERT OR REPLACE INTO wasmplug_kv (bucket, key, value) "
                          "VALUES ('b', 'k', ?1)",
                          -1, &set.stmt, NULL) != SQLITE_OK ||
       sqlite3_prepare_v2(db, "SELECT value FROM wasmplug_kv WHERE bucket = 'b' AND key = 'k'", -1,
                          &get.stmt, NULL) != SQLITE_OK))
    err = wp_error_new(WP_ERR_IO, "bench: sqlite %s: %s", path, sqlite3_errmsg(db));
  if (!err) sqlite3_bind_blob(set.stmt, 1, g_value, 100, SQLITE_STATIC);
  if (!err) err = run_sqlite(&set, 1);
  if (!err) err = measure("sqlite", comp, &get, &set, "c_direct");
  sqlite3_finalize(get.stmt);
  sqlite3_finalize(set.stmt);
  sqlite3_close(db);
  wp_instance_free(comp);
  wp_plugin_free(p);
  return err;
}

static wp_error *bench_redis(bench_env *env, const char *dir) {
  int port = free_port();
  pid_t pid = start_redis(dir, port);
  if (!pid) {
    fprintf(stderr, "  keyvalue redis rows skipped: no redis-server (deps/setup.sh installs it)\n");
    return NULL;
  }
  char b[200];
  snprintf(b, sizeof b, "\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:%d/0\"", port);
  wp_plugin *p = NULL;
  wp_instance *comp = NULL;
  kv_ctx get = {.redis = redisConnect("127.0.0.1", port)}, set = {.set = true, .redis = get.redis};
  wp_error *err = load(env->engine, KV_COMPONENT, b, &comp, &p);
  if (!err && (!get.redis || get.redis->err))
    err = wp_error_new(WP_ERR_IO, "bench: cannot connect to redis on port %d", port);
  if (!err) err = run_redis(&set, 1);
  if (!err) err = measure("redis", comp, &get, &set, "c_direct");
  if (get.redis) redisFree(get.redis);
  wp_instance_free(comp);
  wp_plugin_free(p);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  return err;
}

wp_error *bench_keyvalue(bench_env *env) {
  if (access(KV_COMPONENT, R_OK) != 0 || access(KV_CORE, R_OK) != 0) {
    fprintf(stderr, "  keyvalue rows skipped: %s was not built\n", KV_COMPONENT);
    return NULL;
  }
  memset(g_value, 'v', 100);
  char *dir = NULL;
  wp_error *err = bench_make_temp_dir(&dir);
  if (!err) err = bench_memory(env);
  if (!err) err = bench_sqlite(env, dir);
  if (!err) err = bench_redis(env, dir);
  bench_free_temp_dir(dir);
  return err;
}
