/*
 * wasmplug/server.h - wasmplug serve as a library: an HTTP/1.1 server whose
 * routes are WebAssembly handlers (wasmplug/http.h), swapped in place when
 * their files change, configured live through a control API, with
 * Prometheus metrics and a JSON access log.
 *
 * Not included by <wasmplug.h>: the server is a separate library
 * (libwasmplug_server, on libmicrohttpd) built on the public API only.
 *
 * The configuration is one JSON document (docs/serve.md gives every field):
 *
 *   { "listen": "127.0.0.1:8080", "workers": 2,
 *     "plugins": { "hello": { "path": "hello.wasm", "manifest": { ... } } },
 *     "routes": [ { "match": { "path": "/api/...", "methods": ["GET"] },
 *                   "plugin": "hello", "timeout_ms": 1000, "max_body": "1MiB",
 *                   "instances": { "mode": "reuse", "max_uses": 1000 } },
 *                 { "match": { "path": "/old/..." }, "upstream": "http://10.0.0.5:8080" } ] }
 *
 * A route runs a plugin, or with "upstream" forwards to an HTTP server (a
 * reverse proxy; the library then also needs libcurl).
 *
 * Every change (a file replaced on disk, wp_server_control, the control
 * listener) builds and compiles a whole new state off the request path and
 * publishes it atomically; requests already running finish on the state they
 * started with. A change that fails changes nothing.
 *
 * Thread rules: wp_server_* may be called from any thread, but
 * wp_server_free only once nothing else uses the server.
 */
#ifndef WASMPLUG_SERVER_H
#define WASMPLUG_SERVER_H

#include "wasmplug/engine.h"
#include "wasmplug/http.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

typedef struct wp_server wp_server;

/**
 * Makes a server from a configuration document (JSON text, `len` bytes).
 * Relative plugin paths are resolved against `base_dir` (NULL: the current
 * directory). Loads and compiles every plugin; errors name the field and its
 * path in the document ("routes[2].match.pathh: unknown field"). The server
 * borrows `engine`, which must outlive it. Nothing listens until
 * wp_server_start.
 */
wp_error *wp_server_new(wp_engine *engine, const char *config_json, size_t len,
                        const char *base_dir, wp_server **out);

/**
 * wp_server_new from a config file: relative plugin paths are resolved
 * against the file's directory, and the file itself is watched: when it
 * changes, the new config is applied like any other change.
 */
wp_error *wp_server_new_from_file(wp_engine *engine, const char *path, wp_server **out);

/** A handler compiled into the host program, for wp_server_add_native_route. */
typedef void (*wp_server_native_fn)(void *user_data, const wp_http_request *req,
                                    wp_http_response *resp);

/**
 * Serves `path` (exact match, any method) with a C function instead of a
 * plugin, ahead of the configured routes. The response's headers and body
 * must be malloc'd (wp_http_response_clear frees them). Call before
 * wp_server_start.
 */
wp_error *wp_server_add_native_route(wp_server *srv, const char *path, wp_server_native_fn fn,
                                     void *user_data);

/**
 * Where the control API listens, off unless set: "unix:/path/to.sock" (the
 * socket is created with mode 0600: its file mode is the access rule) or
 * "127.0.0.1:PORT" (loopback only), in which case `token` must be given and
 * every request must carry "Authorization: Bearer TOKEN". Call before
 * wp_server_start.
 */
wp_error *wp_server_set_control(wp_server *srv, const char *listen, const char *token);

/**
 * Overrides the config's listen address ("HOST:PORT", port 0 for any free
 * port) or worker count for this run, e.g. from a command line. The config
 * document keeps its own values (and a changed config file is still
 * applied). Call before wp_server_start.
 */
wp_error *wp_server_set_listen(wp_server *srv, const char *listen);
wp_error *wp_server_set_workers(wp_server *srv, unsigned workers);

/** Starts listening (the main listener, the control listener, the file watcher). */
wp_error *wp_server_start(wp_server *srv);

/** The TCP port the main listener is bound to (useful with port 0), 0 before start. */
uint16_t wp_server_get_port(const wp_server *srv);

/** The control listener's TCP port, 0 if it is off or on a Unix socket. */
uint16_t wp_server_get_control_port(const wp_server *srv);

/**
 * One control API request, as the control listener would answer it:
 * `method` GET, PUT, POST or DELETE; `path` "/config[/a/b/0]", "/plugins/NAME"
 * or "/metrics"; `body` the request body. Sets `*status` and `*response`
 * (malloc'd text, JSON except for metrics; the caller frees it).
 */
void wp_server_control(wp_server *srv, const char *method, const char *path, const uint8_t *body,
                       size_t body_len, int *status, char **response);

/** The metrics in Prometheus text format (malloc'd; the caller frees it). */
char *wp_server_metrics(wp_server *srv);

/** The configured listen address, "HOST:PORT" (the port may be 0: see wp_server_get_port). */
const char *wp_server_get_listen(const wp_server *srv);

/**
 * Where keyvalue buckets that name no backend live, for the operator's log:
 * e.g. "sqlite /home/me/.local/state/wasmplug/keyvalue.db (the default; ...)"
 * (a Redis password is hidden), or NULL when there is no default. The
 * server sets it on its engine (wp_engine_set_keyvalue_default) before any
 * plugin loads: the config's keyvalue.default, else a SQLite file in the
 * user's state directory; it replaces a default the embedder set.
 */
const char *wp_server_get_keyvalue_default(const wp_server *srv);

/** For wp_server_stop: the grace period of the config (limits.grace_ms, default 10 s). */
#define WP_SERVER_GRACE_CONFIGURED UINT32_MAX

/**
 * Stops accepting connections, lets the requests in flight finish for up to
 * `grace_ms` (or WP_SERVER_GRACE_CONFIGURED), interrupts those still running
 * after that, and stops. Returns how many requests had to be interrupted.
 */
unsigned wp_server_stop(wp_server *srv, uint32_t grace_ms);

/** Frees a stopped (or never started) server and everything it loaded. */
void wp_server_free(wp_server *srv);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
