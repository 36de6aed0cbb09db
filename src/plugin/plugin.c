/*
 * plugin.c - wp_plugin: read, verify, compile, reflect and pre-link a plugin.
 */
#define _POSIX_C_SOURCE 200809L
#include "plugin/plugin.h"
#include "component/component.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/error.h"
#include "plugin/bounds.h"
#include "util/str.h"

void wp_sha256_hex(const uint8_t *data, size_t len, char out[65]) {
  static const char digits[] = "0123456789abcdef";
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(data, len, d);
  for (int i = 0; i < 32; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[64] = '\0';
}

/* ---- reading files ------------------------------------------------------- */

static const char *base_name(const char *path);

/* Reads a plugin file; one over the load size cap is refused unread. */
static wp_error *read_file(const char *path, struct wp_engine *engine, const wp_manifest *m,
                           uint8_t **data, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return wp_error_new(errno == ENOENT ? WP_ERR_NOT_FOUND : WP_ERR_IO,
                        "plugin '%s': cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return wp_error_new(WP_ERR_IO, "plugin '%s': not a regular file", path);
  }
  wp_error *err = wp_bounds_check_file(engine, m, base_name(path), (uint64_t)st.st_size);
  if (err) {
    fclose(f);
    return err;
  }
  uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
  size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
  int failed = !buf || ferror(f) || n != (size_t)st.st_size;
  fclose(f);
  if (failed) {
    free(buf);
    return wp_error_new(WP_ERR_IO, "plugin '%s': cannot read %lld bytes", path,
                        (long long)st.st_size);
  }
  *data = buf;
  *len = n;
  return NULL;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* ---- reflection ---------------------------------------------------------- */

static bool valkind_from(wasm_valkind_t k, wp_valkind *out) {
  switch (k) {
  case WASM_I32: *out = WP_I32; return true;
  case WASM_I64: *out = WP_I64; return true;
  case WASM_F32: *out = WP_F32; return true;
  case WASM_F64: *out = WP_F64; return true;
  default: return false;
  }
}

static const char *raw_valtype_name(wasm_valkind_t k) {
  switch (k) {
  case WASM_I32: return "i32";
  case WASM_I64: return "i64";
  case WASM_F32: return "f32";
  case WASM_F64: return "f64";
  case WASMTIME_V128: return "v128";
  case WASM_EXTERNREF: return "externref";
  case WASM_FUNCREF: return "funcref";
  default: return "ref";
  }
}

/* Appends "(t1, t2)" for a valtype vector to buf. */
static void print_types(char *buf, size_t cap, const wasm_valtype_vec_t *v) {
  size_t n = strlen(buf);
  n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "(");
  for (size_t i = 0; i < v->size && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
                          raw_valtype_name(wasm_valtype_kind(v->data[i])));
  if (n < cap) snprintf(buf + n, cap - n, ")");
}

/* Fills the type fields of `info` from a Wasmtime extern type. */
static bool describe(const wasm_externtype_t *et, wp_extern_info *info) {
  char type[512] = "";
  switch (wasm_externtype_kind(et)) {
  case WASM_EXTERN_FUNC: {
    const wasm_functype_t *ft = wasm_externtype_as_functype_const(et);
    const wasm_valtype_vec_t *ps = wasm_functype_params(ft), *rs = wasm_functype_results(ft);
    wp_valkind *kinds = calloc(ps->size + rs->size + 1, sizeof *kinds);
    if (!kinds) return false;
    info->kind = WP_EXTERN_FUNC;
    info->numeric = true;
    for (size_t i = 0; i < ps->size; i++)
      info->numeric &= valkind_from(wasm_valtype_kind(ps->data[i]), &kinds[i]);
    for (size_t i = 0; i < rs->size; i++)
      info->numeric &= valkind_from(wasm_valtype_kind(rs->data[i]), &kinds[ps->size + i]);
    info->params = kinds;
    info->nparams = ps->size;
    info->results = kinds + ps->size;
    info->nresults = rs->size;
    strcpy(type, "func ");
    print_types(type, sizeof type, ps);
    strncat(type, " -> ", sizeof type - strlen(type) - 1);
    print_types(type, sizeof type, rs);
    break;
  }
  case WASM_EXTERN_MEMORY: {
    const wasm_memorytype_t *mt = wasm_externtype_as_memorytype_const(et);
    info->kind = WP_EXTERN_MEMORY;
    info->min_pages = wasmtime_memorytype_minimum(mt);
    uint64_t max = 0;
    if (!wasmtime_memorytype_maximum(mt, &max)) max = 0;
    info->max_pages = max;
    if (max)
      snprintf(type, sizeof type, "memory %llu..%llu pages%s", (unsigned long long)info->min_pages,
               (unsigned long long)max, wasmtime_memorytype_is64(mt) ? " (64-bit)" : "");
    else
      snprintf(type, sizeof type, "memory %llu pages, no maximum%s",
               (unsigned long long)info->min_pages, wasmtime_memorytype_is64(mt) ? " (64-bit)" : "");
    break;
  }
  case WASM_EXTERN_TABLE: {
    const wasm_tabletype_t *tt = wasm_externtype_as_tabletype_const(et);
    const wasm_limits_t *l = wasm_tabletype_limits(tt);
    info->kind = WP_EXTERN_TABLE;
    snprintf(type, sizeof type, "table %u %s", l->min,
             raw_valtype_name(wasm_valtype_kind(wasm_tabletype_element(tt))));
    break;
  }
  case WASM_EXTERN_GLOBAL: {
    const wasm_globaltype_t *gt = wasm_externtype_as_globaltype_const(et);
    info->kind = WP_EXTERN_GLOBAL;
    snprintf(type, sizeof type, "global %s%s",
             wasm_globaltype_mutability(gt) == WASM_VAR ? "mut " : "",
             raw_valtype_name(wasm_valtype_kind(wasm_globaltype_content(gt))));
    break;
  }
  default:
    info->kind = WP_EXTERN_TAG;
    strcpy(type, "tag");
    break;
  }
  info->type = strdup(type);
  return info->type != NULL;
}

static char *name_dup(const wasm_name_t *n) { return wp_strdup_n(n->data, n->size); }

static void free_infos(wp_extern_info *infos, size_t n) {
  for (size_t i = 0; i < n && infos; i++) {
    free((char *)infos[i].module);
    free((char *)infos[i].name);
    free((char *)infos[i].type);
    free((wp_valkind *)infos[i].params);
  }
  free(infos);
}

static wp_error *check_helper_exports(const wp_plugin *p);

static wp_error *reflect(wp_plugin *p) {
  wasm_importtype_vec_t imps;
  wasm_exporttype_vec_t exps;
  wasmtime_module_imports(p->module, &imps);
  wasmtime_module_exports(p->module, &exps);
  bool ok = true;
  p->imports = calloc(imps.size + 1, sizeof *p->imports);
  p->exports = calloc(exps.size + 1, sizeof *p->exports);
  p->post_export = calloc(exps.size + 1, sizeof *p->post_export);
  ok = p->imports && p->exports && p->post_export;
  for (size_t i = 0; ok && i < imps.size; i++) {
    wp_extern_info *info = &p->imports[i];
    p->nimports = i + 1;
    info->module = name_dup(wasm_importtype_module(imps.data[i]));
    info->name = name_dup(wasm_importtype_name(imps.data[i]));
    ok = info->module && info->name && describe(wasm_importtype_type(imps.data[i]), info);
    if (ok && strcmp(info->module, "wasi_snapshot_preview1") == 0) p->needs_wasi = true;
  }
  for (size_t i = 0; ok && i < exps.size; i++) {
    wp_extern_info *info = &p->exports[i];
    p->nexports = i + 1;
    info->name = name_dup(wasm_exporttype_name(exps.data[i]));
    ok = info->name && describe(wasm_exporttype_type(exps.data[i]), info);
  }
  wasm_importtype_vec_delete(&imps);
  wasm_exporttype_vec_delete(&exps);
  if (!ok) return wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": out of memory", p->name);

  p->realloc_export = p->memory_export = -1;
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    p->post_export[i] = -1;
    if (e->kind == WP_EXTERN_MEMORY && strcmp(e->name, "memory") == 0) p->memory_export = (int32_t)i;
    if (e->kind != WP_EXTERN_FUNC) continue;
    if (strcmp(e->name, "cabi_realloc") == 0) p->realloc_export = (int32_t)i;
    if (strcmp(e->name, "_initialize") == 0) p->has_initialize = true;
    if (strcmp(e->name, "_start") == 0) p->has_start = true;
  }
  for (size_t i = 0; i < p->nexports; i++) {
    if (p->exports[i].kind != WP_EXTERN_FUNC) continue;
    for (size_t j = 0; j < p->nexports; j++) {
      const char *n = p->exports[j].name;
      if (p->exports[j].kind == WP_EXTERN_FUNC && strncmp(n, "cabi_post_", 10) == 0 &&
          strcmp(n + 10, p->exports[i].name) == 0)
        p->post_export[i] = (int32_t)j;
    }
  }
  return check_helper_exports(p);
}

/* ---- exports the host calls on its own -------------------------------------- */

/* Does export `e` have exactly the type (params) -> (results)? */
static bool has_type(const wp_extern_info *e, const wp_valkind *params, size_t np,
                     const wp_valkind *results, size_t nr) {
  if (!e->numeric || e->nparams != np || e->nresults != nr) return false;
  for (size_t i = 0; i < np; i++)
    if (e->params[i] != params[i]) return false;
  for (size_t i = 0; i < nr; i++)
    if (e->results[i] != results[i]) return false;
  return true;
}

static wp_error *wrong_helper_type(const wp_plugin *p, const wp_extern_info *e, const char *want) {
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT ": export '%s' has the type %s, but the host calls it as "
                      "%s; rebuild the plugin with a wasmplug PDK, or rename the export",
                      p->name, e->name, e->type, want);
}

/*
 * The host recognises cabi_realloc, _initialize, _start and cabi_post_<name>
 * by name and calls them through raw value buffers sized by these types, so
 * a plugin declaring one with other parameters or results could make the
 * host read or write past them. Check each against its exact type now.
 */
static wp_error *check_helper_exports(const wp_plugin *p) {
  static const wp_valkind i32x4[] = {WP_I32, WP_I32, WP_I32, WP_I32};
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    if (e->kind != WP_EXTERN_FUNC) continue;
    if (strcmp(e->name, "cabi_realloc") == 0 && !has_type(e, i32x4, 4, i32x4, 1))
      return wrong_helper_type(p, e, "func (i32, i32, i32, i32) -> (i32)");
    if ((strcmp(e->name, "_initialize") == 0 || strcmp(e->name, "_start") == 0) &&
        !has_type(e, NULL, 0, NULL, 0))
      return wrong_helper_type(p, e, "func () -> ()");
  }
  /* cabi_post_<name> runs after a bytes call of <name> with its return-area
     pointer; for exports of another type it is never called. */
  for (size_t i = 0; i < p->nexports; i++) {
    int32_t post = p->post_export[i];
    if (post < 0) continue;
    if (!has_type(&p->exports[i], i32x4, 2, i32x4, 1)) {
      p->post_export[i] = -1;
      continue;
    }
    if (!has_type(&p->exports[post], i32x4, 1, NULL, 0))
      return wrong_helper_type(p, &p->exports[post], "func (i32) -> ()");
  }
  return NULL;
}

/* ---- linking ------------------------------------------------------------- */

/* Every import must be WASI or a defined host function; lists those that are not. */
static wp_error *check_imports(wp_plugin *p) {
  char missing[2048] = "";
  size_t nmissing = 0;
  pthread_mutex_lock(&p->engine->lock);
  for (size_t i = 0; i < p->nimports; i++) {
    const wp_extern_info *imp = &p->imports[i];
    if (strcmp(imp->module, "wasi_snapshot_preview1") == 0 && imp->kind == WP_EXTERN_FUNC) continue;
    if (imp->kind == WP_EXTERN_FUNC && wp_engine_find_host(p->engine, imp->module, imp->name)) continue;
    size_t n = strlen(missing);
    snprintf(missing + n, sizeof missing - n, "%s%s.%s (%s)", nmissing ? ", " : "", imp->module,
             imp->name, imp->type);
    nmissing++;
  }
  pthread_mutex_unlock(&p->engine->lock);
  if (!nmissing) return NULL;
  return wp_error_new(WP_ERR_LINK,
                      WP_PLUGIN_FMT ": %zu import%s not provided by the host: %s. Define %s "
                      "with wp_engine_define_func/_bytes/_string before loading, or rebuild "
                      "the plugin without %s",
                      p->name, nmissing, nmissing == 1 ? " is" : "s are", missing,
                      nmissing == 1 ? "it" : "them", nmissing == 1 ? "it" : "them");
}

static wp_error *link(wp_plugin *p) {
  wp_error *err = check_imports(p);
  if (err) return err;
  pthread_mutex_lock(&p->engine->lock);
  wasmtime_error_t *werr = wasmtime_linker_instantiate_pre(p->flavor->linker, p->module, &p->pre);
  pthread_mutex_unlock(&p->engine->lock);
  if (werr) return wp_error_from_wasmtime(WP_ERR_LINK, werr, WP_PLUGIN_FMT ": cannot link", p->name);
  return NULL;
}

/* ---- loading ------------------------------------------------------------- */

bool wp_is_component_binary(const uint8_t *b, size_t len) {
  return len >= 8 && memcmp(b, "\0asm", 4) == 0 && b[4] == 0x0d && b[6] == 0x01;
}

static bool is_binary(const uint8_t *b, size_t len) {
  return len >= 4 && memcmp(b, "\0asm", 4) == 0;
}

static void plugin_destroy(wp_plugin *p) {
  wp_component_free(p->comp);
  if (p->pre) wasmtime_instance_pre_delete(p->pre);
  if (p->module) wasmtime_module_delete(p->module);
  free_infos(p->imports, p->nimports);
  free_infos(p->exports, p->nexports);
  free(p->post_export);
  wp_manifest_free(p->manifest);
  free(p->name);
  if (p->engine) wp_engine_free(p->engine);
  free(p);
}

static wp_error *check_pin(const wp_plugin *p) {
  const wp_manifest *m = p->manifest;
  if (!m->has_sha256) return NULL;
  char want[65];
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    want[2 * i] = digits[m->sha256[i] >> 4];
    want[2 * i + 1] = digits[m->sha256[i] & 15];
  }
  want[64] = '\0';
  if (strcmp(want, p->sha256_hex) == 0) return NULL;
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT ": sha256 mismatch: the manifest pins %s but the bytes "
                      "hash to %s; the file changed or the pin is stale (update the manifest's "
                      "sha256 if the new file is trusted)",
                      p->name, want, p->sha256_hex);
}

/*
 * With pooling on, Wasmtime refuses at compile time a plugin that does not
 * fit the pool's slots, in words about the pool ("exceeds the limit of ...")
 * behind "not a valid WebAssembly module". Say which engine setting it is
 * and how to raise it instead.
 */
static wp_error *explain_pool_fit(const wp_plugin *p, wp_error *err) {
  static const struct {
    const char *mark, *fix;
  } fits[] = {
      {"minimum byte size", "its initial memory is larger than a pool slot's memory: raise "
                            "wp_engine_config_set_max_memory"},
      {"minimum element size", "a table is larger than a pool slot's tables: raise "
                               "wp_engine_config_set_pool_table_elements"},
      {"instance allocation for this module", "its instance state is larger than a pool slot: "
                                              "raise wp_engine_config_set_pool_instance_size"},
      {"per-instance limit", "pooled instances hold one memory and one table per module: use "
                             "an engine with wp_engine_config_set_pooling(cfg, 0)"},
      {"in the pooling allocator", "the component has more core instances, memories or tables "
                                   "than a pooled instance may: use an engine with "
                                   "wp_engine_config_set_pooling(cfg, 0)"},
  };
  const char *msg = wp_error_get_message(err);
  /* Only compile errors: other load errors quote plugin text that could
     contain the same words. */
  if (wp_error_get_kind(err) != WP_ERR_LOAD || !strstr(msg, "not a valid WebAssembly")) return err;
  for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++) {
    const char *at = strstr(msg, fits[i].mark);
    if (!at) continue;
    const char *why = strstr(msg, ": ");
    wp_error *better = wp_error_new(WP_ERR_LOAD,
                                    WP_PLUGIN_FMT ": does not fit the engine's instance pool (%s): "
                                    "%s, or turn pooling off",
                                    p->name, why ? why + 2 : msg, fits[i].fix);
    wp_error_free(err);
    return better;
  }
  return err;
}

/* Effective limits: the manifest's, capped by the engine's. */
static wp_error *apply_limits(wp_plugin *p) {
  const wp_manifest *m = p->manifest;
  p->max_memory = p->engine->max_memory;
  if (m->max_memory) {
    if (m->max_memory > p->engine->max_memory) {
      char a[32], b[32];
      return wp_error_new(WP_ERR_BAD_INPUT,
                          WP_PLUGIN_FMT ": manifest memory limit %s is above the engine's "
                          "maximum %s; lower it or raise wp_engine_config_set_max_memory",
                          p->name, wp_format_size(m->max_memory, a, sizeof a),
                          wp_format_size(p->engine->max_memory, b, sizeof b));
    }
    p->max_memory = m->max_memory;
  }
  p->timeout_ns = (uint64_t)m->timeout_ms * 1000000u;
  for (size_t i = 0; i < m->ndirs; i++) {
    struct stat st;
    if (stat(m->dirs[i].host, &st) != 0 || !S_ISDIR(st.st_mode))
      return wp_error_new(WP_ERR_BAD_INPUT,
                          WP_PLUGIN_FMT ": granted directory '%s' is not a directory on this "
                          "host (%s); fix the path in the manifest",
                          p->name, m->dirs[i].host, strerror(errno ? errno : ENOTDIR));
  }
  return NULL;
}

wp_error *wp_plugin_from_bytes(struct wp_engine *engine, const char *display,
                               const uint8_t *bytes, size_t len, const wp_manifest *manifest,
                               wp_plugin **out) {
  wp_plugin *p = calloc(1, sizeof *p);
  if (!p) return wp_error_new(WP_ERR_HOST, "wasmplug: out of memory");
  atomic_init(&p->refs, 1);
  p->engine = wp_engine_ref(engine);
  p->manifest = wp_manifest_copy(manifest);
  /* A manifest's name is checked to be UTF-8; a file name is not, and the
     name reaches messages and log callbacks: make it printable. */
  p->name = manifest && manifest->name ? strdup(manifest->name)
                                       : wp_strdup_printable(display, strlen(display));
  p->size = len;
  wp_error *err = NULL;
  uint8_t *converted = NULL;
  if (!p->manifest || !p->name) err = wp_error_new(WP_ERR_HOST, "wasmplug: out of memory");
  if (!err) {
    wp_sha256_hex(bytes, len, p->sha256_hex);
    err = check_pin(p);
  }
  if (!err) err = apply_limits(p);
  /* Load caps before any parsing or compiling: both cost time and memory. */
  if (!err) err = wp_bounds_apply(p);
  if (!err) err = wp_bounds_check_size(p, len, !is_binary(bytes, len));
  if (!err && !is_binary(bytes, len)) {
    /* Not a binary: try the text format. */
    wasm_byte_vec_t wasm;
    wasmtime_error_t *werr = wasmtime_wat2wasm((const char *)bytes, len, &wasm);
    if (werr) {
      err = wp_wat_error(p->name, werr, (const char *)bytes, len);
    } else {
      converted = malloc(wasm.size ? wasm.size : 1);
      if (converted) memcpy(converted, wasm.data, wasm.size);
      len = wasm.size;
      bytes = converted;
      wasm_byte_vec_delete(&wasm);
      if (!converted) err = wp_error_new(WP_ERR_HOST, "wasmplug: out of memory");
    }
  }
  if (!err && converted) err = wp_bounds_check_size(p, len, false);
  if (!err) err = wp_bounds_check_functions(p, bytes, len);
  if (!err) err = wp_engine_flavor(engine, p->manifest->fuel > 0, &p->flavor);
  if (!err && wp_is_component_binary(bytes, len)) {
    err = wp_component_load(p, bytes, len);
  } else if (!err) {
    if (p->manifest->trap_missing_imports)
      err = wp_error_new(WP_ERR_BAD_INPUT,
                         WP_PLUGIN_FMT ": the manifest asks for missing imports to trap, which "
                         "only components support; remove \"imports\": {\"missing\": \"trap\"}",
                         p->name);
    if (!err) err = wp_cache_compile(p, bytes, len, NULL);
    if (!err) err = reflect(p);
    if (!err) err = link(p);
  }
  if (err && engine->pooling) err = explain_pool_fit(p, err);
  free(converted);
  if (err) {
    plugin_destroy(p);
    return err;
  }
  *out = p;
  return NULL;
}

wp_error *wp_plugin_load_bytes(wp_engine *engine, const char *name, const void *bytes,
                               size_t len, const wp_manifest *manifest, wp_plugin **out) {
  if (!engine || !bytes || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_plugin_load_bytes: engine, bytes and out are required");
  return wp_plugin_from_bytes(engine, name ? name : "<bytes>", bytes, len, manifest, out);
}

wp_error *wp_plugin_load(wp_engine *engine, const char *path, const wp_manifest *manifest,
                         wp_plugin **out) {
  if (!engine || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_plugin_load: engine and out are required");
  if (!path && manifest) path = manifest->source_path;
  if (!path)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_plugin_load: no path given and the manifest has no source");
  uint8_t *data = NULL;
  size_t len = 0;
  wp_error *err = read_file(path, engine, manifest, &data, &len);
  if (err) return err;
  err = wp_plugin_from_bytes(engine, base_name(path), data, len, manifest, out);
  free(data);
  return err;
}

wp_plugin *wp_plugin_ref(wp_plugin *p) {
  atomic_fetch_add(&p->refs, 1);
  return p;
}

void wp_plugin_free(wp_plugin *p) {
  if (p && atomic_fetch_sub(&p->refs, 1) == 1) plugin_destroy(p);
}

const char *wp_plugin_get_name(const wp_plugin *p) { return p->name; }
const char *wp_plugin_get_sha256(const wp_plugin *p) { return p->sha256_hex; }
size_t wp_plugin_get_size(const wp_plugin *p) { return p->size; }
bool wp_plugin_was_cached(const wp_plugin *p) { return p->cached; }
size_t wp_plugin_import_count(const wp_plugin *p) { return p->nimports; }
size_t wp_plugin_export_count(const wp_plugin *p) { return p->nexports; }

const wp_extern_info *wp_plugin_get_import(const wp_plugin *p, size_t i) {
  return i < p->nimports ? &p->imports[i] : NULL;
}

const wp_extern_info *wp_plugin_get_export(const wp_plugin *p, size_t i) {
  return i < p->nexports ? &p->exports[i] : NULL;
}

/* The name callers use for export i ("INTERFACE#FUNC" inside a component's
   interfaces). */
static const char *call_name(const wp_plugin *p, size_t i) {
  return p->comp ? p->comp->exports[i].qualified : p->exports[i].name;
}

char *wp_plugin_export_list(const wp_plugin *p) {
  size_t cap = 1;
  for (size_t i = 0; i < p->nexports; i++) cap += strlen(call_name(p, i)) + 2;
  char *s = malloc(cap);
  if (!s) return NULL;
  s[0] = '\0';
  for (size_t i = 0; i < p->nexports; i++) {
    const char *n = call_name(p, i);
    if (p->exports[i].kind != WP_EXTERN_FUNC || strcmp(n, "cabi_realloc") == 0 ||
        strncmp(n, "cabi_post_", 10) == 0 || strcmp(n, "_initialize") == 0)
      continue;
    if (s[0]) strcat(s, ", ");
    strcat(s, n);
  }
  return s;
}

wp_error *wp_plugin_find_func(const wp_plugin *p, const char *name, wp_func_id *out) {
  for (size_t i = 0; i < p->nexports; i++) {
    if (p->exports[i].kind == WP_EXTERN_FUNC && strcmp(call_name(p, i), name) == 0) {
      *out = (wp_func_id)i;
      return NULL;
    }
  }
  char *list = wp_plugin_export_list(p);
  wp_error *err = wp_error_new(WP_ERR_NOT_FOUND, WP_PLUGIN_FMT ": export '%s' not found (exports: %s)",
                               p->name, name, list && *list ? list : "none");
  free(list);
  return err;
}
