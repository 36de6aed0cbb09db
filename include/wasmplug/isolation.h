/*
 * wasmplug/isolation.h - process isolation: a plugin that runs in a worker
 * process of its own, spawned and supervised by the host, behind the same
 * calls as an in-process one (docs/isolation.md).
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_ISOLATION_H
#define WASMPLUG_ISOLATION_H

#include "wasmplug/engine.h"
#include "wasmplug/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/**
 * Where a plugin's instances run.
 *
 *   WP_ISOLATION_DEFAULT  the manifest does not say: the engine's default
 *                         (wp_engine_config_set_isolation), else in-process.
 *   WP_ISOLATION_NONE     in the host's process ("isolation": "none").
 *   WP_ISOLATION_PROCESS  each instance in a worker process of its own
 *                         ("isolation": "process"): a crash of the plugin's
 *                         native code (a SIGSEGV, an abort, the OOM killer)
 *                         ends the worker, not the host.
 *
 * In process isolation the same calls work as in-process (wp_instance_call,
 * _call_func, _call_bytes, _call_string, _run, _reset, _interrupt,
 * wp_instance_handle_http, wp_instance_invoke, pools), with these
 * differences:
 *
 *   - Each instance owns a worker, spawned by wp_instance_new (posix_spawn of
 *     the worker program, see wp_engine_config_set_worker_path), which loads
 *     the plugin with the same manifest and compile cache. Making an
 *     instance costs a process start (milliseconds, not microseconds): use a
 *     pool that reuses instances.
 *   - A call crosses a socketpair: a few microseconds more per call, plus
 *     copying the bytes (docs/isolation.md gives the framing and the costs).
 *   - The embedder's host functions (core and component) and capabilities
 *     run in the host, on the calling thread, while the plugin's call waits
 *     for them; component values cross as WAVE text. The engine's built-ins and
 *     capabilities (log, config, keyvalue, http, crypto) run in the worker
 *     under the manifest's grants, and what they log reaches the engine's log
 *     callback. Capability state kept in memory (a "memory" keyvalue store)
 *     belongs to the worker.
 *   - Limits (timeout, memory, fuel) are enforced by the worker; the host
 *     also kills a worker that has not answered by the call's timeout plus
 *     WP_ISOLATION_WATCHDOG_MARGIN_MS (WP_ERR_TIMEOUT).
 *   - A worker that dies during a call fails that call with WP_ERR_TRAP
 *     naming the signal or exit status. The instance's state is lost: the
 *     instance is marked failed (a pool drops it) and its next call or
 *     wp_instance_reset starts a fresh worker. No zombie is left.
 *   - Core modules and components; Proxy-Wasm filters run in-process (a
 *     manifest that asks for "process" for one fails to load with
 *     WP_ERR_BAD_INPUT; an engine default passes over them). Host resources
 *     (wp_engine_define_resource) stay in the host: the worker's handles
 *     carry ids, wp_value_new_resource and wp_value_get_resource work as
 *     in-process, and each object's drop callback runs once, also when the
 *     worker dies (the host drops what it held).
 *   - Not carried across: WP_STDIO_CALLBACK output (captured in the worker
 *     and handed to the callback after the call), wp_instance_get_memory_size
 *     (as of the end of the last call), host functions that call
 *     wp_host_call_get_instance and expect the plugin's memory.
 */
typedef enum wp_isolation {
  WP_ISOLATION_DEFAULT = 0,
  WP_ISOLATION_NONE = 1,
  WP_ISOLATION_PROCESS = 2,
} wp_isolation;

/** How long past a call's timeout the host waits for a silent worker before it kills it. */
#define WP_ISOLATION_WATCHDOG_MARGIN_MS 1000

/** Where this plugin's instances run ("isolation" in the manifest's JSON). */
void wp_manifest_set_isolation(wp_manifest *m, wp_isolation isolation);

/** The manifest's isolation (WP_ISOLATION_DEFAULT when it does not say). */
wp_isolation wp_manifest_get_isolation(const wp_manifest *m);

/**
 * Where the instances of plugins whose manifest does not say run. Default:
 * WP_ISOLATION_NONE. Applies to the kinds of plugin that can be isolated
 * (core modules and components); Proxy-Wasm filters run in-process.
 */
void wp_engine_config_set_isolation(wp_engine_config *cfg, wp_isolation isolation);

/**
 * The worker program spawned for isolated instances: it is run as
 * `PATH worker --fd 3` with its end of a socketpair as fd 3, and must call
 * wp_worker_main(3) (the `wasmplug worker` command does; an embedder may
 * ship its own). Default: $WASMPLUG_WORKER if set when the engine is made,
 * else the `wasmplug` installed with the library. A missing program fails
 * wp_instance_new with WP_ERR_NOT_FOUND naming it.
 */
void wp_engine_config_set_worker_path(wp_engine_config *cfg, const char *path);

/**
 * The worker's side: serves one isolated instance over the socket `fd` until
 * the host closes it. Returns the process's exit status (0 when the host
 * closed the socket, 2 on a broken protocol). The worker never trusts the
 * host less than the host trusts it: both check every frame.
 */
int wp_worker_main(int fd);

/**
 * The process id of the worker running `inst`, or 0 when it runs in-process
 * or has no live worker (for supervision and tests).
 */
int wp_instance_get_worker_pid(const wp_instance *inst);

/**
 * Serializes a manifest to its JSON form (wasmplug/manifest.h), as
 * wp_manifest_parse reads it: relative paths were resolved when it was read.
 * Not carried: output callbacks (WP_STDIO_CALLBACK is written as "discard"),
 * the timeout origin, stdin that is not UTF-8 (use wp_manifest_set_stdin).
 * The caller frees the text with wp_free; NULL if out of memory.
 */
char *wp_manifest_to_json(const wp_manifest *m);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_ISOLATION_H */
