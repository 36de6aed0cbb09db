/*
 * kind.h - what each kind of plugin implements (internal), the way SQLite's
 * sqlite3_io_methods hides its variants: core modules (src/core/module.c)
 * and components (src/component/kind.c) today, Proxy-Wasm filters next. The
 * engine, plugin and instance floors call a kind only through this table;
 * src/wasmplug.c lists the kinds an engine loads.
 */
#ifndef WP_PLUGIN_KIND_H
#define WP_PLUGIN_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"

struct wp_plugin;
struct wp_instance;

typedef struct wp_kind {
  const char *name; /* "core module", "component" */

  /* Whether its plugins can run in a worker process instead (the engine's
     process_kind, src/isolation/, when the manifest or engine asks). */
  bool isolable;

  /* Whether `len` bytes of a binary are this kind's (kinds are asked in the
     engine's order; the last one may claim everything else). NULL for the
     engine's process_kind, which the manifest chooses, not the bytes. */
  bool (*claims)(const uint8_t *bytes, size_t len);

  /* Compiles (or takes from the cache), reflects into p->imports and
     p->exports, links, and keeps what only this kind needs in
     p->kind_data. On failure p->kind_data may be half made: `free` copes. */
  wp_error *(*load)(struct wp_plugin *p, const uint8_t *bytes, size_t len);

  /* Frees p->kind_data. */
  void (*free)(struct wp_plugin *p);

  /* The name callers use for export i (wp_plugin_find_func). */
  const char *(*call_name)(const struct wp_plugin *p, size_t i);

  /* Instantiates into the instance's new store, running start functions,
     between wp_instantiation_begin and wp_call_end. NULL with `build`. */
  wp_error *(*instantiate)(struct wp_instance *inst);

  /* For a kind whose instances run elsewhere (a worker process): makes the
     instance there instead of a store here (inst->ctx stays NULL). NULL:
     a store, WASI, then `instantiate`. */
  wp_error *(*build)(struct wp_instance *inst);

  /* A numeric call (wp_instance_call_func) on export `id` of a kind other
     than the core kind, which calls its own exports directly. NULL: the
     kind has no numeric calls. Checks everything, as the core kind does. */
  wp_error *(*call_func)(struct wp_instance *inst, wp_func_id id, const wp_val *args, size_t nargs,
                         wp_val *results, size_t nresults);

  /* wp_value_new_resource and wp_value_get_resource for a kind whose
     instances run elsewhere (a worker process keeps the host's objects by
     id). NULL: the component kind's own, in the instance's store. */
  wp_value *(*new_resource)(struct wp_instance *inst, const wp_resource_type *type, void *object);
  wp_error *(*get_resource)(const wp_value *v, struct wp_instance *inst,
                            const wp_resource_type *type, void **object);
  /* wp_instance_drop_resource on a handle of such a kind's instance. */
  wp_error *(*drop_resource)(struct wp_instance *inst, wp_value *v);

  /* wp_instance_invoke_func for a kind other than the component kind (a
     component in a worker process). NULL: only components are invoked. */
  wp_error *(*invoke)(struct wp_instance *inst, wp_func_id id, const wp_value *const *args,
                      size_t nargs, wp_value **result);

  /* For a kind that runs a plugin of another kind (a worker process): that
     plugin as loaded in the host, whose kind answers questions about types
     (wp_plugin_is_component, wp_plugin_get_functype). NULL otherwise. */
  const struct wp_plugin *(*inner)(const struct wp_plugin *p);

  /* wp_instance_run for a kind other than the core kind. May be NULL. */
  wp_error *(*run)(struct wp_instance *inst, int *exit_code);

  /* After wp_instance_interrupt set inst->interrupt, from any thread: for a
     kind whose call does not watch the flag itself. May be NULL. */
  void (*interrupt)(struct wp_instance *inst);

  /* After the instance's store is gone: releases what the kind kept for
     it (host objects a component still held). May be NULL. */
  void (*release)(struct wp_instance *inst);

  /* When the instance is freed: frees inst->kind_data. May be NULL. */
  void (*instance_free)(struct wp_instance *inst);

  /* Whether export i (a function, i checked) is one that
     wp_instance_call_bytes / _call_string can call (wp_plugin_is_bytes_func).
     NULL for the core kind, whose bytes ABI src/core/call.c implements
     beside those entry points. */
  bool (*is_bytes_func)(const struct wp_plugin *p, size_t i);

  /* A bytes call (wp_instance_call_func_bytes) on export `id` of another
     kind: checks the export and the instance, calls, and leaves the output
     in inst->out followed by a NUL byte not counted in its len. NULL for
     the core kind (as above), and for kinds without bytes exports. */
  wp_error *(*call_bytes)(struct wp_instance *inst, wp_func_id id, const void *input, size_t len);

  /* Which HTTP handler the plugin is, from its exports (WP_HTTP_NONE if
     none). May be NULL: never a handler. */
  wp_http_kind (*http_kind)(const struct wp_plugin *p);

  /* One request (wp_instance_handle_http, which has checked that the plugin
     is a handler, that the instance is callable, and zeroed *out). Fills
     *out with instance/http.h's helpers, which check what the plugin
     returns; on failure *out may be half filled (the caller clears it). */
  wp_error *(*http_handle)(struct wp_instance *inst, const wp_http_request *req, size_t max_body,
                           wp_http_response *out);
} wp_kind;

#endif
