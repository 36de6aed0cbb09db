/*
 * wasmplug/proxywasm.h - run Proxy-Wasm filters (ABI 0.2.0 and 0.2.1) from
 * any C proxy.
 *
 * A Proxy-Wasm filter is a core module written with one of the Proxy-Wasm
 * SDKs (Go, Rust, C++, AssemblyScript) for Envoy. It exports
 * `proxy_abi_version_0_2_0` or `_0_2_1` and callbacks (`proxy_on_*`), and
 * imports the proxy's host functions (`env.proxy_*`). wasmplug loads such a
 * module as a plugin kind of its own and gives it every host function of
 * ABI 0.2.1; docs/proxywasm.md lists what each does here.
 *
 * The objects, and who may use them from which thread:
 *
 *   wp_pw_host    the proxy: shared data, shared queues and metrics common
 *                 to every filter it runs, the log level, foreign functions,
 *                 and the embedder's callbacks (wp_pw_host_methods).
 *                 Thread-safe.
 *   wp_pw_plugin  one filter with its configuration: its module, name,
 *                 root id, vm id, VM and plugin configuration, limits.
 *                 Loading it runs a canary VM (vm start + configure), so a
 *                 filter that rejects its configuration fails to load.
 *                 Immutable once loaded; thread-safe; reference counted.
 *   wp_pw_worker  one thread's VMs: a VM (an instance of the module) per
 *                 vm id and module, made on first use from the compiled
 *                 module, holding the root context of every plugin sharing
 *                 that vm id. Used by one thread at a time, except the
 *                 functions marked thread-safe.
 *   wp_pw_stream  one HTTP request (with its response) or TCP connection
 *                 through one plugin on one worker: a stream context in the
 *                 plugin's VM. Used on its worker's thread only.
 *
 * The library owns no thread. Time-driven and cross-thread events (tick
 * timers, HTTP call responses and timeouts, shared queue wake-ups, a paused
 * stream being resumed) happen in wp_pw_worker_poll, which the embedder calls
 * on the worker's thread when wp_pw_host_methods.wake asks it to or when
 * wp_pw_worker_next_timeout_ms has elapsed.
 *
 * Faults: a filter callback that traps, panics, runs out of fuel, exceeds its
 * timeout or its memory fails with the error of that kind. The stream whose
 * callback failed gets the error; the VM is dropped, every other stream on it
 * gets WP_PW_EVENT_FAILED, and the next stream on the worker gets a fresh VM
 * (vm start and configure run again). Nothing else is affected.
 */
#ifndef WASMPLUG_PROXYWASM_H
#define WASMPLUG_PROXYWASM_H

#include "wasmplug/common.h"
#include "wasmplug/engine.h"
#include "wasmplug/http.h"
#include "wasmplug/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

typedef struct wp_pw_host wp_pw_host;
typedef struct wp_pw_plugin wp_pw_plugin;
typedef struct wp_pw_config wp_pw_config;
typedef struct wp_pw_worker wp_pw_worker;
typedef struct wp_pw_stream wp_pw_stream;

/**
 * What a filter decided for a stream after one step. PAUSE on a body chunk
 * before its end means "keep buffering: send the next chunk"; otherwise it
 * means "wait for WP_PW_EVENT_CONTINUE_*".
 */
typedef enum wp_pw_action {
  WP_PW_CONTINUE = 0,       /**< pass on what the stream holds now (headers, body) */
  WP_PW_PAUSE = 1,          /**< hold it (see above) */
  WP_PW_LOCAL_RESPONSE = 2, /**< answer with wp_pw_stream_get_local_response instead */
  WP_PW_CLOSE = 3,          /**< the filter closed the stream: reset it */
} wp_pw_action;

/** Header maps of an HTTP stream (values as in the ABI). */
typedef enum wp_pw_map {
  WP_PW_REQUEST_HEADERS = 0,
  WP_PW_REQUEST_TRAILERS = 1,
  WP_PW_RESPONSE_HEADERS = 2,
  WP_PW_RESPONSE_TRAILERS = 3,
} wp_pw_map;

/** Buffers of a stream (values as in the ABI). */
typedef enum wp_pw_buffer {
  WP_PW_REQUEST_BODY = 0,
  WP_PW_RESPONSE_BODY = 1,
  WP_PW_DOWNSTREAM_DATA = 2,
  WP_PW_UPSTREAM_DATA = 3,
} wp_pw_buffer;

/**
 * Something that happened to a stream outside a step (from
 * wp_pw_worker_poll). After FAILED (the stream's VM failed) answer 500, or
 * let the request pass if the plugin is fail-open; the stream can only be
 * freed then.
 */
typedef enum wp_pw_event {
  WP_PW_EVENT_CONTINUE_REQUEST = 0,  /**< resume the paused request (or downstream data) */
  WP_PW_EVENT_CONTINUE_RESPONSE = 1, /**< resume the paused response (or upstream data) */
  WP_PW_EVENT_LOCAL_RESPONSE = 2,    /**< answer with wp_pw_stream_get_local_response */
  WP_PW_EVENT_CLOSE = 3,             /**< the filter closed the stream */
  WP_PW_EVENT_FAILED = 4,            /**< the stream's VM failed (see above) */
} wp_pw_event;

/**
 * Called on the worker's thread from wp_pw_worker_poll, after the filter's
 * callback has returned (never inside it). The callee may free the stream.
 */
typedef void (*wp_pw_event_fn)(void *user_data, wp_pw_stream *stream, wp_pw_event event);

/** A metric's type (values as in the ABI). */
typedef enum wp_pw_metric_type {
  WP_PW_COUNTER = 0,
  WP_PW_GAUGE = 1,
  WP_PW_HISTOGRAM = 2,
} wp_pw_metric_type;

/** One metric, as wp_pw_host_foreach_metric shows it. */
typedef struct wp_pw_metric {
  const char *name;       /**< as the filter defined it */
  wp_pw_metric_type type;
  int64_t value;          /**< counter or gauge value; histogram: last recorded */
  uint64_t count, sum;    /**< histogram: values recorded and their sum */
} wp_pw_metric;

/** An HTTP call a filter dispatched (proxy_http_call), for wp_pw_host_methods.http_call. */
typedef struct wp_pw_http_call {
  const char *cluster;           /**< the upstream name the filter gave, NUL-terminated */
  const wp_http_header *headers; /**< includes :method, :path and :authority */
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
  const wp_http_header *trailers;
  size_t n_trailers;
  uint32_t timeout_ms;           /**< the library fails the call itself after this */
} wp_pw_http_call;

/** An HTTP call's response, for wp_pw_worker_post_http_response. */
typedef struct wp_pw_http_response {
  int status;                    /**< becomes the :status header */
  const wp_http_header *headers; /**< without :status */
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
  const wp_http_header *trailers;
  size_t n_trailers;
} wp_pw_http_response;

/** A filter's local response (proxy_send_local_response). */
typedef struct wp_pw_local_response {
  int status;
  const char *details;           /**< the filter's reason, NUL-terminated ("" if none) */
  const wp_http_header *headers; /**< the filter's headers, lower-case names */
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
  int grpc_status;               /**< -1: none (otherwise also a grpc-status header) */
} wp_pw_local_response;

/**
 * What the embedder does for the library. Every member may be NULL.
 * Called from the threads noted; `user_data` is wp_pw_host_new's.
 */
typedef struct wp_pw_host_methods {
  /**
   * Something was posted to worker `w` from another thread (an HTTP call's
   * response, a shared queue item): call wp_pw_worker_poll(w) on its thread
   * soon. Called from any thread, possibly with the library's locks held:
   * only signal (write an eventfd, post a message); never call into the
   * library from here.
   */
  void (*wake)(void *user_data, wp_pw_worker *w);
  /**
   * A filter on worker `w` dispatched an HTTP call. Start it without
   * blocking and return 0; post its outcome later, from any thread, with
   * wp_pw_worker_post_http_response or _post_http_failure and `token`.
   * Return nonzero to refuse it (unknown cluster): the filter gets
   * BAD_ARGUMENT. Called on w's thread during the filter's callback: do not
   * call into the worker from here. NULL: every call is refused.
   */
  int (*http_call)(void *user_data, wp_pw_worker *w, const wp_pw_plugin *plugin, uint64_t token,
                   const wp_pw_http_call *call);
  /**
   * A filter logged (proxy_log, or its stdout at INFO and stderr at ERROR).
   * `msg` is `len` bytes, not NUL-terminated. NULL: the engine's log
   * callback gets it, with the plugin's name.
   */
  void (*log)(void *user_data, const wp_pw_plugin *plugin, wp_log_level level, const char *msg,
              size_t len);
} wp_pw_host_methods;

/**
 * A foreign function a filter can call with proxy_call_foreign_function.
 * Writes its result with wp_pw_foreign_set_result; returns NULL, or an error
 * that the filter sees as INTERNAL_FAILURE (and the host logs). Called on the
 * worker's thread during the filter's callback.
 */
typedef struct wp_pw_foreign_call wp_pw_foreign_call;
typedef wp_error *(*wp_pw_foreign_fn)(void *user_data, wp_pw_foreign_call *call,
                                      const uint8_t *args, size_t len);

/** Sets a foreign function's result (copied). */
wp_error *wp_pw_foreign_set_result(wp_pw_foreign_call *call, const void *data, size_t len);

/* ---- host -------------------------------------------------------------------------- */

/**
 * A new proxy on `engine` (which it references). `methods` is copied; may be
 * NULL. The host offers the foreign functions "compress" and "uncompress"
 * (zlib) from the start.
 */
wp_error *wp_pw_host_new(wp_engine *engine, const wp_pw_host_methods *methods, void *user_data,
                         wp_pw_host **out);

/** Frees the host. Its workers and plugins must have been freed first. */
void wp_pw_host_free(wp_pw_host *host);

/**
 * Offers a foreign function under `name` (replacing one of that name).
 * `free_user_data` (may be NULL) runs when the host is freed or the
 * function replaced.
 */
wp_error *wp_pw_host_add_foreign_function(wp_pw_host *host, const char *name, wp_pw_foreign_fn fn,
                                          void *user_data, void (*free_user_data)(void *));

/** The level proxy_get_log_level answers, and below which proxy_log is dropped (default INFO). */
void wp_pw_host_set_log_level(wp_pw_host *host, wp_log_level level);

/**
 * Calls fn for each metric filters defined, in definition order, under the
 * host's lock (fn must not call into the host). Metrics are shared by name
 * across plugins, VMs and threads.
 */
void wp_pw_host_foreach_metric(wp_pw_host *host, void (*fn)(void *user, const wp_pw_metric *m),
                               void *user);

/* ---- plugins ----------------------------------------------------------------------- */

/** A new plugin configuration: no name (the file's), root id "", vm id "", no configuration. */
wp_pw_config *wp_pw_config_new(void);
/** Frees a configuration (plugins loaded with it keep their own copy). NULL is ignored. */
void wp_pw_config_free(wp_pw_config *cfg);

/** The plugin's name (logs, the plugin_name property). */
wp_error *wp_pw_config_set_name(wp_pw_config *cfg, const char *name);
/** The root id: filters that serve several roots tell them apart by it. */
wp_error *wp_pw_config_set_root_id(wp_pw_config *cfg, const char *root_id);
/** Plugins with the same vm id and module share one VM per worker. */
wp_error *wp_pw_config_set_vm_id(wp_pw_config *cfg, const char *vm_id);
/** Bytes the filter reads in proxy_on_vm_start (buffer VM_CONFIGURATION). */
wp_error *wp_pw_config_set_vm_config(wp_pw_config *cfg, const void *data, size_t len);
/** Bytes the filter reads in proxy_on_configure (buffer PLUGIN_CONFIGURATION). */
wp_error *wp_pw_config_set_plugin_config(wp_pw_config *cfg, const void *data, size_t len);
/**
 * Limits and grants (memory, timeout per callback, fuel per callback, env);
 * copied. The plugin's stdout and stderr always go to its log.
 */
wp_error *wp_pw_config_set_manifest(wp_pw_config *cfg, const wp_manifest *manifest);
/** Whether a failed filter lets the request through (default false: 500). */
void wp_pw_config_set_fail_open(wp_pw_config *cfg, bool fail_open);

/**
 * Loads a filter from a file or from bytes and starts a canary VM (instantiate,
 * _initialize, root context, proxy_on_vm_start, proxy_on_configure).
 * WP_ERR_LOAD if it is not a Proxy-Wasm module of ABI 0.2.0/0.2.1,
 * WP_ERR_LINK for an import the host does not have (named), and
 * WP_ERR_BAD_INPUT if the filter rejects its VM or plugin configuration.
 */
wp_error *wp_pw_plugin_load(wp_pw_host *host, const char *path, const wp_pw_config *cfg,
                            wp_pw_plugin **out);
wp_error *wp_pw_plugin_load_bytes(wp_pw_host *host, const char *name, const void *bytes, size_t len,
                                  const wp_pw_config *cfg, wp_pw_plugin **out);

/** A new reference; wp_pw_plugin_free drops one. */
wp_pw_plugin *wp_pw_plugin_ref(wp_pw_plugin *plugin);
void wp_pw_plugin_free(wp_pw_plugin *plugin);

/** The plugin's name, root id and vm id, as configured (borrowed; "" when not set). */
const char *wp_pw_plugin_get_name(const wp_pw_plugin *plugin);
const char *wp_pw_plugin_get_root_id(const wp_pw_plugin *plugin);
const char *wp_pw_plugin_get_vm_id(const wp_pw_plugin *plugin);
/** "0.2.0" or "0.2.1", from the module's export. */
const char *wp_pw_plugin_get_abi_version(const wp_pw_plugin *plugin);
/** Whether a failure of this filter should let the request through (wp_pw_config_set_fail_open). */
bool wp_pw_plugin_get_fail_open(const wp_pw_plugin *plugin);
/** Whether the filter has HTTP callbacks (request or response) or TCP ones. */
bool wp_pw_plugin_is_http_filter(const wp_pw_plugin *plugin);
bool wp_pw_plugin_is_network_filter(const wp_pw_plugin *plugin);
/** The underlying wasmplug plugin (borrowed). */
wp_plugin *wp_pw_plugin_get_plugin(const wp_pw_plugin *plugin);

/* ---- workers ----------------------------------------------------------------------- */

/** A new worker (no VM yet); `user_data` is for the embedder (wp_pw_worker_get_user_data). */
wp_error *wp_pw_worker_new(wp_pw_host *host, void *user_data, wp_pw_worker **out);

/**
 * Frees the worker, its VMs and the plugin references they hold. Streams
 * still open on it must have been freed first.
 */
void wp_pw_worker_free(wp_pw_worker *w);

/** The `user_data` given to wp_pw_worker_new. */
void *wp_pw_worker_get_user_data(const wp_pw_worker *w);

/**
 * Makes sure `plugin` has its root context on this worker (VM made and
 * started if needed), so its ticks and queues run even before a stream uses
 * it. Streams do it themselves.
 */
wp_error *wp_pw_worker_start_plugin(wp_pw_worker *w, wp_pw_plugin *plugin);

/**
 * Ends `plugin`'s root context on this worker (proxy_on_done, proxy_on_delete),
 * its tick and the reference its VM held; the VM goes too when no root is
 * left. For an embedder replacing a plugin (a configuration reload). Streams
 * of the plugin on this worker must have been freed. Nothing happens if the
 * plugin never ran here.
 */
void wp_pw_worker_stop_plugin(wp_pw_worker *w, wp_pw_plugin *plugin);

/**
 * Runs what is due on this worker: HTTP call responses posted to it,
 * calls that timed out, shared queue wake-ups and tick timers, then the
 * resulting stream events. Returns the first filter failure (also logged),
 * NULL if none: failures of one filter do not stop the others.
 */
wp_error *wp_pw_worker_poll(wp_pw_worker *w);

/**
 * Milliseconds until the next tick or HTTP call timeout on this worker
 * (0: poll now), or UINT32_MAX if none.
 */
uint32_t wp_pw_worker_next_timeout_ms(const wp_pw_worker *w);

/** Thread-safe: delivers an HTTP call's response (copied). Unknown or late tokens are ignored. */
void wp_pw_worker_post_http_response(wp_pw_worker *w, uint64_t token,
                                     const wp_pw_http_response *res);
/** Thread-safe: the HTTP call failed (the filter sees a call with no headers). */
void wp_pw_worker_post_http_failure(wp_pw_worker *w, uint64_t token);

/* ---- streams ----------------------------------------------------------------------- */

/** Facts about the connection a stream belongs to (all optional, copied). */
typedef struct wp_pw_stream_info {
  const char *source_address; /**< "ip:port" of the client */
  const char *destination_address; /**< "ip:port" the client connected to */
  const char *protocol; /**< "HTTP/1.1" */
  const char *route_name; /**< for the route_name property */
  const char *upstream_address; /**< where the request goes, if known */
  uint64_t connection_id;
} wp_pw_stream_info;

/**
 * A new HTTP stream context for `plugin` on `w` (its VM made and started if
 * needed). `event_fn` (may be NULL) hears about what happens outside steps.
 */
wp_error *wp_pw_stream_new_http(wp_pw_worker *w, wp_pw_plugin *plugin,
                                const wp_pw_stream_info *info, wp_pw_event_fn event_fn,
                                void *user_data, wp_pw_stream **out);

/**
 * A new TCP stream context: calls proxy_on_new_connection; *action says
 * whether the connection may proceed (CONTINUE) or must wait or close.
 */
wp_error *wp_pw_stream_new_tcp(wp_pw_worker *w, wp_pw_plugin *plugin, const wp_pw_stream_info *info,
                               wp_pw_event_fn event_fn, void *user_data, wp_pw_stream **out,
                               wp_pw_action *action);

/**
 * Ends the stream: proxy_on_done, proxy_on_log, proxy_on_delete (a filter
 * whose on_done answers false keeps its context until it calls proxy_done).
 * NULL is ignored.
 */
void wp_pw_stream_free(wp_pw_stream *s);

/** The `user_data` given when the stream was made, and its plugin (borrowed). */
void *wp_pw_stream_get_user_data(const wp_pw_stream *s);
wp_pw_plugin *wp_pw_stream_get_plugin(const wp_pw_stream *s);

/**
 * A property the filter can read with proxy_get_property, beside the
 * built-in ones (docs/proxywasm.md). `path` is dot-separated, as
 * "route_metadata.owner"; the value is bytes (copied).
 */
wp_error *wp_pw_stream_set_property(wp_pw_stream *s, const char *path, const void *value,
                                    size_t len);

/**
 * The request's headers, including the pseudo-headers :method, :path,
 * :authority and :scheme (names are lower-cased; order kept). Replaces the
 * stream's request header map, then calls proxy_on_request_headers.
 * PAUSE here stops everything, as Envoy's StopAllIteration: give this filter
 * no body until WP_PW_EVENT_CONTINUE_REQUEST (a filter waiting for an HTTP
 * call must not see the body continue the request behind its back).
 */
wp_error *wp_pw_stream_request_headers(wp_pw_stream *s, const wp_http_header *headers, size_t n,
                                       bool end_of_stream, wp_pw_action *action);
/**
 * A chunk of the request body: appended to the buffered request body, then
 * proxy_on_request_body with the buffered size. After CONTINUE, forward
 * wp_pw_stream_get_buffer(WP_PW_REQUEST_BODY) and drain it.
 */
wp_error *wp_pw_stream_request_body(wp_pw_stream *s, const void *data, size_t len,
                                    bool end_of_stream, wp_pw_action *action);
wp_error *wp_pw_stream_request_trailers(wp_pw_stream *s, const wp_http_header *trailers, size_t n,
                                        wp_pw_action *action);
/** The response's headers, with the pseudo-header :status first. */
wp_error *wp_pw_stream_response_headers(wp_pw_stream *s, const wp_http_header *headers, size_t n,
                                        bool end_of_stream, wp_pw_action *action);
wp_error *wp_pw_stream_response_body(wp_pw_stream *s, const void *data, size_t len,
                                     bool end_of_stream, wp_pw_action *action);
wp_error *wp_pw_stream_response_trailers(wp_pw_stream *s, const wp_http_header *trailers, size_t n,
                                         wp_pw_action *action);

/** TCP: data from the client (downstream) or the server (upstream), as the body calls. */
wp_error *wp_pw_stream_downstream_data(wp_pw_stream *s, const void *data, size_t len,
                                       bool end_of_stream, wp_pw_action *action);
wp_error *wp_pw_stream_upstream_data(wp_pw_stream *s, const void *data, size_t len,
                                     bool end_of_stream, wp_pw_action *action);
/** TCP: a side closed; `remote` tells whether the peer (true) or the proxy closed it. */
wp_error *wp_pw_stream_downstream_close(wp_pw_stream *s, bool remote);
wp_error *wp_pw_stream_upstream_close(wp_pw_stream *s, bool remote);

/**
 * A header map of the stream as it is now (after the filter's changes):
 * borrowed, valid until the next call on the stream.
 */
const wp_http_header *wp_pw_stream_get_headers(wp_pw_stream *s, wp_pw_map map, size_t *n);

/**
 * Replaces a header map without calling the filter: for an embedder running a
 * chain, to pass on changes a later step of an earlier filter made (say, a
 * header it set while reading the body).
 */
wp_error *wp_pw_stream_set_headers(wp_pw_stream *s, wp_pw_map map, const wp_http_header *headers,
                                   size_t n);

/** A buffer as it is now: borrowed, valid until the next call on the stream. */
const uint8_t *wp_pw_stream_get_buffer(const wp_pw_stream *s, wp_pw_buffer buffer, size_t *len);

/** Empties a buffer once its bytes have been forwarded. */
void wp_pw_stream_drain_buffer(wp_pw_stream *s, wp_pw_buffer buffer);

/** The local response after WP_PW_LOCAL_RESPONSE (NULL if none): borrowed, as above. */
const wp_pw_local_response *wp_pw_stream_get_local_response(const wp_pw_stream *s);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
