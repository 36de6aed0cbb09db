/*
 * engine.h - the one Wasmtime engine per process (internal).
 *
 * A wp_engine owns up to two Wasmtime engines: the main one, and one compiled
 * with fuel metering, made the first time a plugin asks for fuel (fuel checks
 * are compiled into the code, so metered and unmetered plugins cannot share).
 * Each has its own linker holding WASI, the wasmplug.* built-ins and the
 * embedder's host functions. A timer thread advances both engines' epochs;
 * that is what makes timeouts and interrupts work.
 */
#ifndef WP_ENGINE_ENGINE_H
#define WP_ENGINE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>

#include <wasmtime.h>
#include <wasmplug_sandbox.h>

#include "wasmplug.h"

/*
 * Default load caps (see wp_engine_config_set_max_module_size): well above
 * the largest example plugin (the Python component), well below what takes
 * seconds to compile.
 */
#define WP_DEFAULT_MAX_MODULE_SIZE (128ull << 20)
#define WP_DEFAULT_MAX_FUNCTIONS 100000u

/* The kind of a registered host function. */
typedef enum wp_host_kind {
  WP_HOST_NUMERIC,
  WP_HOST_BYTES,
  WP_HOST_STRING,
  WP_HOST_BUILTIN, /* wasmplug.*: `builtin` says which */
} wp_host_kind;

/* One host function offered to plugins; lives as long as the engine. */
typedef struct wp_host_def {
  struct wp_host_def *next;
  struct wp_engine *engine;
  char *module, *name;
  wp_host_kind kind;
  wp_valkind params[16], results[16];
  size_t nparams, nresults;
  wp_host_fn fn;
  wp_host_bytes_fn bytes_fn;
  wasmtime_func_unchecked_callback_t trampoline;
  void *user_data;
  void (*free_user_data)(void *);
} wp_host_def;

/* The context handed to a host function (core or component). */
struct wp_host_call {
  wp_instance *inst;
  const wp_host_def *def; /* NULL for component host functions */
};

struct wp_chost_def; /* component host functions and resources: component/component.h */

/* One Wasmtime engine with its linker. */
typedef struct wp_flavor {
  wasm_engine_t *engine;
  wasmtime_linker_t *linker;
  char cache_key[17]; /* hex of the hash of this flavor's configuration */
} wp_flavor;

struct wp_engine {
  atomic_int refs;
  wp_flavor plain;
  wp_flavor fuel; /* engine NULL until first needed */
  pthread_mutex_t lock; /* guards fuel creation, the linkers and host_defs */
  wp_host_def *host_defs;
  struct wp_chost_def *component_defs; /* newest first */
  uint32_t next_resource_id;           /* ids of host resource types */

  /* configuration, fixed at creation */
  char *cache_dir; /* NULL: no disk cache */
  uint32_t pooling;
  uint64_t max_memory;
  uint32_t tick_us;
  uint64_t instantiate_timeout_ns; /* 0: none */
  uint64_t max_module_size; /* load caps (plugin/bounds.c) */
  uint32_t max_functions;
  uint32_t pool_table_elements;
  uint64_t pool_instance_size;
  wp_log_fn log_fn;
  void *log_user_data;

  /* timer thread */
  pthread_t ticker;
  atomic_bool stop;
  bool ticker_started;
  _Atomic uint64_t ticks; /* ticks since start; calls read it for timeouts */
};

/* The flavor (engine + linker) for plugins with or without fuel; makes the
   fuel flavor on first use. Called with engine->lock NOT held. */
wp_error *wp_engine_flavor(struct wp_engine *engine, bool fuel, wp_flavor **out);

/* Whether a host function (module, name) is defined; engine->lock held. */
const wp_host_def *wp_engine_find_host(const struct wp_engine *engine, const char *module,
                                       const char *name);

/* The WASI wait budget of an instance (instance.c): engine.c and the
   component linker hand it to the bounded WASI functions. */
uint64_t wp_instance_wasi_budget(void *inst);
uint64_t *wp_instance_wasi_scratch(void *inst);

/* A new reference to the engine. */
struct wp_engine *wp_engine_ref(struct wp_engine *engine);

/* Defines one host function into a flavor's linker (host.c). */
wp_error *wp_host_link(wp_flavor *flavor, wp_host_def *def);

/* Registers the wasmplug.* built-ins (host.c). */
wp_error *wp_host_define_builtins(struct wp_engine *engine);

/* Frees a host definition, running its free_user_data. */
void wp_host_def_free(wp_host_def *def);

#endif
