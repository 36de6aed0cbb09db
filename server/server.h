/*
 * server.h - the insides of wasmplug serve (internal to server/).
 *
 *   config.c     the JSON document -> settings, plugins and routes (validated)
 *   state.c      loaded plugins (kept across changes) and the published state
 *   routes.c     matching a request to a route
 *   listener.c   libmicrohttpd glue of the main listener: requests, bodies,
 *                limits, slow clients, in-flight requests
 *   control.c    the control API (GET/PUT/POST/DELETE on the document,
 *                plugin uploads) and its listener
 *   watch.c      hot reload: inotify on the config's, plugins' and filters' files
 *   metrics.c    counters and Prometheus text
 *   accesslog.c  one JSON line per request
 *   filters.c    Proxy-Wasm filters (filters.h): the host, a worker per thread,
 *                the driver thread, HTTP calls to clusters, a request's run
 *                through its chain with pause and resume
 *   tcp.c        the TCP listeners ("tcp"): connections proxied to an upstream
 *                through Proxy-Wasm network filters, on one epoll thread
 *   upstream.c   reverse-proxy routes: a request forwarded with libcurl on a
 *                handle kept by each worker thread; the curl pieces it
 *                shares with httpclient.c
 *   httpclient.c an asynchronous HTTP client (a thread on a curl multi handle)
 *                for calls made on behalf of filters
 *   server.c     the public wp_server_* functions, tying them together
 *
 * Only the public API (wasmplug.h, wasmplug/server.h) is used from here.
 */
#ifndef WP_SERVER_SERVER_H
#define WP_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "wasmplug.h"
#include "wasmplug/server.h"
#include "filters.h"

/* ---- settings, fixed when the server starts ------------------------------- */

typedef struct srv_settings {
  char *listen;               /* "127.0.0.1:8080" */
  unsigned workers;           /* threads of the main listener */
  uint32_t header_timeout_ms; /* a request's headers must arrive within this */
  uint32_t body_timeout_ms;   /* and its body within this after them */
  uint32_t idle_timeout_s;    /* an idle connection is closed after this */
  unsigned max_connections;
  uint32_t grace_ms;          /* graceful shutdown: how long requests may finish */
  char *access_log;           /* "stderr", "off" or a file path */
  bool watch;                 /* hot reload on file changes */
  /* "keyvalue.default" as JSON text (a relative sqlite path resolved), or
     NULL: a file in the state directory (server.c). */
  char *keyvalue_default;
} srv_settings;

/* ---- metrics ---------------------------------------------------------------- */

#define SRV_BUCKETS 16 /* latency histogram upper bounds, metrics.c */

typedef struct route_stats {
  char *label;                         /* the route's pattern */
  atomic_ullong by_class[6];           /* requests by status class (1xx..5xx at 1..5) */
  atomic_ullong buckets[SRV_BUCKETS];  /* request durations, cumulative at render */
  atomic_ullong count, sum_us;
  atomic_ullong traps, timeouts;
  struct route_stats *next;
} route_stats;

typedef struct srv_metrics {
  pthread_mutex_t lock; /* guards the list, not the counters */
  route_stats *routes;
  atomic_ullong in_flight, reloads, reload_failures, rejected_slow;
} srv_metrics;

void metrics_init(srv_metrics *m);
void metrics_free(srv_metrics *m);
/* The counters of the route labelled `label`, made on first use (NULL: no memory). */
route_stats *metrics_route(srv_metrics *m, const char *label);
void metrics_count(route_stats *rs, int status, uint64_t duration_us);

/* ---- the configuration document, parsed -------------------------------------- */

typedef struct cfg_plugin {
  const char *name;
  char *path;            /* resolved against the base directory */
  const char *sha256;    /* or NULL */
  const cJSON *manifest; /* borrowed from the document, or NULL */
} cfg_plugin;

#define SRV_DEFAULT_TIMEOUT_MS 30000
#define SRV_FILTER_TIMEOUT_MS 1000 /* per filter callback, unless its manifest sets one */

typedef struct cfg_route {
  char *pattern;        /* as configured: "/api/..." */
  const char *host;     /* match.host: only requests for this host (no port), or NULL */
  const char *name;     /* "name", else the pattern: the route_name filters see */
  const cJSON *metadata; /* "metadata": route_metadata.<key> for filters, or NULL */
  const char **filters; /* "filters": names from "filters", run after routing */
  size_t nfilters;
  char *path;           /* without the "..." */
  bool prefix;
  const char **methods; /* borrowed strings; NULL: any */
  size_t nmethods;
  const char *plugin;   /* a key of "plugins", or NULL for an upstream route */
  char *upstream;       /* "http://host:port/base" (no trailing '/'): a reverse proxy */
  uint64_t max_response_body; /* the handler's or upstream's response body cap */
  const cJSON *manifest; /* route-level manifest, merged over the plugin's */
  uint32_t timeout_ms;   /* 0: the manifest's limits.timeout_ms, else SRV_DEFAULT_TIMEOUT_MS */
  uint64_t max_body;
  bool reuse;
  uint32_t max_uses, max_idle;
} cfg_route;

/* A Proxy-Wasm filter ("filters"): its module and configuration. */
typedef struct cfg_filter {
  const char *name;
  char *path;              /* resolved against the base directory */
  const char *sha256;      /* or NULL */
  char *config, *vm_config; /* the bytes the filter reads (a JSON value is given as its text) */
  char *config_file, *vm_config_file; /* where they were read from (watched), or NULL */
  size_t config_len, vm_config_len;
  const char *vm_id, *root_id;
  bool fail_open;
  const cJSON *manifest;   /* limits and grants, or NULL */
} cfg_filter;

/* A TCP listener ("tcp"): proxies connections to an upstream through network filters. */
typedef struct cfg_tcp {
  const char *listen;   /* HOST:PORT */
  const char *upstream; /* HOST:PORT */
  const char **filters;
  size_t nfilters;
} cfg_tcp;

/* A named upstream for filters' outgoing calls ("clusters"). */
typedef struct cfg_cluster {
  const char *name; /* borrowed from the document */
  char *url;        /* "http://host:port" */
} cfg_cluster;

typedef struct srv_config {
  cJSON *doc; /* owned */
  srv_settings settings;
  cfg_plugin *plugins;
  size_t nplugins;
  cfg_route *routes;
  size_t nroutes;
  char *metrics_path; /* also serve metrics on the main listener here, or NULL */
  cfg_cluster *clusters;
  size_t nclusters;
  cfg_filter *filters;
  size_t nfilters;
  const char **chain;   /* "filter_chain": run on every request before routing */
  size_t nchain;
  cfg_tcp *tcp;
  size_t ntcp;
} srv_config;

/* Parses and validates a document (takes ownership of `doc`). Errors are
   WP_ERR_BAD_INPUT naming the field: "routes[2].match.path: ...". */
wp_error *config_parse(cJSON *doc, const char *base_dir, srv_config **out);
void config_free(srv_config *c);

/* ---- the published state ------------------------------------------------------ */

typedef struct route {
  const cfg_route *cfg;
  wp_pw_plugin **chain; /* the route's filters (references in srv_state.filters) */
  size_t nchain;
  wp_plugin *plugin; /* NULL for an upstream route (cfg->upstream) */
  wp_pool *pool;
  wp_http_kind kind;
  route_stats *stats;
} route;

typedef struct native_route {
  char *path;
  wp_server_native_fn fn;
  void *user_data;
  route_stats *stats;
} native_route;

/* What a request runs on: immutable once published, freed by its last user. */
typedef struct srv_state {
  atomic_uint refs;
  srv_config *config;
  route *routes; /* parallel to config->routes */
  wp_pw_plugin **filters; /* parallel to config->filters (references) */
  wp_pw_plugin **chain;   /* config->chain resolved */
  uint64_t max_body;      /* the largest route's: requests are read before routing when
                        filters run first */
  struct srv_pw *pw;      /* to retire the filters when the state goes */
  uint64_t generation;
} srv_state;

/* A plugin kept loaded across changes while its file stays the same. */
typedef struct loaded_plugin {
  char *key; /* path, pin and manifest: what it was loaded with */
  dev_t dev;
  ino_t ino;
  off_t size;
  int64_t mtime_ns;
  wp_plugin *plugin;
  bool used; /* by the state being built */
  struct loaded_plugin *next;
} loaded_plugin;

/* ---- the server ------------------------------------------------------------------ */

struct MHD_Daemon;
typedef struct srv_conn srv_conn;
typedef struct srv_request srv_request;

struct wp_server {
  wp_engine *engine;
  struct srv_pw *pw; /* Proxy-Wasm filters (filters.h) */
  char *base_dir;
  char *config_path; /* watched, if the server came from a file */
  srv_settings settings;      /* what the server runs with */
  srv_settings doc_settings;  /* what the config said at start: changes are checked against it */

  pthread_mutex_t state_lock; /* held for the pointer swap and reference only */
  srv_state *state;
  pthread_mutex_t write_lock; /* one change at a time; guards `plugins` */
  loaded_plugin *plugins;
  uint64_t generation;

  native_route *natives;
  size_t nnatives;

  struct MHD_Daemon *daemon;
  uint16_t port;
  bool started, stopping;

  /* control API */
  char *control_listen, *control_token, *control_unix_path;
  struct MHD_Daemon *control_daemon;
  uint16_t control_port;
  char *state_dir; /* uploaded plugins */
  char *kv_default; /* wp_server_get_keyvalue_default's text, or NULL */

  /* connections and requests, for slow clients and shutdown */
  pthread_mutex_t conn_lock;
  srv_conn *conns;
  srv_request *active;
  atomic_uint in_flight;
  atomic_ullong next_conn_id;
  pthread_t sweeper;
  bool sweeper_running;
  int sweeper_pipe[2];

  /* hot reload */
  pthread_t watcher;
  bool watcher_running;
  int watch_fd, watch_pipe[2];

  srv_metrics metrics;
  int log_fd; /* access log, -1: off */
  bool log_close;

  /* TCP listeners (tcp.c) and their counters (metrics.c) */
  struct tcp_srv *tcp;
  atomic_ullong tcp_connections, tcp_active, tcp_refused, tcp_upstream_failures,
      tcp_filter_failures, tcp_bytes[2]; /* bytes read from clients [0] and upstreams [1] */
};

/* state.c */
wp_error *state_build(wp_server *srv, srv_config *cfg, srv_state **out); /* takes cfg */
void state_publish(wp_server *srv, srv_state *st);
srv_state *state_acquire(wp_server *srv);
void state_release(srv_state *st);
/* Rebuilds from a new document (owned), publishes it; the error says why not. */
wp_error *state_apply_doc(wp_server *srv, cJSON *doc, bool allow_settings_change);
/* Reloads from the live document (files changed on disk). */
wp_error *state_reload(wp_server *srv);
void state_free_plugins(wp_server *srv);

/* routes.c: the matching route (host: the request's Host or :authority, may be
   NULL), or NULL with *status 404 or 405 (and `allow`
   filled with the allowed methods, comma-separated). */
const route *routes_match(const srv_state *st, const char *path, size_t path_len,
                          const char *method, const char *host, int *status, char *allow,
                          size_t allow_size);

/* tcp.c: starts the TCP listeners of the config (none: nothing), stops them
   (closing their connections; before the filters are freed); a reload may
   not change "tcp" (the error says so). */
wp_error *tcp_start(wp_server *srv);
void tcp_stop(wp_server *srv);
wp_error *tcp_check_change(wp_server *srv, const srv_config *next);

/* listener.c */
wp_error *listener_start(wp_server *srv);
void listener_quiesce(wp_server *srv);
unsigned listener_interrupt_all(wp_server *srv);
void listener_stop(wp_server *srv);

/* control.c */
wp_error *control_start(wp_server *srv);
void control_stop(wp_server *srv);

/* watch.c */
wp_error *watch_start(wp_server *srv);
void watch_stop(wp_server *srv);

/* metrics.c */
char *metrics_render(wp_server *srv);

/* accesslog.c */
wp_error *accesslog_open(wp_server *srv);
void accesslog_close(wp_server *srv);
void accesslog_write(wp_server *srv, const char *remote, const char *method, const char *path,
                     const char *route, int status, uint64_t bytes_in, uint64_t bytes_out,
                     uint64_t duration_us, const char *plugin, const char *instances,
                     const char *upstream, const char *error);

/* upstream.c ---------------------------------------------------------------------- */

/* Checks "http://HOST[:PORT][/BASE]" (BASE only if `with_path`): NULL if
   good, else why not. HOST is a name, an IPv4 address or [IPv6]. */
const char *upstream_url_check(const char *url, bool with_path);
/* The URL as routes and clusters keep it: without a trailing '/' (malloc'd). */
char *upstream_url_normalize(const char *url);

/* One request to forward; everything borrowed for the call. */
typedef struct upstream_request {
  const char *base;              /* cfg_route.upstream */
  const char *method, *uri;      /* uri: path and query as the client sent them */
  const wp_http_header *headers; /* the client's, lower-case names, NUL-terminated values */
  size_t n_headers;
  const char *remote; /* the client's address, for x-forwarded-for */
  const uint8_t *body;
  size_t body_len;
  uint32_t timeout_ms;
  uint64_t max_response_body;
  const atomic_bool *cancel; /* set by shutdown: give up now */
} upstream_request;

/* Why a forward failed: the status to answer, a short text for the client,
   and the details for the log. */
typedef struct upstream_failure {
  int status; /* 502, 503 or 504 */
  const char *reason;
  char detail[320];
} upstream_failure;

/* Forwards `req` on this thread's kept handle. True with `resp` filled (the
   upstream's status, headers minus hop-by-hop ones, body), else false with
   `why` filled and `resp` empty. */
bool upstream_forward(const upstream_request *req, wp_http_response *resp, upstream_failure *why);

/* Shared with httpclient.c: curl's global set-up, once per process. */
bool srv_curl_init(void);

/* A response as curl delivers it: the final response's headers (lower-case
   names, NUL-terminated values; those of 1xx responses and trailers are
   dropped) and its body up to a cap. */
typedef struct srv_curl_sink {
  wp_http_response resp;
  uint64_t max_body;
  bool too_big, bad, in_body;
  size_t body_cap;
} srv_curl_sink;

struct curl_slist;
/* Points easy's header and write callbacks at `s`. */
void srv_curl_sink_attach(void *easy, srv_curl_sink *s);
/* A curl header list of `h` (but Expect) plus what stops curl adding its own
   (Accept, Expect, a form Content-Type) unless `h` gives them; NULL if out of
   memory. */
struct curl_slist *srv_curl_headers(const wp_http_header *h, size_t n);
/* Sets the method and body on easy (HEAD without a body, others as given). */
void srv_curl_method(void *easy, const char *method, const uint8_t *body, size_t len,
                     bool has_body);

/* httpclient.c ------------------------------------------------------------------ */

typedef struct srv_http_client srv_http_client;

/* An outgoing call; submit copies what it needs, so all of it may go once
   httpclient_submit returns. */
typedef struct srv_http_call {
  const char *url;               /* full: "http://host:port/path?query" */
  const char *method;            /* NULL: GET */
  const wp_http_header *headers; /* sent as given (valid names and values) */
  size_t n_headers;
  const uint8_t *body; /* NULL: no body */
  size_t body_len;
  uint32_t timeout_ms;       /* the whole exchange; 0: SRV_DEFAULT_TIMEOUT_MS */
  size_t max_response_bytes; /* the response body's cap; 0: 64 MiB */
} srv_http_call;

/* What came back, valid during the callback only. */
typedef struct srv_http_result {
  bool ok;
  const char *error; /* when !ok: why ("timed out", "connection refused"...) */
  uint16_t status;
  const wp_http_header *headers; /* lower-case names, NUL-terminated values */
  size_t n_headers;
  const uint8_t *body;
  size_t body_len;
} srv_http_result;

typedef void (*srv_http_done)(void *user, const srv_http_result *res);

/* A client with its own thread; NULL if that cannot be made. */
srv_http_client *httpclient_new(void);
/* Fails the calls still pending (their callbacks run, !ok) and joins the
   thread. Not from inside a callback. */
void httpclient_free(srv_http_client *c);
/* Queues a call from any thread: 0, and `done` runs exactly once on the
   client's thread (also on failure); or -1 (a bad call, no memory, the client
   closing) and `done` never runs. */
int httpclient_submit(srv_http_client *c, const srv_http_call *call, srv_http_done done,
                      void *user);

/* Time for durations and deadlines. */
uint64_t srv_now_ns(void);

/* "HOST:PORT" or "[v6]:PORT" (empty HOST: every address) -> a socket
   address; errors start with `what` ("listen", "control listen"). */
struct sockaddr_storage;
wp_error *srv_resolve(const char *what, const char *addr, struct sockaddr_storage *ss,
                      socklen_t *len);

/* A plugin name of the config or the control API: 1-64 letters, digits,
   '-', '_' or '.', not starting with '.'. */
bool srv_valid_plugin_name(const char *name);

/* A whole file (up to 64 MiB), malloc'ed and NUL-terminated; NULL with errno
   set on failure. */
char *srv_read_file(const char *path, size_t *len);

/* Errors the public API has no constructor for. */
wp_error *srv_no_memory(void);
/* A new error of err's kind with the formatted text before its message; frees err. */
wp_error *srv_error_prefix(wp_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Logs a server message to stderr ("wasmplug serve: ..."). */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
