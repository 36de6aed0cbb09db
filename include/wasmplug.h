/*
 * wasmplug.h - the public API of libwasmplug, a WebAssembly plugin host.
 *
 * The objects, from the bottom up:
 *
 *   wp_engine    one per process: the Wasmtime engine, the compile cache, the
 *                timer thread for timeouts, and the host functions plugins may
 *                import.                                  Thread-safe.
 *   wp_manifest  what a plugin is allowed and limited to: sources, sha256 pin,
 *                memory/time/fuel limits, WASI grants, config.
 *                                                 One thread at a time.
 *   wp_plugin    a loaded, checked, compiled plugin. Immutable, refcounted.
 *                                                             Thread-safe.
 *   wp_instance  a sandbox made from a plugin: its own memory, WASI view and
 *                limits. Calls go here.  One thread at a time, except
 *                wp_instance_interrupt, which any thread may call.
 *   wp_pool      a per-plugin supply of instances (fresh per call, or reused up
 *                to N calls).                                 Thread-safe.
 *   wp_error     what went wrong: a kind, a message naming the plugin and what
 *                to do, and the wasm backtrace when there is one. Owned by the
 *                caller, who frees it.
 *
 * Conventions (as in SQLite and Wasmtime's C API):
 *   - Functions that can fail return `wp_error *`: NULL on success, else an
 *     error the caller owns and frees with wp_error_free. Outputs go through
 *     pointer arguments and are untouched on failure.
 *   - `*_new` / `*_load` return an owned object, `*_free` ends it, `*_get_*`
 *     borrows (valid as long as the object it came from).
 *   - The library never prints, never exits and has no global state: all of it
 *     hangs off a wp_engine.
 *
 * Minimal use:
 *
 *   wp_engine *engine;  wp_plugin *plugin;  wp_instance *inst;
 *   wp_error *err = wp_engine_new(NULL, &engine);
 *   if (!err) err = wp_plugin_load(engine, "hello.wasm", NULL, &plugin);
 *   if (!err) err = wp_instance_new(plugin, &inst);
 *   const char *out;
 *   if (!err) err = wp_instance_call_string(inst, "greet", "world", &out);
 *   if (err) { fprintf(stderr, "%s\n", wp_error_get_message(err)); wp_error_free(err); }
 *   else puts(out);                                  // Hello, world!
 *
 * The declarations live in focused headers, each of which may be included
 * on its own; this header includes all of them:
 *
 *   wasmplug/common.h     version, WP_PRINTF, wp_instance, wp_free
 *   wasmplug/error.h      wp_error and its kinds
 *   wasmplug/numeric.h    numeric values (wp_val)
 *   wasmplug/engine.h     wp_engine and its configuration
 *   wasmplug/host.h       host functions for core modules
 *   wasmplug/manifest.h   wp_manifest
 *   wasmplug/plugin.h     wp_plugin: loading, imports and exports
 *   wasmplug/instance.h   wp_instance and core-module calls
 *   wasmplug/pool.h       wp_pool
 *   wasmplug/proxywasm.h  wp_pw_*: Proxy-Wasm filters (hosts, plugins, workers, streams)
 *   wasmplug/wit.h        Component Model: WIT types
 *   wasmplug/value.h      Component Model: values (wp_value), WAVE
 *   wasmplug/component.h  Component Model: calls, host imports, resources
 *   wasmplug/compose.h    Component Model: plugging components into imports (wp_compose)
 *   wasmplug/capability.h capabilities offered to plugins, granted by manifests
 *   wasmplug/keyvalue.h   the "keyvalue" capability: buckets in memory, SQLite or Redis
 *   wasmplug/outbound_http.h the "http" capability: outbound HTTP behind an allowlist
 *   wasmplug/crypto.h     the "crypto" capability: hashes, HMAC, signatures (OpenSSL)
 *   wasmplug/config_store.h wasi:config/store, answered from the manifest's config
 *   wasmplug/logging.h    the "logging" capability: wasi:logging to the engine's log
 *   wasmplug/dl.h         the "dl" capability: wasi:dl, native libraries through libffi
 *   wasmplug/isolation.h  process isolation: plugins in worker processes
 */
#ifndef WASMPLUG_H
#define WASMPLUG_H

#include "wasmplug/common.h"
#include "wasmplug/error.h"
#include "wasmplug/numeric.h"
#include "wasmplug/engine.h"
#include "wasmplug/host.h"
#include "wasmplug/manifest.h"
#include "wasmplug/plugin.h"
#include "wasmplug/instance.h"
#include "wasmplug/pool.h"
#include "wasmplug/proxywasm.h"
#include "wasmplug/wit.h"
#include "wasmplug/value.h"
#include "wasmplug/component.h"
#include "wasmplug/compose.h"
#include "wasmplug/http.h"
#include "wasmplug/capability.h"
#include "wasmplug/keyvalue.h"
#include "wasmplug/crypto.h"
#include "wasmplug/outbound_http.h"
#include "wasmplug/config_store.h"
#include "wasmplug/logging.h"
#include "wasmplug/dl.h"
#include "wasmplug/isolation.h"

#endif /* WASMPLUG_H */
