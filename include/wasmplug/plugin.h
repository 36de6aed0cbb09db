/*
 * wasmplug/plugin.h - plugins (wp_plugin): loading, what a plugin imports and
 * exports, and handles on its exported functions.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_PLUGIN_H
#define WASMPLUG_PLUGIN_H

#include "wasmplug/engine.h"
#include "wasmplug/manifest.h"
#include "wasmplug/numeric.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

typedef struct wp_plugin wp_plugin;

/** What an import or export is. */
typedef enum wp_extern_kind {
  WP_EXTERN_FUNC = 0,
  WP_EXTERN_MEMORY,
  WP_EXTERN_TABLE,
  WP_EXTERN_GLOBAL,
  WP_EXTERN_TAG,
  WP_EXTERN_RESOURCE, /**< components: a resource type */
} wp_extern_kind;

/** A component function's WIT type: see wp_functype_* in wasmplug/wit.h. */
typedef struct wp_functype wp_functype;

/**
 * One import or export of a plugin. Borrowed from the plugin.
 * For components, functions and resources inside interfaces are listed one by
 * one: `module` is the interface ("example:hello/greeter", NULL at the
 * world's top level), `name` the function ("greet", "[method]blob.size").
 */
typedef struct wp_extern_info {
  const char *module; /**< imports: the module name; exports: NULL (components: interface) */
  const char *name; /**< the field name */
  wp_extern_kind kind;
  /** Functions: parameter and result types. A type outside wp_valkind (v128,
      references) makes `numeric` false and such functions uncallable here. */
  const wp_valkind *params;
  size_t nparams;
  const wp_valkind *results;
  size_t nresults;
  bool numeric;
  /** Memories: size limits in 64 KiB pages; max_pages is 0 when unbounded. */
  uint64_t min_pages, max_pages;
  /** Printable type, e.g. "func (i32, i32) -> i32" or "memory 17 pages";
      components: WIT, e.g. "func(name: string) -> string". */
  const char *type;
  /** Components: the function's WIT type (NULL otherwise); see wp_functype_*. */
  const wp_functype *functype;
} wp_extern_info;

/**
 * Loads, checks and compiles the plugin at `path` (a .wasm binary, or a
 * .wat text file). `manifest` may be NULL (deny everything, engine limits);
 * it is copied. If `path` is NULL the manifest's source is loaded. A sha256
 * pin that does not match fails with WP_ERR_LOAD; with a pin the file is
 * hashed on every load. Compiled code is cached on disk; a second load of
 * the same bytes skips compilation. Without a pin, a file that is unchanged
 * since a load through the same cache directory (same path, device, inode,
 * size, mtime and ctime, and last changed 2 s or more before the load) is
 * not hashed again: its sha256 comes from the cache's index. Pin the sha256
 * where the bytes must be checked whatever the file system says.
 * Imports must all be provided (WASI, wasmplug.*, or defined host functions),
 * else WP_ERR_LINK lists the missing ones.
 */
wp_error *wp_plugin_load(wp_engine *engine, const char *path, const wp_manifest *manifest,
                         wp_plugin **out);

/** As wp_plugin_load, from bytes (binary or text); `name` names it in messages. */
wp_error *wp_plugin_load_bytes(wp_engine *engine, const char *name, const void *bytes, size_t len,
                               const wp_manifest *manifest, wp_plugin **out);

/** A new reference to the plugin; free each with wp_plugin_free. */
wp_plugin *wp_plugin_ref(wp_plugin *plugin);

/** Drops a reference; the plugin goes when its last instance and reference do. */
void wp_plugin_free(wp_plugin *plugin);

/**
 * The plugin's manifest: its own copy, fixed when it loaded (borrowed; it
 * lives as long as the plugin). Capabilities read grants and config from it.
 */
const wp_manifest *wp_plugin_get_manifest(const wp_plugin *plugin);

/** The engine the plugin was loaded on (borrowed). */
wp_engine *wp_plugin_get_engine(const wp_plugin *plugin);

/** The plugin's name (from the manifest or the file name). */
const char *wp_plugin_get_name(const wp_plugin *plugin);

/** The sha256 of the plugin's bytes, as 64 lower-case hex digits (for an
    unchanged file, from the cache's index: see wp_plugin_load). */
const char *wp_plugin_get_sha256(const wp_plugin *plugin);

/** The size of the plugin's bytes (as loaded: .wat text size for text). */
size_t wp_plugin_get_size(const wp_plugin *plugin);

/** True if the compiled code came from the on-disk cache. */
bool wp_plugin_was_cached(const wp_plugin *plugin);

/** Imports and exports, in the module's order. */
size_t wp_plugin_import_count(const wp_plugin *plugin);
const wp_extern_info *wp_plugin_get_import(const wp_plugin *plugin, size_t i);
size_t wp_plugin_export_count(const wp_plugin *plugin);
const wp_extern_info *wp_plugin_get_export(const wp_plugin *plugin, size_t i);

/**
 * A handle on an exported function, valid for every instance of the plugin it
 * came from. Looking it up once and calling wp_instance_call_func skips the
 * name lookup on every call.
 */
typedef uint32_t wp_func_id;

/**
 * Finds an exported function; WP_ERR_NOT_FOUND lists the exports there are.
 * For components, a function inside an exported interface is named
 * "INTERFACE#FUNC", e.g. "example:hello/greeter#greet".
 */
wp_error *wp_plugin_find_func(const wp_plugin *plugin, const char *name, wp_func_id *out);

/**
 * True if `func` is a bytes function, one that wp_instance_call_bytes /
 * wp_instance_call_func_bytes / wp_instance_call_string can call: in a core
 * module, an export typed (i32, i32) -> i32 in a plugin that exports
 * cabi_realloc (docs/abi.md); in a component, a function taking one
 * `list<u8>` or `string` and returning one `list<u8>` or `string`. Call the
 * other exports with wp_instance_call (core) or wp_instance_invoke
 * (components). False for handles out of range.
 */
bool wp_plugin_is_bytes_func(const wp_plugin *plugin, wp_func_id func);

/** True if the plugin is a Component Model component (else a core module). */
bool wp_plugin_is_component(const wp_plugin *plugin);

/** The WIT type of an exported component function; NULL for core modules. */
const wp_functype *wp_plugin_get_functype(const wp_plugin *plugin, wp_func_id func);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_PLUGIN_H */
