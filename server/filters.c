/*
 * filters.c - Proxy-Wasm filters in wasmplug serve: the server's wp_pw_host,
 * its worker slots and driver thread, HTTP calls to clusters, and a
 * request's run through its chain of filters (filters.h).
 *
 * Locking: a slot's mutex is held while anything runs on its worker: a
 * listener thread's step, or the driver's poll. A paused request suspends
 * its connection while that mutex is still held, so the event that resumes
 * it (which needs the mutex) cannot come before the suspension; the driver
 * resumes connections after letting go of the mutex.
 */
#define _GNU_SOURCE
#include "filters.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server.h"

typedef struct pw_slot {
  pthread_mutex_t lock;
  wp_pw_worker *w;
  srv_pw *pw;
  /* Runs kept for the next requests of the slot's thread: a run is big (its
     headers are inline) and every request needs one. */
  pthread_mutex_t spare_lock;
  pw_run *spare; /* linked through next */
  unsigned nspare;
} pw_slot;

/* Spare runs a slot keeps at most. */
#define SLOT_SPARE_RUNS 16

struct srv_pw {
  wp_server *srv;
  wp_pw_host *host;
  pw_slot *slots;
  unsigned nslots;
  atomic_uint next_slot;
  pthread_t driver;
  bool running;
  pthread_mutex_t lock; /* woken, stop, paused, ready */
  pthread_cond_t cond;
  bool woken, stop;
  pw_run *paused;       /* suspended requests (deadlines, shutdown) */
  pw_run **ready;       /* to resume once the slot's mutex is released */
  size_t nready, ready_cap;
  srv_http_client *client;
  char **clusters;      /* name, url, name, url... of the live configuration (under lock) */
  size_t nclusters;
};

enum { PH_REQ_HEADERS, PH_REQ_BODY, PH_REQ_DONE, PH_RESP_HEADERS, PH_RESP_BODY, PH_RESP_DONE };

/* Headers a run holds without an allocation of their own (most requests). */
#define RUN_INLINE_HEADERS 16
/* Filters a run holds without an allocation of its own. */
#define RUN_INLINE_FILTERS 4

/* Bytes of addresses (remote and local, NUL-terminated) a run holds inline. */
#define RUN_INLINE_ADDRS 160

/* A message (request or response) as it enters the chain: the caller's
   headers and body, borrowed, behind the pseudo-headers made here. */
typedef struct message {
  wp_http_header *h; /* `in`, or an owned array; the names and values are borrowed */
  size_t n;
  wp_http_header *in; /* the run's inline array for this message */
  const uint8_t *body;
  size_t len;
  char status[8];      /* :status of a response */
} message;

struct pw_run {
  srv_pw *pw;
  pw_slot *slot;
  pw_run_info info;
  char *remote, *local; /* in addr_in, or in addr_heap */
  char *addr_heap;
  bool paused_once; /* it was on the paused list: pw_run_free must take it off */
  wp_pw_stream **s;
  wp_pw_plugin **p;
  size_t n, cap;
  int phase;
  size_t at;       /* the next filter of the phase */
  size_t first;    /* where the request's current chain starts (the route's after the server's) */
  ssize_t hsrc, bsrc; /* the stream whose headers / body are current; -1: the message itself */
  message req, resp;
  int status;      /* of the response */
  bool waiting;    /* suspended, waiting for an event */
  bool got_event, timed_out, shutting_down;
  wp_pw_event event;
  uint64_t start_ns, deadline_ns;
  pw_run *prev, *next; /* srv_pw.paused */
  const wp_pw_local_response *local_resp;
  char *error;
  void (*suspend_fn)(void *), (*resume_fn)(void *);
  void *user;
  /* the headers as the chain left them, without the pseudo-headers (borrowed) */
  wp_http_header *out_h; /* out_in, or an owned array */
  size_t out_n, out_cap;
  /* Inline storage (not cleared when a run is reused): everything above
     RUN_INLINE is reset for each request. */
#define RUN_INLINE out_in
  wp_http_header out_in[RUN_INLINE_HEADERS];
  wp_http_header req_in[RUN_INLINE_HEADERS], resp_in[RUN_INLINE_HEADERS];
  wp_pw_stream *s_in[RUN_INLINE_FILTERS];
  wp_pw_plugin *p_in[RUN_INLINE_FILTERS];
  char addr_in[RUN_INLINE_ADDRS];
};

/* ---- the driver ------------------------------------------------------------------------ */

static void wake(void *user, wp_pw_worker *w) {
  (void)w;
  srv_pw *pw = user;
  pthread_mutex_lock(&pw->lock);
  pw->woken = true;
  pthread_cond_signal(&pw->cond);
  pthread_mutex_unlock(&pw->lock);
}

static void queue_ready(srv_pw *pw, pw_run *r) {
  pthread_mutex_lock(&pw->lock);
  if (pw->nready == pw->ready_cap) {
    size_t cap = pw->ready_cap ? pw->ready_cap * 2 : 16;
    pw_run **n = realloc(pw->ready, cap * sizeof *n);
    if (n) {
      pw->ready = n;
      pw->ready_cap = cap;
    }
  }
  if (pw->nready < pw->ready_cap) pw->ready[pw->nready++] = r;
  pthread_mutex_unlock(&pw->lock);
}

/* Takes r off the paused list (pw->lock held); false if it was not on it. */
static bool unpause(srv_pw *pw, pw_run *r) {
  if (!r->waiting) return false;
  r->waiting = false;
  if (r->prev) r->prev->next = r->next;
  else pw->paused = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
  return true;
}

/* Resumes the requests made ready (pw->lock not held, no slot mutex held). */
static void resume_ready(srv_pw *pw) {
  pthread_mutex_lock(&pw->lock);
  pw_run **ready = pw->ready;
  size_t n = pw->nready;
  pw->ready = NULL;
  pw->nready = pw->ready_cap = 0;
  for (size_t i = 0; i < n; i++)
    if (!unpause(pw, ready[i])) ready[i] = NULL; /* resumed already (a deadline, shutdown) */
  pthread_mutex_unlock(&pw->lock);
  for (size_t i = 0; i < n; i++)
    if (ready[i]) ready[i]->resume_fn(ready[i]->user);
  free(ready);
}

/* Paused requests past their deadline are resumed to answer 504. */
static uint64_t expire_paused(srv_pw *pw, uint64_t now) {
  uint64_t next = UINT64_MAX;
  pw_run *due = NULL;
  pthread_mutex_lock(&pw->lock);
  for (pw_run *r = pw->paused, *nx; r; r = nx) {
    nx = r->next;
    if (r->deadline_ns > now) {
      if (r->deadline_ns < next) next = r->deadline_ns;
      continue;
    }
    unpause(pw, r);
    r->timed_out = true;
    r->next = due;
    due = r;
  }
  pthread_mutex_unlock(&pw->lock);
  while (due) {
    pw_run *r = due;
    due = r->next;
    r->next = NULL;
    r->resume_fn(r->user);
  }
  return next;
}

static void *driver_main(void *arg) {
  srv_pw *pw = arg;
  uint64_t wait_ms = 100;
  for (;;) {
    pthread_mutex_lock(&pw->lock);
    if (!pw->woken && !pw->stop) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      uint64_t ns = (uint64_t)ts.tv_nsec + wait_ms * 1000000u;
      ts.tv_sec += (time_t)(ns / 1000000000u);
      ts.tv_nsec = (long)(ns % 1000000000u);
      pthread_cond_timedwait(&pw->cond, &pw->lock, &ts);
    }
    pw->woken = false;
    bool stop = pw->stop;
    pthread_mutex_unlock(&pw->lock);
    if (stop) break;
    wait_ms = 100;
    for (unsigned i = 0; i < pw->nslots; i++) {
      pw_slot *s = &pw->slots[i];
      pthread_mutex_lock(&s->lock);
      wp_error *err = wp_pw_worker_poll(s->w); /* filter failures are logged by the library */
      uint32_t ms = wp_pw_worker_next_timeout_ms(s->w);
      pthread_mutex_unlock(&s->lock);
      wp_error_free(err);
      if (ms < wait_ms) wait_ms = ms;
      resume_ready(pw);
    }
    uint64_t now = srv_now_ns(), next = expire_paused(pw, now);
    if (next != UINT64_MAX && (next - now) / 1000000u < wait_ms)
      wait_ms = (next - now) / 1000000u + 1;
  }
  return NULL;
}

/* ---- the host's methods: logs and HTTP calls ------------------------------------------- */

static void filter_log(void *user, const wp_pw_plugin *p, wp_log_level level, const char *msg,
                       size_t len) {
  (void)user;
  srv_log("filter '%s' %s: %.*s", p ? wp_pw_plugin_get_name(p) : "?", wp_log_level_name(level),
          (int)len, msg);
}

typedef struct call_ctx {
  wp_pw_worker *w;
  uint64_t token;
} call_ctx;

static void call_done(void *user, const srv_http_result *res) {
  call_ctx *c = user;
  if (res->ok) {
    wp_pw_http_response r = {.status = res->status,
                             .headers = res->headers,
                             .n_headers = res->n_headers,
                             .body = res->body,
                             .body_len = res->body_len};
    wp_pw_worker_post_http_response(c->w, c->token, &r);
  } else {
    wp_pw_worker_post_http_failure(c->w, c->token);
  }
  free(c);
}

static void free_clusters(char **list, size_t n) {
  for (size_t i = 0; i < 2 * n; i++) free(list[i]);
  free(list);
}

void pw_set_clusters(srv_pw *pw, const srv_config *c) {
  char **list = calloc(2 * c->nclusters + 1, sizeof *list);
  bool ok = list != NULL;
  for (size_t i = 0; ok && i < c->nclusters; i++)
    ok = (list[2 * i] = strdup(c->clusters[i].name)) &&
         (list[2 * i + 1] = strdup(c->clusters[i].url));
  if (!ok) { /* keep the old ones: better than none */
    if (list) free_clusters(list, c->nclusters);
    return;
  }
  pthread_mutex_lock(&pw->lock);
  char **old = pw->clusters;
  size_t nold = pw->nclusters;
  pw->clusters = list;
  pw->nclusters = c->nclusters;
  pthread_mutex_unlock(&pw->lock);
  if (old) free_clusters(old, nold);
}

/* The cluster's base URL (malloc'ed), or NULL. Not through the state: a
   filter's step must not be where the last reference to a state drops. */
static char *cluster_url(srv_pw *pw, const char *name) {
  char *url = NULL;
  pthread_mutex_lock(&pw->lock);
  for (size_t i = 0; i < pw->nclusters && !url; i++)
    if (strcmp(pw->clusters[2 * i], name) == 0) url = strdup(pw->clusters[2 * i + 1]);
  pthread_mutex_unlock(&pw->lock);
  return url;
}

/* A header's value (NUL-terminated: maps and messages keep them so), or "". */
static const char *value_of(const wp_http_header *h, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(h[i].name, name) == 0) return (const char *)h[i].value;
  return "";
}

/* proxy_http_call: the cluster's URL + :path, :method, the other headers, Host = :authority. */
static int http_call(void *user, wp_pw_worker *w, const wp_pw_plugin *p, uint64_t token,
                     const wp_pw_http_call *call) {
  srv_pw *pw = user;
  char *base = cluster_url(pw, call->cluster);
  if (!base) {
    srv_log("filter '%s': http_call to unknown cluster '%s'", wp_pw_plugin_get_name(p),
            call->cluster);
    return -1;
  }
  const char *path = value_of(call->headers, call->n_headers, ":path");
  const char *method = value_of(call->headers, call->n_headers, ":method");
  const char *authority = value_of(call->headers, call->n_headers, ":authority");
  size_t ulen = strlen(base) + strlen(path) + 2;
  char *url = malloc(ulen);
  wp_http_header *h = calloc(call->n_headers + 1, sizeof *h);
  call_ctx *ctx = malloc(sizeof *ctx);
  int rc = -1;
  if (url && h && ctx) {
    snprintf(url, ulen, "%s%s%s", base, path[0] == '/' ? "" : "/", path);
    size_t n = 0;
    for (size_t i = 0; i < call->n_headers; i++)
      if (call->headers[i].name[0] != ':' && strcmp(call->headers[i].name, "host") != 0)
        h[n++] = call->headers[i];
    h[n++] = (wp_http_header){"host", 4, (const uint8_t *)authority, strlen(authority)};
    *ctx = (call_ctx){w, token};
    srv_http_call c = {.url = url,
                       .method = method,
                       .headers = h,
                       .n_headers = n,
                       .body = call->body_len ? call->body : NULL,
                       .body_len = call->body_len,
                       .timeout_ms = call->timeout_ms};
    rc = httpclient_submit(pw->client, &c, call_done, ctx);
  }
  if (rc != 0) free(ctx);
  free(url);
  free(h);
  free(base);
  return rc;
}

/* ---- start and stop -------------------------------------------------------------------- */

wp_error *pw_start(wp_server *srv, unsigned nslots, srv_pw **out) {
  srv_pw *pw = calloc(1, sizeof *pw);
  if (!pw) return srv_no_memory();
  pw->srv = srv;
  pthread_mutex_init(&pw->lock, NULL);
  pthread_cond_init(&pw->cond, NULL);
  wp_pw_host_methods m = {.wake = wake, .http_call = http_call, .log = filter_log};
  wp_error *err = wp_pw_host_new(srv->engine, &m, pw, &pw->host);
  if (!err && !(pw->client = httpclient_new()))
    err = wp_error_new(WP_ERR_HOST, "serve: cannot start the HTTP client of filters");
  if (!err && !(pw->slots = calloc(nslots, sizeof *pw->slots))) err = srv_no_memory();
  for (unsigned i = 0; !err && i < nslots; i++) {
    pthread_mutex_init(&pw->slots[i].lock, NULL);
    pthread_mutex_init(&pw->slots[i].spare_lock, NULL);
    pw->slots[i].pw = pw;
    pw->nslots = i + 1;
    err = wp_pw_worker_new(pw->host, &pw->slots[i], &pw->slots[i].w);
  }
  if (!err && pthread_create(&pw->driver, NULL, driver_main, pw) != 0)
    err = wp_error_new(WP_ERR_HOST, "serve: cannot start the filter driver thread");
  pw->running = !err;
  if (err) {
    pw_stop(pw);
    return err;
  }
  *out = pw;
  return NULL;
}

void pw_resume_all(srv_pw *pw) {
  if (!pw) return;
  pthread_mutex_lock(&pw->lock);
  pw_run *list = pw->paused;
  pw->paused = NULL;
  for (pw_run *r = list; r; r = r->next) {
    r->waiting = false;
    r->shutting_down = true;
  }
  pthread_mutex_unlock(&pw->lock);
  while (list) {
    pw_run *r = list;
    list = r->next;
    r->prev = r->next = NULL;
    r->resume_fn(r->user);
  }
}

void pw_stop(srv_pw *pw) {
  if (!pw) return;
  pw_resume_all(pw);
  if (pw->running) {
    pthread_mutex_lock(&pw->lock);
    pw->stop = true;
    pthread_cond_signal(&pw->cond);
    pthread_mutex_unlock(&pw->lock);
    pthread_join(pw->driver, NULL);
  }
  /* The client first: its callbacks post to the workers. */
  if (pw->client) httpclient_free(pw->client);
  for (unsigned i = 0; i < pw->nslots; i++) {
    wp_pw_worker_free(pw->slots[i].w);
    pthread_mutex_destroy(&pw->slots[i].lock);
    for (pw_run *r = pw->slots[i].spare, *next; r; r = next) {
      next = r->next;
      free(r);
    }
    pthread_mutex_destroy(&pw->slots[i].spare_lock);
  }
  free(pw->slots);
  free(pw->ready);
  if (pw->clusters) free_clusters(pw->clusters, pw->nclusters);
  wp_pw_host_free(pw->host);
  pthread_cond_destroy(&pw->cond);
  pthread_mutex_destroy(&pw->lock);
  free(pw);
}

wp_pw_host *pw_host(srv_pw *pw) { return pw->host; }

void pw_plugin_started(srv_pw *pw, wp_pw_plugin *p) {
  for (unsigned i = 0; i < pw->nslots; i++) {
    pthread_mutex_lock(&pw->slots[i].lock);
    wp_error *err = wp_pw_worker_start_plugin(pw->slots[i].w, p);
    pthread_mutex_unlock(&pw->slots[i].lock);
    if (err) srv_log("filter '%s': %s", wp_pw_plugin_get_name(p), wp_error_get_message(err));
    wp_error_free(err);
  }
  wake(pw, NULL); /* its ticks count from now */
}

void pw_plugin_retired(srv_pw *pw, wp_pw_plugin *p) {
  for (unsigned i = 0; i < pw->nslots; i++) {
    pthread_mutex_lock(&pw->slots[i].lock);
    wp_pw_worker_stop_plugin(pw->slots[i].w, p);
    pthread_mutex_unlock(&pw->slots[i].lock);
  }
}

/* This thread's slot: taken on its first request, kept for its life. */
static pw_slot *thread_slot(srv_pw *pw) {
  static _Thread_local srv_pw *owner;
  static _Thread_local pw_slot *slot;
  if (owner != pw) {
    owner = pw;
    slot = &pw->slots[atomic_fetch_add(&pw->next_slot, 1) % pw->nslots];
  }
  return slot;
}

wp_pw_worker *pw_lock_worker(srv_pw *pw) {
  pw_slot *slot = thread_slot(pw);
  pthread_mutex_lock(&slot->lock);
  return slot->w;
}

void pw_unlock_worker(srv_pw *pw) { pthread_mutex_unlock(&thread_slot(pw)->lock); }

/* ---- runs -------------------------------------------------------------------------------- */

pw_run *pw_run_new(srv_pw *pw, const pw_run_info *info, void (*suspend_fn)(void *),
                   void (*resume_fn)(void *), void *user) {
  pw_slot *slot = thread_slot(pw);
  pthread_mutex_lock(&slot->spare_lock);
  pw_run *r = slot->spare;
  if (r) {
    slot->spare = r->next;
    slot->nspare--;
  }
  pthread_mutex_unlock(&slot->spare_lock);
  if (!r && !(r = malloc(sizeof *r))) return NULL;
  memset(r, 0, offsetof(pw_run, RUN_INLINE));
  /* The addresses: inline when they fit (they nearly always do). */
  size_t lr = info->remote ? strlen(info->remote) + 1 : 0;
  size_t ll = info->local ? strlen(info->local) + 1 : 0;
  char *at = r->addr_in;
  if (lr + ll > sizeof r->addr_in && !(at = r->addr_heap = malloc(lr + ll))) {
    free(r);
    return NULL;
  }
  r->pw = pw;
  r->slot = slot;
  r->info = *info;
  if (lr) r->remote = memcpy(at, info->remote, lr);
  if (ll) r->local = memcpy(at + lr, info->local, ll);
  r->info.remote = r->remote;
  r->info.local = r->local;
  r->s = r->s_in;
  r->p = r->p_in;
  r->cap = RUN_INLINE_FILTERS;
  r->out_h = r->out_in;
  r->out_cap = RUN_INLINE_HEADERS;
  r->req.in = r->req_in;
  r->resp.in = r->resp_in;
  r->hsrc = r->bsrc = -1;
  r->start_ns = srv_now_ns();
  r->deadline_ns = r->start_ns + (uint64_t)(info->timeout_ms ? info->timeout_ms : 30000) * 1000000u;
  r->suspend_fn = suspend_fn;
  r->resume_fn = resume_fn;
  r->user = user;
  return r;
}

static void message_free(message *m) {
  if (m->h != m->in) free(m->h);
  m->h = NULL;
  m->n = 0;
  m->body = NULL;
  m->len = 0;
}

void pw_run_free(pw_run *r) {
  if (!r) return;
  if (r->paused_once) { /* else it never was on the paused or the ready list */
    pthread_mutex_lock(&r->pw->lock);
    unpause(r->pw, r);
    for (size_t i = 0; i < r->pw->nready; i++)
      if (r->pw->ready[i] == r) r->pw->ready[i] = NULL;
    pthread_mutex_unlock(&r->pw->lock);
  }
  pthread_mutex_lock(&r->slot->lock);
  for (size_t i = 0; i < r->n; i++) wp_pw_stream_free(r->s[i]);
  pthread_mutex_unlock(&r->slot->lock);
  for (size_t i = 0; i < r->n; i++) wp_pw_plugin_free(r->p[i]);
  if (r->s != r->s_in) free(r->s);
  if (r->p != r->p_in) free(r->p);
  message_free(&r->req);
  message_free(&r->resp);
  if (r->out_h != r->out_in) free(r->out_h);
  free(r->error);
  free(r->addr_heap);
  pw_slot *slot = r->slot;
  pthread_mutex_lock(&slot->spare_lock);
  bool keep = slot->nspare < SLOT_SPARE_RUNS;
  if (keep) {
    r->next = slot->spare;
    slot->spare = r;
    slot->nspare++;
  }
  pthread_mutex_unlock(&slot->spare_lock);
  if (!keep) free(r);
}

size_t pw_run_filters(const pw_run *r) { return r->n; }

void pw_run_set_timeout(pw_run *r, uint32_t timeout_ms) {
  if (!timeout_ms) return;
  r->info.timeout_ms = timeout_ms;
  r->deadline_ns = r->start_ns + (uint64_t)timeout_ms * 1000000u;
}

/* Pseudo-header i of m (message_set made room for it). */
static void put(message *m, size_t i, const char *name, const char *value) {
  m->h[i] = (wp_http_header){name, strlen(name), (const uint8_t *)value, strlen(value)};
}

/* m's header array: room for `extra` pseudo-headers (put first by the
   caller), then the caller's headers but Host when `drop_host` (the request
   has it as :authority). */
static bool message_set(message *m, size_t extra, const wp_http_header *h, size_t n,
                        const uint8_t *body, size_t len, bool drop_host) {
  message_free(m);
  m->h = n + extra <= RUN_INLINE_HEADERS ? m->in : malloc((n + extra) * sizeof *m->h);
  if (!m->h) return false;
  m->n = extra;
  for (size_t i = 0; i < n; i++)
    if (!drop_host || strcmp(h[i].name, "host") != 0) m->h[m->n++] = h[i];
  m->body = body;
  m->len = len;
  return true;
}

bool pw_run_set_request(pw_run *r, const char *method, const char *uri, const char *authority,
                        const wp_http_header *headers, size_t n, const uint8_t *body, size_t len) {
  message *m = &r->req;
  if (!message_set(m, 4, headers, n, body, len, true)) return false;
  put(m, 0, ":method", method);
  put(m, 1, ":path", uri);
  put(m, 2, ":authority", authority);
  put(m, 3, ":scheme", "http");
  return true;
}

bool pw_run_set_response(pw_run *r, int status, const wp_http_header *headers, size_t n,
                         const uint8_t *body, size_t len) {
  message *m = &r->resp;
  if (!message_set(m, 1, headers, n, body, len, false)) return false;
  /* Three digits: handlers' statuses are 100-599 (the server answers 500 for others). */
  if (status < 100 || status > 999) status = 500;
  m->status[0] = (char)('0' + status / 100);
  m->status[1] = (char)('0' + status / 10 % 10);
  m->status[2] = (char)('0' + status % 10);
  m->status[3] = '\0';
  put(m, 0, ":status", m->status);
  r->phase = PH_RESP_HEADERS;
  r->at = 0;
  r->hsrc = r->bsrc = -1;
  return true;
}

/* ---- stepping through the chain ----------------------------------------------------------------
 */

static void stream_event(void *user, wp_pw_stream *s, wp_pw_event ev) {
  (void)s;
  pw_run *r = user;
  if (!r->waiting || r->got_event) return; /* only the first event after a pause counts */
  r->got_event = true;
  r->event = ev;
  queue_ready(r->pw, r);
}

static bool grow(pw_run *r) {
  if (r->n < r->cap) return true;
  size_t cap = r->cap * 2;
  wp_pw_stream **s = malloc(cap * sizeof *s);
  wp_pw_plugin **p = malloc(cap * sizeof *p);
  if (!s || !p) {
    free(s);
    free(p);
    return false;
  }
  memcpy(s, r->s, r->n * sizeof *s);
  memcpy(p, r->p, r->n * sizeof *p);
  if (r->s != r->s_in) free(r->s);
  if (r->p != r->p_in) free(r->p);
  r->s = s;
  r->p = p;
  r->cap = cap;
  return true;
}

static void set_error(pw_run *r, const char *fmt, const char *name, const char *msg) {
  free(r->error);
  size_t len = strlen(fmt) + strlen(name) + strlen(msg) + 1;
  if ((r->error = malloc(len))) snprintf(r->error, len, fmt, name, msg);
}

/* Makes the streams of `chain` (under the slot's mutex). */
static pw_result add_streams(pw_run *r, wp_pw_plugin *const *chain, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!grow(r)) return PWR_FAILED;
    wp_pw_stream_info si = {.source_address = r->remote,
                            .destination_address = r->local,
                            .protocol = "HTTP/1.1",
                            .connection_id = r->info.connection_id};
    wp_error *err = wp_pw_stream_new_http(r->slot->w, chain[i], &si, stream_event, r, &r->s[r->n]);
    if (err) {
      set_error(r, "filter '%s': %s", wp_pw_plugin_get_name(chain[i]), wp_error_get_message(err));
      wp_error_free(err);
      if (wp_pw_plugin_get_fail_open(chain[i])) continue;
      return PWR_FAILED;
    }
    r->p[r->n++] = wp_pw_plugin_ref(chain[i]);
  }
  return PWR_DONE;
}

/* The current headers of the message in this phase: the last stream that passed them on, or the
 * message. */
static const wp_http_header *cur_headers(pw_run *r, bool response, size_t *n) {
  if (r->hsrc < 0) {
    message *m = response ? &r->resp : &r->req;
    *n = m->n;
    return m->h;
  }
  return wp_pw_stream_get_headers(r->s[r->hsrc],
                                  response ? WP_PW_RESPONSE_HEADERS : WP_PW_REQUEST_HEADERS, n);
}

static const uint8_t *cur_body(pw_run *r, bool response, size_t *len) {
  if (r->bsrc < 0) {
    message *m = response ? &r->resp : &r->req;
    *len = m->len;
    return m->body;
  }
  return wp_pw_stream_get_buffer(r->s[r->bsrc], response ? WP_PW_RESPONSE_BODY : WP_PW_REQUEST_BODY,
                                 len);
}

/* Stream index of position `at` in the phase: the request goes first to last, the response back. */
static size_t index_of(const pw_run *r, size_t at) {
  return r->phase >= PH_RESP_HEADERS ? r->n - 1 - at : at;
}

/* One filter's step in the current phase. */
static wp_error *step(pw_run *r, size_t i, wp_pw_action *a) {
  bool response = r->phase >= PH_RESP_HEADERS;
  bool body_phase = r->phase == PH_REQ_BODY || r->phase == PH_RESP_BODY;
  size_t n, len;
  const wp_http_header *h = cur_headers(r, response, &n);
  const uint8_t *body = cur_body(r, response, &len);
  if (!body_phase)
    return response ? wp_pw_stream_response_headers(r->s[i], h, n, len == 0, a)
                    : wp_pw_stream_request_headers(r->s[i], h, n, len == 0, a);
  /* Headers an earlier filter changed while reading the body are passed on. */
  if (r->hsrc >= 0 && (size_t)r->hsrc != i) {
    wp_error *err = wp_pw_stream_set_headers(
        r->s[i], response ? WP_PW_RESPONSE_HEADERS : WP_PW_REQUEST_HEADERS, h, n);
    if (err) return err;
  }
  return response ? wp_pw_stream_response_body(r->s[i], body, len, true, a)
                  : wp_pw_stream_request_body(r->s[i], body, len, true, a);
}

/* After filter i passed the message on. */
static void passed(pw_run *r, size_t i) {
  if (r->phase == PH_REQ_BODY || r->phase == PH_RESP_BODY) r->bsrc = (ssize_t)i;
  r->hsrc = (ssize_t)i;
  r->at++;
}

static void next_phase(pw_run *r) {
  r->phase++;
  r->at = r->phase < PH_REQ_DONE ? r->first : 0;
  /* No body: the headers went with end of stream; there is no body phase. */
  size_t len = 1;
  if (r->phase == PH_REQ_BODY || r->phase == PH_RESP_BODY)
    cur_body(r, r->phase == PH_RESP_BODY, &len);
  if (!len) r->phase++;
}

static pw_result wait_for(pw_run *r, size_t i) {
  (void)i;
  r->waiting = true;
  r->got_event = false;
  r->paused_once = true;
  pthread_mutex_lock(&r->pw->lock);
  r->next = r->pw->paused;
  r->prev = NULL;
  if (r->next) r->next->prev = r;
  r->pw->paused = r;
  pthread_mutex_unlock(&r->pw->lock);
  r->suspend_fn(r->user); /* with the slot's mutex held: no event can come before it */
  return PWR_PAUSED;
}

/* What a resumed run does with the event it got. */
static pw_result take_event(pw_run *r) {
  if (r->shutting_down) {
    set_error(r, "%s%s", "", "the server is shutting down");
    return PWR_FAILED;
  }
  if (r->timed_out) return PWR_TIMEOUT;
  if (!r->got_event) return PWR_DONE;
  r->got_event = false;
  size_t i = index_of(r, r->at);
  switch (r->event) {
  case WP_PW_EVENT_CONTINUE_REQUEST:
  case WP_PW_EVENT_CONTINUE_RESPONSE: passed(r, i); return PWR_DONE;
  case WP_PW_EVENT_LOCAL_RESPONSE:
    r->local_resp = wp_pw_stream_get_local_response(r->s[i]);
    return PWR_LOCAL;
  case WP_PW_EVENT_CLOSE: return PWR_CLOSE;
  default:
    set_error(r, "filter '%s': %s", wp_pw_plugin_get_name(r->p[i]),
              "its VM failed while the request waited");
    return wp_pw_plugin_get_fail_open(r->p[i]) ? (r->at++, PWR_DONE) : PWR_FAILED;
  }
}

/* Runs the phases from where the run stopped up to `until` (slot mutex held). */
static pw_result run_phases(pw_run *r, int until) {
  pw_result res = take_event(r);
  if (res != PWR_DONE) return res;
  while (r->phase < until) {
    if (r->at >= r->n) {
      next_phase(r);
      continue;
    }
    size_t i = index_of(r, r->at);
    wp_pw_action a = WP_PW_CONTINUE;
    wp_error *err = step(r, i, &a);
    if (err) {
      set_error(r, "filter '%s': %s", wp_pw_plugin_get_name(r->p[i]), wp_error_get_message(err));
      srv_log("%s", r->error ? r->error : "filter failed");
      wp_error_free(err);
      if (!wp_pw_plugin_get_fail_open(r->p[i])) return PWR_FAILED;
      r->at++; /* fail-open: as if the filter were not there */
      continue;
    }
    switch (a) {
    case WP_PW_CONTINUE: passed(r, i); break;
    case WP_PW_PAUSE: return wait_for(r, i);
    case WP_PW_LOCAL_RESPONSE:
      r->local_resp = wp_pw_stream_get_local_response(r->s[i]);
      return PWR_LOCAL;
    case WP_PW_CLOSE: return PWR_CLOSE;
    }
  }
  return PWR_DONE;
}

static void set_metadata(pw_run *r, const char *route_name, const cJSON *meta,
                         const char *upstream) {
  for (size_t i = 0; i < r->n; i++) {
    if (route_name)
      wp_error_free(
          wp_pw_stream_set_property(r->s[i], "route_name", route_name, strlen(route_name)));
    if (upstream)
      wp_error_free(
          wp_pw_stream_set_property(r->s[i], "upstream.address", upstream, strlen(upstream)));
    for (const cJSON *kv = meta ? meta->child : NULL; kv; kv = kv->next) {
      char path[320];
      snprintf(path, sizeof path, "route_metadata.%s", kv->string);
      char *text = cJSON_IsString(kv) ? NULL : cJSON_PrintUnformatted(kv);
      const char *v = text ? text : kv->valuestring;
      if (v) wp_error_free(wp_pw_stream_set_property(r->s[i], path, v, strlen(v)));
      free(text);
    }
  }
}

pw_result pw_run_request(pw_run *r, wp_pw_plugin *const *chain, size_t n, const char *route_name,
                         const void *metadata, const char *upstream) {
  pthread_mutex_lock(&r->slot->lock);
  pw_result res = PWR_DONE;
  if (!r->waiting && (route_name || metadata || upstream) && !(chain && n))
    set_metadata(r, route_name, metadata, upstream);
  if (!r->waiting && chain && n) {
    /* A new chain (the route's after the server's): its filters see the request from the start. */
    /* The headers and body the earlier filters left (hsrc, bsrc) are their input. */
    if (r->phase == PH_REQ_DONE) r->phase = PH_REQ_HEADERS;
    r->first = r->n;
    res = add_streams(r, chain, n);
    r->at = r->first;
    if (route_name || metadata || upstream) set_metadata(r, route_name, metadata, upstream);
  }
  if (res == PWR_DONE) res = run_phases(r, PH_REQ_DONE);
  pthread_mutex_unlock(&r->slot->lock);
  return res;
}

pw_result pw_run_response(pw_run *r) {
  pthread_mutex_lock(&r->slot->lock);
  pw_result res = run_phases(r, PH_RESP_DONE);
  pthread_mutex_unlock(&r->slot->lock);
  return res;
}

/* r->out_h: the headers of h but the pseudo-headers (borrowed from h). */
static void split_out(pw_run *r, const wp_http_header *h, size_t n) {
  if (n > r->out_cap) {
    wp_http_header *o = malloc(n * sizeof *o);
    if (!o) {
      n = r->out_cap; /* the first ones only: better than none */
    } else {
      if (r->out_h != r->out_in) free(r->out_h);
      r->out_h = o;
      r->out_cap = n;
    }
  }
  r->out_n = 0;
  for (size_t i = 0; i < n; i++)
    if (h[i].name[0] != ':') r->out_h[r->out_n++] = h[i];
}

void pw_run_request_out(pw_run *r, const char **method, const char **path, const char **authority,
                        const wp_http_header **headers, size_t *n, const uint8_t **body,
                        size_t *len) {
  pthread_mutex_lock(&r->slot->lock);
  size_t hn;
  const wp_http_header *h = cur_headers(r, false, &hn);
  *method = value_of(h, hn, ":method");
  *path = value_of(h, hn, ":path");
  *authority = value_of(h, hn, ":authority");
  split_out(r, h, hn);
  *headers = r->out_h;
  *n = r->out_n;
  *body = cur_body(r, false, len);
  pthread_mutex_unlock(&r->slot->lock);
}

void pw_run_response_out(pw_run *r, int *status, const wp_http_header **headers, size_t *n,
                         const uint8_t **body, size_t *len) {
  pthread_mutex_lock(&r->slot->lock);
  size_t hn;
  const wp_http_header *h = cur_headers(r, true, &hn);
  const char *st = value_of(h, hn, ":status");
  *status = *st ? atoi(st) : 500;
  split_out(r, h, hn);
  *headers = r->out_h;
  *n = r->out_n;
  *body = cur_body(r, true, len);
  pthread_mutex_unlock(&r->slot->lock);
}

const wp_pw_local_response *pw_run_local(pw_run *r) { return r->local_resp; }
const char *pw_run_error(pw_run *r) { return r->error ? r->error : "a filter failed"; }
