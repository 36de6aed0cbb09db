/*
 * manifest_write.c - a manifest back to its JSON form (wp_manifest_to_json),
 * the form manifest_json.c reads: what an isolated plugin's worker is given.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/manifest.h"
#include "util/hex.h"
#include "util/utf8.h"

static bool add_map(cJSON *parent, const char *name, const wp_kv *kvs, size_t n) {
  if (!n) return true;
  cJSON *o = cJSON_AddObjectToObject(parent, name);
  for (size_t i = 0; o && i < n; i++)
    if (!cJSON_AddStringToObject(o, kvs[i].key, kvs[i].value)) return false;
  return o != NULL;
}

static bool add_limits(cJSON *root, const wp_manifest *m) {
  if (!m->max_memory && !m->timeout_ms && !m->fuel && !m->max_module_size && !m->max_functions)
    return true;
  cJSON *l = cJSON_AddObjectToObject(root, "limits");
  if (!l) return false;
  /* The JSON form takes no memory below 64 KiB (wp_manifest_set_max_memory). */
  if (m->max_memory >= 65536 && !cJSON_AddNumberToObject(l, "memory", (double)m->max_memory))
    return false;
  if (m->timeout_ms && !cJSON_AddNumberToObject(l, "timeout_ms", m->timeout_ms)) return false;
  if (m->fuel && !cJSON_AddNumberToObject(l, "fuel", (double)m->fuel)) return false;
  if (m->max_module_size && !cJSON_AddNumberToObject(l, "module_size", (double)m->max_module_size))
    return false;
  return !m->max_functions || cJSON_AddNumberToObject(l, "functions", m->max_functions);
}

static const char *stdio_name(wp_stdio_mode mode) {
  return mode == WP_STDIO_INHERIT ? "inherit" : mode == WP_STDIO_CAPTURE ? "capture" : "discard";
}

static bool add_wasi(cJSON *root, const wp_manifest *m) {
  cJSON *w = cJSON_AddObjectToObject(root, "wasi");
  if (!w) return false;
  if (m->ndirs) {
    cJSON *dirs = cJSON_AddArrayToObject(w, "dirs");
    for (size_t i = 0; dirs && i < m->ndirs; i++) {
      cJSON *d = cJSON_CreateObject();
      if (!d || !cJSON_AddItemToArray(dirs, d)) return cJSON_Delete(d), false;
      if (!cJSON_AddStringToObject(d, "host", m->dirs[i].host) ||
          !cJSON_AddStringToObject(d, "guest", m->dirs[i].guest) ||
          !cJSON_AddStringToObject(d, "mode", m->dirs[i].writable ? "rw" : "ro"))
        return false;
    }
    if (!dirs) return false;
  }
  if (!add_map(w, "env", m->env, m->nenv)) return false;
  if (m->nargs) {
    cJSON *args = cJSON_AddArrayToObject(w, "args");
    for (size_t i = 0; args && i < m->nargs; i++) {
      cJSON *a = cJSON_CreateString(m->args[i]);
      if (!a || !cJSON_AddItemToArray(args, a)) return cJSON_Delete(a), false;
    }
    if (!args) return false;
  }
  /* Text only: a JSON string holds no NUL and no invalid UTF-8. */
  if (m->has_stdin && wp_utf8_valid(m->stdin_data, m->stdin_len) &&
      !memchr(m->stdin_data, 0, m->stdin_len)) {
    char *text = malloc(m->stdin_len + 1);
    if (!text) return false;
    memcpy(text, m->stdin_data, m->stdin_len);
    text[m->stdin_len] = '\0';
    bool ok = cJSON_AddStringToObject(w, "stdin", text) != NULL;
    free(text);
    if (!ok) return false;
  }
  return cJSON_AddStringToObject(w, "stdout", stdio_name(m->out.mode)) &&
         cJSON_AddStringToObject(w, "stderr", stdio_name(m->err.mode));
}

static bool add_capabilities(cJSON *root, const wp_manifest *m) {
  if (!m->ncaps) return true;
  cJSON *c = cJSON_AddObjectToObject(root, "capabilities");
  for (size_t i = 0; c && i < m->ncaps; i++) {
    cJSON *section = cJSON_Parse(m->caps[i].value);
    if (!section || !cJSON_AddItemToObject(c, m->caps[i].key, section))
      return cJSON_Delete(section), false;
  }
  return c != NULL;
}

static bool add_root(cJSON *root, const wp_manifest *m) {
  if (m->name && !cJSON_AddStringToObject(root, "name", m->name)) return false;
  if (m->source_path || m->has_sha256) {
    cJSON *sources = cJSON_AddArrayToObject(root, "sources"), *s = cJSON_CreateObject();
    if (!sources || !s || !cJSON_AddItemToArray(sources, s)) return cJSON_Delete(s), false;
    char hex[65];
    wp_hex(m->sha256, 32, hex);
    if (m->source_path && !cJSON_AddStringToObject(s, "path", m->source_path)) return false;
    if (m->has_sha256 && !cJSON_AddStringToObject(s, "sha256", hex)) return false;
  }
  if (!add_limits(root, m) || !add_wasi(root, m) || !add_map(root, "config", m->config, m->nconfig))
    return false;
  if (m->trap_missing_imports) {
    cJSON *imports = cJSON_AddObjectToObject(root, "imports");
    if (!imports || !cJSON_AddStringToObject(imports, "missing", "trap")) return false;
  }
  if (!add_capabilities(root, m) || !add_map(root, "link", m->links, m->nlinks)) return false;
  if (m->isolation != WP_ISOLATION_DEFAULT &&
      !cJSON_AddStringToObject(root, "isolation",
                               m->isolation == WP_ISOLATION_PROCESS ? "process" : "none"))
    return false;
  return true;
}

char *wp_manifest_to_json(const wp_manifest *m) {
  wp_manifest *empty = m ? NULL : wp_manifest_new();
  if (!m && !(m = empty)) return NULL;
  cJSON *root = cJSON_CreateObject();
  char *text = NULL;
  if (root && add_root(root, m)) {
    char *printed = cJSON_PrintUnformatted(root);
    /* cJSON's allocator may not be malloc: hand back what wp_free frees. */
    if (printed) text = strdup(printed);
    cJSON_free(printed);
  }
  cJSON_Delete(root);
  wp_manifest_free(empty);
  return text;
}
