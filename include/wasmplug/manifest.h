/*
 * wasmplug/manifest.h - manifests (wp_manifest): what a plugin may do and how
 * far it may go, in JSON or built in code; sizes such as "16MiB".
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_MANIFEST_H
#define WASMPLUG_MANIFEST_H

#include "wasmplug/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

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
 *     "imports": {"missing": "error" | "trap"},
 *     "capabilities": {"keyvalue": {...}, "http": {...}},
 *     "link": {"wasi:keyvalue/store@0.2.0-draft": "kv-memory.wasm"}
 *     "isolation": "none" | "process"
 *   }
 *
 * Relative paths in a manifest file resolve against the file's directory.
 * "memory" and "module_size" take a number of bytes or a string with a unit
 * (B, KiB, MiB, GiB, KB, MB, GB). "memory" must be at least 64 KiB and the
 * other limits at least 1: leave a limit out to get the engine's (a 0 would
 * read as "none"). "module_size" and "functions" lower the engine's load caps
 * (wp_engine_config_set_max_module_size). One source is supported for now.
 * "isolation" says where instances run (wasmplug/isolation.h); left out,
 * the engine decides. wp_manifest_to_json writes this form back.
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
typedef int (*wp_output_fn)(void *user_data, wp_instance *inst, const uint8_t *data, size_t len);

/**
 * Load-time linking (components only, docs/compose.md): the plugin's import
 * of interface `iface` ("wasi:keyvalue/store@0.2.0-draft") is served by the
 * export of that interface of the plug component at `plug_path`, instantiated
 * in the same store before the plugin each time the plugin is; the JSON form
 * is "link": {IFACE: PATH}. The plug is loaded with the plugin (by
 * wp_plugin_load*, with an empty manifest: no grants) and must fit: a missing
 * or mistyped function fails the load with WP_ERR_LINK naming the interface,
 * the function and both types. Setting the same interface again replaces it.
 */
wp_error *wp_manifest_set_link(wp_manifest *m, const char *iface, const char *plug_path);
size_t wp_manifest_link_count(const wp_manifest *m);
/** The i-th link (borrowed); false past the end. */
bool wp_manifest_link_at(const wp_manifest *m, size_t i, const char **iface, const char **path);

/** An empty manifest: everything denied, engine limits. */
wp_manifest *wp_manifest_new(void);

/** Parses a JSON manifest; `base_dir` (may be NULL) resolves relative paths. */
wp_error *wp_manifest_parse(const char *json, size_t len, const char *base_dir, wp_manifest **out);

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
 * Names where the timeout was set, for the hint of a WP_ERR_TIMEOUT ("call
 * 'run' ran past its 50 ms timeout (set by --timeout-ms; raise it if ...)"):
 * a program that takes the limit from its own option or file says so here,
 * after wp_manifest_set_timeout_ms. Without it the hint names
 * wp_manifest_set_timeout_ms, or "limits.timeout_ms in manifest 'FILE'" for a
 * manifest read from JSON; wp_manifest_set_timeout_ms forgets an earlier
 * origin, and NULL goes back to that default.
 */
wp_error *wp_manifest_set_timeout_origin(wp_manifest *m, const char *origin);

/**
 * Fuel per call (about one unit per wasm instruction). 0: no metering.
 * Metered plugins are compiled with fuel checks and run somewhat slower.
 */
void wp_manifest_set_fuel(wp_manifest *m, uint64_t fuel);

/** Grants the directory `host_path` to the plugin as `guest_path`. */
wp_error *wp_manifest_allow_dir(wp_manifest *m, const char *host_path, const char *guest_path,
                                bool writable);

/** Gives the plugin an environment variable. */
wp_error *wp_manifest_set_env(wp_manifest *m, const char *key, const char *value);

/** Appends an argument to the plugin's argv (argv[0] comes first). */
wp_error *wp_manifest_add_arg(wp_manifest *m, const char *arg);

/** Bytes the plugin reads from stdin (copied). */
wp_error *wp_manifest_set_stdin(wp_manifest *m, const void *data, size_t len);

/** Where stdout goes; `fn` and `user_data` are used with WP_STDIO_CALLBACK. */
void wp_manifest_set_stdout(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn, void *user_data);

/** Where stderr goes; as wp_manifest_set_stdout. */
void wp_manifest_set_stderr(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn, void *user_data);

/** A config key/value the plugin can read with wasmplug.config_get. */
wp_error *wp_manifest_set_config(wp_manifest *m, const char *key, const char *value);

/** The config value of `key` (borrowed), or NULL. */
const char *wp_manifest_get_config(const wp_manifest *m, const char *key);

/** How many config keys the manifest has. */
size_t wp_manifest_config_count(const wp_manifest *m);

/** Config entry i, in the order set: its key and value (borrowed); false past the end. */
bool wp_manifest_config_at(const wp_manifest *m, size_t i, const char **key, const char **value);

/**
 * Sets the section of capability `name` (wasmplug/capability.h), as
 * "capabilities": {"NAME": SECTION} does in JSON: `json` is the section's
 * JSON text (copied; WP_ERR_BAD_INPUT if it is not JSON), or NULL to remove
 * it. The capability checks what the section says when the plugin loads.
 */
wp_error *wp_manifest_set_capability(wp_manifest *m, const char *name, const char *json);

/** The JSON text of capability `name`'s section (borrowed, compact), or NULL. */
const char *wp_manifest_get_capability(const wp_manifest *m, const char *name);

/** How many capability sections the manifest has. */
size_t wp_manifest_capability_count(const wp_manifest *m);

/** The name of capability section i, in the order given (borrowed), or NULL. */
const char *wp_manifest_capability_name(const wp_manifest *m, size_t i);

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

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_MANIFEST_H */
