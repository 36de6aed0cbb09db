/*
 * plugin.h - a loaded, checked, compiled plugin (internal).
 */
#ifndef WP_PLUGIN_PLUGIN_H
#define WP_PLUGIN_PLUGIN_H

#include <stdatomic.h>

#include "engine/engine.h"
#include "plugin/kind.h"
#include "plugin/manifest.h"
#include "util/file.h"
#include "util/size.h"

/* The file a plugin is being loaded from (wp_plugin_load), while it loads. */
typedef struct wp_plugin_file {
  const char *path;
  const uint8_t *bytes; /* as read, before any .wat conversion */
  size_t len;
  wp_file_stamp stamp;  /* of the descriptor read (util/file.h) */
  bool steady;          /* the stamp was the same after reading */
} wp_plugin_file;

struct wp_plugin {
  atomic_int refs;
  struct wp_engine *engine;
  wp_flavor *flavor;        /* the Wasmtime engine + linker it was compiled for */
  wp_manifest *manifest;    /* private copy */
  char *name;
  char sha256_hex[65];
  bool sha256_indexed;      /* sha256_hex came from the cache index, unhashed */
  size_t size;
  bool cached;              /* compiled code came from the disk cache */
  uint64_t max_memory;      /* effective limit in bytes */
  uint64_t max_module_size; /* effective load caps (bounds.c) */
  uint32_t max_functions;
  uint64_t timeout_ns;      /* 0: none */
  wp_extern_info *imports, *exports;
  size_t nimports, nexports;
  bool needs_wasi;          /* imports WASI (preview 1 or 2): instances get a WASI context */
  /* A pool may build a fresh instance in the store of the one it replaces
     (wp_instance_retire): its kind keeps nothing in a store that a new
     instance could reach, and a dead instance holds one memory and one
     table at most (the pool's spare slots count on that). */
  bool store_reusable;
  void **grants;            /* per capability of the engine when it loaded (grants.c) */
  struct wp_capability **caps; /* those capabilities, to free the grants */
  size_t ngrants;
  const wp_kind *kind;      /* what it is: how it loads, links, instantiates */
  void *kind_data;          /* what only its kind needs, owned by the kind */
  const wp_plugin_file *file; /* while wp_plugin_load runs, else NULL */
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

/*
 * The cache's index (cache.c says why it is sound): per plugin file (path,
 * device, inode), the sha256 of its bytes and the stamp (size, mtime,
 * ctime) they had, so that a load of an unchanged file need not hash it.
 * Only a file whose stamp held while it was read (p->file->steady) and
 * whose ctime is WP_CACHE_INDEX_SETTLE_NS before the read or older is
 * recorded or looked up: no file system's timestamps are coarser (FAT: 2 s).
 */
#define WP_CACHE_INDEX_SETTLE_NS (2 * (int64_t)1000000000)
/* The longest record (a longer path is not indexed). */
#define WP_CACHE_INDEX_MAX 4608

/* With no pin, an engine with a cache and p->file set: p->sha256_hex from
   the index and p->sha256_indexed, if it has a record for this stamp.
   Refuses an index file as it refuses an entry (cache.c). */
wp_error *wp_cache_index_find(struct wp_plugin *p);
/* Records p->sha256_hex for p->file's stamp, when it may be (best effort). */
void wp_cache_index_store(struct wp_plugin *p);
/* The index's file name for the path and stamp, in buf (71 bytes or more). */
void wp_cache_index_name(const char *path, const wp_file_stamp *st, char *buf, size_t cap);
/* The record the index holds for the path, stamp and sha256, in buf; its
   length, 0 if it does not fit. Tests use it to forge records. */
size_t wp_cache_index_record(const char *path, const wp_file_stamp *st, const char sha[65],
                             char *buf, size_t cap);

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
