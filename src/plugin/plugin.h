/*
 * plugin.h - a loaded, checked, compiled plugin (internal).
 */
#ifndef WP_PLUGIN_PLUGIN_H
#define WP_PLUGIN_PLUGIN_H

#include <stdatomic.h>

#include "engine/engine.h"
#include "plugin/kind.h"
#include "plugin/manifest.h"
#include "util/size.h"

struct wp_plugin {
  atomic_int refs;
  struct wp_engine *engine;
  wp_flavor *flavor;        /* the Wasmtime engine + linker it was compiled for */
  wp_manifest *manifest;    /* private copy */
  char *name;
  char sha256_hex[65];
  size_t size;
  bool cached;              /* compiled code came from the disk cache */
  uint64_t max_memory;      /* effective limit in bytes */
  uint64_t max_module_size; /* effective load caps (bounds.c) */
  uint32_t max_functions;
  uint64_t timeout_ns;      /* 0: none */
  wp_extern_info *imports, *exports;
  size_t nimports, nexports;
  bool needs_wasi;          /* imports WASI (preview 1 or 2): instances get a WASI context */
  void **grants;            /* per capability of the engine when it loaded (grants.c) */
  struct wp_capability **caps; /* those capabilities, to free the grants */
  size_t ngrants;
  const wp_kind *kind;      /* what it is: how it loads, links, instantiates */
  void *kind_data;          /* what only its kind needs, owned by the kind */
};

/* The plugin whose kind knows its types: p, or the plugin a wrapping kind
   (a worker process's) runs. */
static inline const wp_plugin *wp_plugin_unwrap(const wp_plugin *p) {
  return p && p->kind && p->kind->inner ? p->kind->inner(p) : p;
}

/* "plugin 'NAME'" prefix used by every message about this plugin. */
#define WP_PLUGIN_FMT "plugin '%s'"

/* Loads bytes into a plugin; `display` names it; `base` is the manifest (may be NULL). */
wp_error *wp_plugin_from_bytes(struct wp_engine *engine, const char *display, const uint8_t *bytes,
                               size_t len, const wp_manifest *manifest, wp_plugin **out);

/* Compiles with the on-disk cache (cache.c) into *module or *component,
   whichever is not NULL. */
wp_error *wp_cache_compile(struct wp_plugin *p, const uint8_t *wasm, size_t len,
                           wasmtime_module_t **module, wasmtime_component_t **component);

/* Asks every capability of the engine for the plugin's grant (grants.c);
   fails on a section no capability claims or one its capability refuses. */
wp_error *wp_plugin_make_grants(struct wp_plugin *p);
/* Frees the grants (plugin teardown). */
void wp_plugin_free_grants(struct wp_plugin *p);

/* Frees an array of n extern infos (imports or exports). */
void wp_extern_infos_free(wp_extern_info *infos, size_t n);

/* True for a binary Component Model component (layer 1 header). */
bool wp_is_component_binary(const uint8_t *bytes, size_t len);

/* sha256 of bytes as 64 hex digits. */
void wp_sha256_hex(const uint8_t *data, size_t len, char out[65]);

/* Comma-separated names of the function exports, for "not found" messages;
   malloc'ed. */
char *wp_plugin_export_list(const wp_plugin *p);

#endif
