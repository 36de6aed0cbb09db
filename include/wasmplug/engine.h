/*
 * wasmplug/engine.h - the engine (wp_engine) and its configuration: compile
 * cache, pooling, memory limit, load caps, timer, log callback.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_ENGINE_H
#define WASMPLUG_ENGINE_H

#include "wasmplug/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

typedef struct wp_engine wp_engine;
typedef struct wp_engine_config wp_engine_config;

/** Log levels, for wasmplug.log and the engine's log callback. */
typedef enum wp_log_level {
  WP_LOG_TRACE = 0,
  WP_LOG_DEBUG = 1,
  WP_LOG_INFO = 2,
  WP_LOG_WARN = 3,
  WP_LOG_ERROR = 4,
} wp_log_level;

/** "trace", "debug", "info", "warn" or "error". */
const char *wp_log_level_name(wp_log_level level);

/**
 * Receives what plugins log through wasmplug.log. `plugin` is the plugin's
 * name; `msg` is `len` bytes of UTF-8, not NUL-terminated. Called on the
 * thread that runs the plugin, possibly from several threads at once.
 */
typedef void (*wp_log_fn)(void *user_data, wp_log_level level, const char *plugin, const char *msg,
                          size_t len);

/** A new engine configuration with the defaults described below. */
wp_engine_config *wp_engine_config_new(void);
void wp_engine_config_free(wp_engine_config *cfg);

/**
 * Where compiled plugins are cached, keyed by the plugin's sha256 and the
 * engine's configuration. Default: $XDG_CACHE_HOME/wasmplug/compiled, else
 * ~/.cache/wasmplug/compiled. NULL turns the cache off. The directory holds
 * native code that the host runs, so every load checks it: it must be owned
 * by the user running the host (geteuid) and not writable by group or
 * others, else wp_plugin_load fails with WP_ERR_IO naming the directory,
 * what is wrong and the fix. A missing directory is created with mode 0700;
 * a symbolic link to a directory is followed and the directory checked. An
 * entry that is a symbolic link, not a regular file, someone else's or
 * writable by others is refused the same way (remove it). A directory that
 * cannot be created or written only means plugins are compiled every time.
 * Beside the entries (*.cwasm), *.index files record the sha256 of each
 * plugin file loaded, so that loading an unchanged file does not hash it
 * again (wp_plugin_load); they are checked like entries.
 */
void wp_engine_config_set_cache_dir(wp_engine_config *cfg, const char *dir);

/**
 * Pooling allocator: reserve memory for up to `max_instances` live instances
 * up front so that making an instance costs microseconds. 0 turns pooling off
 * (instances then allocate on demand, with no cap). Default: 256.
 */
void wp_engine_config_set_pooling(wp_engine_config *cfg, uint32_t max_instances);

/**
 * The most memory any instance may have, in bytes; a plugin's manifest may
 * set a lower limit, never a higher one. Default: 1 GiB. The limit covers
 * all of an instance's linear memories together (a component has several)
 * plus its tables, charged 8 bytes per element; an instance may also hold at
 * most 100 memories, 1000 tables and 1000 core instances. Growth past the
 * limit is refused (memory.grow returns -1); a call that then fails, or an
 * instantiation whose initial memory is above it, fails with
 * WP_ERR_MEMORY_LIMIT. With pooling on, this is also the size of each
 * pool slot's memory.
 */
void wp_engine_config_set_max_memory(wp_engine_config *cfg, uint64_t bytes);

/**
 * Caps on what loading a plugin may cost, checked before it is parsed or
 * compiled. Compiling takes time and memory in proportion to the functions
 * and bytes of code: on two cores, a valid module of 300000 empty functions
 * (1.2 MB) takes 16 s and 1.6 GiB to load, 100000 take 4.5 s and 0.6 GiB,
 * and the 17.5 MiB Python example 12 s. Over a cap, a plugin is refused in
 * about a millisecond.
 *
 *   max_module_size  the most bytes a plugin may have (a .wat file: its text,
 *                    before conversion); wp_plugin_load does not even read a
 *                    bigger file. Default: 128 MiB.
 *   max_functions    the most functions a plugin may have: a core module's
 *                    imported and defined functions; for a component, those
 *                    of every core module in it (nested components too) plus
 *                    its canonical ABI functions (canon lift, lower,
 *                    resource.new...). Default: 100000.
 *
 * The defaults leave room for big runtimes; the example plugins measure
 *
 *   hello-c, callback-c                       58 KB      17-20 functions
 *   hello-go, callback-go                     2.5 MiB    1816-1822
 *   hello-{c,rust}-component, types-c-component  20-86 KB  30-183
 *   hello-js-component (componentize-js)      11.9 MiB   12827
 *   hello-py-component (componentize-py)      17.5 MiB   14698
 *
 * A plugin over a cap fails to load with WP_ERR_LOAD naming the cap, the
 * value found and how to raise it; so does a component with components nested
 * more than 32 deep. A manifest may set lower caps, never higher ones
 * (wp_manifest_set_max_module_size). 0 keeps the default.
 */
void wp_engine_config_set_max_module_size(wp_engine_config *cfg, uint64_t bytes);
void wp_engine_config_set_max_functions(wp_engine_config *cfg, uint32_t n);

/**
 * Pooling: the most elements a table of a pooled instance may have, and the
 * most bytes of an instance's own runtime state (which grows with its
 * functions, globals and tables). A plugin that does not fit fails to load
 * with WP_ERR_LOAD naming the limit. Defaults: 100000 elements, 8 MiB. 0
 * keeps the default.
 */
void wp_engine_config_set_pool_table_elements(wp_engine_config *cfg, uint32_t elements);
void wp_engine_config_set_pool_instance_size(wp_engine_config *cfg, uint64_t bytes);

/**
 * How long making an instance (its start function and `_initialize`) may
 * take when the plugin's manifest sets no timeout, in milliseconds; past it
 * wp_instance_new, wp_instance_reset and wp_pool_take fail with
 * WP_ERR_TIMEOUT. A plugin with limits.timeout_ms is bounded by that instead.
 * 0: no limit. Default: 10000 (10 s).
 */
void wp_engine_config_set_instantiate_timeout_ms(wp_engine_config *cfg, uint32_t ms);

/**
 * How often the timer thread ticks, in microseconds. Timeouts and interrupts
 * take effect within about one tick. Default: 1000 (1 ms).
 */
void wp_engine_config_set_tick_us(wp_engine_config *cfg, uint32_t us);

/** Where wasmplug.log messages go. Default: nowhere. */
void wp_engine_config_set_log(wp_engine_config *cfg, wp_log_fn fn, void *user_data);

/**
 * Releases the log callback's `user_data`: each engine made from `cfg` calls
 * `free_user_data(user_data)` once, when it is finally destroyed (after
 * wp_engine_free and its last plugin), after its last log call. An engine
 * that wp_engine_new failed to make does not call it: the caller still owns
 * the data. For bindings whose callbacks hold references to their runtime's
 * objects. Default: NULL (nothing is called).
 */
void wp_engine_config_set_log_free(wp_engine_config *cfg, void (*free_user_data)(void *user_data));

/**
 * Hands a message to the engine's log callback (wp_engine_config_set_log),
 * as a plugin's own log calls are: for capabilities and host functions that
 * log on a plugin's behalf. Does nothing without a callback.
 */
void wp_engine_log(const wp_engine *engine, wp_log_level level, const char *plugin, const char *msg,
                   size_t len);

/**
 * Makes an engine. `cfg` may be NULL for the defaults; it is only read, and
 * may be freed afterwards. Starts one timer thread.
 */
wp_error *wp_engine_new(const wp_engine_config *cfg, wp_engine **out);

/**
 * Drops the caller's reference. The engine lives on, stopped only when the
 * last plugin made from it is freed too, so freeing in any order is safe.
 */
void wp_engine_free(wp_engine *engine);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_ENGINE_H */
