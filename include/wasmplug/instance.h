/*
 * wasmplug/instance.h - instances (wp_instance): sandboxes made from a
 * plugin, and calls into their exports (numeric, bytes, string, WASI
 * commands); the bytes and string calls serve components too.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_INSTANCE_H
#define WASMPLUG_INSTANCE_H

#include "wasmplug/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/**
 * Makes a sandbox from a plugin: instantiates it with its own memory, WASI
 * context and limits, and runs its `_initialize` if it has one. Holds a
 * reference to the plugin.
 */
wp_error *wp_instance_new(wp_plugin *plugin, wp_instance **out);

/** Frees an instance. NULL is allowed. */
void wp_instance_free(wp_instance *inst);

/**
 * Throws the instance's state away and instantiates the plugin afresh, as if
 * freed and made again (user data is kept). Use after a failed call.
 */
wp_error *wp_instance_reset(wp_instance *inst);

/** The plugin this instance runs (borrowed). */
wp_plugin *wp_instance_get_plugin(const wp_instance *inst);

/** A pointer for the embedder, e.g. for host functions to find their context. */
void wp_instance_set_user_data(wp_instance *inst, void *user_data);
void *wp_instance_get_user_data(const wp_instance *inst);

/**
 * Stops the call running on `inst` within about one timer tick; the call
 * fails with WP_ERR_INTERRUPTED, wherever the plugin is: running wasm,
 * waiting inside WASI, or in a host function (the call fails when the host
 * function returns, and a call that ends before the next tick fails at its
 * end). A request made during a call is used up by that call and never
 * stops a later one; a request made while no call runs stops the next call.
 * Any thread may call this, at any time while `inst` is alive.
 */
void wp_instance_interrupt(wp_instance *inst);

/**
 * Withdraws an interrupt request not used up yet, so that it does not stop
 * the next call: for a caller whose own cancellation (a context, a
 * deadline) fired just as the call ended on its own. Call it once whatever
 * calls wp_instance_interrupt for that call has stopped; a request made
 * afterwards counts again. Any thread.
 */
void wp_instance_cancel_interrupt(wp_instance *inst);

/**
 * Calls a numeric export. `args` must match the export's parameters in number
 * and type and `nresults` its result count, else WP_ERR_BAD_INPUT. On a trap,
 * timeout or limit the error says so; the instance should then be reset or
 * freed (wp_pool_release does that).
 */
wp_error *wp_instance_call(wp_instance *inst, const char *name, const wp_val *args, size_t nargs,
                           wp_val *results, size_t nresults);

/** As wp_instance_call, by handle (the fast path). */
wp_error *wp_instance_call_func(wp_instance *inst, wp_func_id func, const wp_val *args,
                                size_t nargs, wp_val *results, size_t nresults);

/**
 * Calls a bytes export (wp_plugin_is_bytes_func) with `input_len` bytes and
 * gets the bytes it returns, whatever the plugin's kind, so a host can switch
 * a plugin between a core module and a component without changing code:
 *
 * - a core module's `(func (param i32 i32) (result i32))`, through the bytes
 *   ABI: the input is copied into the plugin (via its `cabi_realloc`), and
 *   the output it returns is bounds-checked and copied out;
 * - a component's function taking one `list<u8>` or `string` and returning
 *   one `list<u8>` or `string` (all four pairs), lowered and lifted in one
 *   copy each. A `string` parameter needs UTF-8 input, else WP_ERR_BAD_INPUT
 *   before the call; a `string` result is UTF-8 (Wasmtime checks it).
 *
 * Other exports fail with WP_ERR_BAD_INPUT naming their type and the call to
 * use (wp_instance_call for numbers, wp_instance_invoke for other component
 * functions). `*out` is borrowed from the instance, valid until its next
 * call, reset or free (wp_pool_release included), and is followed by a NUL
 * byte not counted in `*out_len`.
 */
wp_error *wp_instance_call_bytes(wp_instance *inst, const char *name, const void *input,
                                 size_t input_len, const uint8_t **out, size_t *out_len);

/** As wp_instance_call_bytes, by handle. */
wp_error *wp_instance_call_func_bytes(wp_instance *inst, wp_func_id func, const void *input,
                                      size_t input_len, const uint8_t **out, size_t *out_len);

/**
 * As wp_instance_call_bytes for NUL-terminated UTF-8 strings, on the same
 * exports of either kind: the input must be UTF-8, else WP_ERR_BAD_INPUT, and
 * the output UTF-8 without NUL bytes, else WP_ERR_ABI. `*out` as above.
 */
wp_error *wp_instance_call_string(wp_instance *inst, const char *name, const char *input,
                                  const char **out);

/**
 * Runs a WASI command's `_start`. `*exit_code` gets the code the plugin
 * passed to proc_exit, or 0 if `_start` returned.
 */
wp_error *wp_instance_run(wp_instance *inst, int *exit_code);

/** Captured stdout/stderr (WP_STDIO_CAPTURE), borrowed; `*len` gets its size. */
const uint8_t *wp_instance_get_stdout(const wp_instance *inst, size_t *len);
const uint8_t *wp_instance_get_stderr(const wp_instance *inst, size_t *len);

/** Fuel the last call used (0 when the plugin is not metered). */
uint64_t wp_instance_get_fuel_used(const wp_instance *inst);

/**
 * Current size of the instance's linear memories in bytes, all together (a
 * component has several; a core module usually one): what counts against
 * its memory limit, tables aside. 0 if it has none.
 */
uint64_t wp_instance_get_memory_size(wp_instance *inst);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_INSTANCE_H */
