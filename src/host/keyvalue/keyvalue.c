/*
 * keyvalue.c - the keyvalue capability (keyvalue.h): its manifest section,
 * the stores the engine keeps open, and the checked operations on a bucket.
 */
#include "host/keyvalue/keyvalue.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/keyvalue/kv.h"

/* An open store, shared by the buckets that name it. */
struct kv_conn {
  const kv_methods *m;
  char *target; /* path or URL; NULL for memory */
  void *state;
  size_t refs; /* under kv_cap.lock */
  kv_cap *kc;
  kv_conn *next;
};

#define FIELD "capabilities.keyvalue.buckets"

/* ---- keys, numbers, cursors ---------------------------------------------------- */

bool kv_keys_add(kv_keys *k, const char *key, size_t len) {
  if (k->n == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 16;
    char **n = realloc(k->keys, cap * sizeof *n);
    if (!n) return false;
    k->keys = n;
    k->cap = cap;
  }
  char *s = malloc(len + 1);
  if (!s) return false;
  if (len) memcpy(s, key, len);
  s[len] = '\0';
  k->keys[k->n++] = s;
  return true;
}

void kv_keys_free(kv_keys *k) {
  for (size_t i = 0; i < k->n; i++) free(k->keys[i]);
  free(k->keys);
  *k = (kv_keys){0};
}

bool kv_parse_i64(const uint8_t *s, size_t len, int64_t *out) {
  size_t i = 0;
  bool neg = len && s[0] == '-';
  if (neg) i = 1;
  if (i == len || len - i > 19) return false;
  uint64_t v = 0;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return false;
  *out = neg ? (int64_t)(0 - v) : (int64_t)v;
  return true;
}

bool kv_add_i64(int64_t *v, int64_t delta) {
  if ((delta > 0 && *v > INT64_MAX - delta) || (delta < 0 && *v < INT64_MIN - delta)) return false;
  *v += delta;
  return true;
}

bool kv_parse_cursor(const char *s, size_t len, uint64_t *out) {
  if (!len || len > 20) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    uint64_t d = (uint64_t)(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

/* ---- stores --------------------------------------------------------------------- */

static wp_error *conn_get(kv_cap *kc, const kv_methods *m, const char *target, kv_conn **out) {
  wp_error *err = NULL;
  pthread_mutex_lock(&kc->lock);
  kv_conn *c = kc->conns;
  while (c && !(c->m == m && ((!c->target && !target) ||
                              (c->target && target && strcmp(c->target, target) == 0))))
    c = c->next;
  if (c) {
    c->refs++;
  } else if (!(c = calloc(1, sizeof *c)) || (target && !(c->target = strdup(target)))) {
    if (c) free(c);
    c = NULL;
    err = KV_OOM();
  } else if ((err = m->open(target, &c->state))) {
    free(c->target);
    free(c);
    c = NULL;
  } else {
    c->m = m;
    c->refs = 1;
    c->kc = kc;
    c->next = kc->conns;
    kc->conns = c;
  }
  pthread_mutex_unlock(&kc->lock);
  *out = c;
  return err;
}

static void conn_put(kv_conn *c) {
  kv_cap *kc = c->kc;
  pthread_mutex_lock(&kc->lock);
  bool last = --c->refs == 0;
  if (last) {
    kv_conn **p = &kc->conns;
    while (*p != c) p = &(*p)->next;
    *p = c->next;
  }
  pthread_mutex_unlock(&kc->lock);
  if (!last) return;
  c->m->close(c->state);
  free(c->target);
  free(c);
}

/* ---- the manifest section -------------------------------------------------------- */

static void grant_free(void *data, void *g) {
  (void)data;
  kv_grant *gr = g;
  for (size_t i = 0; i < gr->n; i++) {
    free(gr->buckets[i].name);
    free(gr->buckets[i].ns);
    if (gr->buckets[i].conn) conn_put(gr->buckets[i].conn);
  }
  free(gr->buckets);
  free(gr->plugin);
  free(gr);
}

static bool bucket_name_ok(const char *s) {
  size_t n = strlen(s);
  if (!n || n > WP_KV_MAX_BUCKET_NAME) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.' || c == ':'))
      return false;
  }
  return true;
}

/* The text of optional string member `key`, NULL when absent; *bad when it
   is there but not a string. */
static const char *opt_string(const cJSON *o, const char *key, bool *bad) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return NULL;
  if (!cJSON_IsString(v)) {
    *bad = true;
    return NULL;
  }
  return v->valuestring;
}

/* An absolute path for a sqlite file (relative: against the working directory). */
static wp_error *abs_path(const char *where, const char *path, char **out) {
  if (path[0] == '/') {
    *out = strdup(path);
  } else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
      return wp_error_new(WP_ERR_IO,
                          "%s.path: '%s' is relative and the working directory cannot be read; "
                          "give an absolute path",
                          where, path);
    size_t n = strlen(cwd) + 1 + strlen(path) + 1;
    if ((*out = malloc(n))) snprintf(*out, n, "%s/%s", cwd, path);
  }
  return *out ? NULL : KV_OOM();
}

static wp_error *parse_limit(const char *where, const cJSON *o, const char *key, bool size,
                             uint64_t ceil, bool *given, uint64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  if (!v) return NULL;
  uint64_t n = 0;
  bool ok = false;
  if (cJSON_IsNumber(v)) {
    ok = v->valuedouble >= 0 && v->valuedouble <= 9007199254740992.0 &&
         v->valuedouble == (double)(uint64_t)v->valuedouble;
    n = ok ? (uint64_t)v->valuedouble : 0;
  } else if (size && cJSON_IsString(v)) {
    ok = wp_parse_size(v->valuestring, &n);
  }
  if (!ok)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.%s must be %s", where, key,
                        size ? "a size such as \"1MiB\" or a number of bytes"
                             : "a whole number (0: no limit)");
  if (ceil && (n > ceil || n == 0))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.%s is %" PRIu64 "; it must be 1 to %" PRIu64, where,
                        key, n, ceil);
  *given = true;
  *out = n;
  return NULL;
}

static void spec_clear(kv_spec *s) {
  free(s->target);
  free(s->prefix);
  *s = (kv_spec){0};
}

static wp_error *spec_copy(const kv_spec *from, kv_spec *to) {
  *to = *from;
  to->target = from->target ? strdup(from->target) : NULL;
  to->prefix = from->prefix ? strdup(from->prefix) : NULL;
  if ((from->target && !to->target) || (from->prefix && !to->prefix)) {
    spec_clear(to);
    return KV_OOM();
  }
  return NULL;
}

/* Checks the bucket spec `o` (`where` names it in messages: "plugin 'x':
   capabilities.keyvalue.buckets.NAME"). No backend leaves s->m NULL. */
static wp_error *parse_spec(const char *where, const cJSON *o, kv_spec *s) {
  *s = (kv_spec){0};
  if (!cJSON_IsObject(o))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s must be an object such as {\"backend\": \"memory\"}",
                        where);
  for (const cJSON *f = o->child; f; f = f->next) {
    static const char *known[] = {"backend", "path", "url", "prefix", "max_value_size", "max_keys"};
    size_t k = 0;
    while (k < sizeof known / sizeof *known && strcmp(known[k], f->string) != 0) k++;
    if (k == sizeof known / sizeof *known)
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s: unknown field '%.64s' (fields: backend, path, url, prefix, "
                          "max_value_size, max_keys)",
                          where, f->string);
  }
  bool bad = false;
  const char *backend = opt_string(o, "backend", &bad);
  const char *path = opt_string(o, "path", &bad);
  const char *url = opt_string(o, "url", &bad);
  const char *prefix = opt_string(o, "prefix", &bad);
  if (bad)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: backend, path, url and prefix must be strings",
                        where);
  const char *target = NULL;
  if (!backend) {
    if (path || url)
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s.%s needs a \"backend\" (%s): a bucket without one uses the "
                          "engine's default store, which the embedder chooses",
                          where, path ? "path" : "url", path ? "sqlite" : "redis");
  } else if (strcmp(backend, "memory") == 0) {
    s->m = &kv_memory_methods;
  } else if (strcmp(backend, "sqlite") == 0) {
    s->m = &kv_sqlite_methods;
    target = path;
  } else if (strcmp(backend, "redis") == 0) {
    s->m = &kv_redis_methods;
    target = url;
  } else {
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s.backend: '%.64s' is not a backend (memory, sqlite or redis)", where,
                        backend);
  }
  if (s->m && path && s->m != &kv_sqlite_methods)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.path is for the sqlite backend only", where);
  if (s->m && url && s->m != &kv_redis_methods)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.url is for the redis backend only", where);
  if (s->m && s->m != &kv_memory_methods && (!target || !*target))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.%s is required for the %s backend", where,
                        s->m == &kv_sqlite_methods ? "path" : "url", backend);
  if (prefix && strlen(prefix) > WP_KV_MAX_PREFIX)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.prefix is longer than %d bytes", where,
                        WP_KV_MAX_PREFIX);
  wp_error *err = parse_limit(where, o, "max_value_size", true, WP_KV_MAX_VALUE_SIZE,
                              &s->has_max_value, &s->max_value);
  if (!err) err = parse_limit(where, o, "max_keys", false, 0, &s->has_max_keys, &s->max_keys);
  if (err) return err;
  if (prefix && !(s->prefix = strdup(prefix))) return KV_OOM();
  if (s->m == &kv_sqlite_methods) err = abs_path(where, target, &s->target);
  else if (target && !(s->target = strdup(target))) err = KV_OOM();
  if (err) spec_clear(s);
  return err;
}

/* Makes the directory of the file `path` (absolute), and its missing
   parents, mode 0700. */
static wp_error *make_dir_of(const char *where, const char *path) {
  char *dir = strdup(path);
  if (!dir) return KV_OOM();
  char *slash = strrchr(dir, '/');
  wp_error *err = NULL;
  if (slash && slash != dir) {
    *slash = '\0';
    for (char *p = dir + 1; !err; p++) {
      if (*p != '/' && *p) continue;
      char c = *p;
      *p = '\0';
      if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        err = wp_error_new(WP_ERR_IO,
                           "%s: cannot make the directory '%s' of the engine's default sqlite "
                           "file '%s': %s",
                           where, dir, path, strerror(errno));
      *p = c;
      if (!c) break;
    }
  }
  free(dir);
  return err;
}

/* The spec of a bucket without a backend: the engine's default, with the
   bucket's own prefix and limits over it. */
static wp_error *with_default(kv_cap *kc, const char *where, kv_spec *s) {
  kv_spec d;
  pthread_mutex_lock(&kc->lock);
  wp_error *err = spec_copy(&kc->dflt, &d);
  pthread_mutex_unlock(&kc->lock);
  if (err) return err;
  if (!d.m)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s.backend is missing and the engine has no default keyvalue backend: "
                        "give \"backend\" (memory, sqlite or redis), or the embedder can set a "
                        "default (wp_engine_set_keyvalue_default; wasmplug serve sets one)",
                        where);
  s->m = d.m;
  s->target = d.target;
  if (!s->prefix) s->prefix = d.prefix;
  else free(d.prefix);
  if (!s->has_max_value) s->has_max_value = d.has_max_value, s->max_value = d.max_value;
  if (!s->has_max_keys) s->has_max_keys = d.has_max_keys, s->max_keys = d.max_keys;
  return s->m == &kv_sqlite_methods ? make_dir_of(where, s->target) : NULL;
}

static wp_error *parse_bucket(kv_cap *kc, const char *plugin, const cJSON *o, kv_bucket *b) {
  const char *name = o->string;
  if (!bucket_name_ok(name))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "plugin '%s': " FIELD ": '%.64s' is not a bucket name (1 to %d of "
                        "A-Z a-z 0-9 _ - . :)",
                        plugin, name, WP_KV_MAX_BUCKET_NAME);
  char where[640];
  snprintf(where, sizeof where, "plugin '%.300s': " FIELD ".%s", plugin, name);
  kv_spec s;
  wp_error *err = parse_spec(where, o, &s);
  if (!err && !s.m) err = with_default(kc, where, &s);
  if (err) {
    spec_clear(&s);
    return err;
  }
  b->max_value = s.has_max_value ? s.max_value : WP_KV_DEFAULT_MAX_VALUE_SIZE;
  b->max_keys = s.has_max_keys ? s.max_keys : WP_KV_DEFAULT_MAX_KEYS;
  const char *prefix = s.prefix ? s.prefix : s.m == &kv_redis_methods ? "wasmplug:kv:" : "";
  size_t nslen = strlen(prefix) + strlen(name) + 1;
  if (!(b->name = strdup(name)) || !(b->ns = malloc(nslen))) {
    spec_clear(&s);
    return KV_OOM();
  }
  snprintf(b->ns, nslen, "%s%s", prefix, name);
  err = conn_get(kc, s.m, s.target, &b->conn);
  spec_clear(&s);
  if (err) {
    wp_error *named = wp_error_new(wp_error_get_kind(err), "%s: %s", where,
                                   wp_error_get_message(err));
    wp_error_free(err);
    return named;
  }
  return NULL;
}

static wp_error *grant(void *data, const char *plugin, const char *section, size_t len,
                       void **out) {
  (void)len;
  kv_cap *kc = data;
  *out = NULL;
  if (!section) return NULL;
  cJSON *doc = cJSON_Parse(section);
  const cJSON *buckets = cJSON_GetObjectItemCaseSensitive(doc, "buckets");
  wp_error *err = NULL;
  if (!cJSON_IsObject(doc) || !cJSON_IsObject(buckets) || cJSON_GetArraySize(doc) != 1)
    err = wp_error_new(WP_ERR_BAD_INPUT,
                       "plugin '%s': capabilities.keyvalue must be {\"buckets\": {NAME: "
                       "{\"backend\": \"memory\" | \"sqlite\" | \"redis\", ...}}}",
                       plugin);
  kv_grant *g = err ? NULL : calloc(1, sizeof *g);
  size_t n = err ? 0 : (size_t)cJSON_GetArraySize(buckets);
  if (!err &&
      (!g || !(g->plugin = strdup(plugin)) || (n && !(g->buckets = calloc(n, sizeof *g->buckets)))))
    err = KV_OOM();
  for (const cJSON *b = err ? NULL : buckets->child; b && !err; b = b->next) {
    for (size_t i = 0; i < g->n; i++)
      if (strcmp(g->buckets[i].name, b->string) == 0)
        err = wp_error_new(WP_ERR_BAD_INPUT, "plugin '%s': " FIELD ": bucket '%s' is given twice",
                           plugin, b->string);
    if (!err) err = parse_bucket(kc, plugin, b, &g->buckets[g->n]);
    g->n++; /* a half-made bucket is freed with the rest */
  }
  cJSON_Delete(doc);
  if (err) {
    if (g) grant_free(kc, g);
    return err;
  }
  *out = g;
  return NULL;
}

static void cap_free(void *data) {
  kv_cap *kc = data;
  spec_clear(&kc->dflt);
  free(kc->dflt_json);
  pthread_mutex_destroy(&kc->lock);
  free(kc);
}

static wp_error *set_default(kv_cap *kc, const char *spec_json);

/* The default backend travels to the engine of an isolated plugin's worker,
   so that its buckets without a backend land in the same store. */
static char *settings_get(void *data) {
  kv_cap *kc = data;
  pthread_mutex_lock(&kc->lock);
  char *json = kc->dflt_json ? strdup(kc->dflt_json) : NULL;
  pthread_mutex_unlock(&kc->lock);
  return json;
}

static wp_error *settings_apply(void *data, const char *json) { return set_default(data, json); }

static const wp_capability_methods methods = {.name = "keyvalue",
                                              .grant = grant,
                                              .grant_free = grant_free,
                                              .free = cap_free,
                                              .settings_get = settings_get,
                                              .settings_apply = settings_apply};

wp_error *wp_host_keyvalue_install(wp_engine *e) {
  kv_cap *kc = calloc(1, sizeof *kc);
  if (!kc) return KV_OOM();
  pthread_mutex_init(&kc->lock, NULL);
  wp_error *err = wp_engine_add_capability(e, &methods, kc, &kc->cap);
  if (err) {
    cap_free(kc);
    return err;
  }
  /* From here the engine owns kc. */
  err = kv_define_core(e, kc);
  if (!err) err = kv_define_component(e, kc);
  return err;
}

/* ---- the default of buckets without a backend -------------------------------------- */

#define SET_DEFAULT "wp_engine_set_keyvalue_default"

wp_error *wp_engine_set_keyvalue_default(wp_engine *engine, const char *spec_json) {
  if (!engine) return wp_error_new(WP_ERR_BAD_INPUT, SET_DEFAULT ": the engine is NULL");
  const wp_capability *cap = wp_engine_get_capability(engine, "keyvalue");
  kv_cap *kc = cap ? wp_capability_get_data(cap) : NULL;
  if (!kc)
    return wp_error_new(WP_ERR_BAD_INPUT, SET_DEFAULT ": the engine has no keyvalue capability");
  return set_default(kc, spec_json);
}

static wp_error *set_default(kv_cap *kc, const char *spec_json) {
  kv_spec s = {0};
  if (spec_json) {
    cJSON *doc = cJSON_Parse(spec_json);
    wp_error *err = !doc ? wp_error_new(
                               WP_ERR_BAD_INPUT, SET_DEFAULT
                               ": the spec is not JSON; give an object such as "
                               "{\"backend\": \"sqlite\", \"path\": \"/var/lib/app/kv.db\"}")
                         : parse_spec(SET_DEFAULT ": spec", doc, &s);
    cJSON_Delete(doc);
    if (!err && !s.m)
      err = wp_error_new(WP_ERR_BAD_INPUT,
                         SET_DEFAULT ": spec.backend is missing (memory, sqlite or redis)");
    /* A Redis URL is checked now (opening one does not connect). */
    void *state = NULL;
    if (!err && s.m == &kv_redis_methods && !(err = s.m->open(s.target, &state))) s.m->close(state);
    if (err) {
      spec_clear(&s);
      if (strncmp(wp_error_get_message(err), SET_DEFAULT, strlen(SET_DEFAULT)) == 0) return err;
      wp_error *named = wp_error_new(wp_error_get_kind(err), SET_DEFAULT ": spec: %s",
                                     wp_error_get_message(err));
      wp_error_free(err);
      return named;
    }
  }
  char *json = spec_json ? strdup(spec_json) : NULL;
  if (spec_json && !json) {
    spec_clear(&s);
    return KV_OOM();
  }
  pthread_mutex_lock(&kc->lock);
  kv_spec old = kc->dflt;
  char *old_json = kc->dflt_json;
  kc->dflt = s;
  kc->dflt_json = json;
  pthread_mutex_unlock(&kc->lock);
  spec_clear(&old);
  free(old_json);
  return NULL;
}

/* ---- operations ------------------------------------------------------------------ */

wp_error *kv_bucket_for(kv_cap *kc, wp_host_call *call, const char *name, size_t len,
                        const kv_bucket **out) {
  const wp_plugin *p = wp_instance_get_plugin(wp_host_call_get_instance(call));
  const kv_grant *g = wp_plugin_get_grant(p, kc->cap);
  for (size_t i = 0; g && i < g->n; i++)
    if (strlen(g->buckets[i].name) == len && memcmp(g->buckets[i].name, name, len) == 0) {
      *out = &g->buckets[i];
      return NULL;
    }
  char granted[256] = "";
  size_t at = 0;
  for (size_t i = 0; g && i < g->n && at < sizeof granted; i++) {
    int w = snprintf(granted + at, sizeof granted - at, "%s%s", i ? ", " : "", g->buckets[i].name);
    if (w < 0) break;
    at += (size_t)w;
  }
  if (len > WP_KV_MAX_BUCKET_NAME)
    return wp_error_new(WP_ERR_HOST,
                        "plugin '%s': no keyvalue bucket has a name of %zu bytes; the buckets "
                        "granted under " FIELD " are: %s",
                        wp_plugin_get_name(p), len, g && g->n ? granted : "none");
  return wp_error_new(WP_ERR_HOST,
                      "plugin '%s': keyvalue bucket '%.*s' is not granted; grant it in the "
                      "manifest under " FIELD " (granted: %s)",
                      wp_plugin_get_name(p), (int)len, name, g && g->n ? granted : "none");
}

wp_error *kv_check_key(const kv_bucket *b, const char *key, size_t len) {
  if (!len)
    return wp_error_new(WP_ERR_HOST, "keyvalue bucket '%s': a key must not be empty", b->name);
  if (len > WP_KV_MAX_KEY)
    return wp_error_new(WP_ERR_HOST,
                        "keyvalue bucket '%s': a key is %zu bytes, more than the %d allowed",
                        b->name, len, WP_KV_MAX_KEY);
  if (memchr(key, 0, len))
    return wp_error_new(WP_ERR_HOST, "keyvalue bucket '%s': a key must not hold a NUL", b->name);
  return NULL;
}

static wp_error *check_value(const kv_bucket *b, size_t len) {
  if (len <= b->max_value) return NULL;
  return wp_error_new(WP_ERR_HOST,
                      "keyvalue bucket '%s': the value is %zu bytes, more than its max_value_size "
                      "(%" PRIu64 "; raise it under " FIELD ".%s.max_value_size)",
                      b->name, len, b->max_value, b->name);
}

/* Names the bucket in a backend's message. */
static wp_error *named(const kv_bucket *b, wp_error *err) {
  if (!err) return NULL;
  wp_error *e = wp_error_new(wp_error_get_kind(err), "keyvalue bucket '%s' (%s): %s", b->name,
                             b->conn->m->name, wp_error_get_message(err));
  wp_error_free(err);
  return e;
}

bool kv_ends_call(const wp_error *err) {
  return err &&
         (wp_error_get_kind(err) == WP_ERR_TIMEOUT || wp_error_get_kind(err) == WP_ERR_INTERRUPTED);
}

/* What the backend is told: the bucket, and the time left in the call.
   Refuses to start when the call was interrupted or its deadline passed. */
static wp_error *ns_for(const kv_bucket *b, const wp_host_call *call, kv_ns *ns) {
  *ns = (kv_ns){b->ns, strlen(b->ns), b->max_keys, wp_host_call_time_left_ms(call)};
  if (call && wp_host_call_interrupted(call))
    return wp_error_new(WP_ERR_INTERRUPTED,
                        "keyvalue bucket '%s': the plugin's call was interrupted", b->name);
  if (ns->budget_ms == 0)
    return wp_error_new(WP_ERR_TIMEOUT, "keyvalue bucket '%s' (%s): " KV_DEADLINE, b->name,
                        b->conn->m->name, 0ULL);
  return NULL;
}

wp_error *kv_op_get(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                    bool *found, kv_bytes *out) {
  kv_ns ns;
  wp_error *err = kv_check_key(b, key, klen);
  if (!err) err = ns_for(b, call, &ns);
  if (err) return err;
  *out = (kv_bytes){0};
  return named(b, b->conn->m->get(b->conn->state, &ns, key, klen, found, out));
}

wp_error *kv_op_set(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                    const uint8_t *v, size_t vlen) {
  kv_ns ns;
  wp_error *err = kv_check_key(b, key, klen);
  if (!err) err = check_value(b, vlen);
  if (!err) err = ns_for(b, call, &ns);
  if (err) return err;
  return named(b, b->conn->m->set(b->conn->state, &ns, key, klen, v, vlen));
}

wp_error *kv_op_delete(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen) {
  kv_ns ns;
  wp_error *err = kv_check_key(b, key, klen);
  if (!err) err = ns_for(b, call, &ns);
  if (err) return err;
  return named(b, b->conn->m->del(b->conn->state, &ns, key, klen));
}

wp_error *kv_op_exists(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                       bool *found) {
  kv_ns ns;
  wp_error *err = kv_check_key(b, key, klen);
  if (!err) err = ns_for(b, call, &ns);
  if (err) return err;
  return named(b, b->conn->m->exists(b->conn->state, &ns, key, klen, found));
}

wp_error *kv_op_keys(const kv_bucket *b, const wp_host_call *call, uint64_t cursor, kv_keys *out) {
  kv_ns ns;
  *out = (kv_keys){0};
  wp_error *err = ns_for(b, call, &ns);
  if (err) return err;
  err = named(b, b->conn->m->keys(b->conn->state, &ns, cursor, out));
  if (err) kv_keys_free(out);
  return err;
}

wp_error *kv_op_increment(const kv_bucket *b, const wp_host_call *call, const char *key,
                          size_t klen, int64_t delta, int64_t *out) {
  kv_ns ns;
  wp_error *err = kv_check_key(b, key, klen);
  if (!err) err = ns_for(b, call, &ns);
  if (err) return err;
  return named(b, b->conn->m->increment(b->conn->state, &ns, key, klen, delta, out));
}

wp_error *kv_op_cas(const kv_bucket *b, const wp_host_call *call, const char *key, size_t klen,
                    const kv_bytes *expected, const uint8_t *v, size_t vlen, bool *swapped) {
  kv_ns ns;
  wp_error *err = kv_check_key(b, key, klen);
  if (!err) err = check_value(b, vlen);
  if (!err) err = ns_for(b, call, &ns);
  if (err) return err;
  return named(b, b->conn->m->cas(b->conn->state, &ns, key, klen, expected, v, vlen, swapped));
}
