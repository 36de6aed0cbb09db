/*
 * test_keyvalue.c - the keyvalue capability (src/host/keyvalue/): one suite
 * run against each backend (memory, sqlite in a temporary file, and a real
 * redis-server started here on a free loopback port), through the core
 * guest (tests/keyvalue/kv_core.c, pdk/c/wasmplug_kv.h) and the component
 * guest (tests/keyvalue/kv_component.c, wasi:keyvalue@0.2.0-draft2).
 * Without redis-server installed (deps/setup.sh installs it) the redis
 * group is skipped, saying so. Also: the engine's default store for
 * buckets without a backend (wp_engine_set_keyvalue_default), and Redis
 * calls cut short by the plugin's call deadline (a SIGSTOPped server).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "wasmplug/keyvalue.h"

#define CORE WP_PLUGINS "/kv-core.wasm"
#define COMPONENT WP_PLUGINS "/kv-component.wasm"
#define COMPONENT_DRAFT WP_PLUGINS "/kv-component-draft.wasm"
#define GO WP_PLUGINS "/kv-go.wasm"

/* ---- backends ------------------------------------------------------------------- */

typedef enum { G_CORE, G_COMPONENT, G_DRAFT, G_GO, G_KINDS } guest_kind;

/* One configuration of the suite: a backend and a guest. */
typedef struct backend {
  const char *name;
  guest_kind kind;
  const char *guest;
  char json[512]; /* the bucket's settings, without the prefix */
} backend;

/* The redis-server of the redis group. */
static struct {
  pid_t pid;
  int port;
  char dir[256];
  bool missing;
} srv;

#define CONFIGS(backend_name)                                              \
  {.name = backend_name, .kind = G_CORE, .guest = CORE},                   \
      {.name = backend_name, .kind = G_COMPONENT, .guest = COMPONENT},     \
      {.name = backend_name, .kind = G_DRAFT, .guest = COMPONENT_DRAFT}, { \
    .name = backend_name, .kind = G_GO, .guest = GO                        \
  }
static backend memory_b[G_KINDS] = {CONFIGS("memory")}, sqlite_b[G_KINDS] = {CONFIGS("sqlite")},
               redis_b[G_KINDS] = {CONFIGS("redis")};
static char tmpdir[] = "/tmp/wp-kv-XXXXXX";
static int uniq;

static const char *redis_server(void) {
  static const char *paths[] = {"/usr/bin/redis-server", "/usr/local/bin/redis-server"};
  for (size_t i = 0; i < 2; i++)
    if (access(paths[i], X_OK) == 0) return paths[i];
  return NULL;
}

static int free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
  close(s);
  return ntohs(a.sin_port);
}

static bool port_open(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
  close(s);
  return ok;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void redis_start(void) {
  char port[16];
  snprintf(port, sizeof port, "%d", srv.port);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(redis_server(), "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
          "--appendonly", "no", "--dir", srv.dir, "--protected-mode", "no", (char *)NULL);
    _exit(127);
  }
  srv.pid = pid;
  for (int i = 0; i < 500 && !port_open(srv.port); i++) sleep_ms(10);
  assert_true(port_open(srv.port));
}

static void redis_stop(void) {
  if (srv.pid <= 0) return;
  kill(srv.pid, SIGCONT); /* a test that failed may have left it stopped */
  kill(srv.pid, SIGTERM);
  waitpid(srv.pid, NULL, 0);
  srv.pid = 0;
  for (int i = 0; i < 500 && port_open(srv.port); i++) sleep_ms(10);
}

static int setup_group(void **state) {
  (void)state;
  for (int i = 0; i < G_KINDS; i++) {
    snprintf(memory_b[i].json, sizeof memory_b[i].json, "\"backend\": \"memory\"");
    snprintf(sqlite_b[i].json, sizeof sqlite_b[i].json,
             "\"backend\": \"sqlite\", \"path\": \"%s/kv.db\"", tmpdir);
  }
  return 0;
}

static int setup_redis(void **state) {
  (void)state;
  if (!redis_server()) {
    srv.missing = true;
    return 0;
  }
  snprintf(srv.dir, sizeof srv.dir, "%s/redis", tmpdir);
  mkdir(srv.dir, 0700);
  srv.port = free_port();
  redis_start();
  for (int i = 0; i < G_KINDS; i++)
    snprintf(redis_b[i].json, sizeof redis_b[i].json,
             "\"backend\": \"redis\", \"url\": \"redis://127.0.0.1:%d/0\"", srv.port);
  return 0;
}

static int teardown_redis(void **state) {
  (void)state;
  redis_stop();
  return 0;
}

#define BACKEND(state)                                                                          \
  backend *be = *(backend **)(state);                                                           \
  if (strcmp(be->name, "redis") == 0 && srv.missing) {                                          \
    print_message("SKIP (redis): redis-server is not installed (deps/setup.sh installs it)\n"); \
    skip();                                                                                     \
  }                                                                                             \
  if (access(be->guest, R_OK) != 0) {                                                           \
    print_message("SKIP: %s was not built (WASMPLUG_GUESTS or WASMPLUG_COMPONENTS off)\n",      \
                  be->guest);                                                                   \
    skip();                                                                                     \
  }

static bool is_component(const backend *be) {
  return be->kind == G_COMPONENT || be->kind == G_DRAFT;
}

/* ---- plugins -------------------------------------------------------------------- */

/* A manifest granting "main" (and "lim", limited) on the backend, under a
   prefix of its own so that tests sharing a store do not meet. */
static wp_manifest *manifest(const backend *be, const char *name, const char *extra_buckets) {
  char json[2048];
  int id = ++uniq;
  snprintf(json, sizeof json,
           "{\"name\": \"%s\", \"capabilities\": {\"keyvalue\": {\"buckets\": {"
           "\"main\": {%s, \"prefix\": \"t%d-%d:\"},"
           "\"lim\": {%s, \"prefix\": \"t%d-%d:\", \"max_value_size\": \"16\", \"max_keys\": 3}"
           "%s}}}}",
           name, be->json, (int)getpid(), id, be->json, (int)getpid(), id,
           extra_buckets ? extra_buckets : "");
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  return m;
}

static wp_plugin *load(wp_engine *e, const char *path, wp_manifest *m) {
  wp_plugin *p = NULL;
  assert_ok(wp_plugin_load(e, path, m, &p));
  wp_manifest_free(m);
  return p;
}

/* Runs one line of kv_core.c's little language; the answer is static. */
static const char *kv(wp_instance *inst, const char *fmt, ...) WP_PRINTF(2, 3);
static const char *kv(wp_instance *inst, const char *fmt, ...) {
  static __thread char buf[65536];
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  const char *out = NULL;
  assert_ok(wp_instance_call_string(inst, "kv", cmd, &out));
  snprintf(buf, sizeof buf, "%s", out);
  return buf;
}

#define assert_has(s, needle)                                                               \
  do {                                                                                      \
    const char *s_ = (s);                                                                   \
    if (!strstr(s_, needle)) fail_msg("expected '%s' in '%s'", (const char *)(needle), s_); \
  } while (0)

/* An error answer ("err:MSG" from the core guest, "err:other:MSG" from a
   component) holding `needle`. */
#define assert_error_answer(s, needle)                                            \
  do {                                                                            \
    const char *a_ = (s);                                                         \
    if (strncmp(a_, "err:", 4) != 0) fail_msg("expected an error, got '%s'", a_); \
    assert_has(a_, needle);                                                       \
  } while (0)

typedef struct kvfix {
  wp_engine *e;
  wp_plugin *p;
  wp_instance *inst;
} kvfix;

/* The last line the engine logged ("LEVEL plugin: message"). */
static char g_log[1024];
static void on_log(void *ud, wp_log_level level, const char *plugin, const char *msg, size_t len) {
  (void)ud;
  snprintf(g_log, sizeof g_log, "%s %s: %.*s", wp_log_level_name(level), plugin, (int)len, msg);
}

static wp_engine *kv_engine(void) {
  wp_engine_config *cfg = wp_engine_config_new();
  wp_engine_config_set_cache_dir(cfg, NULL);
  wp_engine_config_set_pooling(cfg, 16);
  wp_engine_config_set_log(cfg, on_log, NULL);
  wp_engine *e = NULL;
  assert_ok(wp_engine_new(cfg, &e));
  wp_engine_config_free(cfg);
  g_log[0] = '\0';
  return e;
}

static kvfix open_guest(const backend *be) {
  kvfix f = {kv_engine(), NULL, NULL};
  f.p = load(f.e, be->guest, manifest(be, "kvtest", NULL));
  assert_ok(wp_instance_new(f.p, &f.inst));
  return f;
}

static void close_fixture(kvfix *f) {
  wp_instance_free(f->inst);
  wp_plugin_free(f->p);
  wp_engine_free(f->e);
}

/* ---- the suite (core guest) ------------------------------------------------------ */

static void test_basic(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "get\nmain\nk1"), "none");
  assert_string_equal(kv(f.inst, "exists\nmain\nk1"), "ok:0");
  assert_string_equal(kv(f.inst, "set\nmain\nk1\nhello"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nk1"), "ok:hello");
  assert_string_equal(kv(f.inst, "exists\nmain\nk1"), "ok:1");
  assert_string_equal(kv(f.inst, "set\nmain\nk1\nworld"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nk1"), "ok:world");
  assert_string_equal(kv(f.inst, "set\nmain\nempty\n"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nempty"), "ok:");
  assert_string_equal(kv(f.inst, "set\nmain\nk\xc3\xa9y\nutf8"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nk\xc3\xa9y"), "ok:utf8");
  assert_string_equal(kv(f.inst, "delete\nmain\nk1"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nk1"), "none");
  assert_string_equal(kv(f.inst, "delete\nmain\nk1"), "ok"); /* nothing to delete */
  assert_error_answer(kv(f.inst, "get\nmain\n"), "keyvalue bucket 'main': a key must not be empty");
  close_fixture(&f);
}

static void test_not_granted(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  const char *r = kv(f.inst, "get\nsecret\nk");
  if (is_component(be)) {
    /* wasi:keyvalue's open answers access-denied (the variant has no text). */
    assert_string_equal(r, "err:access-denied");
    /* The log names the missing grant. */
    assert_has(g_log, "kvtest: plugin 'kvtest': keyvalue bucket 'secret' is not granted");
    assert_has(g_log, "capabilities.keyvalue.buckets (granted: main, lim)");
    assert_string_equal(kv(f.inst, "set\nsecret\nk\nv"), "err:access-denied");
    assert_string_equal(kv(f.inst, "get\nmain\nk"), "none");
    close_fixture(&f);
    return;
  }
  assert_has(r, "err:plugin 'kvtest': keyvalue bucket 'secret' is not granted");
  assert_has(r, "capabilities.keyvalue.buckets");
  assert_has(r, "granted: main, lim");
  assert_has(kv(f.inst, "set\nsecret\nk\nv"), "is not granted");
  assert_has(kv(f.inst, "keys\nsecret"), "is not granted");
  assert_has(kv(f.inst, "incr\nsecret\nk\n1"), "is not granted");
  /* No keyvalue section at all: nothing is granted. */
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse("{\"name\": \"bare\"}", 16, NULL, &m));
  wp_plugin *bare = load(f.e, be->guest, m);
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(bare, &inst));
  assert_has(kv(inst, "get\nmain\nk"), "plugin 'bare': keyvalue bucket 'main' is not granted");
  assert_has(kv(inst, "get\nmain\nk"), "(granted: none)");
  wp_instance_free(inst);
  wp_plugin_free(bare);
  close_fixture(&f);
}

static void test_keys(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "keys\nmain"), "ok:0||");
  assert_string_equal(kv(f.inst, "set\nmain\nb\n2"), "ok");
  assert_string_equal(kv(f.inst, "set\nmain\na\n1"), "ok");
  const char *r = kv(f.inst, "keys\nmain");
  assert_true(strcmp(r, "ok:2||a,b") == 0 || strcmp(r, "ok:2||b,a") == 0);
  /* More than a page (1000 keys): follow the cursors, every key once. */
  enum { N = 1234 };
  for (int i = 0; i < N; i++) assert_string_equal(kv(f.inst, "set\nmain\nkey%05d\nv", i), "ok");
  static bool seen[N];
  memset(seen, 0, sizeof seen);
  int total = 0, pages = 0;
  char cursor[64] = "";
  do {
    r = kv(f.inst, "keys\nmain%s%s", cursor[0] ? "\n" : "", cursor);
    assert_true(strncmp(r, "ok:", 3) == 0);
    char *end;
    long n = strtol(r + 3, &end, 10);
    assert_true(*end == '|');
    const char *bar = strchr(end + 1, '|');
    snprintf(cursor, sizeof cursor, "%.*s", (int)(bar - end - 1), end + 1);
    for (const char *k = bar + 1; *k;) {
      const char *comma = strchr(k, ',');
      size_t len = comma ? (size_t)(comma - k) : strlen(k);
      int idx;
      if (len == 8 && sscanf(k, "key%05d", &idx) == 1) {
        assert_false(seen[idx]);
        seen[idx] = true;
        total++;
      }
      k += len + (comma ? 1 : 0);
    }
    (void)n;
    pages++;
  } while (cursor[0] && pages < 100);
  assert_int_equal(total, N);
  assert_true(pages >= 2 || strcmp(be->name, "redis") == 0); /* redis pages by its own hint */
  if (be->kind != G_DRAFT) /* its cursor is a u64: the guest cannot send this one */
    assert_error_answer(kv(f.inst, "keys\nmain\nnot-a-cursor"),
                        "keyvalue bucket 'main': the cursor is not one");
  close_fixture(&f);
}

static void test_increment(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "incr\nmain\nn\n5"), "ok:5");
  if (be->kind == G_DRAFT) {
    /* u64 in and out: a negative total cannot come back. */
    assert_string_equal(kv(f.inst, "incr\nmain\nn\n7"), "ok:12");
    assert_string_equal(kv(f.inst, "set\nmain\nn\n-2"), "ok");
    assert_error_answer(kv(f.inst, "incr\nmain\nn\n0"), "which a u64 cannot hold");
    assert_error_answer(kv(f.inst, "incr\nmain\nn\n-1"), "a delta above 2^63-1");
  } else {
    assert_string_equal(kv(f.inst, "incr\nmain\nn\n-7"), "ok:-2");
  }
  assert_string_equal(kv(f.inst, "get\nmain\nn"), "ok:-2"); /* decimal text */
  assert_string_equal(kv(f.inst, "set\nmain\ntext\nabc"), "ok");
  assert_error_answer(kv(f.inst, "incr\nmain\ntext\n1"), "keyvalue bucket 'main'");
  assert_string_equal(kv(f.inst, "set\nmain\nbig\n9223372036854775807"), "ok");
  assert_error_answer(kv(f.inst, "incr\nmain\nbig\n1"), "keyvalue bucket 'main'");
  assert_string_equal(kv(f.inst, "get\nmain\nbig"), "ok:9223372036854775807");
  close_fixture(&f);
}

typedef struct counter_job {
  wp_plugin *p;
  int times;
  const char *result;
} counter_job;

static void *count_thread(void *arg) {
  counter_job *j = arg;
  wp_instance *inst = NULL;
  wp_error *err = wp_instance_new(j->p, &inst);
  if (err) {
    j->result = "instance";
    wp_error_free(err);
    return NULL;
  }
  char cmd[64];
  snprintf(cmd, sizeof cmd, "count\nmain\nhits\n%d", j->times);
  const char *out = NULL;
  err = wp_instance_call_string(inst, "kv", cmd, &out);
  j->result = err ? "call failed" : strncmp(out, "ok:", 3) == 0 ? "ok" : "error answer";
  if (err) fprintf(stderr, "%s\n", wp_error_get_message(err));
  wp_error_free(err);
  wp_instance_free(inst);
  return NULL;
}

static void test_concurrent_increments(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  enum { THREADS = 4, TIMES = 250 };
  pthread_t t[THREADS];
  counter_job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (counter_job){f.p, TIMES, NULL};
    assert_int_equal(pthread_create(&t[i], NULL, count_thread, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    assert_string_equal(jobs[i].result, "ok");
  }
  char want[32];
  snprintf(want, sizeof want, "ok:%d", THREADS * TIMES);
  assert_string_equal(kv(f.inst, "get\nmain\nhits"), want);
  close_fixture(&f);
}

static void test_cas(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  if (be->kind == G_DRAFT) {
    print_message("SKIP: wasi:keyvalue 0.2.0-draft has no compare-and-swap\n");
    skip();
  }
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "cas\nmain\nc\n<absent>\none"), "ok:1");
  assert_string_equal(kv(f.inst, "cas\nmain\nc\n<absent>\ntwo"), "ok:0"); /* it exists */
  assert_string_equal(kv(f.inst, "get\nmain\nc"), "ok:one");
  assert_string_equal(kv(f.inst, "cas\nmain\nc\nzzz\ntwo"), "ok:0"); /* conflict */
  assert_string_equal(kv(f.inst, "get\nmain\nc"), "ok:one");
  assert_string_equal(kv(f.inst, "cas\nmain\nc\none\ntwo"), "ok:1");
  assert_string_equal(kv(f.inst, "get\nmain\nc"), "ok:two");
  assert_string_equal(kv(f.inst, "cas\nmain\nc\none\nthree"), "ok:0"); /* stale */
  assert_string_equal(kv(f.inst, "cas\nmain\nc\n\nthree"), "ok:0"); /* empty is not absent */
  close_fixture(&f);
}

static void test_limits(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "set\nlim\na\n0123456789abcdef"), "ok"); /* 16 bytes */
  const char *r = kv(f.inst, "set\nlim\na\n0123456789abcdefX");
  assert_error_answer(r,
                      "keyvalue bucket 'lim': the value is 17 bytes, more than its max_value_size");
  assert_has(r, "capabilities.keyvalue.buckets.lim.max_value_size");
  if (be->kind != G_DRAFT)
    assert_has(kv(f.inst, "cas\nlim\nb\n<absent>\n0123456789abcdefX"), "max_value_size");
  assert_string_equal(kv(f.inst, "set\nlim\nb\n2"), "ok");
  assert_string_equal(kv(f.inst, "incr\nlim\nc\n1"), "ok:1");
  assert_has(kv(f.inst, "set\nlim\nd\n4"), "holds its max_keys (3) keys");
  assert_has(kv(f.inst, "incr\nlim\nd\n1"), "max_keys");
  if (be->kind != G_DRAFT) assert_has(kv(f.inst, "cas\nlim\nd\n<absent>\n4"), "max_keys");
  assert_string_equal(kv(f.inst, "set\nlim\nb\nreplaced"), "ok"); /* not a new key */
  assert_string_equal(kv(f.inst, "delete\nlim\na"), "ok");
  assert_string_equal(kv(f.inst, "set\nlim\nd\n4"), "ok");
  char longkey[4200];
  memset(longkey, 'k', 4097);
  longkey[4097] = '\0';
  assert_has(kv(f.inst, "set\nmain\n%s\nv", longkey), "more than the 4096 allowed");
  close_fixture(&f);
}

static void test_shared(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  /* Two plugins granted the same bucket (same prefix) share it. */
  wp_engine *e = test_engine();
  char extra[600];
  snprintf(extra, sizeof extra, ", \"shared\": {%s, \"prefix\": \"s%d:\"}", be->json,
           (int)getpid());
  wp_plugin *a = load(e, be->guest, manifest(be, "a", extra)),
            *b = load(e, be->guest, manifest(be, "b", extra));
  wp_instance *ia = NULL, *ib = NULL;
  assert_ok(wp_instance_new(a, &ia));
  assert_ok(wp_instance_new(b, &ib));
  assert_string_equal(kv(ia, "set\nshared\nfrom-a\nhi"), "ok");
  assert_string_equal(kv(ib, "get\nshared\nfrom-a"), "ok:hi");
  /* Their "main" buckets have prefixes of their own: not shared. */
  assert_string_equal(kv(ia, "set\nmain\nx\n1"), "ok");
  assert_string_equal(kv(ib, "get\nmain\nx"), "none");
  assert_string_equal(kv(ib, "delete\nshared\nfrom-a"), "ok");
  wp_instance_free(ia);
  wp_instance_free(ib);
  wp_plugin_free(a);
  wp_plugin_free(b);
  wp_engine_free(e);
}

/* ---- manifests ------------------------------------------------------------------ */

static void bad_manifest(wp_engine *e, const char *guest, const char *section, const char *needle) {
  char json[1024];
  snprintf(json, sizeof json, "{\"name\": \"bad\", \"capabilities\": {\"keyvalue\": %s}}", section);
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  wp_plugin *p = NULL;
  wp_error *err = wp_plugin_load(e, guest, m, &p);
  wp_manifest_free(m);
  assert_null(p);
  assert_error(err, WP_ERR_BAD_INPUT, needle);
}

static void test_manifest_errors(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  wp_engine *e = test_engine();
  bad_manifest(e, be->guest, "[]", "capabilities.keyvalue must be {\"buckets\"");
  bad_manifest(e, be->guest, "{\"buckets\": {}, \"x\": 1}", "capabilities.keyvalue must be");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {}}}",
               "plugin 'bad': capabilities.keyvalue.buckets.a.backend is missing");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {\"backend\": \"mongo\"}}}",
               "buckets.a.backend: 'mongo' is not a backend (memory, sqlite or redis)");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {\"backend\": \"sqlite\"}}}",
               "buckets.a.path is required for the sqlite backend");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {\"backend\": \"redis\"}}}",
               "buckets.a.url is required for the redis backend");
  bad_manifest(e, be->guest,
               "{\"buckets\": {\"a\": {\"backend\": \"redis\", \"url\": \"http://x\"}}}",
               "buckets.a: url: 'http://x' is not a Redis URL");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {\"backend\": \"memory\", \"path\": \"x\"}}}",
               "buckets.a.path is for the sqlite backend only");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {\"backend\": \"memory\", \"ttl\": 1}}}",
               "buckets.a: unknown field 'ttl'");
  bad_manifest(e, be->guest,
               "{\"buckets\": {\"a\": {\"backend\": \"memory\", \"max_value_size\": \"lots\"}}}",
               "buckets.a.max_value_size must be a size");
  bad_manifest(e, be->guest,
               "{\"buckets\": {\"a\": {\"backend\": \"memory\", \"max_value_size\": \"1GiB\"}}}",
               "buckets.a.max_value_size is 1073741824; it must be 1 to 67108864");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a\": {\"backend\": \"memory\", \"max_keys\": -1}}}",
               "buckets.a.max_keys must be a whole number");
  bad_manifest(e, be->guest, "{\"buckets\": {\"a b\": {\"backend\": \"memory\"}}}",
               "'a b' is not a bucket name");
  /* A file that cannot be made is the file system's error. */
  wp_manifest *m = NULL;
  const char *nodir = "{\"capabilities\": {\"keyvalue\": {\"buckets\": {\"a\": {\"backend\": "
                      "\"sqlite\", \"path\": \"/nonexistent/dir/kv.db\"}}}}}";
  assert_ok(wp_manifest_parse(nodir, strlen(nodir), NULL, &m));
  wp_plugin *p = NULL;
  assert_error(wp_plugin_load(e, be->guest, m, &p), WP_ERR_IO,
               "capabilities.keyvalue.buckets.a: cannot open the sqlite file "
               "'/nonexistent/dir/kv.db': No such file or directory");
  wp_manifest_free(m);
  wp_engine_free(e);
}

/* ---- redis going away ----------------------------------------------------------- */

static void test_redis_restart(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "set\nmain\nk\nbefore"), "ok");
  redis_stop();
  const char *r = kv(f.inst, "get\nmain\nk");
  assert_error_answer(r, "keyvalue bucket 'main' (redis): redis at redis://127.0.0.1:");
  assert_error_answer(kv(f.inst, "set\nmain\nk\nv"), "is unreachable");
  redis_start();
  /* The first call after the server is back works (the data went with it). */
  assert_string_equal(kv(f.inst, "get\nmain\nk"), "none");
  assert_string_equal(kv(f.inst, "set\nmain\nk\nafter"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nk"), "ok:after");
  /* A restart while the connection is idle: the call goes to a new one. */
  redis_stop();
  redis_start();
  assert_string_equal(kv(f.inst, "set\nmain\nk\nagain"), "ok");
  assert_string_equal(kv(f.inst, "get\nmain\nk"), "ok:again");
  close_fixture(&f);
}

/* ---- wasi:keyvalue only --------------------------------------------------------- */

static void test_batch(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  if (!is_component(be)) {
    print_message(
        "SKIP: the core functions have no batch (wasi:keyvalue/batch is for components)\n");
    skip();
  }
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "setmany\nmain\na=1,b=22,c=333"), "ok");
  assert_string_equal(kv(f.inst, "getmany\nmain\na,nope,c"), "ok:a=1,nope=<none>,c=333");
  assert_string_equal(kv(f.inst, "deletemany\nmain\na,nope,b"), "ok");
  assert_string_equal(kv(f.inst, "getmany\nmain\na,b,c"), "ok:a=<none>,b=<none>,c=333");
  assert_string_equal(kv(f.inst, "keys\nmain"), "ok:1||c");
  /* Limits hold inside a batch too: the fourth key is refused. */
  assert_error_answer(kv(f.inst, "setmany\nlim\nw=1,x=2,y=3,z=4"), "max_keys");
  assert_string_equal(kv(f.inst, "getmany\nlim\nw,z"), "ok:w=1,z=<none>");
  close_fixture(&f);
}

static void test_cas_conflict(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  if (be->kind != G_COMPONENT) {
    print_message("SKIP: the cas resource is wasi:keyvalue 0.2.0-draft2's\n");
    skip();
  }
  kvfix f = open_guest(be);
  assert_string_equal(kv(f.inst, "set\nmain\nr\nfirst"), "ok");
  /* A cas made, the key changed behind it: swap reports cas-failed with a
     new cas that saw the change, and swapping with that one works. */
  assert_string_equal(kv(f.inst, "casrace\nmain\nr\nmine\ntheirs"),
                      "ok:cas-failed, saw theirs, swapped");
  assert_string_equal(kv(f.inst, "get\nmain\nr"), "ok:mine");
  /* On a key that does not exist yet too. */
  assert_string_equal(kv(f.inst, "casrace\nmain\nfresh\nmine\ntheirs"),
                      "ok:cas-failed, saw theirs, swapped");
  close_fixture(&f);
}

/* ---- malformed calls ------------------------------------------------------------- */

/* A core plugin that calls kv_get with frames no PDK would make. */
static const char BAD_FRAMES[] =
    "(module (import \"wasmplug\" \"kv_get\" (func $get (param i32 i32 i32)))"
    " (import \"wasmplug\" \"kv_cas\" (func $cas (param i32 i32 i32)))"
    " (memory (export \"memory\") 1) (global $heap (mut i32) (i32.const 4096))"
    " (func (export \"cabi_realloc\") (param i32 i32 i32 i32) (result i32) (local $p i32)"
    "   (local.set $p (global.get $heap))"
    "   (global.set $heap (i32.add (global.get $heap) (local.get 3))) (local.get $p))"
    " (data (i32.const 0) \"\\04\\00\\00\\00main\\64\\00\\00\\00abc\")"
    " (data (i32.const 64) \"\\04\\00\\00\\00main\\02\\00\\00\\00\\ff\\fe\")"
    " (data (i32.const 128) \"\\04\\00\\00\\00main\\01\\00\\00\\00k\\01\\00\\00\\00v\\01\")"
    " (data (i32.const 192) \"\\04\\00\\00\\00main\\01\\00\\00\\00k\\01\\00\\00\\00\\07\\00\\00\\00\\00\")"
    " (data (i32.const 256) \"\\04\\00\\00\\00main\\03\\00\\00\\00k\\00k\")"
    " (func (export \"truncated\") (call $get (i32.const 0) (i32.const 15) (i32.const 1024)))"
    " (func (export \"not_utf8\") (call $get (i32.const 64) (i32.const 14) (i32.const 1024)))"
    " (func (export \"extra\") (call $get (i32.const 128) (i32.const 19) (i32.const 1024)))"
    " (func (export \"bad_tag\") (call $cas (i32.const 192) (i32.const 22) (i32.const 1024)))"
    " (func (export \"nul_key\") (call $get (i32.const 256) (i32.const 15) (i32.const 1024)))"
    " (func (export \"outside\") (call $get (i32.const 65530) (i32.const 100) (i32.const 1024)))"
    " (func (export \"fine\") (call $get (i32.const 128) (i32.const 13) (i32.const 1024))))";

static void test_bad_frames(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  wp_engine *e = kv_engine();
  wp_plugin *p = NULL;
  wp_manifest *m = manifest(be, "bad-frames", NULL);
  assert_ok(wp_plugin_load_bytes(e, "bad-frames.wat", BAD_FRAMES, sizeof BAD_FRAMES - 1, m, &p));
  wp_manifest_free(m);
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  static const struct {
    const char *fn, *needle;
  } cases[] = {
      {"truncated", "wasmplug.kv_get: the key is 100 bytes but only 3 follow"},
      {"not_utf8", "wasmplug.kv_get: the key is not UTF-8 (or holds a NUL)"},
      {"extra", "wasmplug.kv_get: 6 bytes follow the last field"},
      {"bad_tag", "wasmplug.kv_cas: the expected value must be the byte 0 (absent)"},
      {"nul_key", "wasmplug.kv_get: the key is not UTF-8 (or holds a NUL)"},
      {"outside", ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    wp_error *err = wp_instance_call(inst, cases[i].fn, NULL, 0, NULL, 0);
    assert_non_null(err);
    assert_int_equal(wp_error_get_kind(err), WP_ERR_ABI); /* the plugin broke the framing */
    if (!strstr(wp_error_get_message(err), cases[i].needle))
      fail_msg("%s: '%s' not in '%s'", cases[i].fn, cases[i].needle, wp_error_get_message(err));
    wp_error_free(err);
    /* The same instance serves the next call. */
    wp_instance_free(inst);
    assert_ok(wp_instance_new(p, &inst));
    assert_ok(wp_instance_call(inst, "fine", NULL, 0, NULL, 0));
  }
  wp_instance_free(inst);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- the default store of buckets without a backend ------------------------------ */

/* Loads the core guest as `name` with the keyvalue section `buckets`. */
static wp_error *load_buckets(wp_engine *e, const char *name, const char *buckets, wp_plugin **p) {
  char json[1024];
  snprintf(json, sizeof json,
           "{\"name\": \"%s\", \"capabilities\": {\"keyvalue\": {\"buckets\": %s}}}", name,
           buckets);
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  *p = NULL;
  wp_error *err = wp_plugin_load(e, CORE, m, p);
  wp_manifest_free(m);
  return err;
}

/* One kv line on a fresh instance of p. */
static const char *kv_once(wp_plugin *p, const char *cmd) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  const char *r = kv(inst, "%s", cmd);
  wp_instance_free(inst);
  return r;
}

static void test_default_store(void **state) {
  (void)state;
  wp_test_wasm_signals();
  if (access(CORE, R_OK) != 0) {
    print_message("SKIP: %s was not built\n", CORE);
    skip();
  }
  wp_engine *e = kv_engine();
  wp_plugin *p = NULL;
  /* A plain engine has no default: the bucket is refused, named, saying
     how to get one. */
  wp_error *err = load_buckets(e, "nodefault", "{\"counter\": {}}", &p);
  assert_null(p);
  assert_error(err, WP_ERR_BAD_INPUT,
               "plugin 'nodefault': capabilities.keyvalue.buckets.counter.backend is missing and "
               "the engine has no default keyvalue backend");
  err = load_buckets(e, "nodefault", "{\"counter\": {}}", &p);
  assert_error(err, WP_ERR_BAD_INPUT, "wp_engine_set_keyvalue_default");

  /* Bad specs are refused and change nothing. */
  static const struct {
    const char *spec, *needle;
  } bad[] = {
      {"not json", "wp_engine_set_keyvalue_default: the spec is not JSON"},
      {"[]", "wp_engine_set_keyvalue_default: spec must be an object"},
      {"{}", "wp_engine_set_keyvalue_default: spec.backend is missing"},
      {"{\"backend\": \"mongo\"}", "spec.backend: 'mongo' is not a backend"},
      {"{\"backend\": \"sqlite\"}", "spec.path is required for the sqlite backend"},
      {"{\"backend\": \"memory\", \"ttl\": 1}", "spec: unknown field 'ttl'"},
      {"{\"backend\": \"memory\", \"max_value_size\": \"1GiB\"}",
       "spec.max_value_size is 1073741824; it must be 1 to 67108864"},
      {"{\"backend\": \"redis\", \"url\": \"http://x\"}", "url: 'http://x' is not a Redis URL"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_error(wp_engine_set_keyvalue_default(e, bad[i].spec), WP_ERR_BAD_INPUT, bad[i].needle);
  err = load_buckets(e, "stillnone", "{\"counter\": {}}", &p);
  assert_error(err, WP_ERR_BAD_INPUT, "the engine has no default keyvalue backend");

  /* A sqlite default in a directory that does not exist yet: it is made,
     0700, when the first plugin needs it; the file is 0600. */
  char dir[512], path[600], spec[800];
  snprintf(dir, sizeof dir, "%s/state/deeper", tmpdir);
  snprintf(path, sizeof path, "%s/kv.db", dir);
  snprintf(spec, sizeof spec, "{\"backend\": \"sqlite\", \"path\": \"%s\", \"max_keys\": 2}", path);
  assert_ok(wp_engine_set_keyvalue_default(e, spec));
  struct stat st;
  assert_int_not_equal(stat(dir, &st), 0); /* nothing opened yet */
  assert_ok(load_buckets(
      e, "counting", "{\"counter\": {}, \"roomy\": {\"max_keys\": 3, \"prefix\": \"r:\"}}", &p));
  assert_int_equal(stat(dir, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_string_equal(kv_once(p, "incr\ncounter\nn\n1"), "ok:1");
  assert_string_equal(kv_once(p, "incr\ncounter\nn\n1"), "ok:2");
  /* The default's limits apply unless the bucket gives its own. */
  assert_string_equal(kv_once(p, "set\ncounter\nm\nx"), "ok");
  assert_has(kv_once(p, "set\ncounter\nthird\nx"), "holds its max_keys (2) keys");
  assert_string_equal(kv_once(p, "set\nroomy\na\n1"), "ok");
  assert_string_equal(kv_once(p, "set\nroomy\nb\n2"), "ok");
  assert_string_equal(kv_once(p, "set\nroomy\nc\n3"), "ok");
  /* A bucket that leans on the default cannot name a file or a server. */
  wp_plugin *q = NULL;
  assert_error(load_buckets(e, "pathonly", "{\"a\": {\"path\": \"x.db\"}}", &q), WP_ERR_BAD_INPUT,
               "capabilities.keyvalue.buckets.a.path needs a \"backend\" (sqlite)");

  /* The data is in that file: another engine reads it with an explicit
     sqlite bucket on the same path. */
  wp_engine *e2 = kv_engine();
  char explicit[800];
  snprintf(explicit, sizeof explicit, "{\"counter\": {\"backend\": \"sqlite\", \"path\": \"%s\"}}",
           path);
  assert_ok(load_buckets(e2, "reader", explicit, &q));
  assert_string_equal(kv_once(q, "get\ncounter\nn"), "ok:2");
  wp_plugin_free(q);
  wp_engine_free(e2);

  /* NULL clears it: later loads are refused again; a plugin already
     loaded keeps its store. */
  assert_ok(wp_engine_set_keyvalue_default(e, NULL));
  assert_error(load_buckets(e, "cleared", "{\"counter\": {}}", &q), WP_ERR_BAD_INPUT,
               "the engine has no default keyvalue backend");
  assert_string_equal(kv_once(p, "incr\ncounter\nn\n1"), "ok:3");
  /* A memory default works the same way. */
  assert_ok(wp_engine_set_keyvalue_default(e, "{\"backend\": \"memory\"}"));
  assert_ok(load_buckets(e, "inmemory", "{\"counter\": {}}", &q));
  assert_string_equal(kv_once(q, "incr\ncounter\nn\n5"), "ok:5");
  wp_plugin_free(q);
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- the call's deadline bounds a stalled Redis ------------------------------------- */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One call of "kv" on a fresh instance: the error (NULL: it answered) and
   how long it took. */
static wp_error *timed_kv(wp_plugin *p, const char *cmd, uint64_t *ms, char *answer, size_t size) {
  wp_instance *inst = NULL;
  assert_ok(wp_instance_new(p, &inst));
  const char *out = NULL;
  uint64_t t0 = now_ms();
  wp_error *err = wp_instance_call_string(inst, "kv", cmd, &out);
  *ms = now_ms() - t0;
  if (!err) snprintf(answer, size, "%s", out);
  wp_instance_free(inst);
  return err;
}

static void test_redis_deadline(void **state) {
  wp_test_wasm_signals();
  BACKEND(state);
  wp_engine *e = kv_engine();
  char json[1024];
  snprintf(json, sizeof json,
           "{\"name\": \"slow\", \"limits\": {\"timeout_ms\": 300}, \"capabilities\": "
           "{\"keyvalue\": {\"buckets\": {\"main\": {%s, \"prefix\": \"dl%d:\"}}}}}",
           be->json, (int)getpid());
  wp_manifest *m = NULL;
  assert_ok(wp_manifest_parse(json, strlen(json), NULL, &m));
  wp_plugin *p = load(e, be->guest, m);
  char answer[256];
  uint64_t ms;
  assert_null(timed_kv(p, "set\nmain\nk\nv", &ms, answer, sizeof answer));
  assert_string_equal(answer, "ok");
  /* Redis stops answering (the kernel still accepts connections): the
     call ends at its 300 ms deadline, not the backend's 2 s per wait. The
     first call waits on the idle connection, the second on a new one. */
  assert_int_equal(kill(srv.pid, SIGSTOP), 0);
  for (int i = 0; i < 2; i++) {
    wp_error *err = timed_kv(p, "get\nmain\nk", &ms, answer, sizeof answer);
    if (!err) {
      kill(srv.pid, SIGCONT);
      fail_msg("a call on a stopped redis answered '%s'", answer);
    }
    print_message("  call %d on a stopped redis failed after %llu ms: %s\n", i + 1,
                  (unsigned long long)ms, wp_error_get_message(err));
    assert_int_equal(wp_error_get_kind(err), WP_ERR_TIMEOUT);
    assert_non_null(strstr(wp_error_get_message(err), "plugin 'slow'"));
    assert_non_null(strstr(wp_error_get_message(err), "keyvalue bucket 'main' (redis)"));
    assert_non_null(strstr(wp_error_get_message(err), "the plugin's call deadline was reached"));
    wp_error_free(err);
    if (ms >= 1500) {
      kill(srv.pid, SIGCONT);
      fail_msg("the call took %llu ms, past its 300 ms deadline", (unsigned long long)ms);
    }
  }
  assert_int_equal(kill(srv.pid, SIGCONT), 0);
  /* Back: the next call reconnects and works. */
  assert_null(timed_kv(p, "get\nmain\nk", &ms, answer, sizeof answer));
  assert_string_equal(answer, "ok:v");
  assert_null(timed_kv(p, "set\nmain\nk\nw", &ms, answer, sizeof answer));
  assert_null(timed_kv(p, "get\nmain\nk", &ms, answer, sizeof answer));
  assert_string_equal(answer, "ok:w");
  wp_plugin_free(p);
  wp_engine_free(e);
}

/* ---- main ------------------------------------------------------------------------- */

#define T(f, cfg) {#f, f, NULL, NULL, cfg}
#define SUITE(cfg)                                                                         \
  T(test_basic, cfg), T(test_not_granted, cfg), T(test_keys, cfg), T(test_increment, cfg), \
      T(test_concurrent_increments, cfg), T(test_cas, cfg), T(test_limits, cfg),           \
      T(test_shared, cfg), T(test_batch, cfg), T(test_cas_conflict, cfg),                  \
      T(test_manifest_errors, cfg)
#define ALL(b) SUITE(&b[G_CORE]), SUITE(&b[G_COMPONENT]), SUITE(&b[G_DRAFT]), SUITE(&b[G_GO])

int main(void) {
  wp_test_save_wasm_signals();
  if (!mkdtemp(tmpdir)) return 1;
  const struct CMUnitTest memory_tests[] = {ALL(memory_b), T(test_bad_frames, &memory_b[G_CORE])};
  const struct CMUnitTest sqlite_tests[] = {ALL(sqlite_b)};
  const struct CMUnitTest redis_tests[] = {ALL(redis_b), T(test_redis_restart, &redis_b[G_CORE]),
                                           T(test_redis_restart, &redis_b[G_COMPONENT]),
                                           T(test_redis_deadline, &redis_b[G_CORE]),
                                           T(test_redis_deadline, &redis_b[G_COMPONENT])};
  const struct CMUnitTest default_tests[] = {T(test_default_store, NULL)};
  int failed = cmocka_run_group_tests_name("memory", memory_tests, setup_group, NULL);
  failed += cmocka_run_group_tests_name("sqlite", sqlite_tests, setup_group, NULL);
  failed += cmocka_run_group_tests_name("redis", redis_tests, setup_redis, teardown_redis);
  failed += cmocka_run_group_tests_name("default store", default_tests, NULL, NULL);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return failed ? 1 : 0;
}
