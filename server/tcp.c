/*
 * tcp.c - the TCP listeners of wasmplug serve ("tcp" in the config): every
 * accepted connection is proxied to its listener's upstream through the
 * listener's Proxy-Wasm network filters (docs/serve.md, "TCP listeners").
 *
 * Threads. One thread runs every TCP listener of the config with epoll on
 * non-blocking sockets (level-triggered). The listeners (listen addresses,
 * upstreams, filter names) are fixed when the server starts; a reload that
 * changes "tcp" is refused (tcp_check_change). Each connection takes a
 * reference on the state published when it was accepted and runs the
 * filters of that state, so a reload that changes a filter's file or
 * configuration applies to the connections accepted after it, and the old
 * filters stay until the last connection that uses them ends.
 *
 * Locking. Filters run on this thread's Proxy-Wasm worker (pw_lock_worker),
 * held only while calling the library, never while blocking. Stream events
 * (a paused filter continuing, closing, its VM failing) come from the filter
 * driver thread under the same worker mutex, through on_event: it records
 * them in the connection (under ev_lock) and wakes the loop through an
 * eventfd; the work is done here. Lock order: worker, then ev_lock; this
 * thread never takes the worker while holding ev_lock. A connection's
 * streams are freed under the worker mutex, after which no event names them.
 *
 * Data. Per direction a connection keeps `in` (read, not yet given to the
 * filters: between a read and the filters, or while a filter's
 * proxy_on_new_connection is paused), what
 * each filter holds while paused (its stream's buffer), and `out` (through
 * every filter, to be written). Downstream data goes through the filters in
 * chain order, upstream data in reverse; the output of one (its buffer once
 * it continues) is the input of the next. A filter that pauses keeps its
 * buffer and is called again with more data appended (as Envoy does); its
 * WP_PW_EVENT_CONTINUE_REQUEST / _RESPONSE passes what it holds to the next
 * filter. Reading stops while a direction holds TCP_PENDING_MAX bytes in
 * all (backpressure). The end of a stream (EOF) goes through the filters as
 * end_of_stream, then the destination is shut for writing (half-close); the
 * connection ends when both directions have ended, on an error of either
 * socket, when a filter closes it or fails (unless fail_open), or when one
 * direction has ended and nothing moved for idle_timeout_s.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server.h"

#define TCP_PENDING_MAX ((size_t)1 << 20) /* bytes held per direction before reading stops */
#define TCP_READ_CHUNK 65536
#define TCP_CONNECT_TIMEOUT_MS 10000
#define TCP_KEEP_CAP (256 * 1024) /* an emptied buffer larger than this is freed */

enum { DOWN = 0, UP = 1 }; /* DOWN: client -> upstream; UP: upstream -> client */
enum { H_WAKE, H_LISTENER, H_CLIENT, H_UPSTREAM };
enum { EV_CONT_REQ = 1, EV_CONT_RESP = 2, EV_CLOSE = 4, EV_FAILED = 8 };
/* Who ended a connection (for the close callbacks' `remote`). */
enum { BY_US = -1, BY_CLIENT = DOWN, BY_UPSTREAM = UP };

typedef struct bytes {
  uint8_t *p;
  size_t off, len, cap; /* the data is p[off, off + len) */
} bytes;

typedef struct handle {
  int kind;
  void *obj;
} handle;

typedef struct tcp_listener {
  handle h;
  int fd;
  size_t index; /* in config->tcp */
  char *upstream;
  char **filters;
  size_t nfilters;
  struct sockaddr_storage up_addr;
  socklen_t up_len;
  char local[80]; /* the bound address */
  uint64_t resume_ns; /* accepting paused (out of descriptors) until then; 0: not paused */
} tcp_listener;

struct tcp_conn;
typedef struct stream_ref {
  struct tcp_conn *c;
  size_t i;
} stream_ref;

typedef struct tcp_dir {
  bytes in, out;
  size_t *held;   /* per filter: bytes in its buffer while it pauses */
  bool *held_eos; /* per filter: it paused on the end of the stream */
  bool eof;       /* the source ended */
  bool eos_fed;   /* ... and the end was given to the filters */
  bool eos_out;   /* the end passed every filter: shut the destination once out is written */
  bool shut;      /* the destination was shut for writing */
} tcp_dir;

typedef struct tcp_conn {
  struct tcp_srv *t;
  tcp_listener *l;
  handle hc, hu;
  int cfd, ufd;
  uint32_t cmask, umask; /* epoll interest registered (0: not in the epoll set) */
  uint64_t id;
  char remote[80], local[80];
  srv_state *st;
  size_t n;
  wp_pw_plugin **p;
  wp_pw_stream **s;
  stream_ref *refs;
  bool *bypass;  /* failed with fail_open: the data passes it unchanged */
  unsigned *ev;  /* EV_* bits per stream, from the driver (under ev_lock) */
  bool on_ready; /* in t->ready (under ev_lock) */
  struct tcp_conn *ready_next;
  size_t ninit;     /* streams made so far */
  bool init_paused; /* stream ninit - 1 paused in proxy_on_new_connection */
  bool connecting, connected;
  bool down_closed, up_closed; /* the filters heard of it */
  bool dead;
  uint64_t connect_ns, last_ns; /* when the connect started; the last byte moved */
  tcp_dir d[2];
  struct tcp_conn *prev, *next; /* t->conns, or t->graveyard (next only) */
} tcp_conn;

struct tcp_srv {
  wp_server *srv;
  srv_pw *pw;
  pthread_t thread;
  bool running;
  atomic_bool stop;
  int epfd, evfd;
  handle hwake;
  tcp_listener *ls;
  size_t nls;
  tcp_conn *conns, *graveyard;
  size_t nconns;
  unsigned max_conns;
  uint64_t idle_ns;
  uint64_t next_id;
  uint64_t last_refusal_log_ns;
  bytes sa, sb; /* scratch for data between filters */
  uint8_t *rbuf;
  pthread_mutex_t ev_lock;
  tcp_conn *ready;
  tcp_conn **batch; /* the ready list taken by the loop */
  size_t batch_cap;
};

#define COUNT(t, field, d) atomic_fetch_add_explicit(&(t)->srv->field, (d), memory_order_relaxed)

/* ---- bytes ------------------------------------------------------------------------------- */

static bool bytes_reserve(bytes *b, size_t more) {
  if (b->cap - b->off - b->len >= more) return true;
  if (b->off) {
    memmove(b->p, b->p + b->off, b->len);
    b->off = 0;
    if (b->cap - b->len >= more) return true;
  }
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->len < more) cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) return false;
  b->p = p;
  b->cap = cap;
  return true;
}

static bool bytes_put(bytes *b, const void *data, size_t n) {
  if (!n) return true;
  if (!bytes_reserve(b, n)) return false;
  memcpy(b->p + b->off + b->len, data, n);
  b->len += n;
  return true;
}

/* Drops n bytes from the front; an emptied large buffer is given back. */
static void bytes_consume(bytes *b, size_t n) {
  b->off += n;
  b->len -= n;
  if (b->len) return;
  b->off = 0;
  if (b->cap > TCP_KEEP_CAP) {
    free(b->p);
    *b = (bytes){0};
  }
}

static void bytes_free(bytes *b) {
  free(b->p);
  *b = (bytes){0};
}

/* ---- small helpers ------------------------------------------------------------------------ */

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t size) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    snprintf(out, size, "%s:%u", host, port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    snprintf(out, size, "[%s]:%u", host, port);
  } else {
    snprintf(out, size, "?");
  }
}

static void set_nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static const char *filter_name(const tcp_conn *c, size_t i) { return c->l->filters[i]; }

/* Bytes a direction holds: not yet through the filters, held by them, or not yet written. */
static size_t pending(const tcp_conn *c, int dir) {
  const tcp_dir *d = &c->d[dir];
  size_t n = d->in.len + d->out.len;
  for (size_t i = 0; i < c->n; i++) n += d->held[i];
  return n;
}

static bool init_done(const tcp_conn *c) { return c->ninit == c->n && !c->init_paused; }

static bool can_read(const tcp_conn *c, int dir) {
  const tcp_dir *d = &c->d[dir];
  if (d->eof || pending(c, dir) >= TCP_PENDING_MAX) return false;
  return dir == DOWN ? c->cfd >= 0 : c->connected;
}

/* ---- events from the driver thread ------------------------------------------------------- */

static void wake_loop(struct tcp_srv *t) {
  uint64_t one = 1;
  ssize_t w = write(t->evfd, &one, sizeof one);
  (void)w; /* EAGAIN: the counter is already non-zero, the loop will wake */
}

/* On the driver thread, the worker's mutex held: record and wake the loop. */
static void on_event(void *user, wp_pw_stream *s, wp_pw_event ev) {
  (void)s;
  stream_ref *r = user;
  tcp_conn *c = r->c;
  struct tcp_srv *t = c->t;
  unsigned bit = ev == WP_PW_EVENT_CONTINUE_REQUEST    ? EV_CONT_REQ
                 : ev == WP_PW_EVENT_CONTINUE_RESPONSE ? EV_CONT_RESP
                 : ev == WP_PW_EVENT_FAILED            ? EV_FAILED
                                                       : EV_CLOSE; /* CLOSE, LOCAL_RESPONSE */
  pthread_mutex_lock(&t->ev_lock);
  c->ev[r->i] |= bit;
  if (!c->on_ready) {
    c->on_ready = true;
    c->ready_next = t->ready;
    t->ready = c;
  }
  pthread_mutex_unlock(&t->ev_lock);
  wake_loop(t);
}

/* ---- ending a connection ------------------------------------------------------------------ */

static void log_conn(const tcp_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_conn(const tcp_conn *c, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  srv_log("tcp %s: connection %llu from %s: %s", c->l->local, (unsigned long long)c->id, c->remote,
          msg);
}

/* Tells the filters a side closed (downstream: dir DOWN); errors are logged only. */
static void close_all(tcp_conn *c, wp_pw_worker *w, int dir, bool remote) {
  (void)w;
  for (size_t i = 0; i < c->ninit; i++) {
    if (!c->s[i] || c->bypass[i]) continue;
    wp_error *err = dir == DOWN ? wp_pw_stream_downstream_close(c->s[i], remote)
                                : wp_pw_stream_upstream_close(c->s[i], remote);
    if (err) {
      COUNT(c->t, tcp_filter_failures, 1);
      log_conn(c, "filter '%s' failed on close: %s", filter_name(c, i), wp_error_get_message(err));
      wp_error_free(err);
    }
  }
}

static void epoll_set(struct tcp_srv *t, int fd, handle *h, uint32_t *cur, uint32_t want) {
  if (want == *cur) return;
  struct epoll_event e = {.events = want, .data.ptr = h};
  int op = !*cur ? EPOLL_CTL_ADD : !want ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl(t->epfd, op, fd, &e) == 0) *cur = want;
}

/* Ends the connection: the filters hear of the closes they have not heard of
   (`by`: who closed), their streams are freed, the sockets closed; the
   memory goes after the loop's current batch of events (conn_sweep). */
static void conn_end(tcp_conn *c, int by) {
  if (c->dead) return;
  c->dead = true;
  struct tcp_srv *t = c->t;
  if (c->ninit) {
    wp_pw_worker *w = pw_lock_worker(t->pw);
    if (!c->down_closed) close_all(c, w, DOWN, by == BY_CLIENT);
    if (c->connected && !c->up_closed) close_all(c, w, UP, by == BY_UPSTREAM);
    c->down_closed = c->up_closed = true;
    for (size_t i = 0; i < c->ninit; i++) {
      wp_pw_stream_free(c->s[i]);
      c->s[i] = NULL;
    }
    pw_unlock_worker(t->pw);
  }
  /* No event can name these streams now: forget any recorded. */
  pthread_mutex_lock(&t->ev_lock);
  if (c->on_ready) {
    for (tcp_conn **pp = &t->ready; *pp; pp = &(*pp)->ready_next)
      if (*pp == c) {
        *pp = c->ready_next;
        break;
      }
    c->on_ready = false;
  }
  pthread_mutex_unlock(&t->ev_lock);
  if (c->cfd >= 0) close(c->cfd);
  if (c->ufd >= 0) close(c->ufd);
  c->cfd = c->ufd = -1;
  srv_state *st = c->st;
  c->st = NULL;
  state_release(st); /* may free an old state: no worker mutex held here */
  if (c->prev) c->prev->next = c->next;
  else t->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  c->prev = NULL;
  c->next = t->graveyard;
  t->graveyard = c;
  t->nconns--;
  atomic_fetch_sub_explicit(&t->srv->tcp_active, 1, memory_order_relaxed);
}

static void conn_free(tcp_conn *c) {
  for (int d = 0; d < 2; d++) {
    bytes_free(&c->d[d].in);
    bytes_free(&c->d[d].out);
    free(c->d[d].held);
    free(c->d[d].held_eos);
  }
  free(c->p);
  free(c->s);
  free(c->refs);
  free(c->bypass);
  free(c->ev);
  free(c);
}

static void conn_sweep(struct tcp_srv *t) {
  while (t->graveyard) {
    tcp_conn *c = t->graveyard;
    t->graveyard = c->next;
    conn_free(c);
  }
}

/* A filter failed (err, or NULL for WP_PW_EVENT_FAILED): true if the
   connection goes on without it (fail_open), false if it was ended. */
static bool filter_failed(tcp_conn *c, size_t i, wp_error *err) {
  bool open = wp_pw_plugin_get_fail_open(c->p[i]);
  COUNT(c->t, tcp_filter_failures, 1);
  log_conn(c, "filter '%s' failed: %s; %s", filter_name(c, i),
           err ? wp_error_get_message(err) : "its VM failed",
           open ? "passing the data through (fail_open)" : "closing the connection");
  wp_error_free(err);
  if (!open) {
    conn_end(c, BY_US);
    return false;
  }
  c->bypass[i] = true;
  return true;
}

/* ---- the filters ----------------------------------------------------------------------------- */

static wp_pw_buffer dir_buffer(int dir) {
  return dir == DOWN ? WP_PW_DOWNSTREAM_DATA : WP_PW_UPSTREAM_DATA;
}

/* The filter at position pos of a direction's order. */
static size_t at_pos(const tcp_conn *c, int dir, size_t pos) {
  return dir == DOWN ? pos : c->n - 1 - pos;
}

/* The scratch buffer that is not `cur`, emptied. */
static bytes *other_scratch(struct tcp_srv *t, const bytes *cur) {
  bytes *b = cur == &t->sa ? &t->sb : &t->sa;
  b->off = b->len = 0;
  return b;
}

/*
 * Runs data (with eos) through the filters of `dir` from position `pos` on;
 * what passes them all goes to the direction's `out`. `cur` is the scratch
 * buffer data lives in, or NULL if the caller owns it. False if the
 * connection was ended.
 */
static bool run_chain(tcp_conn *c, int dir, size_t pos, const bytes *cur, const uint8_t *data,
                      size_t len, bool eos) {
  struct tcp_srv *t = c->t;
  tcp_dir *d = &c->d[dir];
  wp_pw_buffer buf = dir_buffer(dir);
  wp_pw_worker *w = NULL;
  for (; pos < c->n; pos++) {
    if (!len && !eos) break;
    size_t i = at_pos(c, dir, pos);
    if (c->bypass[i] || !c->s[i]) continue;
    if (!w) w = pw_lock_worker(t->pw);
    wp_pw_action a = WP_PW_CONTINUE;
    wp_error *err = dir == DOWN ? wp_pw_stream_downstream_data(c->s[i], data, len, eos, &a)
                                : wp_pw_stream_upstream_data(c->s[i], data, len, eos, &a);
    size_t blen;
    const uint8_t *b = wp_pw_stream_get_buffer(c->s[i], buf, &blen);
    if (err) {
      /* Fail-open: what it held before, and this chunk, unchanged. */
      size_t held = d->held[i] < blen ? d->held[i] : blen;
      bytes *nx = other_scratch(t, cur);
      bool ok = bytes_put(nx, b, held) && bytes_put(nx, data, len);
      wp_pw_stream_drain_buffer(c->s[i], buf);
      eos = eos || d->held_eos[i];
      d->held[i] = 0;
      d->held_eos[i] = false;
      pw_unlock_worker(t->pw);
      w = NULL;
      if (!filter_failed(c, i, err)) return false;
      if (!ok) {
        log_conn(c, "out of memory");
        conn_end(c, BY_US);
        return false;
      }
      cur = nx;
      data = nx->p + nx->off;
      len = nx->len;
      continue;
    }
    if (a == WP_PW_PAUSE) { /* it keeps its buffer until it continues or gets more */
      d->held[i] = blen;
      d->held_eos[i] = eos;
      pw_unlock_worker(t->pw);
      return true;
    }
    if (a != WP_PW_CONTINUE) { /* CLOSE (LOCAL_RESPONSE means nothing on TCP: the same) */
      pw_unlock_worker(t->pw);
      log_conn(c, "filter '%s' closed the connection", filter_name(c, i));
      conn_end(c, BY_US);
      return false;
    }
    bytes *nx = other_scratch(t, cur);
    bool ok = bytes_put(nx, b, blen);
    wp_pw_stream_drain_buffer(c->s[i], buf);
    d->held[i] = 0;
    d->held_eos[i] = false;
    if (!ok) {
      pw_unlock_worker(t->pw);
      log_conn(c, "out of memory");
      conn_end(c, BY_US);
      return false;
    }
    cur = nx;
    data = nx->p + nx->off;
    len = nx->len;
  }
  if (w) pw_unlock_worker(t->pw);
  if (pos < c->n) return true; /* nothing left to pass on */
  if (!bytes_put(&d->out, data, len)) {
    log_conn(c, "out of memory");
    conn_end(c, BY_US);
    return false;
  }
  if (eos) d->eos_out = true;
  return true;
}

/* Filter i of `dir` continued (or failed open): what it holds goes on. */
static bool release(tcp_conn *c, int dir, size_t i) {
  struct tcp_srv *t = c->t;
  tcp_dir *d = &c->d[dir];
  bool eos = d->held_eos[i];
  bytes *nx = other_scratch(t, NULL);
  bool ok = true;
  if (c->s[i]) {
    wp_pw_buffer buf = dir_buffer(dir);
    pw_lock_worker(t->pw);
    size_t blen;
    const uint8_t *b = wp_pw_stream_get_buffer(c->s[i], buf, &blen);
    /* A filter that failed open passes on what it held, as it held it. */
    if (c->bypass[i] && blen > d->held[i]) blen = d->held[i];
    ok = bytes_put(nx, b, blen);
    wp_pw_stream_drain_buffer(c->s[i], buf);
    pw_unlock_worker(t->pw);
  }
  d->held[i] = 0;
  d->held_eos[i] = false;
  if (!ok) {
    log_conn(c, "out of memory");
    conn_end(c, BY_US);
    return false;
  }
  if (!nx->len && !eos) return true;
  size_t pos = dir == DOWN ? i + 1 : c->n - i;
  return run_chain(c, dir, pos, nx, nx->p + nx->off, nx->len, eos);
}

/* Makes the streams not made yet, in chain order, until one pauses. */
static bool conn_init(tcp_conn *c) {
  struct tcp_srv *t = c->t;
  while (c->ninit < c->n && !c->init_paused) {
    size_t i = c->ninit;
    wp_pw_stream_info info = {.source_address = c->remote,
                              .destination_address = c->local,
                              .upstream_address = c->l->upstream,
                              .connection_id = c->id};
    wp_pw_action a = WP_PW_CONTINUE;
    wp_pw_worker *w = pw_lock_worker(t->pw);
    wp_error *err = wp_pw_stream_new_tcp(w, c->p[i], &info, on_event, &c->refs[i], &c->s[i], &a);
    pw_unlock_worker(t->pw);
    c->ninit++;
    if (err) {
      c->s[i] = NULL;
      if (!filter_failed(c, i, err)) return false;
      continue;
    }
    if (a == WP_PW_PAUSE) {
      c->init_paused = true;
    } else if (a != WP_PW_CONTINUE) {
      log_conn(c, "filter '%s' closed the connection", filter_name(c, i));
      conn_end(c, BY_US);
      return false;
    }
  }
  return true;
}

/* The events the driver recorded for this connection. */
static bool handle_events(tcp_conn *c) {
  struct tcp_srv *t = c->t;
  for (size_t i = 0; i < c->n; i++) {
    pthread_mutex_lock(&t->ev_lock);
    unsigned ev = c->ev[i];
    c->ev[i] = 0;
    pthread_mutex_unlock(&t->ev_lock);
    if (!ev || c->bypass[i] || !c->s[i]) continue;
    if (ev & EV_FAILED) {
      if (!filter_failed(c, i, NULL)) return false;
      if (!release(c, DOWN, i) || !release(c, UP, i)) return false;
      continue;
    }
    if (ev & EV_CLOSE) {
      log_conn(c, "filter '%s' closed the connection", filter_name(c, i));
      conn_end(c, BY_US);
      return false;
    }
    if (ev & EV_CONT_REQ) {
      if (c->init_paused && i == c->ninit - 1) c->init_paused = false;
      else if (!release(c, DOWN, i)) return false;
    }
    if ((ev & EV_CONT_RESP) && !release(c, UP, i)) return false;
  }
  return true;
}

/* ---- sockets ------------------------------------------------------------------------------- */

static void upstream_failed(tcp_conn *c, int e) {
  COUNT(c->t, tcp_upstream_failures, 1);
  log_conn(c, "upstream %s: %s", c->l->upstream, strerror(e));
  conn_end(c, BY_US);
}

static bool start_connect(tcp_conn *c) {
  tcp_listener *l = c->l;
  c->ufd = socket(l->up_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->ufd < 0) {
    upstream_failed(c, errno);
    return false;
  }
  set_nodelay(c->ufd);
  c->connecting = true;
  c->connect_ns = srv_now_ns();
  if (connect(c->ufd, (const struct sockaddr *)&l->up_addr, l->up_len) == 0) {
    c->connecting = false;
    c->connected = true;
  } else if (errno != EINPROGRESS) {
    upstream_failed(c, errno);
    return false;
  }
  return true;
}

/* Reads once from the source of `dir`; false if the connection was ended. */
static bool read_side(tcp_conn *c, int dir) {
  struct tcp_srv *t = c->t;
  tcp_dir *d = &c->d[dir];
  if (!can_read(c, dir)) return true;
  int fd = dir == DOWN ? c->cfd : c->ufd;
  ssize_t r = recv(fd, t->rbuf, TCP_READ_CHUNK, 0);
  if (r > 0) {
    if (!bytes_put(&d->in, t->rbuf, (size_t)r)) {
      log_conn(c, "out of memory");
      conn_end(c, BY_US);
      return false;
    }
    COUNT(t, tcp_bytes[dir], (unsigned long long)r);
    c->last_ns = srv_now_ns();
  } else if (r == 0) {
    d->eof = true;
    c->last_ns = srv_now_ns();
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    if (dir == UP) {
      COUNT(t, tcp_upstream_failures, 1);
      log_conn(c, "upstream %s: %s", c->l->upstream, strerror(errno));
    }
    conn_end(c, dir == DOWN ? BY_CLIENT : BY_UPSTREAM);
    return false;
  }
  return true;
}

/* Writes what `dir` has to its destination; shuts it after the end. */
static bool flush(tcp_conn *c, int dir) {
  tcp_dir *d = &c->d[dir];
  int fd = dir == DOWN ? c->ufd : c->cfd;
  if (dir == DOWN && !c->connected) return true;
  while (d->out.len) {
    ssize_t w = send(fd, d->out.p + d->out.off, d->out.len, MSG_NOSIGNAL);
    if (w > 0) {
      bytes_consume(&d->out, (size_t)w);
      c->last_ns = srv_now_ns();
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (dir == DOWN) {
      COUNT(c->t, tcp_upstream_failures, 1);
      log_conn(c, "upstream %s: %s", c->l->upstream, strerror(errno));
    }
    conn_end(c, dir == DOWN ? BY_UPSTREAM : BY_CLIENT);
    return false;
  }
  if (!d->out.len && d->eos_out && !d->shut) {
    shutdown(fd, SHUT_WR);
    d->shut = true;
  }
  return true;
}

/* Gives a direction's `in` (and its end) to the filters. */
static bool feed(tcp_conn *c, int dir) {
  tcp_dir *d = &c->d[dir];
  if (!d->in.len && !(d->eof && !d->eos_fed)) return true;
  bool eos = d->eof;
  d->eos_fed = d->eof;
  if (!c->n) { /* no filters: straight through */
    if (!bytes_put(&d->out, d->in.p + d->in.off, d->in.len)) {
      log_conn(c, "out of memory");
      conn_end(c, BY_US);
      return false;
    }
    bytes_consume(&d->in, d->in.len);
    if (eos) d->eos_out = true;
    return true;
  }
  /* The filters copy the chunk into their buffers: `in` can be emptied after. */
  bool ok = run_chain(c, dir, 0, NULL, d->in.p + d->in.off, d->in.len, eos);
  if (ok) bytes_consume(&d->in, d->in.len);
  return ok;
}

/* The side's peer ended its stream and the filters had it: tell them it closed. */
static bool closed_side(tcp_conn *c, int dir) {
  bool *done = dir == DOWN ? &c->down_closed : &c->up_closed;
  if (*done || !c->d[dir].eos_fed) return true;
  *done = true;
  struct tcp_srv *t = c->t;
  for (size_t i = 0; i < c->ninit; i++) {
    if (!c->s[i] || c->bypass[i]) continue;
    pw_lock_worker(t->pw);
    wp_error *err = dir == DOWN ? wp_pw_stream_downstream_close(c->s[i], true)
                                : wp_pw_stream_upstream_close(c->s[i], true);
    pw_unlock_worker(t->pw);
    if (err && !filter_failed(c, i, err)) return false;
  }
  return true;
}

static void update_interest(tcp_conn *c) {
  struct tcp_srv *t = c->t;
  uint32_t cm = (can_read(c, DOWN) ? EPOLLIN : 0) | (c->d[UP].out.len ? EPOLLOUT : 0);
  uint32_t um = 0;
  if (c->connecting) um = EPOLLOUT;
  else if (c->connected) um = (can_read(c, UP) ? EPOLLIN : 0) | (c->d[DOWN].out.len ? EPOLLOUT : 0);
  epoll_set(t, c->cfd, &c->hc, &c->cmask, cm);
  if (c->ufd >= 0) epoll_set(t, c->ufd, &c->hu, &c->umask, um);
}

/* Does whatever can be done now for the connection. */
static void pump(tcp_conn *c) {
  if (c->dead || !handle_events(c) || !conn_init(c)) return;
  if (!init_done(c)) {
    update_interest(c);
    return;
  }
  if (c->ufd < 0 && !start_connect(c)) return;
  if (!feed(c, DOWN) || !closed_side(c, DOWN)) return;
  if (c->connected && (!feed(c, UP) || !closed_side(c, UP))) return;
  if (!flush(c, DOWN) || !flush(c, UP)) return;
  if (c->d[DOWN].shut && c->d[UP].shut) {
    conn_end(c, BY_US); /* both ended; the filters heard of both closes */
    return;
  }
  update_interest(c);
}

static void conn_io(tcp_conn *c, bool client, uint32_t events) {
  if (c->dead) return;
  if (!client && c->connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
    if (e) {
      upstream_failed(c, e);
      return;
    }
    c->connecting = false;
    c->connected = true;
    c->last_ns = srv_now_ns();
  } else if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    int dir = client ? DOWN : UP;
    if (can_read(c, dir)) {
      if (!read_side(c, dir)) return;
    } else if (events & EPOLLERR) {
      int e = 0;
      socklen_t len = sizeof e;
      getsockopt(client ? c->cfd : c->ufd, SOL_SOCKET, SO_ERROR, &e, &len);
      if (!client) {
        COUNT(c->t, tcp_upstream_failures, 1);
        log_conn(c, "upstream %s: %s", c->l->upstream, strerror(e ? e : EIO));
      }
      conn_end(c, client ? BY_CLIENT : BY_UPSTREAM);
      return;
    }
  }
  pump(c);
}

/* ---- accepting ------------------------------------------------------------------------------ */

/* The filters of listener l in the state (references in st->filters). */
static bool resolve_chain(const srv_state *st, const tcp_listener *l, wp_pw_plugin **out) {
  for (size_t k = 0; k < l->nfilters; k++) {
    out[k] = NULL;
    for (size_t i = 0; i < st->config->nfilters && !out[k]; i++)
      if (strcmp(st->config->filters[i].name, l->filters[k]) == 0) out[k] = st->filters[i];
    if (!out[k]) return false;
  }
  return true;
}

static void conn_new(struct tcp_srv *t, tcp_listener *l, int fd,
                     const struct sockaddr_storage *peer) {
  tcp_conn *c = calloc(1, sizeof *c);
  size_t n = l->nfilters, m = n ? n : 1;
  if (c) {
    c->p = calloc(m, sizeof *c->p);
    c->s = calloc(m, sizeof *c->s);
    c->refs = calloc(m, sizeof *c->refs);
    c->bypass = calloc(m, sizeof *c->bypass);
    c->ev = calloc(m, sizeof *c->ev);
    for (int d = 0; d < 2; d++) {
      c->d[d].held = calloc(m, sizeof *c->d[d].held);
      c->d[d].held_eos = calloc(m, sizeof *c->d[d].held_eos);
    }
  }
  if (!c || !c->p || !c->s || !c->refs || !c->bypass || !c->ev || !c->d[0].held ||
      !c->d[0].held_eos || !c->d[1].held || !c->d[1].held_eos) {
    srv_log("tcp %s: out of memory: connection refused", l->local);
    if (c) conn_free(c);
    close(fd);
    return;
  }
  COUNT(t, tcp_connections, 1);
  atomic_fetch_add_explicit(&t->srv->tcp_active, 1, memory_order_relaxed);
  c->t = t;
  c->l = l;
  c->n = n;
  c->cfd = fd;
  c->ufd = -1;
  c->id = ++t->next_id;
  c->hc = (handle){H_CLIENT, c};
  c->hu = (handle){H_UPSTREAM, c};
  c->last_ns = srv_now_ns();
  for (size_t i = 0; i < n; i++) c->refs[i] = (stream_ref){c, i};
  addr_text(peer, c->remote, sizeof c->remote);
  struct sockaddr_storage me;
  socklen_t melen = sizeof me;
  if (getsockname(fd, (struct sockaddr *)&me, &melen) == 0)
    addr_text(&me, c->local, sizeof c->local);
  else snprintf(c->local, sizeof c->local, "%s", l->local);
  set_nodelay(fd);
  c->next = t->conns;
  if (t->conns) t->conns->prev = c;
  t->conns = c;
  t->nconns++;
  c->st = state_acquire(t->srv);
  if (!c->st || !resolve_chain(c->st, l, c->p)) { /* reloads may not change "tcp": not expected */
    log_conn(c, "its filters are not in the running configuration");
    conn_end(c, BY_US);
    return;
  }
  pump(c);
}

static void accept_some(struct tcp_srv *t, tcp_listener *l) {
  for (int k = 0; k < 64; k++) {
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      /* Out of descriptors or memory: stop accepting for a moment (the
         listener stays readable and would spin the loop). */
      srv_log("tcp %s: accept: %s (accepting again in a second)", l->local, strerror(errno));
      uint32_t none = 0, cur = EPOLLIN;
      epoll_set(t, l->fd, &l->h, &cur, none);
      l->resume_ns = srv_now_ns() + 500000000u;
      return;
    }
    if (t->nconns >= t->max_conns) {
      uint64_t now = srv_now_ns();
      if (now - t->last_refusal_log_ns > 1000000000u) {
        t->last_refusal_log_ns = now;
        srv_log("tcp %s: %zu connections open (limits.max_connections): refusing new ones",
                l->local, t->nconns);
      }
      COUNT(t, tcp_refused, 1);
      close(fd);
      continue;
    }
    conn_new(t, l, fd, &peer);
  }
}

/* ---- the loop ------------------------------------------------------------------------------- */

/* Connections stuck connecting, or idle with one direction ended; paused listeners. */
static void sweep_timers(struct tcp_srv *t, uint64_t now) {
  for (tcp_conn *c = t->conns, *nx; c; c = nx) {
    nx = c->next;
    if (c->connecting && now - c->connect_ns > (uint64_t)TCP_CONNECT_TIMEOUT_MS * 1000000u) {
      upstream_failed(c, ETIMEDOUT);
    } else if ((c->d[DOWN].eof || c->d[UP].eof) && now - c->last_ns > t->idle_ns) {
      conn_end(c, BY_US);
    }
  }
  for (size_t i = 0; i < t->nls; i++) {
    tcp_listener *l = &t->ls[i];
    if (l->resume_ns && now >= l->resume_ns) {
      uint32_t cur = 0;
      epoll_set(t, l->fd, &l->h, &cur, EPOLLIN);
      l->resume_ns = 0;
    }
  }
}

static void *tcp_main(void *arg) {
  struct tcp_srv *t = arg;
  struct epoll_event evs[64];
  uint64_t next_sweep = srv_now_ns() + 1000000000u;
  while (!atomic_load(&t->stop)) {
    int n = epoll_wait(t->epfd, evs, 64, t->conns ? 1000 : 100);
    if (n < 0 && errno != EINTR) {
      srv_log("tcp: epoll_wait: %s", strerror(errno));
      break;
    }
    for (int k = 0; k < n; k++) {
      handle *h = evs[k].data.ptr;
      switch (h->kind) {
      case H_WAKE: {
        uint64_t v;
        ssize_t r = read(t->evfd, &v, sizeof v);
        (void)r;
        /* Taken into an array: on_event may link a connection again at once. */
        size_t nb = 0;
        pthread_mutex_lock(&t->ev_lock);
        for (tcp_conn *c = t->ready; c; c = c->ready_next) {
          if (nb == t->batch_cap) {
            size_t cap = t->batch_cap ? t->batch_cap * 2 : 64;
            tcp_conn **b = realloc(t->batch, cap * sizeof *b);
            if (!b) break; /* the rest stay ready for the next wake */
            t->batch = b;
            t->batch_cap = cap;
          }
          t->batch[nb++] = c;
        }
        for (size_t b = 0; b < nb; b++) t->batch[b]->on_ready = false;
        if (nb) {
          /* Unlink what was taken (the first nb of the list). */
          tcp_conn *c = t->ready;
          for (size_t b = 0; b < nb; b++) c = c->ready_next;
          t->ready = c;
          if (c) wake_loop(t);
        }
        pthread_mutex_unlock(&t->ev_lock);
        /* A connection of the batch is not freed before the loop's sweep. */
        for (size_t b = 0; b < nb; b++) pump(t->batch[b]);
        break;
      }
      case H_LISTENER: accept_some(t, h->obj); break;
      case H_CLIENT: conn_io(h->obj, true, evs[k].events); break;
      case H_UPSTREAM: conn_io(h->obj, false, evs[k].events); break;
      }
    }
    conn_sweep(t);
    uint64_t now = srv_now_ns();
    if (now >= next_sweep) {
      sweep_timers(t, now);
      conn_sweep(t);
      next_sweep = now + 1000000000u;
    }
  }
  while (t->conns) conn_end(t->conns, BY_US);
  conn_sweep(t);
  return NULL;
}

/* ---- start and stop ------------------------------------------------------------------------- */

static void tcp_free(struct tcp_srv *t) {
  for (size_t i = 0; i < t->nls; i++) {
    tcp_listener *l = &t->ls[i];
    if (l->fd >= 0) close(l->fd);
    free(l->upstream);
    for (size_t k = 0; k < l->nfilters; k++) free(l->filters[k]);
    free(l->filters);
  }
  free(t->ls);
  if (t->epfd >= 0) close(t->epfd);
  if (t->evfd >= 0) close(t->evfd);
  bytes_free(&t->sa);
  bytes_free(&t->sb);
  free(t->rbuf);
  free(t->batch);
  pthread_mutex_destroy(&t->ev_lock);
  free(t);
}

static wp_error *open_listener(struct tcp_srv *t, const cfg_tcp *ct, size_t i, tcp_listener *l) {
  char what[64];
  struct sockaddr_storage ss;
  socklen_t len;
  l->index = i;
  snprintf(what, sizeof what, "tcp[%zu].upstream", i);
  wp_error *err = srv_resolve(what, ct->upstream, &l->up_addr, &l->up_len);
  if (err) return err;
  snprintf(what, sizeof what, "tcp[%zu].listen", i);
  if ((err = srv_resolve(what, ct->listen, &ss, &len))) return err;
  if (!(l->upstream = strdup(ct->upstream))) return srv_no_memory();
  if (ct->nfilters && !(l->filters = calloc(ct->nfilters, sizeof *l->filters)))
    return srv_no_memory();
  for (size_t k = 0; k < ct->nfilters; k++) {
    if (!(l->filters[k] = strdup(ct->filters[k]))) return srv_no_memory();
    l->nfilters = k + 1;
  }
  l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (l->fd < 0 || setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(l->fd, (struct sockaddr *)&ss, len) != 0 || listen(l->fd, 511) != 0)
    return wp_error_new(WP_ERR_IO, "%s %s: %s", what, ct->listen, strerror(errno));
  struct sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (getsockname(l->fd, (struct sockaddr *)&bound, &blen) == 0)
    addr_text(&bound, l->local, sizeof l->local);
  else snprintf(l->local, sizeof l->local, "%s", ct->listen);
  l->h = (handle){H_LISTENER, l};
  struct epoll_event e = {.events = EPOLLIN, .data.ptr = &l->h};
  if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, l->fd, &e) != 0)
    return wp_error_new(WP_ERR_IO, "%s: epoll: %s", what, strerror(errno));
  return NULL;
}

wp_error *tcp_start(wp_server *srv) {
  srv_state *st = state_acquire(srv);
  if (!st || !st->config->ntcp) {
    state_release(st);
    return NULL;
  }
  const srv_config *cfg = st->config;
  struct tcp_srv *t = calloc(1, sizeof *t);
  wp_error *err = NULL;
  if (!t) {
    state_release(st);
    return srv_no_memory();
  }
  t->srv = srv;
  t->pw = srv->pw;
  t->epfd = t->evfd = -1;
  t->max_conns = srv->settings.max_connections ? srv->settings.max_connections : 1024;
  t->idle_ns = (uint64_t)(srv->settings.idle_timeout_s ? srv->settings.idle_timeout_s : 30) *
               1000000000u;
  pthread_mutex_init(&t->ev_lock, NULL);
  t->hwake = (handle){H_WAKE, NULL};
  if (!(t->rbuf = malloc(TCP_READ_CHUNK)) || !(t->ls = calloc(cfg->ntcp, sizeof *t->ls)))
    err = srv_no_memory();
  if (!err && ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
               (t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0))
    err = wp_error_new(WP_ERR_HOST, "tcp listeners: %s", strerror(errno));
  if (!err) {
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = &t->hwake};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &e) != 0)
      err = wp_error_new(WP_ERR_HOST, "tcp listeners: epoll: %s", strerror(errno));
  }
  for (size_t i = 0; !err && i < cfg->ntcp; i++) {
    t->ls[i].fd = -1;
    t->nls = i + 1;
    err = open_listener(t, &cfg->tcp[i], i, &t->ls[i]);
  }
  /* A filter without TCP callbacks would only pass the bytes on: a mistake. */
  for (size_t i = 0; !err && i < cfg->ntcp; i++) {
    wp_pw_plugin **chain = calloc(t->ls[i].nfilters ? t->ls[i].nfilters : 1, sizeof *chain);
    if (!chain) err = srv_no_memory();
    else if (!resolve_chain(st, &t->ls[i], chain))
      err = wp_error_new(WP_ERR_BAD_INPUT, "server config: tcp[%zu].filters: unknown filter", i);
    for (size_t k = 0; !err && k < t->ls[i].nfilters; k++)
      if (!wp_pw_plugin_is_network_filter(chain[k]))
        err = wp_error_new(WP_ERR_BAD_INPUT,
                           "server config: tcp[%zu].filters: '%s' is not a network filter (it "
                           "exports none of proxy_on_new_connection, proxy_on_downstream_data, "
                           "proxy_on_upstream_data)",
                           i, t->ls[i].filters[k]);
    free(chain);
  }
  if (!err && pthread_create(&t->thread, NULL, tcp_main, t) != 0)
    err = wp_error_new(WP_ERR_HOST, "tcp listeners: cannot start their thread");
  if (err) {
    state_release(st);
    tcp_free(t);
    return err;
  }
  t->running = true;
  srv->tcp = t;
  for (size_t i = 0; i < t->nls; i++) {
    char names[512] = "";
    size_t at = 0;
    for (size_t k = 0; k < t->ls[i].nfilters && at < sizeof names; k++)
      at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", k ? ", " : "",
                             t->ls[i].filters[k]);
    srv_log("tcp listening on %s, upstream %s, filters: %s", t->ls[i].local, t->ls[i].upstream,
            t->ls[i].nfilters ? names : "none");
  }
  state_release(st);
  return NULL;
}

void tcp_stop(wp_server *srv) {
  struct tcp_srv *t = srv->tcp;
  if (!t) return;
  atomic_store(&t->stop, true);
  wake_loop(t);
  if (t->running) pthread_join(t->thread, NULL);
  srv->tcp = NULL;
  tcp_free(t);
}

wp_error *tcp_check_change(wp_server *srv, const srv_config *next) {
  srv_state *st = state_acquire(srv);
  if (!st) return NULL;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(st->config->doc, "tcp");
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(next->doc, "tcp");
  bool same = (!a && !b) || (a && b && cJSON_Compare(a, b, true));
  state_release(st);
  if (same) return NULL;
  return wp_error_new(WP_ERR_BAD_INPUT, "server config: tcp: cannot change while the server runs "
                                        "(restart it to change it)");
}
