/*
 * grant.c - the manifest's "dl" section (grant.h):
 *
 *   "dl": {"libraries": {"NAME-OR-ABSOLUTE-PATH": {"symbols": {"SYM": SIG, ...},
 *                                                  "global": BOOL}, ...},
 *          "main": {"symbols": {...}}}
 *
 *   SIG: null or {} (any signature), or {"args": [TYPE...], "ret": TYPE|null}
 *   TYPE: a primitive-type name ("c-int"), or {"struct": [TYPE...]}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "grant.h"

#define WHERE "plugin '%s': capabilities.dl"

static wp_error *oom(const char *plugin) {
  return wp_error_new(WP_ERR_NO_MEMORY, WHERE ": out of memory", plugin);
}

static bool printable(const char *s) {
  for (const unsigned char *c = (const unsigned char *)s; *c; c++)
    if (*c <= 0x20 || *c >= 0x7f) return false;
  return true;
}

/* A type name or {"struct": [...]}; `what` names it in messages. */
static wp_error *parse_type(const char *what, const cJSON *j, int depth, dl_type **out) {
  *out = NULL;
  if (cJSON_IsString(j)) {
    dl_prim p;
    if (dl_prim_from(j->valuestring, strlen(j->valuestring), &p)) {
      *out = dl_prim_type(p);
      return NULL;
    }
    return wp_error_new(
        WP_ERR_BAD_INPUT,
        "%s: bad FFI type '%.64s' (a primitive-type of wit/wasi-dl/dl.wit: c-schar, "
        "c-uchar, c-short, c-ushort, c-int, c-uint, c-long, c-ulong, c-longlong, "
        "c-ulonglong, int8-t ... uint64-t, size-t, ssize-t, pointer, c-float, "
        "c-double; or {\"struct\": [...]})",
        what, j->valuestring);
  }
  const cJSON *fields = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "struct") : NULL;
  if (!cJSON_IsArray(fields) || cJSON_GetArraySize(j) != 1 || depth > 0)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: bad FFI type: give a primitive-type name (\"c-int\") or "
                        "{\"struct\": [names...]} (structs of primitives, as in dl.wit)",
                        what);
  size_t n = (size_t)cJSON_GetArraySize(fields);
  if (n == 0 || n > WP_DL_MAX_FIELDS)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: bad FFI type: a struct of %zu fields (1 to %u)",
                        what, n, WP_DL_MAX_FIELDS);
  dl_type *f[WP_DL_MAX_FIELDS];
  size_t i = 0;
  wp_error *err = NULL;
  for (const cJSON *e = fields->child; e && !err; e = e->next, i++)
    if ((err = parse_type(what, e, depth + 1, &f[i]))) break;
  if (err) {
    while (i--) dl_type_free(f[i]);
    return err;
  }
  const char *msg;
  *out = dl_struct_new(f, n, &msg);
  if (*out) return NULL;
  return msg ? wp_error_new(WP_ERR_BAD_INPUT, "%s: bad FFI type: %s", what, msg)
             : wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
}

static wp_error *parse_sig(const char *what, const cJSON *j, dl_sym_grant *s) {
  if (cJSON_IsNull(j)) return NULL;
  if (!cJSON_IsObject(j))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: must be null or {} (any signature) or {\"args\": [...], \"ret\": ...}",
                        what);
  char sub[512];
  for (const cJSON *m = j->child; m; m = m->next) {
    snprintf(sub, sizeof sub, "%s.%s", what, m->string);
    if (strcmp(m->string, "args") == 0) {
      if (!cJSON_IsArray(m))
        return wp_error_new(WP_ERR_BAD_INPUT, "%s: must be a list of type names", sub);
      size_t n = (size_t)cJSON_GetArraySize(m);
      if (n > WP_DL_MAX_ARGS)
        return wp_error_new(WP_ERR_BAD_INPUT, "%s: %zu parameters, over the limit of %u", sub, n,
                            WP_DL_MAX_ARGS);
      if (n && !(s->sig.args = calloc(n, sizeof *s->sig.args)))
        return wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", sub);
      for (const cJSON *e = m->child; e; e = e->next) {
        wp_error *err = parse_type(sub, e, 0, &s->sig.args[s->sig.nargs]);
        if (err) return err;
        s->sig.nargs++;
      }
    } else if (strcmp(m->string, "ret") == 0) {
      if (!cJSON_IsNull(m)) {
        wp_error *err = parse_type(sub, m, 0, &s->sig.ret);
        if (err) return err;
      }
    } else {
      return wp_error_new(WP_ERR_BAD_INPUT, "%s: unknown field (known: \"args\", \"ret\")", sub);
    }
    s->pinned = true;
  }
  return NULL;
}

/* One library (name NULL: main). */
static wp_error *parse_lib(const char *plugin, const char *name, const cJSON *j,
                           dl_lib_grant *lib) {
  char what[WP_DL_MAX_LIBRARY_NAME + 128];
  if (name) snprintf(what, sizeof what, WHERE ".libraries.%s", plugin, name);
  else snprintf(what, sizeof what, WHERE ".main", plugin);
  if (name && !(lib->name = strdup(name))) return oom(plugin);
  if (!cJSON_IsObject(j))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: must be an object: {\"symbols\": {...}}", what);
  const cJSON *syms = NULL;
  for (const cJSON *m = j->child; m; m = m->next) {
    if (strcmp(m->string, "symbols") == 0) syms = m;
    else if (strcmp(m->string, "global") == 0 && name && cJSON_IsBool(m))
      lib->global = cJSON_IsTrue(m);
    else
      return wp_error_new(WP_ERR_BAD_INPUT, "%s: unknown or malformed field '%.64s' (known: %s)",
                          what, m->string,
                          name ? "\"symbols\", \"global\" (a boolean)" : "\"symbols\"");
  }
  if (!cJSON_IsObject(syms))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s.symbols: must be an object naming the symbols the plugin may get, "
                        "e.g. {\"crc32\": {\"args\": [\"c-ulong\", \"pointer\", \"c-uint\"], "
                        "\"ret\": \"c-ulong\"}}",
                        what);
  size_t n = (size_t)cJSON_GetArraySize(syms);
  if (n > WP_DL_MAX_SYMBOLS)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s.symbols: %zu symbols, over the limit of %u", what, n,
                        WP_DL_MAX_SYMBOLS);
  if (n && !(lib->syms = calloc(n, sizeof *lib->syms))) return oom(plugin);
  for (const cJSON *s = syms->child; s; s = s->next) {
    size_t len = strlen(s->string);
    if (len == 0 || len > WP_DL_MAX_SYMBOL_NAME || !printable(s->string))
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s.symbols: '%.64s' is not a symbol name (1 to %u printable ASCII "
                          "characters)",
                          what, s->string, WP_DL_MAX_SYMBOL_NAME);
    if (dl_grant_sym(lib, s->string))
      return wp_error_new(WP_ERR_BAD_INPUT, "%s.symbols: '%s' is named twice", what, s->string);
    dl_sym_grant *g = &lib->syms[lib->nsyms++];
    if (!(g->name = strdup(s->string))) return oom(plugin);
    char sub[sizeof what + WP_DL_MAX_SYMBOL_NAME + 16];
    snprintf(sub, sizeof sub, "%s.symbols.%s", what, s->string);
    wp_error *err = parse_sig(sub, s, g);
    if (err) return err;
  }
  return NULL;
}

static wp_error *parse_libs(const char *plugin, const cJSON *libs, dl_grant *g) {
  if (!cJSON_IsObject(libs))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WHERE ".libraries: must be an object, e.g. {\"libz.so.1\": {\"symbols\": "
                              "{...}}}",
                        plugin);
  size_t n = (size_t)cJSON_GetArraySize(libs);
  if (n > WP_DL_MAX_LIBRARIES)
    return wp_error_new(WP_ERR_BAD_INPUT, WHERE ".libraries: %zu libraries, over the limit of %u",
                        plugin, n, WP_DL_MAX_LIBRARIES);
  if (n && !(g->libs = calloc(n, sizeof *g->libs))) return oom(plugin);
  for (const cJSON *l = libs->child; l; l = l->next) {
    const char *name = l->string;
    size_t len = strlen(name);
    if (len == 0 || len > WP_DL_MAX_LIBRARY_NAME || (strchr(name, '/') && name[0] != '/'))
      return wp_error_new(WP_ERR_BAD_INPUT,
                          WHERE ".libraries: '%.200s' is neither a file name (no '/') nor an "
                                "absolute path",
                          plugin, name);
    if (dl_grant_lib(g, name))
      return wp_error_new(WP_ERR_BAD_INPUT, WHERE ".libraries: '%.200s' is named twice", plugin,
                          name);
    wp_error *err = parse_lib(plugin, name, l, &g->libs[g->nlibs++]);
    if (err) return err;
  }
  return NULL;
}

wp_error *dl_grant_parse(const char *plugin, const char *section, size_t len, dl_grant **out) {
  cJSON *root = cJSON_ParseWithLength(section, len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WHERE ": must be an object: {\"libraries\": {NAME: {\"symbols\": {...}}}, "
                              "\"main\": {\"symbols\": {...}}}",
                        plugin);
  }
  dl_grant *g = calloc(1, sizeof *g);
  if (g) atomic_init(&g->used, 0);
  wp_error *err = g ? NULL : oom(plugin);
  for (const cJSON *m = root->child; !err && m; m = m->next) {
    if (strcmp(m->string, "libraries") == 0) {
      err = parse_libs(plugin, m, g);
    } else if (strcmp(m->string, "main") == 0) {
      if (!(g->main = calloc(1, sizeof *g->main))) err = oom(plugin);
      else err = parse_lib(plugin, NULL, m, g->main);
    } else {
      err = wp_error_new(WP_ERR_BAD_INPUT,
                         WHERE ": unknown field '%.64s' (known: \"libraries\", \"main\")", plugin,
                         m->string);
    }
  }
  cJSON_Delete(root);
  if (err) {
    dl_grant_free(g);
    return err;
  }
  *out = g;
  return NULL;
}

static void lib_clear(dl_lib_grant *l) {
  free(l->name);
  for (size_t i = 0; i < l->nsyms; i++) {
    free(l->syms[i].name);
    dl_sig_clear(&l->syms[i].sig);
  }
  free(l->syms);
}

void dl_grant_free(dl_grant *g) {
  if (!g) return;
  for (size_t i = 0; i < g->nlibs; i++) lib_clear(&g->libs[i]);
  free(g->libs);
  if (g->main) lib_clear(g->main);
  free(g->main);
  free(g);
}

const dl_lib_grant *dl_grant_lib(const dl_grant *g, const char *name) {
  if (!name) return g->main;
  for (size_t i = 0; i < g->nlibs; i++)
    if (g->libs[i].name && strcmp(g->libs[i].name, name) == 0) return &g->libs[i];
  return NULL;
}

const dl_sym_grant *dl_grant_sym(const dl_lib_grant *lib, const char *name) {
  for (size_t i = 0; i < lib->nsyms; i++)
    if (lib->syms[i].name && strcmp(lib->syms[i].name, name) == 0) return &lib->syms[i];
  return NULL;
}

static void add_name(char *buf, size_t size, size_t *at, const char *s) {
  if (*at >= size) return;
  int w = snprintf(buf + *at, size - *at, "%s%s", *at ? ", " : "", s);
  if (w > 0) *at += (size_t)w;
}

const char *dl_grant_lib_names(const dl_grant *g, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < g->nlibs; i++) add_name(buf, size, &at, g->libs[i].name);
  return at ? buf : "none";
}

const char *dl_grant_sym_names(const dl_lib_grant *lib, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < lib->nsyms; i++) add_name(buf, size, &at, lib->syms[i].name);
  return at ? buf : "none";
}
