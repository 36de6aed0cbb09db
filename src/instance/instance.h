/*
 * instance.h - a sandbox: one store, one instance, its limits (internal).
 */
#ifndef WP_INSTANCE_INSTANCE_H
#define WP_INSTANCE_INSTANCE_H

#include <stdatomic.h>

#include <wasmplug_sandbox.h>

#include "plugin/plugin.h"
#include "util/buf.h"

/* Why the epoch callback stopped a call. */
typedef enum wp_stop {
  WP_STOP_NONE = 0,
  WP_STOP_TIMEOUT,
  WP_STOP_INTERRUPT,
} wp_stop;

struct wp_instance {
  wp_plugin *plugin;
  wasmtime_store_t *store;
  wasmtime_context_t *ctx;
  uint8_t *resolved;        /* per export index: 1 when the kind's handle is cached */
  void *kind_data;          /* what only the plugin's kind keeps per instance */

  /* what the store may use and uses (memories + tables, counts); the
     limiter in deps/wasmtime/src/sandbox.rs updates it */
  wasmplug_limits_t limits;
  uint64_t wasi_scratch[4]; /* the bounded poll_oneoff's per-store cache */

  /* the call in progress */
  uint64_t deadline_ns;     /* monotonic clock when the call must stop; 0: none */
  uint32_t deadline_ms;     /* the limit that set it, for messages */
  bool deadline_engine;     /* it is the engine's instantiation timeout */
  uint64_t refused_at_begin; /* limits.refused when the call began */
  atomic_bool interrupt;
  wp_stop stop;
  wp_error *host_error;     /* a host function's failure, reported after the trap */
  char *plugin_error;       /* message given to wasmplug.error */
  bool failed;              /* the last call failed: state may be inconsistent */
  bool in_call;
  bool slow_calls;          /* metered or timed: calls need the full bookkeeping */
  uint64_t fuel_used;

  wp_buf out;               /* output of the last bytes call */
  wp_buf host_out;          /* output of the host function running now */
  wp_buf stdout_buf, stderr_buf;
  void *user_data;
  uint32_t uses;            /* takes from a pool */
  uint32_t dead_in_store;   /* retired instances still in `store` (wp_instance_retire) */
  /* This build's number in the engine (never 0). A component's resource
     handle is an index into its store's tables, meaningful only to the
     instance that made it: values carry the life they belong to. */
  uint64_t life;
};

/* Frees the instance's store and clears what belonged to that sandbox (host
   objects, cached exports, errors, outputs' lengths, uses, fuel used); the
   shell stays, to be built again by wp_instance_rebuild. Idempotent. */
void wp_instance_teardown(wp_instance *inst);

/* wp_instance_teardown for a pool's spent instance: the same, except that
   the store may be kept (no failure, little memory, few dead instances in
   it, a kind that allows it) for the next build to instantiate into. */
void wp_instance_retire(wp_instance *inst);

/* Builds a torn-down or retired instance again (in the store it kept, if
   any); on failure it is left torn down. */
wp_error *wp_instance_rebuild(wp_instance *inst);

/* The pooling allocator is full: every pool of the engine frees the stores
   its spare shells kept, and with them their dead instances' slots (pool.c).
   Returns how many dead instances went. */
size_t wp_pools_reclaim(wp_engine *e);

/* The parts of wp_call_begin / wp_call_end that only metered, timed or
   failing calls need: fuel and the clock; fuel used and the plugin's error. */
void wp_call_meter(wp_instance *inst);
wp_error *wp_call_end_slow(wp_instance *inst, const char *what);

/* Prepares a call: cleared failure state, and fuel and the timeout clock when
   the plugin has limits. Inline so that an unlimited call pays for a few
   stores. */
static inline void wp_call_begin(wp_instance *inst) {
  inst->deadline_ns = 0;
  inst->stop = WP_STOP_NONE;
  inst->refused_at_begin = inst->limits.refused;
  inst->in_call = true;
  if (inst->slow_calls) wp_call_meter(inst);
}

/* wp_call_begin for an instantiation: also bounded by the engine's
   instantiation timeout when the plugin has no timeout of its own. */
void wp_instantiation_begin(wp_instance *inst);

/* Turns a failed call into a wp_error (kind from what stopped it), and marks
   the instance failed. Takes ownership of werr and trap. */
wp_error *wp_call_failure(wp_instance *inst, const char *what, wasmtime_error_t *werr,
                          wasm_trap_t *trap);

/* Ends a call: records fuel used; fails it if an interrupt was requested
   while it ran (even if the plugin was in a host function or returned before
   the next timer tick: a request never outlives its call); returns the
   plugin's own error if it reported one through wasmplug.error. */
static inline wp_error *wp_call_end(wp_instance *inst, const char *what) {
  inst->in_call = false;
  if (!inst->slow_calls && !inst->plugin_error &&
      !atomic_load_explicit(&inst->interrupt, memory_order_relaxed))
    return NULL;
  return wp_call_end_slow(inst, what);
}

/* Ends a call that failed before wp_call_end: no call runs any more, and an
   interrupt requested during it goes with it (it must not stop the next). */
static inline void wp_call_abandon(wp_instance *inst) {
  inst->in_call = false;
  atomic_store_explicit(&inst->interrupt, false, memory_order_relaxed);
}

/* True (and the request consumed, the stop reason recorded) if an interrupt
   was requested: host functions check it when their callback returns. */
bool wp_instance_take_interrupt(wp_instance *inst);

/* The WASI wait budget (wasmplug_budget_fn): time left for the current call. */
uint64_t wp_instance_wasi_budget(void *inst);
uint64_t *wp_instance_wasi_scratch(void *inst);

/* Whether export `id` is a function the instance can call now: a valid id,
   a live store, no call already running on it. */
wp_error *wp_instance_check_callable(const wp_instance *inst, wp_func_id id);

#endif
