/*
 * wasmplug_pre.h - wasmplug's Rust extension (src/pre.rs): a component's
 * imports resolved in a linker once (Wasmtime's InstancePre), so that each
 * instantiation skips the linker's name lookups and type checks. The C API
 * resolves them again on every wasmtime_component_linker_instantiate.
 * deps/wasmtime/build.sh installs this header next to wasmtime.h.
 *
 * No function unwinds into C: a Rust panic is reported as an error.
 */
#ifndef WASMPLUG_PRE_EXT_H
#define WASMPLUG_PRE_EXT_H

#include <wasmtime.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_component_pre wasmplug_component_pre;

/*
 * Resolves `component`'s imports in `linker`; later definitions in the linker
 * are not seen. NULL when an import cannot be resolved (then *error, if
 * `error` is not NULL, says why: free it with wasmtime_error_delete).
 */
wasmplug_component_pre *wasmplug_component_pre_new(const wasmtime_component_linker_t *linker,
                                                   const wasmtime_component_t *component,
                                                   wasmtime_error_t **error);

/* Instantiates into `context`'s store, as wasmtime_component_linker_instantiate does. */
wasmtime_error_t *wasmplug_component_pre_instantiate(const wasmplug_component_pre *pre,
                                                     wasmtime_context_t *context,
                                                     wasmtime_component_instance_t *instance_out);

/* Frees `pre` (NULL: nothing). */
void wasmplug_component_pre_delete(wasmplug_component_pre *pre);

#ifdef __cplusplus
}
#endif

#endif
