/*
 * config.c - the server's JSON document, checked field by field. Strict like
 * the plugin manifest: an unknown or misspelt field is an error that names
 * its path in the document ("routes[2].match.pathh"), so a typo never
 * silently becomes a default.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_MAX_BODY ((uint64_t)10 << 20)
#define DEFAULT_MAX_IDLE 64
#define DEFAULT_MAX_RESPONSE_BODY ((uint64_t)64 << 20)

static const char *const ROOT_KEYS[] = {
    "listen",       "workers",  "limits",  "plugins",      "routes", "access_log", "watch",
    "metrics_path", "clusters", "filters", "filter_chain", "tcp",    "keyvalue",   NULL};
static const char *const FILTER_KEYS[] = {"path",      "sha256",         "config", "config_file",
                                          "vm_config", "vm_config_file", "vm_id",  "root_id",
                                          "fail_open", "manifest",       NULL};
static const char *const TCP_KEYS[] = {"listen", "upstream", "filters", NULL};
static const char *const LIMIT_KEYS[] = {"header_timeout_ms", "body_timeout_ms", "idle_timeout_s",
                                         "max_connections",   "grace_ms",        NULL};
static const char *const PLUGIN_KEYS[] = {"path", "sha256", "manifest", NULL};
static const char *const ROUTE_KEYS[] = {"match",      "plugin",   "upstream",          "manifest",
                                         "timeout_ms", "max_body", "max_response_body", "instances",
                                         "filters",    "name",     "metadata",          NULL};
static const char *const MATCH_KEYS[] = {"path", "methods", "host", NULL};
static const char *const INSTANCE_KEYS[] = {"mode", "max_uses", "max_idle", NULL};
static const char *const KEYVALUE_KEYS[] = {"default", NULL};

static wp_error *fail(const char *path, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static wp_error *fail(const char *path, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return wp_error_new(WP_ERR_BAD_INPUT, "server config: %s%s%s", path, *path ? ": " : "", msg);
}

/* "parent.key" or "parent[i]" into buf. */
static const char *at(char *buf, size_t size, const char *parent, const char *key) {
  snprintf(buf, size, "%s%s%s", parent, *parent && key[0] != '[' ? "." : "", key);
  return buf;
}

static wp_error *check_keys(const cJSON *obj, const char *path, const char *const *known) {
  const cJSON *f;
  cJSON_ArrayForEach(f, obj) {
    bool ok = false;
    for (size_t i = 0; known[i] && !ok; i++) ok = strcmp(f->string, known[i]) == 0;
    if (ok) continue;
    char list[256] = "", buf[256];
    size_t n = 0;
    for (size_t i = 0; known[i] && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", known[i]);
    return fail(at(buf, sizeof buf, path, f->string), "unknown field (known: %s)", list);
  }
  return NULL;
}

static wp_error *want(const cJSON *v, int type, const char *path, const char *what) {
  if (v && (v->type & 0xff) == type) return NULL;
  return fail(path, "must be %s", what);
}

/* A whole number in [min, max]. */
static wp_error *get_uint(const cJSON *obj, const char *parent, const char *key, uint64_t min,
                          uint64_t max, uint64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) return NULL;
  char buf[256];
  at(buf, sizeof buf, parent, key);
  if (!cJSON_IsNumber(v) || v->valuedouble != (double)(uint64_t)v->valuedouble ||
      v->valuedouble < (double)min || v->valuedouble > (double)max)
    return fail(buf, "must be a whole number from %llu to %llu", (unsigned long long)min,
                (unsigned long long)max);
  *out = (uint64_t)v->valuedouble;
  return NULL;
}

static wp_error *get_string(const cJSON *obj, const char *parent, const char *key,
                            const char **out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) return NULL;
  char buf[256];
  if (!cJSON_IsString(v) || !v->valuestring[0])
    return fail(at(buf, sizeof buf, parent, key), "must be a non-empty string");
  *out = v->valuestring;
  return NULL;
}

/* A size: a number of bytes or a string such as "1MiB". */
static wp_error *get_size(const cJSON *obj, const char *parent, const char *key, uint64_t *out) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!v) return NULL;
  char buf[256];
  at(buf, sizeof buf, parent, key);
  if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e18 &&
      v->valuedouble == (double)(uint64_t)v->valuedouble) {
    *out = (uint64_t)v->valuedouble;
    return NULL;
  }
  if (cJSON_IsString(v) && wp_parse_size(v->valuestring, out)) return NULL;
  return fail(buf, "must be a size: bytes, or a string such as \"1MiB\"");
}

static wp_error *parse_limits(const cJSON *v, srv_settings *s) {
  wp_error *err;
  uint64_t n;
  if ((err = want(v, cJSON_Object, "limits", "an object")) ||
      (err = check_keys(v, "limits", LIMIT_KEYS)))
    return err;
  n = s->header_timeout_ms;
  if ((err = get_uint(v, "limits", "header_timeout_ms", 100, 3600000, &n))) return err;
  s->header_timeout_ms = (uint32_t)n;
  n = s->body_timeout_ms;
  if ((err = get_uint(v, "limits", "body_timeout_ms", 100, 3600000, &n))) return err;
  s->body_timeout_ms = (uint32_t)n;
  n = s->idle_timeout_s;
  if ((err = get_uint(v, "limits", "idle_timeout_s", 1, 86400, &n))) return err;
  s->idle_timeout_s = (uint32_t)n;
  n = s->max_connections;
  if ((err = get_uint(v, "limits", "max_connections", 1, 1000000, &n))) return err;
  s->max_connections = (unsigned)n;
  n = s->grace_ms;
  if ((err = get_uint(v, "limits", "grace_ms", 0, 3600000, &n))) return err;
  s->grace_ms = (uint32_t)n;
  return NULL;
}

static wp_error *parse_settings(const cJSON *doc, srv_config *c) {
  srv_settings *s = &c->settings;
  const char *listen = DEFAULT_LISTEN, *log = "stderr", *mpath = NULL;
  uint64_t workers = 2;
  wp_error *err;
  if ((err = get_string(doc, "", "listen", &listen)) ||
      (err = get_uint(doc, "", "workers", 1, 256, &workers)) ||
      (err = get_string(doc, "", "access_log", &log)) ||
      (err = get_string(doc, "", "metrics_path", &mpath)))
    return err;
  if (!strchr(listen, ':')) return fail("listen", "must be HOST:PORT, e.g. \"127.0.0.1:8080\"");
  if (mpath && mpath[0] != '/') return fail("metrics_path", "must start with '/'");
  s->workers = (unsigned)workers;
  s->header_timeout_ms = 10000;
  s->body_timeout_ms = 30000;
  s->idle_timeout_s = 30;
  s->max_connections = 1024;
  s->grace_ms = 10000;
  s->watch = true;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "watch");
  if (v) {
    if (!cJSON_IsBool(v)) return fail("watch", "must be true or false");
    s->watch = cJSON_IsTrue(v);
  }
  if ((v = cJSON_GetObjectItemCaseSensitive(doc, "limits")) && (err = parse_limits(v, s)))
    return err;
  s->listen = strdup(listen);
  s->access_log = strdup(log);
  c->metrics_path = mpath ? strdup(mpath) : NULL;
  if (!s->listen || !s->access_log || (mpath && !c->metrics_path)) return srv_no_memory();
  return NULL;
}

static char *resolve(const char *base_dir, const char *path) {
  if (path[0] == '/' || !base_dir || !*base_dir) return strdup(path);
  size_t n = strlen(base_dir) + strlen(path) + 2;
  char *out = malloc(n);
  if (out) snprintf(out, n, "%s/%s", base_dir, path);
  return out;
}

bool srv_valid_plugin_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return false;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          ch == '-' || ch == '_' || ch == '.'))
      return false;
  }
  return s[0] != '.';
}

static wp_error *parse_manifest_field(const cJSON *obj, const char *path, const cJSON **out) {
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, "manifest");
  if (!m) return NULL;
  char buf[256];
  at(buf, sizeof buf, path, "manifest");
  wp_error *err = want(m, cJSON_Object, buf, "an object (a plugin manifest, docs/manifest.md)");
  if (err) return err;
  if (cJSON_GetObjectItemCaseSensitive(m, "sources"))
    return fail(at(buf, sizeof buf, buf, "sources"),
                "not allowed here: the plugin's file is given by plugins.NAME.path");
  *out = m;
  return NULL;
}

static wp_error *parse_plugins(const cJSON *v, const char *base_dir, srv_config *c) {
  wp_error *err = want(v, cJSON_Object, "plugins", "an object of NAME: {\"path\": ...}");
  if (err) return err;
  size_t n = (size_t)cJSON_GetArraySize(v);
  c->plugins = calloc(n ? n : 1, sizeof *c->plugins);
  if (!c->plugins) return srv_no_memory();
  const cJSON *p;
  cJSON_ArrayForEach(p, v) {
    char path[256];
    snprintf(path, sizeof path, "plugins.%s", p->string);
    if (!srv_valid_plugin_name(p->string))
      return fail(path,
                  "a plugin name is 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    cfg_plugin *cp = &c->plugins[c->nplugins++];
    cp->name = p->string;
    const char *file = NULL;
    if ((err = want(p, cJSON_Object, path, "an object with \"path\"")) ||
        (err = check_keys(p, path, PLUGIN_KEYS)) || (err = get_string(p, path, "path", &file)) ||
        (err = get_string(p, path, "sha256", &cp->sha256)) ||
        (err = parse_manifest_field(p, path, &cp->manifest)))
      return err;
    if (!file) return fail(path, "\"path\" (the plugin's .wasm file) is missing");
    if (!(cp->path = resolve(base_dir, file))) return srv_no_memory();
  }
  return NULL;
}

static bool is_token(const char *s) { return s[0] && wp_http_header_name_valid(s, strlen(s)); }

static wp_error *parse_match(const cJSON *m, const char *path, cfg_route *r) {
  char buf[256];
  const char *p = NULL;
  wp_error *err;
  at(buf, sizeof buf, path, "match");
  if ((err = want(m, cJSON_Object, buf, "an object with \"path\"")) ||
      (err = check_keys(m, buf, MATCH_KEYS)) || (err = get_string(m, buf, "path", &p)))
    return err;
  if (!p) return fail(buf, "\"path\" is missing (an exact path, or a prefix ending in \"...\")");
  char pbuf[256];
  at(pbuf, sizeof pbuf, buf, "path");
  if (p[0] != '/') return fail(pbuf, "must start with '/'");
  size_t n = strlen(p);
  r->prefix = n >= 3 && strcmp(p + n - 3, "...") == 0;
  if (r->prefix) n -= 3;
  for (size_t i = 0; i < n; i++)
    if (p[i] == '?' || p[i] == '#' || (unsigned char)p[i] <= ' ' || p[i] == 0x7f)
      return fail(pbuf, "must not contain '?', '#', spaces or control characters");
  if (!(r->pattern = strdup(p)) || !(r->path = strndup(p, n))) return srv_no_memory();
  if ((err = get_string(m, buf, "host", &r->host))) return err;
  if (r->host && (strchr(r->host, ':') || strchr(r->host, '/') || strchr(r->host, ' ')))
    return fail(at(pbuf, sizeof pbuf, buf, "host"), "must be a host name without a port");
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(m, "methods");
  if (!ms) return NULL;
  at(pbuf, sizeof pbuf, buf, "methods");
  if ((err = want(ms, cJSON_Array, pbuf, "an array of methods such as [\"GET\", \"POST\"]")))
    return err;
  size_t k = (size_t)cJSON_GetArraySize(ms);
  if (k == 0) return fail(pbuf, "must list at least one method (omit it to allow any)");
  if (!(r->methods = calloc(k, sizeof *r->methods))) return srv_no_memory();
  const cJSON *e;
  cJSON_ArrayForEach(e, ms) {
    char ebuf[300];
    snprintf(ebuf, sizeof ebuf, "%s[%zu]", pbuf, r->nmethods);
    if (!cJSON_IsString(e) || !is_token(e->valuestring))
      return fail(ebuf, "must be an HTTP method such as \"GET\"");
    r->methods[r->nmethods++] = e->valuestring;
  }
  return NULL;
}

static wp_error *parse_instances(const cJSON *v, const char *path, cfg_route *r) {
  char buf[256];
  at(buf, sizeof buf, path, "instances");
  wp_error *err;
  const char *mode = "fresh";
  uint64_t uses = 1000, idle = DEFAULT_MAX_IDLE;
  if ((err = want(v, cJSON_Object, buf, "an object such as {\"mode\": \"reuse\"}")) ||
      (err = check_keys(v, buf, INSTANCE_KEYS)) || (err = get_string(v, buf, "mode", &mode)) ||
      (err = get_uint(v, buf, "max_uses", 1, UINT32_MAX, &uses)) ||
      (err = get_uint(v, buf, "max_idle", 0, 100000, &idle)))
    return err;
  char mbuf[300];
  snprintf(mbuf, sizeof mbuf, "%s.mode", buf);
  if (strcmp(mode, "fresh") == 0) r->reuse = false;
  else if (strcmp(mode, "reuse") == 0) r->reuse = true;
  else return fail(mbuf, "must be \"fresh\" (an instance per request) or \"reuse\"");
  r->max_uses = r->reuse ? (uint32_t)uses : 1;
  r->max_idle = (uint32_t)idle;
  return NULL;
}

static wp_error *check_plugin(const char *path, const srv_config *c, const cfg_route *r) {
  for (size_t j = 0; j < c->nplugins; j++)
    if (strcmp(c->plugins[j].name, r->plugin) == 0) return NULL;
  char list[256] = "";
  size_t n = 0;
  for (size_t j = 0; j < c->nplugins && n < sizeof list; j++)
    n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", j ? ", " : "", c->plugins[j].name);
  char pbuf[128];
  return fail(at(pbuf, sizeof pbuf, path, "plugin"), "no plugin '%s' (plugins: %s)", r->plugin,
              n ? list : "none");
}

/* What the route runs: a plugin, or (exactly one of them) an upstream. */
static wp_error *parse_target(const cJSON *v, const char *path, const char *upstream,
                              const srv_config *c, cfg_route *r) {
  char buf[128];
  if (r->plugin && upstream) return fail(path, "give either \"plugin\" or \"upstream\", not both");
  if (!r->plugin && !upstream)
    return fail(path, "\"plugin\" (a name from \"plugins\") or \"upstream\" (an http:// URL to "
                      "proxy to) is missing");
  if (r->plugin) return check_plugin(path, c, r);
  const char *why = upstream_url_check(upstream, true);
  if (why) return fail(at(buf, sizeof buf, path, "upstream"), "%s", why);
  static const char *const plugin_only[] = {"manifest", "instances", NULL};
  for (size_t k = 0; plugin_only[k]; k++)
    if (cJSON_GetObjectItemCaseSensitive(v, plugin_only[k]))
      return fail(at(buf, sizeof buf, path, plugin_only[k]),
                  "only for a plugin route (this route has \"upstream\")");
  if (!(r->upstream = upstream_url_normalize(upstream))) return srv_no_memory();
  return NULL;
}

static wp_error *parse_filter_names(const cJSON *v, const char *path, const srv_config *c,
                                    const char ***out, size_t *n);

static wp_error *parse_route(const cJSON *v, size_t i, srv_config *c) {
  char path[64];
  snprintf(path, sizeof path, "routes[%zu]", i);
  cfg_route *r = &c->routes[i];
  r->timeout_ms = 0; /* not given: the manifest's limits.timeout_ms, else the default */
  r->max_body = DEFAULT_MAX_BODY;
  r->max_response_body = DEFAULT_MAX_RESPONSE_BODY;
  r->max_uses = 1;
  r->max_idle = DEFAULT_MAX_IDLE;
  uint64_t t = 0;
  const char *upstream = NULL;
  wp_error *err;
  if ((err = want(v, cJSON_Object, path,
                  "an object with \"match\" and \"plugin\" or \"upstream\"")) ||
      (err = check_keys(v, path, ROUTE_KEYS)) ||
      (err = get_string(v, path, "plugin", &r->plugin)) ||
      (err = get_string(v, path, "upstream", &upstream)) ||
      (err = get_uint(v, path, "timeout_ms", 1, 3600000, &t)) ||
      (err = get_size(v, path, "max_body", &r->max_body)) ||
      (err = get_size(v, path, "max_response_body", &r->max_response_body)) ||
      (err = parse_manifest_field(v, path, &r->manifest)) ||
      (err = get_string(v, path, "name", &r->name)))
    return err;
  r->timeout_ms = (uint32_t)t;
  char fbuf[128];
  const cJSON *meta = cJSON_GetObjectItemCaseSensitive(v, "metadata");
  if (meta && (err = want(meta, cJSON_Object, at(fbuf, sizeof fbuf, path, "metadata"),
                          "an object of KEY: value (filters read route_metadata.KEY)")))
    return err;
  r->metadata = meta;
  const cJSON *fs = cJSON_GetObjectItemCaseSensitive(v, "filters");
  if (fs && (err = parse_filter_names(fs, at(fbuf, sizeof fbuf, path, "filters"), c, &r->filters,
                                      &r->nfilters)))
    return err;
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "match");
  if (!m) return fail(path, "\"match\" is missing (e.g. {\"path\": \"/api/...\"})");
  if ((err = parse_match(m, path, r))) return err;
  const cJSON *inst = cJSON_GetObjectItemCaseSensitive(v, "instances");
  if (inst && (err = parse_instances(inst, path, r))) return err;
  if ((err = parse_target(v, path, upstream, c, r))) return err;
  if (!r->name) r->name = r->pattern;
  /* Two routes with the same pattern and host and overlapping methods: the
     second could never match. */
  for (size_t j = 0; j < i; j++)
    if (strcmp(c->routes[j].pattern, r->pattern) == 0 && (!c->routes[j].methods || !r->methods) &&
        (c->routes[j].host ? r->host && strcmp(c->routes[j].host, r->host) == 0 : !r->host)) {
      char pbuf[128];
      return fail(at(pbuf, sizeof pbuf, path, "match.path"),
                  "'%s' is already routed by routes[%zu] for every method", r->pattern, j);
    }
  return NULL;
}

/* A list of filter names ("filter_chain", a route's or a TCP listener's
   "filters"), each defined. */
static wp_error *parse_filter_names(const cJSON *v, const char *path, const srv_config *c,
                                    const char ***out, size_t *n) {
  wp_error *err = want(v, cJSON_Array, path, "an array of filter names (from \"filters\")");
  if (err) return err;
  size_t k = (size_t)cJSON_GetArraySize(v);
  if (!(*out = calloc(k ? k : 1, sizeof **out))) return srv_no_memory();
  const cJSON *e;
  cJSON_ArrayForEach(e, v) {
    char ebuf[300];
    snprintf(ebuf, sizeof ebuf, "%s[%zu]", path, *n);
    bool known = false;
    for (size_t j = 0; cJSON_IsString(e) && j < c->nfilters && !known; j++)
      known = strcmp(c->filters[j].name, e->valuestring) == 0;
    if (!known) return fail(ebuf, "must name a filter defined in \"filters\"");
    (*out)[(*n)++] = e->valuestring;
  }
  return NULL;
}

/* A filter's configuration bytes: "KEY" (a string as it is, any other JSON
   value as its text) or "KEY_file" (the file's bytes), not both. */
static wp_error *config_bytes(const cJSON *obj, const char *path, const char *key,
                              const char *base_dir, char **out, size_t *len, char **from) {
  char fkey[32], buf[300];
  snprintf(fkey, sizeof fkey, "%s_file", key);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  const char *file = NULL;
  wp_error *err = get_string(obj, path, fkey, &file);
  if (err) return err;
  if (v && file)
    return fail(at(buf, sizeof buf, path, fkey), "give \"%s\" or \"%s\", not both", key, fkey);
  if (file) {
    char *p = resolve(base_dir, file);
    if (!p) return srv_no_memory();
    *out = srv_read_file(p, len);
    *from = p;
    if (!*out)
      return fail(at(buf, sizeof buf, path, fkey), "cannot read '%s': %s", file, strerror(errno));
    return NULL;
  }
  if (!v) return NULL;
  *out = cJSON_IsString(v) ? strdup(v->valuestring) : cJSON_PrintUnformatted(v);
  if (!*out) return srv_no_memory();
  *len = strlen(*out);
  return NULL;
}

static wp_error *parse_filter(const cJSON *f, const char *base_dir, cfg_filter *cf) {
  char path[256], buf[300];
  snprintf(path, sizeof path, "filters.%s", f->string);
  if (!srv_valid_plugin_name(f->string))
    return fail(path,
                "a filter name is 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
  cf->name = f->string;
  const char *file = NULL;
  wp_error *err;
  if ((err = want(f, cJSON_Object, path, "an object with \"path\"")) ||
      (err = check_keys(f, path, FILTER_KEYS)) || (err = get_string(f, path, "path", &file)) ||
      (err = get_string(f, path, "sha256", &cf->sha256)) ||
      (err = get_string(f, path, "vm_id", &cf->vm_id)) ||
      (err = get_string(f, path, "root_id", &cf->root_id)) ||
      (err = config_bytes(f, path, "config", base_dir, &cf->config, &cf->config_len,
                          &cf->config_file)) ||
      (err = config_bytes(f, path, "vm_config", base_dir, &cf->vm_config, &cf->vm_config_len,
                          &cf->vm_config_file)) ||
      (err = parse_manifest_field(f, path, &cf->manifest)))
    return err;
  const cJSON *fo = cJSON_GetObjectItemCaseSensitive(f, "fail_open");
  if (fo && !cJSON_IsBool(fo))
    return fail(at(buf, sizeof buf, path, "fail_open"), "must be true or false");
  cf->fail_open = cJSON_IsTrue(fo);
  if (!file) return fail(path, "\"path\" (the filter's .wasm file) is missing");
  if (!(cf->path = resolve(base_dir, file))) return srv_no_memory();
  return NULL;
}

/* "filters": {"NAME": {"path": ..., "config": ...}}: Proxy-Wasm filters. */
static wp_error *parse_filters(const cJSON *v, const char *base_dir, srv_config *c) {
  wp_error *err = want(v, cJSON_Object, "filters", "an object of NAME: {\"path\": ...}");
  if (err) return err;
  size_t n = (size_t)cJSON_GetArraySize(v);
  if (!(c->filters = calloc(n ? n : 1, sizeof *c->filters))) return srv_no_memory();
  const cJSON *f;
  cJSON_ArrayForEach(f, v) {
    if ((err = parse_filter(f, base_dir, &c->filters[c->nfilters++]))) return err;
  }
  return NULL;
}

/* "tcp": [{"listen": "HOST:PORT", "upstream": "HOST:PORT", "filters": [...]}]. */
static wp_error *parse_tcp(const cJSON *v, srv_config *c) {
  wp_error *err = want(v, cJSON_Array, "tcp", "an array of TCP listeners");
  if (err) return err;
  size_t n = (size_t)cJSON_GetArraySize(v);
  if (!(c->tcp = calloc(n ? n : 1, sizeof *c->tcp))) return srv_no_memory();
  const cJSON *t;
  cJSON_ArrayForEach(t, v) {
    char path[64], buf[128];
    snprintf(path, sizeof path, "tcp[%zu]", c->ntcp);
    cfg_tcp *ct = &c->tcp[c->ntcp++];
    if ((err = want(t, cJSON_Object, path, "an object with \"listen\" and \"upstream\"")) ||
        (err = check_keys(t, path, TCP_KEYS)) ||
        (err = get_string(t, path, "listen", &ct->listen)) ||
        (err = get_string(t, path, "upstream", &ct->upstream)))
      return err;
    if (!ct->listen || !strchr(ct->listen, ':'))
      return fail(at(buf, sizeof buf, path, "listen"), "must be HOST:PORT");
    if (!ct->upstream || !strchr(ct->upstream, ':'))
      return fail(at(buf, sizeof buf, path, "upstream"), "must be HOST:PORT");
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(t, "filters");
    if (fs && (err = parse_filter_names(fs, at(buf, sizeof buf, path, "filters"), c, &ct->filters,
                                        &ct->nfilters)))
      return err;
  }
  return NULL;
}

/* "keyvalue": {"default": {bucket spec}}: the store of keyvalue buckets that
   name no backend. The spec is checked whole when the server sets it on the
   engine (wp_engine_set_keyvalue_default); here its shape, and a relative
   sqlite "path" is resolved against the config's directory as plugin paths
   are. Kept as JSON text in the settings. */
static wp_error *parse_keyvalue(const cJSON *v, const char *base_dir, srv_settings *s) {
  wp_error *err;
  if ((err = want(v, cJSON_Object, "keyvalue",
                  "an object such as {\"default\": {\"backend\": \"sqlite\", \"path\": "
                  "\"kv.db\"}}")) ||
      (err = check_keys(v, "keyvalue", KEYVALUE_KEYS)))
    return err;
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "default");
  if (!d) return NULL;
  if ((err = want(d, cJSON_Object, "keyvalue.default",
                  "a bucket spec such as {\"backend\": \"sqlite\", \"path\": \"kv.db\"} "
                  "(docs/capabilities.md)")))
    return err;
  cJSON *spec = cJSON_Duplicate(d, 1);
  if (!spec) return srv_no_memory();
  cJSON *path = cJSON_GetObjectItemCaseSensitive(spec, "path");
  if (cJSON_IsString(path) && path->valuestring[0] && path->valuestring[0] != '/') {
    char *abs = resolve(base_dir, path->valuestring);
    if (!abs || !cJSON_SetValuestring(path, abs)) err = srv_no_memory();
    free(abs);
  }
  if (!err && !(s->keyvalue_default = cJSON_PrintUnformatted(spec))) err = srv_no_memory();
  cJSON_Delete(spec);
  return err;
}

/* "clusters": {"NAME": "http://HOST:PORT", ...}, the upstreams filters call. */
static wp_error *parse_clusters(const cJSON *v, srv_config *c) {
  wp_error *err = want(v, cJSON_Object, "clusters", "an object of NAME: \"http://HOST:PORT\"");
  if (err) return err;
  size_t n = (size_t)cJSON_GetArraySize(v);
  if (!(c->clusters = calloc(n ? n : 1, sizeof *c->clusters))) return srv_no_memory();
  const cJSON *e;
  cJSON_ArrayForEach(e, v) {
    char path[128];
    snprintf(path, sizeof path, "clusters.%s", e->string);
    if (!srv_valid_plugin_name(e->string))
      return fail(path,
                  "a cluster name is 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    if (!cJSON_IsString(e)) return fail(path, "must be a URL string such as \"http://HOST:PORT\"");
    const char *why = upstream_url_check(e->valuestring, false);
    if (why) return fail(path, "%s", why);
    cfg_cluster *cl = &c->clusters[c->nclusters++];
    cl->name = e->string;
    if (!(cl->url = upstream_url_normalize(e->valuestring))) return srv_no_memory();
  }
  return NULL;
}

wp_error *config_parse(cJSON *doc, const char *base_dir, srv_config **out) {
  *out = NULL;
  srv_config *c = calloc(1, sizeof *c);
  if (!c) {
    cJSON_Delete(doc);
    return srv_no_memory();
  }
  c->doc = doc;
  wp_error *err = want(doc, cJSON_Object, "", "a JSON object (the server config)");
  if (!err) err = check_keys(doc, "", ROOT_KEYS);
  if (!err) err = parse_settings(doc, c);
  const cJSON *v;
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "plugins")))
    err = parse_plugins(v, base_dir, c);
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "clusters"))) err = parse_clusters(v, c);
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "filters")))
    err = parse_filters(v, base_dir, c);
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "filter_chain")))
    err = parse_filter_names(v, "filter_chain", c, &c->chain, &c->nchain);
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "tcp"))) err = parse_tcp(v, c);
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "keyvalue")))
    err = parse_keyvalue(v, base_dir, &c->settings);
  if (!err && (v = cJSON_GetObjectItemCaseSensitive(doc, "routes"))) {
    err = want(v, cJSON_Array, "routes", "an array of routes");
    size_t n = err ? 0 : (size_t)cJSON_GetArraySize(v);
    if (!err && !(c->routes = calloc(n ? n : 1, sizeof *c->routes))) err = srv_no_memory();
    const cJSON *r;
    size_t i = 0;
    if (!err) cJSON_ArrayForEach(r, v) {
        c->nroutes = i + 1;
        if ((err = parse_route(r, i++, c))) break;
      }
  }
  if (err) {
    config_free(c);
    return err;
  }
  *out = c;
  return NULL;
}

void config_free(srv_config *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nplugins; i++) free(c->plugins[i].path);
  free(c->plugins);
  for (size_t i = 0; i < c->nroutes; i++) {
    free(c->routes[i].pattern);
    free(c->routes[i].path);
    free(c->routes[i].methods);
    free(c->routes[i].upstream);
    free(c->routes[i].filters);
  }
  for (size_t i = 0; i < c->nfilters; i++) {
    free(c->filters[i].path);
    free(c->filters[i].config);
    free(c->filters[i].vm_config);
    free(c->filters[i].config_file);
    free(c->filters[i].vm_config_file);
  }
  free(c->filters);
  free(c->chain);
  for (size_t i = 0; i < c->ntcp; i++) free(c->tcp[i].filters);
  free(c->tcp);
  for (size_t i = 0; i < c->nclusters; i++) free(c->clusters[i].url);
  free(c->clusters);
  free(c->routes);
  free(c->settings.listen);
  free(c->settings.access_log);
  free(c->settings.keyvalue_default);
  free(c->metrics_path);
  cJSON_Delete(c->doc);
  free(c);
}
