/*
 * host.h - host functions for core modules (internal): the embedder's
 * numeric, bytes and string functions and the wasmplug.* built-ins, each an
 * engine definition (engine/engine.h wp_def) that links itself into every
 * flavor's linker as a Wasmtime unchecked function.
 */
#ifndef WP_CORE_HOST_H
#define WP_CORE_HOST_H

#include "engine/engine.h"

/* The kind of a core host function. */
typedef enum wp_host_kind {
  WP_HOST_NUMERIC,
  WP_HOST_BYTES,
  WP_HOST_STRING,
  WP_HOST_BUILTIN, /* wasmplug.*: the trampoline says which */
} wp_host_kind;

/* One core host function; `base` first, so a wp_def * is one of these when
   base.kind is WP_DEF_CORE_FUNC. Lives as long as the engine. */
typedef struct wp_host_def {
  wp_def base;
  struct wp_engine *engine;
  wp_host_kind kind;
  wp_valkind params[16], results[16];
  size_t nparams, nresults;
  wp_host_fn fn;
  wp_host_bytes_fn bytes_fn;
  wasmtime_func_unchecked_callback_t trampoline;
  void *user_data;
  void (*free_user_data)(void *);
} wp_host_def;

/* Registers the wasmplug.* built-ins with a new engine. */
wp_error *wp_host_define_builtins(struct wp_engine *engine);

#endif
