/*
 * listener.c - the main listener, on libmicrohttpd (thread pool, epoll).
 *
 * libmicrohttpd parses HTTP/1.1 (keep-alive, pipelining, chunked bodies,
 * Expect: 100-continue) and calls on_request on one of `workers` threads:
 * first with the headers (routing, 404/405, Content-Length over the cap:
 * 413 before reading anything), then per body chunk (copied while under the
 * cap), then once more to answer, which runs the handler on that thread.
 * So a handler that runs to its timeout holds one worker for that long.
 *
 * libmicrohttpd's own timeout is for idle connections only; a client that
 * trickles its headers or body keeps it alive. The sweeper thread cuts such
 * connections: each connection records what it waits for (headers, then the
 * body) and since when, and is shut down once that takes longer than the
 * configured limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "framing.h"
#include "server.h"

enum { PHASE_HEADERS, PHASE_BODY, PHASE_HANDLING };

/* How much of a body past its cap is read (and dropped) to answer 413; a
   client sending more loses the connection instead. */
#define DISCARD_MAX ((uint64_t)1 << 20)

struct srv_conn {
  uint64_t id; /* the connection.id filters see: unique for the server's life */
  /* The client's address and port, and both as "ip:port" ("[v6]:port"):
     formatted once per connection, not per request. */
  char remote[64], remote_port[8], source[96];
  int fd;
  int phase;
  uint64_t since_ns;
  bool cut;
  srv_conn *prev, *next;
};

struct srv_request {
  wp_server *srv;
  srv_state *st;
  const route *rt;
  const native_route *nat;
  srv_conn *conn;
  char *uri; /* as sent: path and query */
  const char *method;
  char remote[64];      /* the client's address, and its port */
  char remote_port[8];
  bool started;
  int status;
  uint8_t *body;
  size_t body_len, body_cap;
  uint64_t body_seen;
  bool too_big;
  uint64_t start_ns, bytes_out;
  wp_instance *inst; /* while the handler runs, for shutdown's interrupt */
  bool proxying;     /* while an upstream exchange runs: shutdown sets cancel */
  atomic_bool cancel;
  char *error;
  srv_request *prev, *next; /* srv->active */
  /* Proxy-Wasm filters (filters.h) */
  struct MHD_Connection *mhd;
  pw_run *pw;
  struct header_list *fhl;   /* the client's headers, which the run borrows */
  wp_http_response fresp;    /* the route's answer, which the run borrows */
  int fstage;   /* FS_* below */
  bool fentered; /* the current stage's chain was given to the run */
};

/* Where a filtered request is: server chain, routing and route chain, the
   handler, the response back through the filters. */
enum { FS_SERVER_CHAIN, FS_ROUTE_CHAIN, FS_HANDLER, FS_RESPONSE };

/* ---- connections and the sweeper --------------------------------------------------- */

static void set_phase(srv_request *rq, int phase) {
  if (!rq->conn) return;
  pthread_mutex_lock(&rq->srv->conn_lock);
  rq->conn->phase = phase;
  rq->conn->since_ns = srv_now_ns();
  pthread_mutex_unlock(&rq->srv->conn_lock);
}

/* The client's numeric address and port, and "ip:port" (for source.address). */
static void client_address(struct MHD_Connection *c, char remote[64], char port[8],
                           char source[96]) {
  remote[0] = port[0] = source[0] = '\0';
  const union MHD_ConnectionInfo *ai = MHD_get_connection_info(c,
                                                               MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!ai || !ai->client_addr) return;
  getnameinfo(ai->client_addr,
              ai->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                     : sizeof(struct sockaddr_in),
              remote, 64, port, 8, NI_NUMERICHOST | NI_NUMERICSERV);
  snprintf(source, 96, strchr(remote, ':') ? "[%s]:%s" : "%s:%s", remote, port);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
  wp_server *srv = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    srv_conn *conn = calloc(1, sizeof *conn);
    if (!conn) return;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
                                                                 MHD_CONNECTION_INFO_CONNECTION_FD);
    conn->fd = ci ? ci->connect_fd : -1;
    conn->id = atomic_fetch_add(&srv->next_conn_id, 1) + 1;
    conn->phase = PHASE_HEADERS;
    conn->since_ns = srv_now_ns();
    client_address(c, conn->remote, conn->remote_port, conn->source);
    pthread_mutex_lock(&srv->conn_lock);
    conn->next = srv->conns;
    if (srv->conns) srv->conns->prev = conn;
    srv->conns = conn;
    pthread_mutex_unlock(&srv->conn_lock);
    *socket_context = conn;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
    srv_conn *conn = *socket_context;
    pthread_mutex_lock(&srv->conn_lock);
    if (conn->prev) conn->prev->next = conn->next;
    else srv->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    pthread_mutex_unlock(&srv->conn_lock);
    free(conn);
    *socket_context = NULL;
  }
}

static void *sweeper_main(void *arg) {
  wp_server *srv = arg;
  struct pollfd pfd = {.fd = srv->sweeper_pipe[0], .events = POLLIN};
  for (;;) {
    int r = poll(&pfd, 1, 100);
    if (r > 0 || (r < 0 && errno != EINTR)) break;
    pthread_mutex_lock(&srv->conn_lock);
    uint64_t now = srv_now_ns(); /* under the lock: no phase starts after it */
    for (srv_conn *c = srv->conns; c; c = c->next) {
      uint64_t limit_ms = c->phase == PHASE_HEADERS ? srv->settings.header_timeout_ms
                          : c->phase == PHASE_BODY  ? srv->settings.body_timeout_ms
                                                    : 0;
      if (!limit_ms || c->cut || c->fd < 0 || c->since_ns > now ||
          now - c->since_ns < limit_ms * 1000000u)
        continue;
      /* Shutting the socket down (not closing it: libmicrohttpd owns the fd)
         makes its next read fail, and it closes the connection itself. */
      shutdown(c->fd, SHUT_RDWR);
      c->cut = true;
      atomic_fetch_add_explicit(&srv->metrics.rejected_slow, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&srv->conn_lock);
  }
  return NULL;
}

/* ---- requests ----------------------------------------------------------------------- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  (void)c;
  srv_request *rq = calloc(1, sizeof *rq);
  if (!rq) return NULL;
  rq->srv = cls;
  rq->uri = strdup(uri ? uri : "");
  return rq;
}

static enum MHD_Result queue_text(struct MHD_Connection *c, srv_request *rq, int status,
                                  const char *text, const char *allow) {
  size_t len = strlen(text);
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)text,
                                                           MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  MHD_add_response_header(r, "content-type", "text/plain; charset=utf-8");
  if (allow) MHD_add_response_header(r, "allow", allow);
  if (status == 503) MHD_add_response_header(r, "retry-after", "1");
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  rq->status = status;
  rq->bytes_out = len;
  return ret;
}

static enum MHD_Result fail_text(struct MHD_Connection *c, srv_request *rq, int status,
                                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result fail_text(struct MHD_Connection *c, srv_request *rq, int status,
                                 const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return queue_text(c, rq, status, msg, NULL);
}

/* Headers as the handler sees them: lower-case names, in one allocation. */
typedef struct header_list {
  wp_http_header *h;
  size_t n, cap;
  bool bad;
} header_list;

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size) {
  (void)kind;
  header_list *l = cls;
  if (l->n == l->cap) return MHD_NO;
  if (!wp_http_header_name_valid(key, key_size) ||
      !wp_http_header_value_valid((const uint8_t *)value, value_size)) {
    l->bad = true;
    return MHD_NO;
  }
  char *name = malloc(key_size + 1);
  if (!name) {
    l->bad = true;
    return MHD_NO;
  }
  for (size_t i = 0; i < key_size; i++)
    name[i] = (key[i] >= 'A' && key[i] <= 'Z') ? (char)(key[i] - 'A' + 'a') : key[i];
  name[key_size] = 0;
  l->h[l->n++] = (wp_http_header){name, key_size, (const uint8_t *)value, value_size};
  return MHD_YES;
}

static void free_headers(header_list *l) {
  for (size_t i = 0; i < l->n; i++) free((char *)l->h[i].name);
  free(l->h);
}

/* Response headers the server sets itself. */
static bool server_header(const char *name) {
  switch (name[0]) { /* most names start with none of these letters */
  case 'c': return strcmp(name, "content-length") == 0 || strcmp(name, "connection") == 0;
  case 't': return strcmp(name, "transfer-encoding") == 0;
  case 'k': return strcmp(name, "keep-alive") == 0;
  default: return false;
  }
}

/* libmicrohttpd refuses a header with an empty value, which HTTP allows: one
   space is sent instead, which a client reads as empty (leading and
   trailing whitespace is not part of a field value). */
static void add_response_header(struct MHD_Response *r, const char *name, const char *value) {
  MHD_add_response_header(r, name, value[0] ? value : " ");
}

static enum MHD_Result send_response(struct MHD_Connection *c, srv_request *rq,
                                     wp_http_response *resp) {
  uint8_t *body = resp->body;
  size_t len = resp->body_len;
  resp->body = NULL;
  struct MHD_Response *r = body
                               ? MHD_create_response_from_buffer_with_free_callback(len, body, free)
                               : MHD_create_response_from_buffer(0, (void *)"",
                                                                 MHD_RESPMEM_PERSISTENT);
  if (!r) {
    free(body);
    wp_http_response_clear(resp);
    return MHD_NO;
  }
  for (size_t i = 0; i < resp->n_headers; i++)
    if (!server_header(resp->headers[i].name))
      add_response_header(r, resp->headers[i].name, (const char *)resp->headers[i].value);
  uint16_t status = resp->status;
  wp_http_response_clear(resp); /* the headers are copied; the body went to r */
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  rq->status = status;
  rq->bytes_out = len;
  return ret;
}

/* The status a failed handler call answers with. */
static int error_status(wp_error_kind kind) {
  switch (kind) {
  case WP_ERR_TIMEOUT: return 504;
  case WP_ERR_BUSY: return 503;
  case WP_ERR_INTERRUPTED: return 503;
  /* The request itself is unacceptable to the handler's interface (e.g. a
     header value wasi:http refuses). */
  case WP_ERR_BAD_INPUT: return 400;
  default: return 500;
  }
}

static void set_running(srv_request *rq, wp_instance *inst) {
  pthread_mutex_lock(&rq->srv->conn_lock);
  rq->inst = inst;
  pthread_mutex_unlock(&rq->srv->conn_lock);
}

/* The request's headers into `hl`; false if it was answered instead (*ret). */
static bool collect_headers(struct MHD_Connection *c, srv_request *rq, header_list *hl,
                            enum MHD_Result *ret) {
  int n = MHD_get_connection_values(c, MHD_HEADER_KIND, NULL, NULL);
  hl->cap = n > 0 ? (size_t)n : 0;
  if (hl->cap && !(hl->h = calloc(hl->cap, sizeof *hl->h))) {
    *ret = fail_text(c, rq, 503, "out of memory\n");
    return false;
  }
  MHD_get_connection_values_n(c, MHD_HEADER_KIND, add_header, hl);
  if (!hl->bad) return true;
  free_headers(hl);
  *ret = fail_text(c, rq, 400, "bad request: a header name or value is not valid\n");
  return false;
}

static void set_proxying(srv_request *rq, bool on) {
  pthread_mutex_lock(&rq->srv->conn_lock);
  rq->proxying = on;
  pthread_mutex_unlock(&rq->srv->conn_lock);
}

/* A short text answer as a response (for the filters to see, or to send). */
static void error_page(wp_http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error_page(wp_http_response *resp, int status, const char *fmt, ...) {
  wp_http_response_clear(resp);
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  resp->status = (uint16_t)status;
  resp->body = malloc(len ? len : 1);
  resp->headers = calloc(2, sizeof *resp->headers);
  if (!resp->body || !resp->headers) {
    free(resp->body);
    free(resp->headers);
    resp->body = NULL;
    resp->headers = NULL;
    return; /* an empty answer of that status */
  }
  memcpy(resp->body, msg, len);
  resp->body_len = len;
  static const char *const names[2] = {"content-type", "retry-after"};
  static const char *const values[2] = {"text/plain; charset=utf-8", "1"};
  for (size_t i = 0; i < (status == 503 ? 2u : 1u); i++) {
    char *name = strdup(names[i]);
    uint8_t *value = (uint8_t *)strdup(values[i]);
    if (!name || !value) {
      free(name);
      free(value);
      break;
    }
    resp->headers[resp->n_headers++] = (wp_http_header){name, strlen(name), value,
                                                        strlen((char *)value)};
  }
}

/* An upstream route: the request forwarded (upstream.c), its answer (or the failure) in resp. */
static void run_upstream(srv_request *rq, const wp_http_request *req, wp_http_response *resp) {
  const cfg_route *r = rq->rt->cfg;
  upstream_request up = {
      .base = r->upstream,
      .method = req->method,
      .uri = req->path_with_query,
      .headers = req->headers,
      .n_headers = req->n_headers,
      .remote = rq->remote,
      .body = req->body,
      .body_len = req->body_len,
      .timeout_ms = r->timeout_ms ? r->timeout_ms : SRV_DEFAULT_TIMEOUT_MS,
      .max_response_body = r->max_response_body,
      .cancel = &rq->cancel,
  };
  upstream_failure why;
  set_proxying(rq, true);
  bool ok = upstream_forward(&up, resp, &why);
  set_proxying(rq, false);
  if (ok) return;
  rq->error = strdup(why.detail);
  if (why.status == 504)
    atomic_fetch_add_explicit(&rq->rt->stats->timeouts, 1, memory_order_relaxed);
  srv_log("%s %s: upstream %s: %s", rq->method, rq->uri, r->upstream, why.detail);
  error_page(resp, why.status, "%d %s: %s\n", why.status,
             why.status == 504   ? "Gateway Timeout"
             : why.status == 503 ? "Service Unavailable"
             : why.status == 400 ? "Bad Request"
                                 : "Bad Gateway",
             why.reason);
}

/* A plugin or native route: the handler's response (or its failure) in resp. */
static void run_handler(srv_request *rq, const wp_http_request *req, wp_http_response *resp) {
  wp_error *err = NULL;
  if (rq->nat) {
    rq->nat->fn(rq->nat->user_data, req, resp);
    if (resp->status < 100 || resp->status > 599)
      err = wp_error_new(WP_ERR_ABI, "native route %s: status %u", rq->nat->path, resp->status);
  } else {
    wp_instance *inst = NULL;
    err = wp_pool_take(rq->rt->pool, &inst);
    if (!err) {
      set_running(rq, inst);
      err = wp_instance_handle_http(inst, req, rq->rt->cfg->max_response_body, resp);
      set_running(rq, NULL);
      wp_pool_release(rq->rt->pool, inst);
    }
  }
  if (!err) return;
  wp_error_kind kind = wp_error_get_kind(err);
  int status = error_status(kind);
  const char *plugin = rq->rt ? rq->rt->cfg->plugin : "native";
  rq->error = strdup(wp_error_get_message(err));
  if (rq->rt && kind == WP_ERR_TIMEOUT)
    atomic_fetch_add_explicit(&rq->rt->stats->timeouts, 1, memory_order_relaxed);
  if (rq->rt && kind == WP_ERR_TRAP)
    atomic_fetch_add_explicit(&rq->rt->stats->traps, 1, memory_order_relaxed);
  const char *bt = wp_error_get_backtrace(err);
  srv_log("%s %s: plugin '%s' failed (%s): %s%s%s", rq->method, rq->uri, plugin,
          wp_error_kind_name(kind), wp_error_get_message(err), bt && *bt ? "\n" : "", bt ? bt : "");
  wp_error_free(err);
  error_page(resp, status, "%d %s: the handler %s\n", status,
             status == 504   ? "Gateway Timeout"
             : status == 503 ? "Service Unavailable"
             : status == 400 ? "Bad Request"
                             : "Internal Server Error",
             kind == WP_ERR_TIMEOUT     ? "ran past its time limit"
             : kind == WP_ERR_TRAP      ? "trapped"
             : kind == WP_ERR_BAD_INPUT ? "cannot take this request"
                                        : "failed");
}

/* The route's answer to req. */
static void run_route(srv_request *rq, const wp_http_request *req, wp_http_response *resp) {
  if (rq->rt && rq->rt->cfg->upstream) run_upstream(rq, req, resp);
  else run_handler(rq, req, resp);
}

/* A request without filters: the client's request, answered by its route. */
static enum MHD_Result run_plain(struct MHD_Connection *c, srv_request *rq) {
  header_list hl = {0};
  enum MHD_Result ret;
  if (!collect_headers(c, rq, &hl, &ret)) return ret;
  const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "host");
  wp_http_request req = {
      .method = rq->method,
      .scheme = "http",
      .authority = host ? host : "",
      .path_with_query = rq->uri,
      .headers = hl.h,
      .n_headers = hl.n,
      .body = rq->body,
      .body_len = rq->body_len,
  };
  wp_http_response resp = {0};
  run_route(rq, &req, &resp);
  free_headers(&hl);
  return send_response(c, rq, &resp);
}

/* ---- requests through Proxy-Wasm filters ------------------------------------------------ */

static void filter_suspend(void *user) {
  srv_request *rq = user;
  MHD_suspend_connection(rq->mhd);
}

static void filter_resume(void *user) {
  srv_request *rq = user;
  MHD_resume_connection(rq->mhd);
}

/* Sends a response given as borrowed parts (the filters' or a local one). */
static enum MHD_Result send_parts(struct MHD_Connection *c, srv_request *rq, int status,
                                  const wp_http_header *h, size_t n, const uint8_t *body,
                                  size_t len) {
  struct MHD_Response *r = MHD_create_response_from_buffer(
      len, (void *)(body ? body : (const uint8_t *)""), MHD_RESPMEM_MUST_COPY);
  if (!r) return MHD_NO;
  /* Values are NUL-terminated (header maps keep them so) and checked. */
  for (size_t i = 0; i < n; i++)
    if (!server_header(h[i].name)) add_response_header(r, h[i].name, (const char *)h[i].value);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  rq->status = status;
  rq->bytes_out = len;
  return ret;
}

/* The answer for a chain that did not pass the request or response on. */
static enum MHD_Result filter_outcome(struct MHD_Connection *c, srv_request *rq, pw_result res) {
  switch (res) {
  case PWR_LOCAL: {
    const wp_pw_local_response *l = pw_run_local(rq->pw);
    return send_parts(c, rq, l->status, l->headers, l->n_headers, l->body, l->body_len);
  }
  case PWR_CLOSE:
    rq->error = strdup("a filter closed the stream");
    return MHD_NO; /* resets the connection */
  case PWR_TIMEOUT:
    rq->error = strdup("a filter kept the request paused past its time limit");
    return fail_text(c, rq, 504,
                     "504 Gateway Timeout: a filter did not let the request go on in time\n");
  default:
    rq->error = strdup(pw_run_error(rq->pw));
    if (strstr(rq->error ? rq->error : "", "shutting down"))
      return fail_text(c, rq, 503, "503 Service Unavailable: the server is shutting down\n");
    return fail_text(c, rq, 500, "500 Internal Server Error: a filter failed\n");
  }
}

/* Routes the request as the server's filters left it; false if answered (*ret). */
static bool route_filtered(struct MHD_Connection *c, srv_request *rq, enum MHD_Result *ret) {
  const char *method, *path, *authority;
  const wp_http_header *h;
  size_t n, len;
  const uint8_t *body;
  pw_run_request_out(rq->pw, &method, &path, &authority, &h, &n, &body, &len);
  if (path[0] != '/') {
    *ret = fail_text(c, rq, 400, "bad request: a filter made the path '%s', which is not a path\n",
                     path);
    return false;
  }
  if (rq->nat) return true; /* a native route is chosen by the client's path */
  int status = 404;
  char allow[256];
  rq->rt = routes_match(rq->st, path, strcspn(path, "?"), method, authority, &status, allow,
                        sizeof allow);
  if (!rq->rt) {
    *ret = status == 405 ? queue_text(c, rq, 405, "405 Method Not Allowed\n", allow)
                         : queue_text(c, rq, 404, "404 Not Found: no route for this path\n", NULL);
    return false;
  }
  pw_run_set_timeout(rq->pw,
                     rq->rt->cfg->timeout_ms ? rq->rt->cfg->timeout_ms : SRV_DEFAULT_TIMEOUT_MS);
  /* The route's limit is on what the client sent, not on what filters made of it. */
  if (rq->body_len > rq->rt->cfg->max_body) {
    *ret = fail_text(c, rq, 413, "413 Content Too Large: the limit is %llu bytes\n",
                     (unsigned long long)rq->rt->cfg->max_body);
    return false;
  }
  return true;
}

/* Runs the route on the request as the filters left it; the answer (kept in
   rq until the request ends) goes back through them. */
static bool handle_filtered(srv_request *rq) {
  const char *method, *path, *authority;
  const wp_http_header *h;
  size_t n, len;
  const uint8_t *body;
  pw_run_request_out(rq->pw, &method, &path, &authority, &h, &n, &body, &len);
  /* Handlers and upstreams see Host as the filters left :authority. */
  wp_http_header small[32];
  wp_http_header *hs = n < 32 ? small : malloc((n + 1) * sizeof *hs);
  if (!hs) return false;
  memcpy(hs, h, n * sizeof *h);
  hs[n] = (wp_http_header){"host", 4, (const uint8_t *)authority, strlen(authority)};
  wp_http_request req = {.method = method,
                         .scheme = "http",
                         .authority = authority,
                         .path_with_query = path,
                         .headers = hs,
                         .n_headers = n + 1,
                         .body = body,
                         .body_len = len};
  run_route(rq, &req, &rq->fresp);
  if (hs != small) free(hs);
  wp_http_response *resp = &rq->fresp;
  return pw_run_set_response(rq->pw, resp->status, resp->headers, resp->n_headers, resp->body,
                             resp->body_len);
}

static enum MHD_Result start_filtered(struct MHD_Connection *c, srv_request *rq) {
  enum MHD_Result ret;
  if (!(rq->fhl = calloc(1, sizeof *rq->fhl))) return fail_text(c, rq, 503, "out of memory\n");
  if (!collect_headers(c, rq, rq->fhl, &ret)) {
    free(rq->fhl);
    rq->fhl = NULL;
    return ret;
  }
  const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "host");
  /* "ip:port" ("[v6]:port") for the source.address property. */
  char remote[96];
  if (rq->conn) memcpy(remote, rq->conn->source, sizeof remote);
  else
    snprintf(remote, sizeof remote, strchr(rq->remote, ':') ? "[%s]:%s" : "%s:%s", rq->remote,
             rq->remote_port);
  pw_run_info info = {.remote = remote,
                      .local = rq->srv->settings.listen,
                      .connection_id = rq->conn ? rq->conn->id : 0,
                      .timeout_ms = SRV_DEFAULT_TIMEOUT_MS};
  rq->mhd = c;
  rq->pw = pw_run_new(rq->srv->pw, &info, filter_suspend, filter_resume, rq);
  if (!rq->pw || !pw_run_set_request(rq->pw, rq->method, rq->uri, host ? host : "", rq->fhl->h,
                                     rq->fhl->n, rq->body, rq->body_len))
    return fail_text(c, rq, 503, "out of memory\n");
  rq->fstage = rq->rt ? FS_ROUTE_CHAIN
                      : FS_SERVER_CHAIN; /* routed already without a server chain */
  if (rq->rt)
    pw_run_set_timeout(rq->pw,
                       rq->rt->cfg->timeout_ms ? rq->rt->cfg->timeout_ms : SRV_DEFAULT_TIMEOUT_MS);
  return MHD_YES;
}

/*
 * A request through its filters, from where it stopped: the server's chain,
 * routing on what it left, the route's chain, the handler, and the response
 * back through every filter. Called again after a paused filter let go.
 */
static enum MHD_Result run_filtered(struct MHD_Connection *c, srv_request *rq) {
  enum MHD_Result ret = MHD_YES;
  if (!rq->pw && (ret = start_filtered(c, rq)) != MHD_YES) return ret;
  if (rq->status) return ret;
  for (;;) {
    bool first = !rq->fentered;
    rq->fentered = true;
    pw_result res = PWR_DONE;
    switch (rq->fstage) {
    case FS_SERVER_CHAIN:
      res = pw_run_request(rq->pw, first ? rq->st->chain : NULL, first ? rq->st->config->nchain : 0,
                           NULL, NULL, NULL);
      if (res == PWR_DONE && !route_filtered(c, rq, &ret)) return ret;
      break;
    case FS_ROUTE_CHAIN:
      first = first && rq->rt; /* native routes have no chain of their own */
      res = pw_run_request(rq->pw, first ? rq->rt->chain : NULL, first ? rq->rt->nchain : 0,
                           first ? rq->rt->cfg->name : NULL, first ? rq->rt->cfg->metadata : NULL,
                           first ? rq->rt->cfg->upstream : NULL);
      if (res == PWR_DONE && !handle_filtered(rq)) return fail_text(c, rq, 503, "out of memory\n");
      break;
    case FS_RESPONSE:
    default:
      res = pw_run_response(rq->pw);
      if (res == PWR_DONE) {
        int status;
        const wp_http_header *h;
        size_t n, len;
        const uint8_t *body;
        pw_run_response_out(rq->pw, &status, &h, &n, &body, &len);
        return send_parts(c, rq, status, h, n, body, len);
      }
      break;
    }
    if (res == PWR_PAUSED) return MHD_YES; /* suspended: called again when it may go on */
    if (res != PWR_DONE) return filter_outcome(c, rq, res);
    rq->fstage = rq->fstage == FS_SERVER_CHAIN ? FS_ROUTE_CHAIN : FS_RESPONSE;
    rq->fentered = false;
  }
}

/* Whether the request goes through filters: the server's chain, or its route's. */
static bool filtered(const srv_request *rq) {
  return rq->pw || (rq->st && rq->st->config->nchain) || (rq->rt && rq->rt->nchain);
}

/* The route's body cap. */
static uint64_t max_body(const srv_request *rq) {
  if (rq->rt) return rq->rt->cfg->max_body;
  /* Not routed yet (the server's filters come first): the largest route's. */
  return rq->st && rq->st->config->nchain && rq->st->max_body ? rq->st->max_body
                                                              : (uint64_t)1 << 20;
}

static enum MHD_Result first_call(struct MHD_Connection *c, srv_request *rq, const char *method) {
  wp_server *srv = rq->srv;
  rq->started = true;
  rq->method = method;
  rq->start_ns = srv_now_ns();
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c,
                                                               MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  rq->conn = ci ? ci->socket_context : NULL;
  if (rq->conn) {
    memcpy(rq->remote, rq->conn->remote, sizeof rq->remote);
    memcpy(rq->remote_port, rq->conn->remote_port, sizeof rq->remote_port);
  } else {
    char source[96];
    client_address(c, rq->remote, rq->remote_port, source);
  }
  set_phase(rq, PHASE_BODY);
  atomic_fetch_add(&srv->in_flight, 1);
  pthread_mutex_lock(&srv->conn_lock);
  rq->next = srv->active;
  if (srv->active) srv->active->prev = rq;
  srv->active = rq;
  pthread_mutex_unlock(&srv->conn_lock);
  rq->st = state_acquire(srv);

  enum MHD_Result refused;
  int refused_status;
  if (srv_framing_refused(c, &refused_status, &refused)) {
    rq->status = refused_status;
    return refused;
  }
  if (rq->uri[0] != '/')
    return fail_text(c, rq, 400, "bad request: the request target must be a path\n");
  size_t plen = strcspn(rq->uri, "?");
  for (size_t i = 0; i < srv->nnatives; i++)
    if (strlen(srv->natives[i].path) == plen && memcmp(srv->natives[i].path, rq->uri, plen) == 0)
      rq->nat = &srv->natives[i];
  const char *mpath = rq->st ? rq->st->config->metrics_path : NULL;
  if (!rq->nat && mpath && strlen(mpath) == plen && memcmp(mpath, rq->uri, plen) == 0) {
    char *text = metrics_render(srv);
    if (!text) return fail_text(c, rq, 503, "out of memory\n");
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(strlen(text), text,
                                                                                free);
    if (!r) {
      free(text);
      return MHD_NO;
    }
    MHD_add_response_header(r, "content-type", "text/plain; version=0.0.4; charset=utf-8");
    rq->status = 200;
    rq->bytes_out = strlen(text);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
  }
  /* With filters in front of every route, routing waits for what they make of the request. */
  if (!rq->nat && !(rq->st && rq->st->config->nchain)) {
    int status = 404;
    char allow[256];
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "host");
    rq->rt = rq->st
                 ? routes_match(rq->st, rq->uri, plen, method, host, &status, allow, sizeof allow)
                 : NULL;
    if (!rq->rt)
      return status == 405
                 ? queue_text(c, rq, 405, "405 Method Not Allowed\n", allow)
                 : queue_text(c, rq, 404, "404 Not Found: no route for this path\n", NULL);
  }
  /* A declared length over the cap is refused before reading anything (and
     before any 100 Continue). */
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "content-length");
  if (cl) {
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno || *end || end == cl)
      return fail_text(c, rq, 400, "bad request: Content-Length is not a number\n");
    if (n > max_body(rq))
      return fail_text(c, rq, 413, "413 Content Too Large: the limit is %llu bytes\n",
                       (unsigned long long)max_body(rq));
  }
  return MHD_YES;
}

static bool append_body(srv_request *rq, const char *data, size_t len) {
  if (rq->body_len + len > rq->body_cap) {
    size_t cap = rq->body_cap ? rq->body_cap : 4096;
    while (cap < rq->body_len + len) cap *= 2;
    uint8_t *b = realloc(rq->body, cap);
    if (!b) return false;
    rq->body = b;
    rq->body_cap = cap;
  }
  memcpy(rq->body + rq->body_len, data, len);
  rq->body_len += len;
  return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls) {
  (void)url;
  (void)version;
  srv_request *rq = *con_cls;
  if (!rq) {
    if (!(rq = on_uri(cls, url, c))) return MHD_NO;
    *con_cls = rq;
  }
  if (!rq->uri) return MHD_NO;
  if (!rq->started) return first_call(c, rq, method);
  if (rq->status) { /* answered already */
    *upload_size = 0;
    return MHD_YES;
  }
  if (*upload_size) {
    size_t len = *upload_size;
    *upload_size = 0;
    rq->body_seen += len;
    if (rq->body_seen > max_body(rq)) {
      /* libmicrohttpd cannot answer in the middle of a body: drop what
         comes and answer 413 at its end, unless the client keeps sending
         far past the cap, which ends the connection now. */
      free(rq->body);
      rq->body = NULL;
      rq->body_len = rq->body_cap = 0;
      rq->too_big = true;
      return rq->body_seen - max_body(rq) > DISCARD_MAX ? MHD_NO : MHD_YES;
    }
    if (!append_body(rq, upload_data, len)) return MHD_NO;
    return MHD_YES;
  }
  if (rq->too_big)
    return fail_text(c, rq, 413, "413 Content Too Large: the limit is %llu bytes\n",
                     (unsigned long long)max_body(rq));
  set_phase(rq, PHASE_HANDLING);
  return filtered(rq) ? run_filtered(c, rq) : run_plain(c, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  wp_server *srv = cls;
  srv_request *rq = *con_cls;
  if (!rq) return;
  *con_cls = NULL;
  if (rq->started) {
    uint64_t us = (srv_now_ns() - rq->start_ns) / 1000;
    int status = rq->status;
    /* Never answered: the client went away or was cut off. */
    bool cut = false;
    if (rq->conn) {
      pthread_mutex_lock(&srv->conn_lock);
      cut = rq->conn->cut;
      pthread_mutex_unlock(&srv->conn_lock);
    }
    if (!status)
      status = rq->too_big ? 413 : cut || toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? 408 : 499;
    route_stats *rs = rq->rt ? rq->rt->stats : rq->nat ? rq->nat->stats : NULL;
    metrics_count(rs, status, us);
    accesslog_write(srv, rq->remote, rq->method, rq->uri,
                    rq->rt    ? rq->rt->cfg->pattern
                    : rq->nat ? rq->nat->path
                              : NULL,
                    status, rq->body_seen, rq->bytes_out, us, rq->rt ? rq->rt->cfg->plugin : NULL,
                    rq->rt && rq->rt->cfg->plugin ? (rq->rt->cfg->reuse ? "reuse" : "fresh") : NULL,
                    rq->rt ? rq->rt->cfg->upstream : NULL, rq->error);
    pthread_mutex_lock(&srv->conn_lock);
    if (rq->prev) rq->prev->next = rq->next;
    else srv->active = rq->next;
    if (rq->next) rq->next->prev = rq->prev;
    pthread_mutex_unlock(&srv->conn_lock);
    set_phase(rq, PHASE_HEADERS);
    pw_run_free(rq->pw); /* before the state goes: its filters may retire with it */
    rq->pw = NULL;
    if (rq->fhl) free_headers(rq->fhl);
    free(rq->fhl);
    wp_http_response_clear(&rq->fresp);
    state_release(rq->st);
    atomic_fetch_sub(&srv->in_flight, 1);
  }
  free(rq->body);
  free(rq->uri);
  free(rq->error);
  free(rq);
}

/* ---- start and stop ------------------------------------------------------------------- */

wp_error *listener_start(wp_server *srv) {
  struct sockaddr_storage ss;
  socklen_t sslen;
  wp_error *err = srv_resolve("listen", srv->settings.listen, &ss, &sslen);
  if (err) return err;
  /* libcurl's global set-up before any worker runs (upstream routes). */
  if (!srv_curl_init()) return wp_error_new(WP_ERR_IO, "cannot initialise libcurl");
  if (pipe(srv->sweeper_pipe) != 0) return wp_error_new(WP_ERR_IO, "pipe: %s", strerror(errno));
  /* Suspend/resume: a request a filter paused waits without holding its thread. */
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                   MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                   (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
  unsigned workers = srv->settings.workers;
  srv->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(workers > 1 ? workers : 0),
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->settings.idle_timeout_s,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->settings.max_connections,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
      /* RFC 9112: an HTTP/1.1 request without Host, or with spaces in its
         target, is a 400. */
      MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
      srv, MHD_OPTION_END);
  if (!srv->daemon) {
    close(srv->sweeper_pipe[0]);
    close(srv->sweeper_pipe[1]);
    return wp_error_new(WP_ERR_IO, "cannot listen on %s (in use, or not an address here?)",
                        srv->settings.listen);
  }
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = di ? di->port : 0;
  if (pthread_create(&srv->sweeper, NULL, sweeper_main, srv) == 0) srv->sweeper_running = true;
  return NULL;
}

void listener_quiesce(wp_server *srv) {
  if (!srv->daemon) return;
  MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
  if (fd != MHD_INVALID_SOCKET) close(fd);
}

unsigned listener_interrupt_all(wp_server *srv) {
  unsigned n = 0;
  pthread_mutex_lock(&srv->conn_lock);
  for (srv_request *rq = srv->active; rq; rq = rq->next)
    if (rq->inst) {
      wp_instance_interrupt(rq->inst);
      n++;
    } else if (rq->proxying) {
      atomic_store(&rq->cancel, true);
      n++;
    }
  pthread_mutex_unlock(&srv->conn_lock);
  return n;
}

void listener_stop(wp_server *srv) {
  if (srv->daemon) MHD_stop_daemon(srv->daemon);
  srv->daemon = NULL;
  if (srv->sweeper_running) {
    ssize_t w = write(srv->sweeper_pipe[1], "x", 1);
    (void)w;
    pthread_join(srv->sweeper, NULL);
    srv->sweeper_running = false;
    close(srv->sweeper_pipe[0]);
    close(srv->sweeper_pipe[1]);
  }
}
