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
 */
#ifndef WASMPLUG_H
#define WASMPLUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#define WASMPLUG_VERSION "0.1.0"
#define WASMPLUG_VERSION_MAJOR 0
#define WASMPLUG_VERSION_MINOR 1
#define WASMPLUG_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define WP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WP_PRINTF(f, a)
#endif

/* ======================================================================== */
/* Errors                                                                    */
/* ======================================================================== */

/** What kind of failure a wp_error reports. */
typedef enum wp_error_kind {
  WP_ERR_LOAD = 1,     /**< the bytes are not a valid plugin (corrupt, wrong format) */
  WP_ERR_LINK,         /**< an import is missing or has the wrong type */
  WP_ERR_TRAP,         /**< the plugin trapped (unreachable, divide by zero, stack overflow...) */
  WP_ERR_TIMEOUT,      /**< the call ran past its time limit */
  WP_ERR_INTERRUPTED,  /**< wp_instance_interrupt stopped the call */
  WP_ERR_FUEL,         /**< the call used up its fuel */
  WP_ERR_MEMORY_LIMIT, /**< the plugin failed after its memory reached the limit */
  WP_ERR_BAD_INPUT,    /**< the caller passed something wrong: arguments, manifest, options */
  WP_ERR_ABI,          /**< the plugin broke the calling convention (pointer outside memory, bad UTF-8) */
  WP_ERR_HOST,         /**< a host function reported a failure */
  WP_ERR_PLUGIN,       /**< the plugin reported a failure through wasmplug.error */
  WP_ERR_IO,           /**< reading or writing a file failed */
  WP_ERR_NOT_FOUND,    /**< no such export, file or function */
  WP_ERR_BUSY,         /**< no free instance slot in the engine's pool: retry later (not the
                            plugin's fault; see wp_engine_config_set_pooling) */
} wp_error_kind;

typedef struct wp_error wp_error;

/**
 * Makes an error. Host functions return one to fail the guest's call with
 * this message. Never returns NULL (falls back to a static out-of-memory error).
 */
wp_error *wp_error_new(wp_error_kind kind, const char *fmt, ...) WP_PRINTF(2, 3);

/** Frees an error. NULL is allowed. */
void wp_error_free(wp_error *err);

/** The error's kind. */
wp_error_kind wp_error_get_kind(const wp_error *err);

/**
 * The message: one line (or a few) naming the plugin, what failed, and how to
 * fix it, e.g. "plugin 'auth.wasm': export 'check' not found (exports:
 * check_token, init)". Borrowed from err.
 */
const char *wp_error_get_message(const wp_error *err);

/**
 * The wasm backtrace, innermost frame first, one frame per line
 * ("  0: hello.wasm!greet+0x1c"), or NULL when there is none. Borrowed.
 */
const char *wp_error_get_backtrace(const wp_error *err);

/** A short lower-case name for a kind: "load", "trap", "timeout", ... */
const char *wp_error_kind_name(wp_error_kind kind);

/* ======================================================================== */
/* Values                                                                    */
/* ======================================================================== */

/** The numeric WebAssembly value types. */
typedef enum wp_valkind {
  WP_I32 = 0,
  WP_I64 = 1,
  WP_F32 = 2,
  WP_F64 = 3,
} wp_valkind;

/** A numeric value with its type. */
typedef struct wp_val {
  wp_valkind kind;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } of;
} wp_val;

#define WP_VAL_I32(x) ((wp_val){.kind = WP_I32, .of.i32 = (x)})
#define WP_VAL_I64(x) ((wp_val){.kind = WP_I64, .of.i64 = (x)})
#define WP_VAL_F32(x) ((wp_val){.kind = WP_F32, .of.f32 = (x)})
#define WP_VAL_F64(x) ((wp_val){.kind = WP_F64, .of.f64 = (x)})

/** "i32", "i64", "f32" or "f64". */
const char *wp_valkind_name(wp_valkind kind);

/* ======================================================================== */
/* Engine                                                                    */
/* ======================================================================== */

typedef struct wp_engine wp_engine;
typedef struct wp_engine_config wp_engine_config;
typedef struct wp_instance wp_instance;
typedef struct wp_plugin wp_plugin;

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
typedef void (*wp_log_fn)(void *user_data, wp_log_level level, const char *plugin,
                          const char *msg, size_t len);

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
 * Makes an engine. `cfg` may be NULL for the defaults; it is only read, and
 * may be freed afterwards. Starts one timer thread.
 */
wp_error *wp_engine_new(const wp_engine_config *cfg, wp_engine **out);

/**
 * Drops the caller's reference. The engine lives on, stopped only when the
 * last plugin made from it is freed too, so freeing in any order is safe.
 */
void wp_engine_free(wp_engine *engine);

/* ======================================================================== */
/* Host functions                                                            */
/* ======================================================================== */

/**
 * The context of one call from a plugin into a host function. Borrowed: valid
 * only during the callback. A callback must not call into the same instance.
 */
typedef struct wp_host_call wp_host_call;

/**
 * A host function with numeric parameters and results. `args` holds the
 * declared parameters, already type-checked; write every result. Return NULL
 * on success, or an error (wp_error_new) to make the plugin's call fail with
 * WP_ERR_HOST and that message; the library takes ownership of it.
 */
typedef wp_error *(*wp_host_fn)(wp_host_call *call, const wp_val *args, size_t nargs,
                                wp_val *results, size_t nresults, void *user_data);

/**
 * A host function taking bytes and returning bytes. `input` points into the
 * plugin's memory (bounds-checked) and is valid during the callback. Set the
 * result with wp_host_call_set_output (default: empty). Errors as wp_host_fn.
 *
 * Guest ABI (canonical ABI of `func(input: list<u8>) -> list<u8>`): the
 * import is `(param i32 i32 i32)`: input pointer, input length, and a pointer
 * to an 8-byte area where the host writes the output [pointer, length]; the
 * output is allocated in the guest with its `cabi_realloc` and owned by the
 * guest.
 */
typedef wp_error *(*wp_host_bytes_fn)(wp_host_call *call, const uint8_t *input,
                                      size_t input_len, void *user_data);

/**
 * Offers a numeric host function to plugins as import (`module`, `name`)
 * with the given signature. Plugins loaded afterwards can import it; a plugin
 * that imports it with another signature fails to load with WP_ERR_LINK.
 * `free_user_data` (may be NULL) runs when the engine goes.
 * Thread-safe, but define functions before loading the plugins that use them.
 */
wp_error *wp_engine_define_func(wp_engine *engine, const char *module, const char *name,
                                const wp_valkind *params, size_t nparams,
                                const wp_valkind *results, size_t nresults, wp_host_fn fn,
                                void *user_data, void (*free_user_data)(void *));

/** Offers a bytes-to-bytes host function (see wp_host_bytes_fn for the ABI). */
wp_error *wp_engine_define_bytes(wp_engine *engine, const char *module, const char *name,
                                 wp_host_bytes_fn fn, void *user_data,
                                 void (*free_user_data)(void *));

/**
 * As wp_engine_define_bytes, for strings: the guest's input is checked to be
 * UTF-8 before the callback runs (else the guest's call fails with WP_ERR_ABI)
 * and the output given to wp_host_call_set_output must be UTF-8 too.
 */
wp_error *wp_engine_define_string(wp_engine *engine, const char *module, const char *name,
                                  wp_host_bytes_fn fn, void *user_data,
                                  void (*free_user_data)(void *));

/** Sets a bytes/string host function's result; copies `data`. */
wp_error *wp_host_call_set_output(wp_host_call *call, const void *data, size_t len);

/** The instance whose plugin made this call (borrowed). */
wp_instance *wp_host_call_get_instance(wp_host_call *call);

/* ======================================================================== */
/* Manifests                                                                 */
/* ======================================================================== */

/**
 * What a plugin may do and how far it may go. Everything is denied by default:
 * no files, no environment variables, no arguments, no stdin, stdout and
 * stderr discarded, no network. Limits default to the engine's.
 *
 * JSON form (every field optional; unknown fields are errors):
 *
 *   {
 *     "name": "auth",
 *     "sources": [{"path": "auth.wasm", "sha256": "9f86d0..."}],
 *     "limits": {"memory": "16MiB", "timeout_ms": 50, "fuel": 1000000,
 *                "module_size": "64MiB", "functions": 50000},
 *     "wasi": {
 *       "dirs": [{"host": "./data", "guest": "/data", "mode": "ro"}],
 *       "env": {"LANG": "C"},
 *       "args": ["auth", "--strict"],
 *       "stdin": "text given to the plugin",
 *       "stdout": "inherit" | "capture" | "discard",
 *       "stderr": "inherit" | "capture" | "discard"
 *     },
 *     "config": {"greeting": "Hello"},
 *     "imports": {"missing": "error" | "trap"}
 *   }
 *
 * Relative paths in a manifest file resolve against the file's directory.
 * "memory" and "module_size" take a number of bytes or a string with a unit
 * (B, KiB, MiB, GiB, KB, MB, GB). "memory" must be at least 64 KiB and the
 * other limits at least 1: leave a limit out to get the engine's (a 0 would
 * read as "none"). "module_size" and "functions" lower the engine's load caps
 * (wp_engine_config_set_max_module_size). One source is supported for now.
 *
 * Text the plugin sees (its name, guest paths, env names and values, args,
 * config keys and values) must be UTF-8, and env names non-empty without
 * '='; the JSON reader and the setters refuse anything else with
 * WP_ERR_BAD_INPUT naming the field, its bad bytes shown escaped ("\xff").
 * JSON strings may not contain \u0000. Host paths go to the OS as they are.
 * Reading is linear in the size of the manifest (a million keys take about
 * two seconds), and config_get is a hash lookup.
 */
typedef struct wp_manifest wp_manifest;

/** How a plugin's stdout or stderr is handled. */
typedef enum wp_stdio_mode {
  WP_STDIO_DISCARD = 0, /**< default: writes succeed and go nowhere */
  WP_STDIO_INHERIT,     /**< the host process's own stream */
  WP_STDIO_CAPTURE,     /**< kept in the instance (wp_instance_get_stdout), up to 1 MiB */
  WP_STDIO_CALLBACK,    /**< handed to a wp_output_fn */
} wp_stdio_mode;

/**
 * Receives a plugin's stdout/stderr bytes. Return 0 to accept them, non-zero
 * to make the guest's write fail.
 */
typedef int (*wp_output_fn)(void *user_data, wp_instance *inst, const uint8_t *data,
                            size_t len);

/** An empty manifest: everything denied, engine limits. */
wp_manifest *wp_manifest_new(void);

/** Parses a JSON manifest; `base_dir` (may be NULL) resolves relative paths. */
wp_error *wp_manifest_parse(const char *json, size_t len, const char *base_dir,
                            wp_manifest **out);

/** Reads and parses a JSON manifest file. */
wp_error *wp_manifest_load(const char *path, wp_manifest **out);

void wp_manifest_free(wp_manifest *m);

/** The plugin's name in messages; default: the source file's base name. */
wp_error *wp_manifest_set_name(wp_manifest *m, const char *name);

/**
 * Sets the plugin's source file and, if `sha256_hex` is not NULL, the
 * sha256 (64 hex digits) its bytes must have.
 */
wp_error *wp_manifest_set_source(wp_manifest *m, const char *path, const char *sha256_hex);

/** Pins the sha256 of whatever bytes are loaded with this manifest. */
wp_error *wp_manifest_set_sha256(wp_manifest *m, const char *sha256_hex);

/**
 * Most memory, in bytes (rounded down to 64 KiB pages): all of the plugin's
 * linear memories together plus its tables (8 bytes per element), as for
 * wp_engine_config_set_max_memory. 0, the
 * default, means the engine's limit (wp_engine_config_set_max_memory). A
 * value from 1 to 65535 allows no linear memory at all, which is why the JSON
 * "memory" field and the CLI's --max-memory refuse values below 64 KiB.
 */
void wp_manifest_set_max_memory(wp_manifest *m, uint64_t bytes);

/**
 * Load caps for this plugin (see wp_engine_config_set_max_module_size): at
 * most the engine's, or loading fails with WP_ERR_BAD_INPUT. 0, the
 * default, means the engine's cap.
 */
void wp_manifest_set_max_module_size(wp_manifest *m, uint64_t bytes);
void wp_manifest_set_max_functions(wp_manifest *m, uint32_t n);

/**
 * Wall-clock limit per call, in milliseconds. 0: none. Time the plugin spends
 * waiting inside WASI (sleeps, polls, pollable.block) counts: such a wait
 * ends when the time is up and the call fails with WP_ERR_TIMEOUT. The limit
 * also bounds making an instance (start function, `_initialize`).
 */
void wp_manifest_set_timeout_ms(wp_manifest *m, uint32_t ms);

/**
 * Fuel per call (about one unit per wasm instruction). 0: no metering.
 * Metered plugins are compiled with fuel checks and run somewhat slower.
 */
void wp_manifest_set_fuel(wp_manifest *m, uint64_t fuel);

/** Grants the directory `host_path` to the plugin as `guest_path`. */
wp_error *wp_manifest_allow_dir(wp_manifest *m, const char *host_path,
                                const char *guest_path, bool writable);

/** Gives the plugin an environment variable. */
wp_error *wp_manifest_set_env(wp_manifest *m, const char *key, const char *value);

/** Appends an argument to the plugin's argv (argv[0] comes first). */
wp_error *wp_manifest_add_arg(wp_manifest *m, const char *arg);

/** Bytes the plugin reads from stdin (copied). */
wp_error *wp_manifest_set_stdin(wp_manifest *m, const void *data, size_t len);

/** Where stdout goes; `fn` and `user_data` are used with WP_STDIO_CALLBACK. */
void wp_manifest_set_stdout(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn,
                            void *user_data);

/** Where stderr goes; as wp_manifest_set_stdout. */
void wp_manifest_set_stderr(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn,
                            void *user_data);

/** A config key/value the plugin can read with wasmplug.config_get. */
wp_error *wp_manifest_set_config(wp_manifest *m, const char *key, const char *value);

/**
 * What happens to a component import the host does not provide. false
 * (default, "missing": "error"): loading fails with WP_ERR_LINK listing every
 * missing import. true ("trap"): the plugin loads and a call to a missing
 * function traps (WP_ERR_TRAP) with a message naming it. Components only; a core module
 * with this set fails to load with WP_ERR_BAD_INPUT.
 */
void wp_manifest_set_trap_missing_imports(wp_manifest *m, bool trap);

/**
 * Parses a size such as "16MiB", "512KiB", "1GB", "65536" into bytes.
 * Returns false (and leaves *out alone) on anything else.
 */
bool wp_parse_size(const char *text, uint64_t *out);

/* ======================================================================== */
/* Plugins                                                                   */
/* ======================================================================== */

/** What an import or export is. */
typedef enum wp_extern_kind {
  WP_EXTERN_FUNC = 0,
  WP_EXTERN_MEMORY,
  WP_EXTERN_TABLE,
  WP_EXTERN_GLOBAL,
  WP_EXTERN_TAG,
  WP_EXTERN_RESOURCE, /**< components: a resource type */
} wp_extern_kind;

typedef struct wp_functype wp_functype;

/**
 * One import or export of a plugin. Borrowed from the plugin.
 * For components, functions and resources inside interfaces are listed one by
 * one: `module` is the interface ("example:hello/greeter", NULL at the
 * world's top level), `name` the function ("greet", "[method]blob.size").
 */
typedef struct wp_extern_info {
  const char *module;        /**< imports: the module name; exports: NULL (components: interface) */
  const char *name;          /**< the field name */
  wp_extern_kind kind;
  /** Functions: parameter and result types. A type outside wp_valkind (v128,
      references) makes `numeric` false and such functions uncallable here. */
  const wp_valkind *params;
  size_t nparams;
  const wp_valkind *results;
  size_t nresults;
  bool numeric;
  /** Memories: size limits in 64 KiB pages; max_pages is 0 when unbounded. */
  uint64_t min_pages, max_pages;
  /** Printable type, e.g. "func (i32, i32) -> i32" or "memory 17 pages";
      components: WIT, e.g. "func(name: string) -> string". */
  const char *type;
  /** Components: the function's WIT type (NULL otherwise); see wp_functype_*. */
  const wp_functype *functype;
} wp_extern_info;

/**
 * Loads, checks and compiles the plugin at `path` (a .wasm binary, or a
 * .wat text file). `manifest` may be NULL (deny everything, engine limits);
 * it is copied. If `path` is NULL the manifest's source is loaded. A sha256
 * pin that does not match fails with WP_ERR_LOAD. Compiled code is cached on
 * disk; a second load of the same bytes skips compilation.
 * Imports must all be provided (WASI, wasmplug.*, or defined host functions),
 * else WP_ERR_LINK lists the missing ones.
 */
wp_error *wp_plugin_load(wp_engine *engine, const char *path, const wp_manifest *manifest,
                         wp_plugin **out);

/** As wp_plugin_load, from bytes (binary or text); `name` names it in messages. */
wp_error *wp_plugin_load_bytes(wp_engine *engine, const char *name, const void *bytes,
                               size_t len, const wp_manifest *manifest, wp_plugin **out);

/** A new reference to the plugin; free each with wp_plugin_free. */
wp_plugin *wp_plugin_ref(wp_plugin *plugin);

/** Drops a reference; the plugin goes when its last instance and reference do. */
void wp_plugin_free(wp_plugin *plugin);

/** The plugin's name (from the manifest or the file name). */
const char *wp_plugin_get_name(const wp_plugin *plugin);

/** The sha256 of the plugin's bytes, as 64 lower-case hex digits. */
const char *wp_plugin_get_sha256(const wp_plugin *plugin);

/** The size of the plugin's bytes (as loaded: .wat text size for text). */
size_t wp_plugin_get_size(const wp_plugin *plugin);

/** True if the compiled code came from the on-disk cache. */
bool wp_plugin_was_cached(const wp_plugin *plugin);

/** Imports and exports, in the module's order. */
size_t wp_plugin_import_count(const wp_plugin *plugin);
const wp_extern_info *wp_plugin_get_import(const wp_plugin *plugin, size_t i);
size_t wp_plugin_export_count(const wp_plugin *plugin);
const wp_extern_info *wp_plugin_get_export(const wp_plugin *plugin, size_t i);

/**
 * A handle on an exported function, valid for every instance of the plugin it
 * came from. Looking it up once and calling wp_instance_call_func skips the
 * name lookup on every call.
 */
typedef uint32_t wp_func_id;

/**
 * Finds an exported function; WP_ERR_NOT_FOUND lists the exports there are.
 * For components, a function inside an exported interface is named
 * "INTERFACE#FUNC", e.g. "example:hello/greeter#greet".
 */
wp_error *wp_plugin_find_func(const wp_plugin *plugin, const char *name, wp_func_id *out);

/** True if the plugin is a Component Model component (else a core module). */
bool wp_plugin_is_component(const wp_plugin *plugin);

/** The WIT type of an exported component function; NULL for core modules. */
const wp_functype *wp_plugin_get_functype(const wp_plugin *plugin, wp_func_id func);

/* ======================================================================== */
/* Instances                                                                 */
/* ======================================================================== */

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
 * Calls a numeric export. `args` must match the export's parameters in number
 * and type and `nresults` its result count, else WP_ERR_BAD_INPUT. On a trap,
 * timeout or limit the error says so; the instance should then be reset or
 * freed (wp_pool_release does that).
 */
wp_error *wp_instance_call(wp_instance *inst, const char *name, const wp_val *args,
                           size_t nargs, wp_val *results, size_t nresults);

/** As wp_instance_call, by handle (the fast path). */
wp_error *wp_instance_call_func(wp_instance *inst, wp_func_id func, const wp_val *args,
                                size_t nargs, wp_val *results, size_t nresults);

/**
 * Calls a bytes export `(func (param i32 i32) (result i32))` through the
 * bytes ABI: the input is copied into the plugin (via its `cabi_realloc`),
 * and the output it returns is bounds-checked and copied out. `*out` is
 * borrowed from the instance, valid until its next call, reset or free, and
 * is followed by a NUL byte not counted in `*out_len`.
 */
wp_error *wp_instance_call_bytes(wp_instance *inst, const char *name, const void *input,
                                 size_t input_len, const uint8_t **out, size_t *out_len);

/** As wp_instance_call_bytes, by handle. */
wp_error *wp_instance_call_func_bytes(wp_instance *inst, wp_func_id func, const void *input,
                                      size_t input_len, const uint8_t **out,
                                      size_t *out_len);

/**
 * As wp_instance_call_bytes for NUL-terminated UTF-8 strings: the output
 * must be UTF-8 without NUL bytes, else WP_ERR_ABI. `*out` as above.
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

/** Current size of the instance's linear memory in bytes (0 if it has none). */
uint64_t wp_instance_get_memory_size(wp_instance *inst);


/* ======================================================================== */
/* Component Model: types                                                    */
/* ======================================================================== */

/** The kinds of WIT types, and of values (a value of kind OWN or BORROW is a
    resource handle). */
typedef enum wp_type_kind {
  WP_TYPE_BOOL = 0,
  WP_TYPE_S8,
  WP_TYPE_U8,
  WP_TYPE_S16,
  WP_TYPE_U16,
  WP_TYPE_S32,
  WP_TYPE_U32,
  WP_TYPE_S64,
  WP_TYPE_U64,
  WP_TYPE_F32,
  WP_TYPE_F64,
  WP_TYPE_CHAR,
  WP_TYPE_STRING,
  WP_TYPE_LIST,
  WP_TYPE_RECORD,
  WP_TYPE_TUPLE,
  WP_TYPE_VARIANT,
  WP_TYPE_ENUM,
  WP_TYPE_OPTION,
  WP_TYPE_RESULT,
  WP_TYPE_FLAGS,
  WP_TYPE_OWN,
  WP_TYPE_BORROW,
  /* Types wasmplug can describe but not pass (component-model async). */
  WP_TYPE_FUTURE,
  WP_TYPE_STREAM,
  WP_TYPE_ERROR_CONTEXT,
  WP_TYPE_MAP,
} wp_type_kind;

/** "bool", "u32", "list", "record", "own"... */
const char *wp_type_kind_name(wp_type_kind kind);

/**
 * A WIT type, borrowed from the plugin it came from (valid while the plugin
 * is). Compound types have children, reached by index:
 *
 *   kind      count  child(i)                  name(i)
 *   list      1      the element type          NULL
 *   option    1      the inner type            NULL
 *   result    2      ok type, err type         "ok", "err"   (child NULL: none)
 *   record    n      field types               field names
 *   tuple     n      element types             NULL
 *   variant   n      case payloads             case names    (child NULL: none)
 *   enum      n      NULL                      case names
 *   flags     n      NULL                      flag names
 *   map       2      key type, value type      NULL
 *   others    0
 */
typedef struct wp_type wp_type;

wp_type_kind wp_type_get_kind(const wp_type *type);
size_t wp_type_get_count(const wp_type *type);
const wp_type *wp_type_get_child(const wp_type *type, size_t i);
const char *wp_type_get_name(const wp_type *type, size_t i);

/** The type in WIT syntax, e.g. "list<option<u32>>" or, for a record,
    "record { x: s32, y: s32 }"; borrowed from the type. */
const char *wp_type_to_string(const wp_type *type);

/** A function's WIT type: named parameters and at most one result. Borrowed
    from the plugin. */
size_t wp_functype_param_count(const wp_functype *ft);
const char *wp_functype_param_name(const wp_functype *ft, size_t i);
const wp_type *wp_functype_param_type(const wp_functype *ft, size_t i);
/** The result type, or NULL for a function without a result. */
const wp_type *wp_functype_result(const wp_functype *ft);
/** The function type as WIT, e.g. "func(name: string) -> string"; borrowed. */
const char *wp_functype_to_string(const wp_functype *ft);

/**
 * Prints the world of a component (bytes of a .wasm component) as WIT text,
 * the way `wasm-tools component wit` does. `*out` is NUL-terminated and the
 * caller frees it with wp_free. WP_ERR_LOAD if the bytes are not a component.
 */
wp_error *wp_component_wit(const void *bytes, size_t len, char **out);

/** Frees memory the library handed over (strings from wp_component_wit,
    wp_value_to_wave...). NULL is allowed. */
void wp_free(void *ptr);

/* ======================================================================== */
/* Component Model: values                                                   */
/* ======================================================================== */

/**
 * A WIT value: a tree owned by whoever made it.
 *
 * Ownership rules:
 *   - wp_value_new_* return a new value the caller owns (NULL only when out
 *     of memory); free it with wp_value_free.
 *   - Constructors that take other values (list, tuple, record, variant,
 *     some, ok, err) take ownership of them, even when they fail; a NULL
 *     among them makes the constructor free the others and return NULL, so
 *     nested constructor calls need no error checks until the outermost.
 *   - wp_value_get_* borrow: a child stays valid as long as its parent.
 *   - Strings and names are copied in, stored NUL-terminated, and returned
 *     borrowed.
 *
 * Values are checked against the WIT type when they are passed (to a call,
 * or back from a host function): a mismatch, a string that is not UTF-8 or a
 * char that is not a Unicode scalar value is a WP_ERR_BAD_INPUT naming where
 * in the value it is, never a crash.
 */
typedef struct wp_value wp_value;

wp_value *wp_value_new_bool(bool v);
wp_value *wp_value_new_s8(int8_t v);
wp_value *wp_value_new_u8(uint8_t v);
wp_value *wp_value_new_s16(int16_t v);
wp_value *wp_value_new_u16(uint16_t v);
wp_value *wp_value_new_s32(int32_t v);
wp_value *wp_value_new_u32(uint32_t v);
wp_value *wp_value_new_s64(int64_t v);
wp_value *wp_value_new_u64(uint64_t v);
wp_value *wp_value_new_f32(float v);
wp_value *wp_value_new_f64(double v);
/** A char: a Unicode scalar value (checked when passed). */
wp_value *wp_value_new_char(uint32_t v);
/** A string from NUL-terminated UTF-8 (checked when passed). */
wp_value *wp_value_new_string(const char *s);
/** A string from `len` bytes of UTF-8. */
wp_value *wp_value_new_string_n(const char *s, size_t len);
/** A list<u8> holding a copy of `len` bytes. */
wp_value *wp_value_new_bytes(const void *data, size_t len);
/** A list of `n` values (taken). */
wp_value *wp_value_new_list(wp_value *const *items, size_t n);
/** A tuple of `n` values (taken). */
wp_value *wp_value_new_tuple(wp_value *const *items, size_t n);
/** A record: field `names[i]` (copied) has value `fields[i]` (taken). */
wp_value *wp_value_new_record(const char *const *names, wp_value *const *fields, size_t n);
/** A variant case, with a payload (taken) or NULL for a case without one. */
wp_value *wp_value_new_variant(const char *case_name, wp_value *payload);
/** An enum case. */
wp_value *wp_value_new_enum(const char *case_name);
/** option: some(v) (v taken) and none. */
wp_value *wp_value_new_some(wp_value *v);
wp_value *wp_value_new_none(void);
/** result: ok(v) / err(v), v taken; pass NULL for a result without that payload. */
wp_value *wp_value_new_ok(wp_value *v);
wp_value *wp_value_new_err(wp_value *v);
/** flags: the names of the flags that are set (copied). */
wp_value *wp_value_new_flags(const char *const *names, size_t n);

/** A deep copy (resource handles are copied as handles). */
wp_value *wp_value_clone(const wp_value *v);

/** Frees a value and its children. NULL is allowed. A resource handle in it is
    only forgotten: see wp_instance_drop_resource. */
void wp_value_free(wp_value *v);

/** Deep equality (floats compare bitwise, so NaN equals the same NaN). */
bool wp_value_equal(const wp_value *a, const wp_value *b);

/** The value's kind (WP_TYPE_OWN or WP_TYPE_BORROW for resource handles). */
wp_type_kind wp_value_get_kind(const wp_value *v);

/** Scalars. Getting the wrong kind returns 0 / false (check the kind first). */
bool wp_value_get_bool(const wp_value *v);
int64_t wp_value_get_int(const wp_value *v);    /**< s8, s16, s32, s64 */
uint64_t wp_value_get_uint(const wp_value *v);  /**< u8, u16, u32, u64 */
float wp_value_get_f32(const wp_value *v);
double wp_value_get_f64(const wp_value *v);
uint32_t wp_value_get_char(const wp_value *v);

/** A string's bytes (NUL-terminated; `*len`, if not NULL, gets the length). */
const char *wp_value_get_string(const wp_value *v, size_t *len);

/** Number of items: list and tuple elements, record fields, set flags. */
size_t wp_value_get_count(const wp_value *v);
/** Item i of a list, tuple or record (NULL out of range). */
const wp_value *wp_value_get_item(const wp_value *v, size_t i);
/** Name of record field i or of set flag i. */
const char *wp_value_get_name(const wp_value *v, size_t i);
/** A record field by name (NULL if absent). */
const wp_value *wp_value_get_field(const wp_value *v, const char *name);
/** Whether flag `name` is set. */
bool wp_value_has_flag(const wp_value *v, const char *name);

/**
 * The case of a variant or enum; "some"/"none" for an option; "ok"/"err"
 * for a result. NULL for other kinds.
 */
const char *wp_value_get_case(const wp_value *v);
/** The payload of a variant, option or result case (NULL if it has none). */
const wp_value *wp_value_get_payload(const wp_value *v);

/**
 * Parses a value of `type` written in WAVE, the WebAssembly Value Encoding
 * (e.g. `"text"`, `[1, 2]`, `{x: 1, y: 2}`, `some(ok("a"))`, `{read, write}`).
 * On a syntax or type error, WP_ERR_BAD_INPUT with the position (1-based
 * column) and a caret line under the offending character.
 */
wp_error *wp_value_from_wave(const wp_type *type, const char *text, wp_value **out);

/** The value as WAVE text; the caller frees it with wp_free. NULL if out of
    memory. Resource handles print as `<resource>`, which WAVE cannot read. */
char *wp_value_to_wave(const wp_value *v);

/* ======================================================================== */
/* Component Model: calls, host imports, resources                           */
/* ======================================================================== */

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
wp_error *wp_instance_invoke_func(wp_instance *inst, wp_func_id func,
                                  const wp_value *const *args, size_t nargs,
                                  wp_value **result);

/**
 * A host function for a component import. `args` are the plugin's arguments,
 * typed as the import declares them and borrowed for the callback. Set
 * `*result` (ownership passes to the library) when the function has a result;
 * it is checked against the declared type, and a mismatch fails the plugin's
 * call with WP_ERR_HOST. Return NULL on success, or an error to fail the
 * plugin's call with it (WP_ERR_HOST). An own<T> argument of a host resource
 * type is dropped (its drop callback runs) after the callback returns.
 */
typedef wp_error *(*wp_component_fn)(wp_host_call *call, const wp_value *const *args,
                                     size_t nargs, wp_value **result, void *user_data);

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
                                          const char *name, wp_component_fn fn,
                                          void *user_data, void (*free_user_data)(void *));

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
 */
wp_error *wp_engine_define_resource(wp_engine *engine, const char *interface, const char *name,
                                    wp_resource_drop_fn drop, void *user_data,
                                    const wp_resource_type **out);

/**
 * An owning handle to the host object `object` of a host resource type, for
 * the plugin running in `inst`: return it from a host function (e.g. a
 * constructor) or pass it to an export taking own<T> or borrow<T>. NULL when
 * out of memory or when `inst` is not a component instance.
 */
wp_value *wp_value_new_resource(wp_instance *inst, const wp_resource_type *type, void *object);

/**
 * The host object behind a handle of host resource type `type` (an argument
 * of a host function, typically `self` of a method). WP_ERR_BAD_INPUT if `v`
 * is not a live handle of that type.
 */
wp_error *wp_value_get_resource(const wp_value *v, wp_instance *inst,
                                const wp_resource_type *type, void **object);

/**
 * Drops an owning handle `v` (made by the plugin, e.g. returned by its
 * "[constructor]blob"): the plugin's destructor runs. `v` stays allocated
 * (free it with wp_value_free) but no longer refers to anything.
 */
wp_error *wp_instance_drop_resource(wp_instance *inst, wp_value *v);

/* ======================================================================== */
/* Pools                                                                     */
/* ======================================================================== */

typedef struct wp_pool wp_pool;

/**
 * A supply of instances of `plugin`. Each instance serves at most `max_uses`
 * takes (1: a fresh instance for every call; 0: no limit) and at most
 * `max_idle` instances are kept waiting. An instance whose call failed is
 * never handed out again. Holds a reference to the plugin.
 */
wp_error *wp_pool_new(wp_plugin *plugin, uint32_t max_uses, uint32_t max_idle,
                      wp_pool **out);

/** Frees the pool and its idle instances. Taken instances must be released first. */
void wp_pool_free(wp_pool *pool);

/** Hands out an instance, making one if none is idle. */
wp_error *wp_pool_take(wp_pool *pool, wp_instance **out);

/**
 * Gives an instance back. It is kept for reuse, or freed if it has served
 * max_uses, its last call failed, or max_idle are already waiting.
 */
void wp_pool_release(wp_pool *pool, wp_instance *inst);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_H */
