/*
 * wasmplug/component.h - Component Model calls, host imports and host
 * resources.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_COMPONENT_H
#define WASMPLUG_COMPONENT_H

#include "wasmplug/instance.h"
#include "wasmplug/host.h"
#include "wasmplug/value.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/**
 * Calls a component export by name ("greet", or "INTERFACE#FUNC" for a
 * function in an exported interface). `args` (borrowed) must match the
 * parameters in number and type, else WP_ERR_BAD_INPUT says which argument
 * and where inside it. `*result` gets the result (owned by the caller, freed
 * with wp_value_free), or NULL when the function has none; `result` may be
 * NULL to drop it. Traps, timeouts, fuel and interrupts fail as for core
 * calls.
 */
wp_error *wp_instance_invoke(wp_instance *inst, const char *name, const wp_value *const *args,
                             size_t nargs, wp_value **result);

/** As wp_instance_invoke, by handle (see wp_plugin_find_func). */
wp_error *wp_instance_invoke_func(wp_instance *inst, wp_func_id func, const wp_value *const *args,
                                  size_t nargs, wp_value **result);

/**
 * A host function for a component import. `args` are the plugin's arguments,
 * typed as the import declares them and borrowed for the callback. Set
 * `*result` (ownership passes to the library) when the function has a result;
 * it is checked against the declared type, and a mismatch fails the plugin's
 * call with WP_ERR_HOST. Return NULL on success, or an error to fail the
 * plugin's call with it (WP_ERR_HOST). An own<T> argument of a host resource
 * type is dropped (its drop callback runs) after the callback returns.
 */
typedef wp_error *(*wp_component_fn)(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                     wp_value **result, void *user_data);

/**
 * The WIT type of the component import this call serves, as the calling
 * plugin declares it (borrowed from the plugin; valid during the call): what
 * `args` hold and what `*result` must be (wit.h reads it). NULL in a core
 * host function. Saves a host function defined once for many plugins (a
 * language binding, say) from looking the import up by name on every call.
 */
const wp_functype *wp_host_call_get_functype(const wp_host_call *call);

/**
 * Offers a function to components that import `name` from `interface`
 * ("example:types/host"; NULL for an import at the world's top level). A
 * version-less interface name ("wasi:foo/bar") matches every version the
 * plugin may import; a versioned one matches that version only. Resource
 * constructors and methods use the Component Model names:
 * "[constructor]counter", "[method]counter.increment", "[static]counter.make".
 * Plugins loaded afterwards link to it. Thread-safe; `free_user_data` (may be
 * NULL) runs when the engine goes.
 */
wp_error *wp_engine_define_component_func(wp_engine *engine, const char *interface,
                                          const char *name, wp_component_fn fn, void *user_data,
                                          void (*free_user_data)(void *));

/** A resource type the host implements. Owned by the engine. */
typedef struct wp_resource_type wp_resource_type;

/**
 * Runs when a plugin drops its last owning handle to a host object, or when
 * the instance holding it is freed, whichever comes first: exactly once per
 * object.
 */
typedef void (*wp_resource_drop_fn)(void *object, void *user_data);

/**
 * Defines resource `name` in `interface` (as wp_engine_define_component_func)
 * for components that import it. Define its constructor and methods with
 * wp_engine_define_component_func. `*out` is owned by the engine.
 * `user_data` is passed to `drop`; `free_user_data` (may be NULL) runs on it
 * when the engine goes (not if the definition fails).
 */
wp_error *wp_engine_define_resource(wp_engine *engine, const char *interface, const char *name,
                                    wp_resource_drop_fn drop, void *user_data,
                                    void (*free_user_data)(void *), const wp_resource_type **out);

/**
 * An owning handle to the host object `object` of a host resource type, for
 * the plugin running in `inst`: return it from a host function (e.g. a
 * constructor) or pass it to an export taking own<T> or borrow<T>. NULL when
 * out of memory or when `inst` is not a component instance (an isolated one:
 * when its plugin does not import `type`).
 *
 * A handle (this one, or one a call or host function hands over) belongs to
 * the instance it was made for, as it is built now: another instance, or the
 * same one after wp_instance_reset or a pool's fresh rebuild, refuses it with
 * WP_ERR_BAD_INPUT, so a stale handle never reaches another object.
 */
wp_value *wp_value_new_resource(wp_instance *inst, const wp_resource_type *type, void *object);

/**
 * The host object behind a handle of host resource type `type` (an argument
 * of a host function, typically `self` of a method). WP_ERR_BAD_INPUT if `v`
 * is not a live handle of that type.
 */
wp_error *wp_value_get_resource(const wp_value *v, wp_instance *inst, const wp_resource_type *type,
                                void **object);

/**
 * Drops an owning handle `v` (made by the plugin, e.g. returned by its
 * "[constructor]blob"): the plugin's destructor runs. `v` stays allocated
 * (free it with wp_value_free) but no longer refers to anything.
 */
wp_error *wp_instance_drop_resource(wp_instance *inst, wp_value *v);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_COMPONENT_H */
