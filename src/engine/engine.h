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

/* What a host definition offers; each kind of plugin looks up its own. */
typedef enum wp_def_kind {
  WP_DEF_CORE_FUNC = 1,       /* a core-module import (core/host.c) */
  WP_DEF_COMPONENT_FUNC,      /* a component import (component/host.c) */
  WP_DEF_COMPONENT_RESOURCE,  /* a component resource type */
} wp_def_kind;

struct wp_flavor;

/*
 * The head of every host definition. The engine keeps them in one registry,
 * newest first, and they live as long as it does; each carries how to link
 * itself into a flavor's core linker (`link`; NULL for definitions a kind
 * links per plugin, as components do) and how to free itself.
 */
typedef struct wp_def {
  struct wp_def *next;
  wp_def_kind kind;
  char *module; /* core: the import module; components: the interface, NULL at the root */
  char *name;
  wp_error *(*link)(struct wp_flavor *f, struct wp_def *d);
  void (*free)(struct wp_def *d);
} wp_def;

/* The context handed to a host function (core or component). */
struct wp_host_call {
  wp_instance *inst;
  const wp_def *def;               /* the definition called; NULL for component functions */
  const struct wp_functype *type;  /* a component import's WIT type; NULL for core */
};

/* One Wasmtime engine with its linker. */
typedef struct wp_flavor {
  wasm_engine_t *engine;
  wasmtime_linker_t *linker;
  char cache_key[17]; /* hex of the hash of this flavor's configuration */
} wp_flavor;

typedef struct wp_engine_hooks wp_engine_hooks;

struct wp_engine {
  atomic_int refs;
  wp_flavor plain;
  wp_flavor fuel; /* engine NULL until first needed */
  pthread_mutex_t lock; /* guards fuel creation, the linkers and defs */
  wp_def *defs;         /* host definitions, newest first */
  uint32_t next_resource_id; /* ids of host resource types */
  const wp_engine_hooks *hooks;

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
  void (*log_free)(void *user_data); /* wp_engine_config_set_log_free */
  wp_isolation isolation; /* for plugins whose manifest does not say */
  char *worker_path;      /* the program isolated instances run in; NULL: out of memory */

  /* The host definitions made by wp_engine_new (built-ins, capabilities):
     those from here on in `defs` are the engine's own, those before it the
     embedder's (an isolated plugin's worker has the former, not the latter). */
  const wp_def *builtin_defs;
  size_t builtin_caps; /* the same for capabilities: the first ones in `caps` */

  /* timer thread */
  pthread_t ticker;
  atomic_bool stop;
  bool ticker_started;
  _Atomic uint64_t ticks; /* ticks since start; calls read it for timeouts */

  /* Dead instances that pools keep in reused stores (instance.c,
     wp_instance_retire), engine-wide: each holds a pool slot until its
     store goes. When the pooling allocator is full, the pools give them
     back (wp_pools_reclaim), so they never cost a live instance its slot. */
  atomic_uint retained_dead;
  uint32_t retain_max;

  /* Numbers each build of an instance (wp_instance.life): a component's
     resource handle is valid only in the life that made it. */
  _Atomic uint64_t lives;
  pthread_mutex_t pools_lock; /* guards `pools` (lock order: before a pool's own) */
  struct wp_pool *pools;      /* every pool of the engine's plugins (pool.c) */

  /* capabilities (capability.c), under `lock`; freed after every plugin */
  struct wp_capability **caps;
  size_t ncaps;
};

/* A capability registered on an engine (wasmplug/capability.h). */
struct wp_capability {
  const wp_capability_methods *methods;
  void *data;
  size_t index; /* in the engine's list, and in each plugin's grants */
};

/* A copy of the engine's capability list as it is now (free() it; NULL and
 *n == 0 when there are none or memory ran out). */
struct wp_capability **wp_engine_capabilities(struct wp_engine *engine, size_t *n);

/* Frees the capabilities (engine teardown, after the last plugin). */
void wp_engine_free_capabilities(struct wp_engine *engine);

/* The flavor (engine + linker) for plugins with or without fuel; makes the
   fuel flavor on first use. Called with engine->lock NOT held. */
wp_error *wp_engine_flavor(struct wp_engine *engine, bool fuel, wp_flavor **out);

/* The definition of `kind` named (module, name), exactly; engine->lock held. */
const wp_def *wp_engine_find_def(const struct wp_engine *engine, wp_def_kind kind,
                                 const char *module, const char *name);

/*
 * Registers a definition: links it into every flavor that exists (if it has
 * a `link`), then adds it to the registry, under the engine's lock. On
 * failure the registry is unchanged and the caller still owns `def`.
 */
wp_error *wp_engine_add_def(struct wp_engine *engine, wp_def *def);

/* A new reference to the engine. */
struct wp_engine *wp_engine_ref(struct wp_engine *engine);

/*
 * What the layers above give the engine when it is made (src/wasmplug.c
 * assembles them): the kinds of plugin it loads, in the order they are
 * tried, and the WASI wait budget of an instance (the bounded WASI functions
 * of every flavor's linker ask it).
 */
struct wp_engine_hooks {
  const struct wp_kind *const *kinds; /* NULL-terminated */
  wasmplug_budget_fn wasi_budget;
  wasmplug_scratch_fn wasi_scratch;
  /* The kind that runs a plugin of another kind in a worker process
     (src/isolation/): chosen by the manifest's or the engine's isolation. */
  const struct wp_kind *process_kind;
};

/* Makes an engine (the floor below wp_engine_new, which adds the kinds'
   built-ins). `hooks` must outlive it. */
wp_error *wp_engine_create(const wp_engine_config *cfg, const wp_engine_hooks *hooks,
                           struct wp_engine **out);

#endif
