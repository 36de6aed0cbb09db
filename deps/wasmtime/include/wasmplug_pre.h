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

/*
 * How many memories and tables an instance of `pre`'s component defines,
 * over all its core instances, into *memories and *tables. False if `pre` is
 * NULL or the component instantiates modules it imports (unknown then).
 */
bool wasmplug_component_pre_defined(const wasmplug_component_pre *pre, uint32_t *memories,
                                    uint32_t *tables);

/*
 * A core module's export resolved once per plugin (Wasmtime's ModuleExport):
 * opaque; filled by wasmplug_instance_pre_export_indices, read only by
 * wasmplug_instance_module_export.
 */
typedef struct wasmplug_module_export_t {
  uint64_t opaque[2];
} wasmplug_module_export_t;

/*
 * Fills out[i] for each of the first `n` exports of `pre`'s module, in export
 * order (wasmtime_module_exports' order). False if `pre` is NULL, the module
 * has fewer than `n` exports, or a panic was caught.
 */
bool wasmplug_instance_pre_export_indices(const wasmtime_instance_pre_t *pre,
                                          wasmplug_module_export_t *out, size_t n);

/*
 * The export `export` of `instance` (instantiated from the same module) into
 * *item, as wasmtime_instance_export_get does by name, without hashing or
 * looking the name up. False if `export` belongs to another module.
 */
bool wasmplug_instance_module_export(wasmtime_context_t *context,
                                     const wasmtime_instance_t *instance,
                                     const wasmplug_module_export_t *export_,
                                     wasmtime_extern_t *item);

/*
 * How many memories and tables the module of `pre` defines itself (imported
 * ones not counted) into *memories and *tables. False if `pre` is NULL.
 */
bool wasmplug_instance_pre_defined(const wasmtime_instance_pre_t *pre, uint32_t *memories,
                                   uint32_t *tables);

#ifdef __cplusplus
}
#endif

#endif
