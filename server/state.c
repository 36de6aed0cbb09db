/*
 * state.c - what requests run on, and how it changes.
 *
 * A state is a parsed config plus, per route, its plugin and instance pool.
 * It is built whole (every plugin loaded, compiled and checked to be an HTTP
 * handler) before it is published with one pointer swap; a request takes a
 * reference at its start and drops it when done, so requests already running
 * finish on the state they began with and the last one frees it. Plugins
 * whose file and manifest did not change are kept across states (no
 * recompilation); the rest are loaded anew.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "server.h"

/* ---- manifests ------------------------------------------------------------------ */

/* The plugin's manifest with the route's merged over it: a route's object
   fields ("limits", "wasi", "config") are merged member by member, anything
   else replaces. Then the route's timeout. */
static cJSON *effective_manifest(const cfg_plugin *p, const cfg_route *r) {
  cJSON *m = p->manifest ? cJSON_Duplicate(p->manifest, 1) : cJSON_CreateObject();
  if (!m) return NULL;
  const cJSON *f;
  if (r->manifest) cJSON_ArrayForEach(f, r->manifest) {
      cJSON *mine = cJSON_GetObjectItemCaseSensitive(m, f->string);
      if (mine && cJSON_IsObject(mine) && cJSON_IsObject(f)) {
        const cJSON *g;
        cJSON_ArrayForEach(g, f) {
          cJSON *copy = cJSON_Duplicate(g, 1);
          if (!copy) goto fail;
          cJSON_DeleteItemFromObjectCaseSensitive(mine, g->string);
          cJSON_AddItemToObject(mine, g->string, copy);
        }
      } else {
        cJSON *copy = cJSON_Duplicate(f, 1);
        if (!copy) goto fail;
        cJSON_DeleteItemFromObjectCaseSensitive(m, f->string);
        cJSON_AddItemToObject(m, f->string, copy);
      }
    }
  cJSON *limits = cJSON_GetObjectItemCaseSensitive(m, "limits");
  if (!limits) limits = cJSON_AddObjectToObject(m, "limits");
  if (!limits || !cJSON_IsObject(limits)) return m; /* the manifest parser reports it */
  if (r->timeout_ms || !cJSON_GetObjectItemCaseSensitive(limits, "timeout_ms")) {
    cJSON_DeleteItemFromObjectCaseSensitive(limits, "timeout_ms");
    if (!cJSON_AddNumberToObject(limits, "timeout_ms",
                                 r->timeout_ms ? r->timeout_ms : SRV_DEFAULT_TIMEOUT_MS))
      goto fail;
  }
  if (!cJSON_GetObjectItemCaseSensitive(m, "name")) cJSON_AddStringToObject(m, "name", p->name);
  return m;
fail:
  cJSON_Delete(m);
  return NULL;
}

/* ---- plugins kept across states ------------------------------------------------- */

static int64_t mtime_ns(const struct stat *st) {
  return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* The plugin for (path, pin, manifest), kept if its file is unchanged. */
static wp_error *get_plugin(wp_server *srv, const cfg_plugin *p, const char *manifest_json,
                            const char *timeout_origin, const char *base_dir, const char *where,
                            wp_plugin **out) {
  struct stat st;
  if (stat(p->path, &st) != 0)
    return wp_error_new(WP_ERR_IO, "%s: plugin '%s': cannot read %s: %s", where, p->name, p->path,
                        strerror(errno));
  size_t klen = strlen(p->path) + strlen(manifest_json) + (p->sha256 ? strlen(p->sha256) : 0) +
                strlen(timeout_origin) + 4;
  char *key = malloc(klen);
  if (!key) return srv_no_memory();
  snprintf(key, klen, "%s\n%s\n%s\n%s", p->path, p->sha256 ? p->sha256 : "", timeout_origin,
           manifest_json);
  for (loaded_plugin *lp = srv->plugins; lp; lp = lp->next)
    if (strcmp(lp->key, key) == 0 && lp->dev == st.st_dev && lp->ino == st.st_ino &&
        lp->size == st.st_size && lp->mtime_ns == mtime_ns(&st)) {
      free(key);
      lp->used = true;
      *out = wp_plugin_ref(lp->plugin);
      return NULL;
    }
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(manifest_json, strlen(manifest_json), base_dir, &m);
  if (!err && p->sha256) err = wp_manifest_set_sha256(m, p->sha256);
  /* A timeout error names where the limit came from in the server config. */
  if (!err) err = wp_manifest_set_timeout_origin(m, timeout_origin);
  wp_plugin *plugin = NULL;
  if (!err) err = wp_plugin_load(srv->engine, p->path, m, &plugin);
  wp_manifest_free(m);
  loaded_plugin *lp = err ? NULL : calloc(1, sizeof *lp);
  if (!err && !lp) err = srv_no_memory();
  if (err) {
    free(key);
    if (plugin) wp_plugin_free(plugin);
    return srv_error_prefix(err, "%s: ", where);
  }
  *lp = (loaded_plugin){.key = key,
                        .dev = st.st_dev,
                        .ino = st.st_ino,
                        .size = st.st_size,
                        .mtime_ns = mtime_ns(&st),
                        .plugin = plugin,
                        .used = true,
                        .next = srv->plugins};
  srv->plugins = lp;
  *out = wp_plugin_ref(plugin);
  return NULL;
}

/* After a successful build: forget the plugins the new state does not use. */
static void sweep_plugins(wp_server *srv) {
  for (loaded_plugin **pp = &srv->plugins; *pp;) {
    loaded_plugin *lp = *pp;
    if (lp->used) {
      lp->used = false;
      pp = &lp->next;
      continue;
    }
    *pp = lp->next;
    wp_plugin_free(lp->plugin);
    free(lp->key);
    free(lp);
  }
}

void state_free_plugins(wp_server *srv) {
  for (loaded_plugin *lp = srv->plugins; lp; lp = lp->next) lp->used = false;
  sweep_plugins(srv);
}

/* ---- building and publishing ------------------------------------------------------ */

static void state_free(srv_state *st) {
  if (!st) return;
  for (size_t i = 0; st->filters && i < st->config->nfilters; i++) {
    if (!st->filters[i]) continue;
    if (st->pw) pw_plugin_retired(st->pw, st->filters[i]);
    wp_pw_plugin_free(st->filters[i]);
  }
  free(st->filters);
  free(st->chain);
  for (size_t i = 0; st->routes && i < st->config->nroutes; i++) free(st->routes[i].chain);
  for (size_t i = 0; st->routes && i < st->config->nroutes; i++) {
    if (st->routes[i].pool) wp_pool_free(st->routes[i].pool);
    if (st->routes[i].plugin) wp_plugin_free(st->routes[i].plugin);
  }
  free(st->routes);
  config_free(st->config);
  free(st);
}

static const cfg_plugin *find_plugin(const srv_config *c, const char *name) {
  for (size_t i = 0; i < c->nplugins; i++)
    if (strcmp(c->plugins[i].name, name) == 0) return &c->plugins[i];
  return NULL;
}

static wp_error *build_route(wp_server *srv, srv_state *st, size_t i) {
  const cfg_route *r = &st->config->routes[i];
  route *rt = &st->routes[i];
  rt->cfg = r;
  if (r->upstream) { /* a reverse proxy: nothing to load */
    rt->stats = metrics_route(&srv->metrics, r->pattern);
    return rt->stats ? NULL : srv_no_memory();
  }
  char where[96];
  snprintf(where, sizeof where, "server config: routes[%zu]", i);
  const cfg_plugin *p = find_plugin(st->config, r->plugin);
  const cJSON *pl = p->manifest ? cJSON_GetObjectItemCaseSensitive(p->manifest, "limits") : NULL;
  const cJSON *rl = r->manifest ? cJSON_GetObjectItemCaseSensitive(r->manifest, "limits") : NULL;
  char origin[256];
  if (r->timeout_ms)
    snprintf(origin, sizeof origin, "routes[%zu].timeout_ms in the server config", i);
  else if (rl && cJSON_GetObjectItemCaseSensitive(rl, "timeout_ms"))
    snprintf(origin, sizeof origin, "routes[%zu].manifest.limits.timeout_ms in the server config",
             i);
  else if (pl && cJSON_GetObjectItemCaseSensitive(pl, "timeout_ms"))
    snprintf(origin, sizeof origin,
             "plugins.%s.manifest.limits.timeout_ms (--timeout-ms with serve PLUGIN.wasm)",
             p->name);
  else
    snprintf(origin, sizeof origin,
             "the server's default of %d ms; set routes[%zu].timeout_ms in the server config",
             SRV_DEFAULT_TIMEOUT_MS, i);
  cJSON *m = effective_manifest(p, r);
  char *json = m ? cJSON_PrintUnformatted(m) : NULL;
  cJSON_Delete(m);
  if (!json) return srv_no_memory();
  wp_error *err = get_plugin(srv, p, json, origin, srv->base_dir, where, &rt->plugin);
  free(json);
  if (err) return err;
  rt->kind = wp_plugin_get_http_kind(rt->plugin);
  if (rt->kind == WP_HTTP_NONE)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: plugin '%s' (%s) is not an HTTP handler: it exports neither "
                        "wasi:http/incoming-handler, wasmplug:http/handler nor a core 'handle' "
                        "function (docs/serve.md)",
                        where, p->name, p->path);
  if ((err = wp_pool_new(rt->plugin, r->max_uses, r->max_idle, &rt->pool)))
    return srv_error_prefix(err, "%s: ", where);
  if (!(rt->stats = metrics_route(&srv->metrics, r->pattern))) return srv_no_memory();
  return NULL;
}

/* ---- filters ---------------------------------------------------------------------- */

static wp_error *load_filter(wp_server *srv, const cfg_filter *f, wp_pw_plugin **out) {
  char where[128];
  snprintf(where, sizeof where, "server config: filters.%s", f->name);
  wp_manifest *m = NULL;
  wp_error *err = NULL;
  if (f->manifest) {
    char *json = cJSON_PrintUnformatted(f->manifest);
    if (!json) return srv_no_memory();
    err = wp_manifest_parse(json, strlen(json), srv->base_dir, &m);
    free(json);
  } else if (!(m = wp_manifest_new())) {
    err = srv_no_memory();
  }
  if (!err && f->sha256) err = wp_manifest_set_sha256(m, f->sha256);
  /* A callback that never returns must not hold a worker: 1 s each unless
     the filter's manifest says otherwise (docs/serve.md). */
  const cJSON *lim = f->manifest ? cJSON_GetObjectItemCaseSensitive(f->manifest, "limits") : NULL;
  if (!err && !(lim && cJSON_GetObjectItemCaseSensitive(lim, "timeout_ms")))
    wp_manifest_set_timeout_ms(m, SRV_FILTER_TIMEOUT_MS);
  wp_pw_config *cfg = err ? NULL : wp_pw_config_new();
  if (!err && !cfg) err = srv_no_memory();
  if (!err) err = wp_pw_config_set_name(cfg, f->name);
  if (!err && f->vm_id) err = wp_pw_config_set_vm_id(cfg, f->vm_id);
  if (!err && f->root_id) err = wp_pw_config_set_root_id(cfg, f->root_id);
  if (!err && f->config) err = wp_pw_config_set_plugin_config(cfg, f->config, f->config_len);
  if (!err && f->vm_config) err = wp_pw_config_set_vm_config(cfg, f->vm_config, f->vm_config_len);
  if (!err) err = wp_pw_config_set_manifest(cfg, m);
  if (!err) {
    wp_pw_config_set_fail_open(cfg, f->fail_open);
    err = wp_pw_plugin_load(pw_host(srv->pw), f->path, cfg, out);
  }
  wp_pw_config_free(cfg);
  wp_manifest_free(m);
  return err ? srv_error_prefix(err, "%s: ", where) : NULL;
}

static wp_pw_plugin *filter_named(const srv_state *st, const char *name) {
  for (size_t i = 0; i < st->config->nfilters; i++)
    if (strcmp(st->config->filters[i].name, name) == 0) return st->filters[i];
  return NULL;
}

static wp_error *resolve_chain(const srv_state *st, const char **names, size_t n,
                               wp_pw_plugin ***out) {
  if (!n) return NULL;
  if (!(*out = calloc(n, sizeof **out))) return srv_no_memory();
  for (size_t i = 0; i < n; i++) (*out)[i] = filter_named(st, names[i]);
  return NULL;
}

static wp_error *build_filters(wp_server *srv, srv_state *st) {
  const srv_config *c = st->config;
  st->pw = srv->pw;
  if (c->nfilters && !(st->filters = calloc(c->nfilters, sizeof *st->filters)))
    return srv_no_memory();
  wp_error *err = NULL;
  for (size_t i = 0; !err && i < c->nfilters; i++)
    err = load_filter(srv, &c->filters[i], &st->filters[i]);
  if (!err) err = resolve_chain(st, c->chain, c->nchain, &st->chain);
  for (size_t i = 0; !err && i < c->nroutes; i++) {
    err = resolve_chain(st, c->routes[i].filters, c->routes[i].nfilters, &st->routes[i].chain);
    st->routes[i].nchain = c->routes[i].nfilters;
    if (c->routes[i].max_body > st->max_body) st->max_body = c->routes[i].max_body;
  }
  return err;
}

wp_error *state_build(wp_server *srv, srv_config *cfg, srv_state **out) {
  *out = NULL;
  srv_state *st = calloc(1, sizeof *st);
  if (!st) {
    config_free(cfg);
    return srv_no_memory();
  }
  st->config = cfg;
  atomic_init(&st->refs, 1);
  st->routes = calloc(cfg->nroutes ? cfg->nroutes : 1, sizeof *st->routes);
  wp_error *err = st->routes ? NULL : srv_no_memory();
  for (size_t i = 0; !err && i < cfg->nroutes; i++) err = build_route(srv, st, i);
  if (!err) err = build_filters(srv, st);
  if (err) {
    state_free(st);
    /* Keep every loaded plugin: the live state's stay cached, and those
       loaded for nothing go at the next successful change. */
    for (loaded_plugin *lp = srv->plugins; lp; lp = lp->next) lp->used = false;
    return err;
  }
  /* Plugins the new state does not use leave the cache; states still
     running keep their own references until their last request. */
  sweep_plugins(srv);
  *out = st;
  return NULL;
}

void state_publish(wp_server *srv, srv_state *st) {
  /* Filters' root contexts start on every worker now: ticks and queues run without traffic. */
  for (size_t i = 0; i < st->config->nfilters; i++) pw_plugin_started(srv->pw, st->filters[i]);
  pw_set_clusters(srv->pw, st->config);
  pthread_mutex_lock(&srv->state_lock);
  srv_state *old = srv->state;
  st->generation = ++srv->generation;
  srv->state = st;
  pthread_mutex_unlock(&srv->state_lock);
  state_release(old);
}

srv_state *state_acquire(wp_server *srv) {
  pthread_mutex_lock(&srv->state_lock);
  srv_state *st = srv->state;
  if (st) atomic_fetch_add_explicit(&st->refs, 1, memory_order_relaxed);
  pthread_mutex_unlock(&srv->state_lock);
  return st;
}

void state_release(srv_state *st) {
  if (st && atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) == 1) state_free(st);
}

/* Settings the listener was started with cannot change under it. */
/* Whether two optional strings are both absent or equal. */
static bool same_text(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static wp_error *check_settings(const srv_settings *a, const srv_settings *b) {
  const char *what = NULL;
  if (strcmp(a->listen, b->listen) != 0) what = "listen";
  else if (a->workers != b->workers) what = "workers";
  else if (strcmp(a->access_log, b->access_log) != 0) what = "access_log";
  else if (a->watch != b->watch) what = "watch";
  else if (a->header_timeout_ms != b->header_timeout_ms ||
           a->body_timeout_ms != b->body_timeout_ms || a->idle_timeout_s != b->idle_timeout_s ||
           a->max_connections != b->max_connections || a->grace_ms != b->grace_ms)
    what = "limits";
  else if (!same_text(a->keyvalue_default, b->keyvalue_default))
    what = "keyvalue"; /* the engine's default store is set once, before plugins load */
  if (!what) return NULL;
  return wp_error_new(WP_ERR_BAD_INPUT,
                      "server config: %s: cannot change while the server runs (restart it to "
                      "change it)",
                      what);
}

wp_error *state_apply_doc(wp_server *srv, cJSON *doc, bool allow_settings_change) {
  srv_config *cfg;
  wp_error *err = config_parse(doc, srv->base_dir, &cfg);
  if (err) {
    atomic_fetch_add_explicit(&srv->metrics.reload_failures, 1, memory_order_relaxed);
    return err;
  }
  pthread_mutex_lock(&srv->write_lock);
  if (!allow_settings_change && ((err = check_settings(&srv->doc_settings, &cfg->settings)) ||
                                 (err = tcp_check_change(srv, cfg)))) {
    pthread_mutex_unlock(&srv->write_lock);
    config_free(cfg);
    atomic_fetch_add_explicit(&srv->metrics.reload_failures, 1, memory_order_relaxed);
    return err;
  }
  srv_state *st;
  err = state_build(srv, cfg, &st);
  if (!err) state_publish(srv, st);
  pthread_mutex_unlock(&srv->write_lock);
  atomic_fetch_add_explicit(err ? &srv->metrics.reload_failures : &srv->metrics.reloads, 1,
                            memory_order_relaxed);
  return err;
}

wp_error *state_reload(wp_server *srv) {
  srv_state *live = state_acquire(srv);
  if (!live) return NULL;
  cJSON *doc = cJSON_Duplicate(live->config->doc, 1);
  state_release(live);
  if (!doc) return srv_no_memory();
  return state_apply_doc(srv, doc, false);
}
