/*
 * kind.h - the core-module kind (internal): what a core module keeps beside
 * the generic plugin (wp_plugin.kind_data), and its methods table.
 */
#ifndef WP_CORE_KIND_H
#define WP_CORE_KIND_H

#include <wasmplug_pre.h>

#include "instance/instance.h"

/* The most parameters or results a planned call has; larger functions take
   the general path (call.c). */
#define WP_PLAN_ARITY 16

/*
 * A call plan per export, made once at load from the export's type: what a
 * call must pass, how many raw slots it uses, whether it is a bytes function.
 * A call then checks its arguments against the plan, copies them into raw
 * values and calls the cached function; the full checks and their messages
 * run only when something does not match.
 */
typedef struct wp_core_plan {
  bool numeric;  /* a function of i32/i64/f32/f64 with at most WP_PLAN_ARITY of each */
  bool bytes;    /* (i32, i32) -> i32 and the plugin exports cabi_realloc */
  uint8_t nparams, nresults, nraw;   /* nraw: max(nparams, nresults) */
  uint8_t kinds[2 * WP_PLAN_ARITY]; /* wp_valkind of the params, then the results */
} wp_core_plan;

/* What only a core module needs (wp_plugin.kind_data). */
typedef struct wp_core_plugin {
  wasmtime_module_t *module;
  wasmtime_instance_pre_t *pre;
  wp_core_plan *plans;    /* per export index */
  int32_t init_export;    /* export index of _initialize, -1 if none */
  int32_t realloc_export; /* export index of cabi_realloc, -1 if none */
  int32_t memory_export;  /* export index of "memory", -1 if none */
  int32_t *post_export;   /* per export: index of cabi_post_<name>, or -1 */
  int32_t http_export;    /* export index of a bytes-ABI "handle" (core/http.h), -1 if none */
  wasmplug_module_export_t *exports; /* per export index: its handle in the module */
} wp_core_plugin;

static inline const wp_core_plugin *wp_core_of(const wp_plugin *p) { return p->kind_data; }

/* What a core-module instance keeps (wp_instance.kind_data): made at its
   first instantiation, kept across resets, freed with the instance. */
typedef struct wp_core_instance {
  wasmtime_instance_t instance;
  wasmtime_memory_t memory;
  bool has_memory;
  wasmtime_func_t realloc_fn;
  bool has_realloc;
  wasmtime_func_t *funcs; /* per export index, valid when inst->resolved[i] */
} wp_core_instance;

static inline wp_core_instance *wp_core_inst(const wp_instance *inst) { return inst->kind_data; }

/* Looks an export (by index) up in the instance through its handle resolved
   at load, and caches it. */
bool wp_core_resolve_func(wp_instance *inst, size_t index, wasmtime_func_t *out);

/* An export (by index) as a function; cached after the first lookup. */
static inline bool wp_core_export_func(wp_instance *inst, size_t index, wasmtime_func_t *out) {
  if (inst->resolved[index]) {
    *out = wp_core_inst(inst)->funcs[index];
    return true;
  }
  return wp_core_resolve_func(inst, index, out);
}

/* The instance's memory (its export "memory"): base and size; NULL/0
   without one. */
static inline uint8_t *wp_core_memory(wp_instance *inst, size_t *size) {
  wp_core_instance *ci = wp_core_inst(inst);
  if (!ci || !ci->has_memory || !inst->ctx) {
    *size = 0;
    return NULL;
  }
  return wasmplug_memory_view(inst->ctx, &ci->memory, size);
}

static inline uint64_t wp_core_memory_size(wp_instance *inst) {
  size_t size;
  wp_core_memory(inst, &size);
  return size;
}

extern const wp_kind wp_core_kind;

#endif
