/*
 * wasmplug/config_store.h - the "config" capability: `wasi:config/store`
 * for components, answering from the manifest's "config" object.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 *
 * wp_engine_new defines it (src/host/config/). An embedder has nothing to
 * call: the values are the manifest's "config" object (or
 * wp_manifest_set_config, wasmplug/manifest.h), and this header says what
 * components get from them.
 *
 * The values are the plugin's by definition, so there is nothing to grant:
 * config is not registered with wp_engine_add_capability (it has no
 * section, and a manifest with "capabilities": {"config": ...} fails to
 * load, as for any capability the engine does not have), and every
 * component importing the interface links.
 *
 *   "config": {"currency": "EUR", "greeting": "hello"}
 *
 * The interface is defined without a version, so every draft version a
 * component imports links (as Spin and wasmCloud components import it):
 *
 *   get: func(key: string) -> result<option<string>, error>;
 *   get-all: func() -> result<list<tuple<string, string>>, error>;
 *
 * - get(key): ok(some(value)) for a key of the manifest's config,
 *   ok(none) for any other (a key holding a NUL is never one).
 * - get-all(): ok(the key/value pairs), in the order the manifest gives them
 *   (wp_manifest_config_at's order); ok([]) when there are none.
 * - The interface's `error` variant is never returned: reading the manifest
 *   cannot fail. What can fail is the call itself: out of memory fails the
 *   plugin's call with WP_ERR_NO_MEMORY; arguments that are not the
 *   interface's fail it with WP_ERR_ABI, and an import whose result type is
 *   not the interface's with WP_ERR_HOST (wasmplug/component.h).
 *
 * Core modules read the same values with `wasmplug.config_get`
 * (docs/abi.md), and components built on pdk/wit/plugin.wit with
 * `wasmplug:plugin/host#config-get`.
 */
#ifndef WASMPLUG_CONFIG_STORE_H
#define WASMPLUG_CONFIG_STORE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Nothing here is a function; the pragmas keep the headers' one form. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_CONFIG_STORE_H */
