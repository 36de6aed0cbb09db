/*
 * wasmplug/logging.h - the "logging" capability: `wasi:logging/logging` for
 * components, routed to the engine's log callback.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 *
 * wp_engine_new registers it (src/host/logging/). An embedder has nothing to
 * call: messages reach the callback set with wp_engine_config_set_log
 * (wasmplug/engine.h; without one they go nowhere), and this header says
 * what arrives there.
 *
 * The interface is defined without a version, so every version a component
 * imports links (as Spin and wasmCloud components import it):
 *
 *   enum level { trace, debug, info, warn, error, critical }
 *   log: func(level: level, context: string, message: string);
 *
 * Each call reaches the callback once, with the plugin's name and:
 * - the level: trace, debug, info, warn and error as WP_LOG_TRACE ...
 *   WP_LOG_ERROR; critical as WP_LOG_ERROR (the engine's levels stop there);
 * - the text: "context: message" when the context is not empty, else the
 *   message alone; `len` bytes of UTF-8, not NUL-terminated, whole (the
 *   capability sets no length limit of its own: what the component can
 *   hold in its memory arrives).
 *
 * Logging needs no grant: every component importing the interface links
 * and may log. The manifest section is optional and sets the lowest level
 * passed on; lower ones are dropped:
 *
 *   "capabilities": {"logging": {"level": "warn"}}
 *
 * - level: "trace", "debug", "info", "warn", "error" or "critical"
 *   ("critical" passes errors too, as the two are one level here).
 *   Without the section or the field: "trace", everything is passed on.
 * - Anything else (not an object, another field, another level) fails the
 *   load with WP_ERR_BAD_INPUT naming capabilities.logging.
 *
 * The level filters wasi:logging/logging only: core modules'
 * `wasmplug.log` (docs/abi.md) and `wasmplug:plugin/host#log`
 * (pdk/wit/plugin.wit) reach the callback whatever it says.
 *
 * A call fails (the plugin's call with it) only when the host runs out of
 * memory (WP_ERR_NO_MEMORY) or the arguments are not the interface's
 * (WP_ERR_ABI).
 */
#ifndef WASMPLUG_LOGGING_H
#define WASMPLUG_LOGGING_H

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

#endif /* WASMPLUG_LOGGING_H */
