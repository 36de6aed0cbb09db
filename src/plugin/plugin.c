/*
 * plugin.c - wp_plugin: read, verify, compile, reflect and pre-link a plugin.
 */
#define _POSIX_C_SOURCE 200809L
#include "plugin/plugin.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/error.h"
#include "plugin/bounds.h"
#include "util/file.h"
#include "util/hex.h"
#include "util/str.h"

void wp_sha256_hex(const uint8_t *data, size_t len, char out[65]) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(data, len, d);
  wp_hex(d, sizeof d, out);
}

/* ---- reading files ------------------------------------------------------- */

/* Reads a plugin file into f (bytes malloc'ed); one over the load size cap is
   refused unread. */
static wp_error *read_file(const char *path, struct wp_engine *engine, const wp_manifest *m,
                           wp_plugin_file *f) {
  uint64_t size;
  wp_error *err;
  uint8_t *data = NULL;
  f->path = path;
  int e = wp_file_read_stamped(path, wp_bounds_file_cap(engine, m), &data, &f->len, &size,
                               &f->stamp, &f->steady);
  f->bytes = data;

  /* Over the cap: bounds.c words the error (which cap, how to raise it). */
  if (e == EFBIG && (err = wp_bounds_check_file(engine, m, wp_base_name(path), size))) return err;
  switch (e) {
  case 0: return NULL;
  case EISDIR:
  case EINVAL: return wp_error_new(WP_ERR_IO, "plugin '%s': not a regular file", path);
  case EFBIG: /* not reached: the size is over the cap bounds.c just checked */
  case EIO:
  case ENOMEM:
    return wp_error_new(WP_ERR_IO, "plugin '%s': cannot read %lld bytes", path, (long long)size);
  default:
    return wp_error_new(e == ENOENT ? WP_ERR_NOT_FOUND : WP_ERR_IO, "plugin '%s': cannot open: %s",
                        path, strerror(e));
  }
}

/* ---- extern infos ---------------------------------------------------------- */

void wp_extern_infos_free(wp_extern_info *infos, size_t n) {
  for (size_t i = 0; i < n && infos; i++) {
    free((char *)infos[i].module);
    free((char *)infos[i].name);
    free((char *)infos[i].type);
    free((wp_valkind *)infos[i].params);
  }
  free(infos);
}

/* ---- loading ------------------------------------------------------------- */

bool wp_is_component_binary(const uint8_t *b, size_t len) {
  return len >= 8 && memcmp(b, "\0asm", 4) == 0 && b[4] == 0x0d && b[6] == 0x01;
}

static bool is_binary(const uint8_t *b, size_t len) {
  return len >= 4 && memcmp(b, "\0asm", 4) == 0;
}

static void plugin_destroy(wp_plugin *p) {
  if (p->kind) p->kind->free(p);
  wp_plugin_free_grants(p);
  wp_extern_infos_free(p->imports, p->nimports);
  wp_extern_infos_free(p->exports, p->nexports);
  wp_manifest_free(p->manifest);
  free(p->name);
  if (p->engine) wp_engine_free(p->engine);
  free(p);
}

static wp_error *check_pin(const wp_plugin *p) {
  const wp_manifest *m = p->manifest;
  if (!m->has_sha256) return NULL;
  char want[65];
  wp_hex(m->sha256, 32, want);
  if (strcmp(want, p->sha256_hex) == 0) return NULL;
  return wp_error_new(WP_ERR_LOAD,
                      WP_PLUGIN_FMT
                      ": sha256 mismatch: the manifest pins %s but the bytes "
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
                          WP_PLUGIN_FMT
                          ": manifest memory limit %s is above the engine's "
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

/*
 * Process isolation (wasmplug/isolation.h): the manifest's choice, else the
 * engine's. An isolable kind is then run by the engine's process kind,
 * which loads the plugin as its own kind too; the engine's default passes
 * over the kinds that cannot be isolated, an explicit request does not.
 */
static wp_error *choose_isolation(wp_plugin *p) {
  const wp_kind *process = p->engine->hooks->process_kind;
  wp_isolation iso = p->manifest->isolation ? p->manifest->isolation : p->engine->isolation;
  if (!p->kind || !process || iso != WP_ISOLATION_PROCESS) return NULL;
  if (p->kind->isolable) {
    p->kind = process;
    return NULL;
  }
  if (p->manifest->isolation != WP_ISOLATION_PROCESS) return NULL;
  const char *kind = p->kind->name;
  p->kind = NULL; /* nothing loaded for it to free */
  return wp_error_new(WP_ERR_BAD_INPUT,
                      WP_PLUGIN_FMT ": a %s cannot run in process isolation yet (core modules "
                                    "can); remove \"isolation\": \"process\" from the manifest "
                                    "or --isolation process",
                      p->name, kind);
}

/* The sha256 of the bytes: the cache index's for an unchanged file with no
   pin, else hashed; a pin is always checked on the bytes themselves. */
static wp_error *fill_sha256(wp_plugin *p, const uint8_t *bytes, size_t len) {
  if (!p->manifest->has_sha256) {
    wp_error *err = wp_cache_index_find(p);
    if (err || p->sha256_indexed) return err;
  }
  wp_sha256_hex(bytes, len, p->sha256_hex);
  return check_pin(p);
}

/* As wp_plugin_from_bytes; `file` is where the bytes were read from, or NULL. */
static wp_error *from_bytes(struct wp_engine *engine, const char *display, const uint8_t *bytes,
                            size_t len, const wp_manifest *manifest, const wp_plugin_file *file,
                            wp_plugin **out) {
  wp_plugin *p = calloc(1, sizeof *p);
  if (!p) return wp_error_no_memory();
  p->file = file;
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
  if (!p->manifest || !p->name) err = wp_error_no_memory();
  if (!err) err = fill_sha256(p, bytes, len);
  if (!err) err = apply_limits(p);
  if (!err) err = wp_plugin_make_grants(p);
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
      if (!converted) err = wp_error_no_memory();
    }
  }
  if (!err && converted) err = wp_bounds_check_size(p, len, false);
  if (!err) err = wp_bounds_check_functions(p, bytes, len);
  if (!err) err = wp_engine_flavor(engine, p->manifest->fuel > 0, &p->flavor);
  if (!err) {
    /* The first kind that claims the bytes loads them. */
    const wp_kind *const *k = engine->hooks->kinds;
    while (*k && !(*k)->claims(bytes, len)) k++;
    p->kind = *k;
    err = choose_isolation(p);
    if (!err)
      err = p->kind
                ? p->kind->load(p, bytes, len)
                : wp_error_new(WP_ERR_LOAD,
                               WP_PLUGIN_FMT ": not a kind of plugin this engine loads", p->name);
  }
  if (err && engine->pooling) err = explain_pool_fit(p, err);
  free(converted);
  if (err) {
    plugin_destroy(p);
    return err;
  }
  if (!p->sha256_indexed) wp_cache_index_store(p);
  p->file = NULL;
  *out = p;
  return NULL;
}

wp_error *wp_plugin_from_bytes(struct wp_engine *engine, const char *display, const uint8_t *bytes,
                               size_t len, const wp_manifest *manifest, wp_plugin **out) {
  return from_bytes(engine, display, bytes, len, manifest, NULL, out);
}

wp_error *wp_plugin_load_bytes(wp_engine *engine, const char *name, const void *bytes, size_t len,
                               const wp_manifest *manifest, wp_plugin **out) {
  if (!engine || !bytes || !out)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_plugin_load_bytes: engine, bytes and out are required");
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
  wp_plugin_file f;
  wp_error *err = read_file(path, engine, manifest, &f);
  if (err) return err;
  err = from_bytes(engine, wp_base_name(path), f.bytes, f.len, manifest, &f, out);
  free((uint8_t *)f.bytes);
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
const wp_manifest *wp_plugin_get_manifest(const wp_plugin *p) { return p ? p->manifest : NULL; }
wp_engine *wp_plugin_get_engine(const wp_plugin *p) { return p ? p->engine : NULL; }
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
static const char *call_name(const wp_plugin *p, size_t i) { return p->kind->call_name(p, i); }

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
  wp_error *err = wp_error_new(WP_ERR_NOT_FOUND,
                               WP_PLUGIN_FMT ": export '%s' not found (exports: %s)", p->name, name,
                               list && *list ? list : "none");
  free(list);
  return err;
}
