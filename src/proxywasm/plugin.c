/*
 * plugin.c - wp_pw_config and wp_pw_plugin: a filter with its configuration,
 * loaded through the engine (the Proxy-Wasm kind claims it) and proved by a
 * canary VM before anyone uses it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "plugin/manifest.h"
#include "proxywasm/pw.h"

wp_pw_config *wp_pw_config_new(void) { return calloc(1, sizeof(wp_pw_config)); }

void wp_pw_config_free(wp_pw_config *c) {
  if (!c) return;
  free(c->name);
  free(c->root_id);
  free(c->vm_id);
  pw_buffer_free(&c->vm_config);
  pw_buffer_free(&c->plugin_config);
  wp_manifest_free(c->manifest);
  free(c);
}

static wp_error *set_text(char **field, const char *value, const char *what) {
  if (!value)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_config_set_%s: the value is required", what);
  char *copy = strdup(value);
  if (!copy) return wp_error_no_memory();
  free(*field);
  *field = copy;
  return NULL;
}

wp_error *wp_pw_config_set_name(wp_pw_config *c, const char *v) {
  return set_text(&c->name, v, "name");
}
wp_error *wp_pw_config_set_root_id(wp_pw_config *c, const char *v) {
  return set_text(&c->root_id, v, "root_id");
}
wp_error *wp_pw_config_set_vm_id(wp_pw_config *c, const char *v) {
  return set_text(&c->vm_id, v, "vm_id");
}

static wp_error *set_bytes(pw_buffer *b, const void *data, size_t len) {
  if (!data && len)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_config: data is NULL with a length");
  return pw_buffer_assign(b, data, len) == PW_BUFFER_OK ? NULL : wp_error_no_memory();
}

wp_error *wp_pw_config_set_vm_config(wp_pw_config *c, const void *d, size_t n) {
  return set_bytes(&c->vm_config, d, n);
}
wp_error *wp_pw_config_set_plugin_config(wp_pw_config *c, const void *d, size_t n) {
  return set_bytes(&c->plugin_config, d, n);
}

wp_error *wp_pw_config_set_manifest(wp_pw_config *c, const wp_manifest *m) {
  wp_manifest *copy = m ? wp_manifest_copy(m) : NULL;
  if (m && !copy) return wp_error_no_memory();
  wp_manifest_free(c->manifest);
  c->manifest = copy;
  return NULL;
}

void wp_pw_config_set_fail_open(wp_pw_config *c, bool fail_open) { c->fail_open = fail_open; }

/* ---- loading ----------------------------------------------------------------------- */

/* A filter's stdout and stderr go to its log (Go SDK panics only reach stderr). */
static int to_log(void *user, wp_instance *inst, const uint8_t *data, size_t len,
                  wp_log_level level) {
  wp_pw_host *h = user;
  pw_instance *pi = pw_inst(inst);
  if (pi && pi->vm) { /* line by line: a Go panic comes in many small writes */
    pw_vm_output(pi->vm, level == WP_LOG_ERROR, data, len, false);
    return 0;
  }
  while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) len--;
  if (len) pw_log(h, NULL, level, (const char *)data, len);
  return 0;
}
static int stdout_to_log(void *u, wp_instance *i, const uint8_t *d, size_t n) {
  return to_log(u, i, d, n, WP_LOG_INFO);
}
static int stderr_to_log(void *u, wp_instance *i, const uint8_t *d, size_t n) {
  return to_log(u, i, d, n, WP_LOG_ERROR);
}

static bool has_cb(const wp_pw_plugin *p, pw_cb cb) {
  return pw_module_of(p->plugin)->cb_export[cb] >= 0;
}

static wp_error *fill(wp_pw_plugin *p, const wp_pw_config *cfg) {
  const char *name = cfg && cfg->name ? cfg->name : wp_plugin_get_name(p->plugin);
  p->name = strdup(name);
  p->root_id = strdup(cfg && cfg->root_id ? cfg->root_id : "");
  p->vm_id = strdup(cfg && cfg->vm_id ? cfg->vm_id : "");
  if (!p->name || !p->root_id || !p->vm_id) return wp_error_no_memory();
  if (cfg && (pw_buffer_assign(&p->vm_config, cfg->vm_config.data, cfg->vm_config.len) ||
              pw_buffer_assign(&p->plugin_config, cfg->plugin_config.data, cfg->plugin_config.len)))
    return wp_error_no_memory();
  p->fail_open = cfg && cfg->fail_open;
  p->http = has_cb(p, PW_ON_REQUEST_HEADERS) || has_cb(p, PW_ON_REQUEST_BODY) ||
            has_cb(p, PW_ON_RESPONSE_HEADERS) || has_cb(p, PW_ON_RESPONSE_BODY);
  p->tcp = has_cb(p, PW_ON_NEW_CONNECTION) || has_cb(p, PW_ON_DOWNSTREAM_DATA) ||
           has_cb(p, PW_ON_UPSTREAM_DATA);
  return NULL;
}

/* The canary: a VM of its own on a throwaway worker, started and configured. */
static wp_error *canary(wp_pw_plugin *p) {
  wp_pw_worker *w;
  wp_error *err = wp_pw_worker_new(p->host, NULL, &w);
  if (err) return err;
  err = wp_pw_worker_start_plugin(w, p);
  wp_pw_worker_free(w);
  return err;
}

static wp_error *finish_load(wp_pw_host *h, wp_plugin *plugin, const wp_pw_config *cfg,
                             wp_pw_plugin **out) {
  if (plugin->kind != &wp_proxywasm_kind) {
    wp_error *err = wp_error_new(WP_ERR_LOAD,
                                 "plugin '%s' is a %s, not a Proxy-Wasm filter (it exports no "
                                 "proxy_abi_version_0_2_*)",
                                 plugin->name, plugin->kind->name);
    wp_plugin_free(plugin);
    return err;
  }
  wp_pw_plugin *p = calloc(1, sizeof *p);
  if (!p) {
    wp_plugin_free(plugin);
    return wp_error_no_memory();
  }
  atomic_init(&p->refs, 1);
  p->host = h;
  p->plugin = plugin;
  wp_error *err = fill(p, cfg);
  if (!err) err = canary(p);
  if (err) {
    wp_pw_plugin_free(p);
    return err;
  }
  *out = p;
  return NULL;
}

/* The manifest a filter loads with: the configured one (or none), stdout and stderr to its log. */
static wp_error *filter_manifest(wp_pw_host *h, const wp_pw_config *cfg, wp_manifest **out) {
  wp_manifest *m = cfg && cfg->manifest ? wp_manifest_copy(cfg->manifest) : wp_manifest_new();
  if (!m) return wp_error_no_memory();
  wp_manifest_set_stdout(m, WP_STDIO_CALLBACK, stdout_to_log, h);
  wp_manifest_set_stderr(m, WP_STDIO_CALLBACK, stderr_to_log, h);
  *out = m;
  return NULL;
}

wp_error *wp_pw_plugin_load(wp_pw_host *h, const char *path, const wp_pw_config *cfg,
                            wp_pw_plugin **out) {
  if (!h || !path || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_plugin_load: host, path and out are required");
  wp_manifest *m;
  wp_error *err = filter_manifest(h, cfg, &m);
  if (err) return err;
  wp_plugin *plugin;
  err = wp_plugin_load(h->engine, path, m, &plugin);
  wp_manifest_free(m);
  return err ? err : finish_load(h, plugin, cfg, out);
}

wp_error *wp_pw_plugin_load_bytes(wp_pw_host *h, const char *name, const void *bytes, size_t len,
                                  const wp_pw_config *cfg, wp_pw_plugin **out) {
  if (!h || !bytes || !out)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_pw_plugin_load_bytes: host, bytes and out are required");
  wp_manifest *m;
  wp_error *err = filter_manifest(h, cfg, &m);
  if (err) return err;
  wp_plugin *plugin;
  err = wp_plugin_load_bytes(h->engine, name ? name : "filter", bytes, len, m, &plugin);
  wp_manifest_free(m);
  return err ? err : finish_load(h, plugin, cfg, out);
}

wp_pw_plugin *wp_pw_plugin_ref(wp_pw_plugin *p) {
  if (p) atomic_fetch_add(&p->refs, 1);
  return p;
}

void wp_pw_plugin_free(wp_pw_plugin *p) {
  if (!p || atomic_fetch_sub(&p->refs, 1) != 1) return;
  wp_plugin_free(p->plugin);
  free(p->name);
  free(p->root_id);
  free(p->vm_id);
  pw_buffer_free(&p->vm_config);
  pw_buffer_free(&p->plugin_config);
  free(p);
}

const char *wp_pw_plugin_get_name(const wp_pw_plugin *p) { return p ? p->name : NULL; }
const char *wp_pw_plugin_get_root_id(const wp_pw_plugin *p) { return p ? p->root_id : NULL; }
const char *wp_pw_plugin_get_vm_id(const wp_pw_plugin *p) { return p ? p->vm_id : NULL; }
const char *wp_pw_plugin_get_abi_version(const wp_pw_plugin *p) {
  return p ? pw_module_of(p->plugin)->abi : NULL;
}
bool wp_pw_plugin_get_fail_open(const wp_pw_plugin *p) { return p && p->fail_open; }
bool wp_pw_plugin_is_http_filter(const wp_pw_plugin *p) { return p && p->http; }
bool wp_pw_plugin_is_network_filter(const wp_pw_plugin *p) { return p && p->tcp; }
wp_plugin *wp_pw_plugin_get_plugin(const wp_pw_plugin *p) { return p ? p->plugin : NULL; }
