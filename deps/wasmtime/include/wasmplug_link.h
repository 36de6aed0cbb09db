/*
 * wasmplug_link.h - wasmplug's Rust extension for load-time linking
 * (src/link.rs): a component's import of an interface served by another
 * component's export of it, both instantiated in the same store.
 *
 * The C API cannot forward one instance's export to another's import, nor
 * map resources between them. deps/wasmtime/build.sh installs this header
 * next to wasmtime.h.
 */
#ifndef WASMPLUG_LINK_H
#define WASMPLUG_LINK_H

#include <stddef.h>

#include <wasmtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The address of the embedder's per-store slot for the link state: a void *
   that is NULL when the store is made, filled on the first instantiation of a
   plug, released with wasmplug_link_state_free after the store is gone. */
typedef void **(*wasmplug_link_state_fn)(void *store_data);

/*
 * Defines the interface `iface` ("wasi:keyvalue/store@0.2.0-draft") in
 * `linker` (the main component's) from the plug's export of it: each function
 * `main` imports from it calls the plug's function of that name, in the plug
 * instance of slot `slot` of the store (wasmplug_link_instantiate), with the
 * values converted; each resource becomes a host resource type whose handles
 * stand for the plug's resources (an own handle moves, a borrow is lent, and
 * dropping the main's handle drops the plug's resource). Fails naming what is
 * missing from the plug's export. Types are not compared here: check them
 * first with wasmplug_component_fit (wasmplug_ext.h).
 */
wasmtime_error_t *wasmplug_component_link_plug(wasmtime_component_linker_t *linker,
                                               const wasmtime_component_t *main,
                                               const wasmtime_component_t *plug, const char *iface,
                                               size_t slot, wasmplug_link_state_fn state);

/* Instantiates `plug` with `linker` (its own) into the store of `ctx` as slot
   `slot` of the store's link state. Call it before instantiating the main. */
wasmtime_error_t *wasmplug_link_instantiate(wasmtime_context_t *ctx, wasmplug_link_state_fn state,
                                            size_t slot, const wasmtime_component_linker_t *linker,
                                            const wasmtime_component_t *plug);

/* Frees a store's link state (the slot's value; NULL is a no-op). */
void wasmplug_link_state_free(void *state);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMPLUG_LINK_H */
