/*
 * pw.h - the Proxy-Wasm runtime's insides (internal): the objects of
 * include/wasmplug/proxywasm.h and how they hang together.
 *
 *   proxy.c      wp_pw_host: shared state, foreign functions, the embedder's methods
 *   queue.c      shared queues (register, resolve, enqueue, dequeue, wake-ups)
 *   foreign.c    foreign functions, and the built-in compress/uncompress (zlib)
 *   plugin.c     wp_pw_config, wp_pw_plugin: loading and the canary VM
 *   worker.c     wp_pw_worker: its VMs, the mailbox, HTTP calls, ticks, events
 *   vm.c         one VM: its instance, contexts, callbacks, failure
 *   stream.c     wp_pw_stream: the steps of an HTTP or TCP stream
 *   hostcalls.c  the env.proxy_* functions a filter imports
 *   properties.c proxy_get_property / proxy_set_property
 *   map.c, buffer.c, shared.c: header maps, buffers, shared data and metrics
 *
 * Threads: a worker and everything it holds (VMs, contexts, streams) is
 * used by one thread at a time; the host, its shared data, queues and
 * metrics are shared under their own locks; a worker's mailbox is the one
 * part of a worker other threads touch (under mail_lock).
 */
#ifndef WP_PROXYWASM_PW_H
#define WP_PROXYWASM_PW_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/error.h"
#include "proxywasm/buffer.h"
#include "proxywasm/kind.h"
#include "proxywasm/map.h"
#include "proxywasm/shared.h"
#include "util/buf.h"
#include "wasmplug/proxywasm.h"

/* ---- host ------------------------------------------------------------------------ */

typedef struct pw_foreign {
  char *name;
  wp_pw_foreign_fn fn;
  void *user_data;
  void (*free_user_data)(void *);
  struct pw_foreign *next;
} pw_foreign;

typedef struct pw_queue pw_queue;

struct wp_pw_host {
  wp_engine *engine;
  wp_pw_host_methods methods;
  void *user_data;
  atomic_int log_level;
  pw_shared *shared;
  pw_metrics *metrics;
  pthread_mutex_t lock; /* foreign functions, queues */
  pw_foreign *foreign;
  pw_queue *queues;
  uint32_t next_queue_id;
};

/* Logs for a plugin through the embedder's log method or the engine's log. */
void pw_log(wp_pw_host *h, const wp_pw_plugin *p, wp_log_level level, const char *msg, size_t len);
void pw_logf(wp_pw_host *h, const wp_pw_plugin *p, wp_log_level level, const char *fmt, ...)
    WP_PRINTF(4, 5);

/* Runs a foreign function by name: PW_OK with a malloc'ed result, PW_NOT_FOUND, or
   PW_INTERNAL_FAILURE (logged). */
int pw_foreign_call(wp_pw_host *h, const wp_pw_plugin *p, const char *name, size_t name_len,
                    const uint8_t *args, size_t len, uint8_t **out, size_t *out_len);
/* Registers compress/uncompress. */
wp_error *pw_foreign_add_builtins(wp_pw_host *h);
void pw_foreign_free_all(wp_pw_host *h);

/* ---- shared queues (queue.c) ------------------------------------------------------ */

#define PW_QUEUE_MAX_ITEMS 10000
#define PW_QUEUE_MAX_ITEM (1u << 20)

/* Registers (or re-registers) queue `name` of vm_id for plugin p on worker w: p's root
   context on w hears about new items. Returns PW_OK or PW_INTERNAL_FAILURE. */
int pw_queue_register(wp_pw_host *h, const char *vm_id, const uint8_t *name, size_t len,
                      wp_pw_worker *w, wp_pw_plugin *p, uint32_t *id);
int pw_queue_resolve(wp_pw_host *h, const uint8_t *vm_id, size_t vm_len, const uint8_t *name,
                     size_t len, uint32_t *id);
int pw_queue_enqueue(wp_pw_host *h, uint32_t id, const uint8_t *data, size_t len);
/* PW_OK with a malloc'ed item, PW_EMPTY, PW_NOT_FOUND. */
int pw_queue_dequeue(wp_pw_host *h, uint32_t id, uint8_t **data, size_t *len);
/* Forgets registrations of worker w (it is going away). */
void pw_queue_forget_worker(wp_pw_host *h, wp_pw_worker *w);
void pw_queue_free_all(wp_pw_host *h);

/* ---- plugins ------------------------------------------------------------------------ */

struct wp_pw_config {
  char *name, *root_id, *vm_id;
  pw_buffer vm_config, plugin_config;
  wp_manifest *manifest;
  bool fail_open;
};

struct wp_pw_plugin {
  atomic_int refs;
  wp_pw_host *host;
  wp_plugin *plugin;
  char *name, *root_id, *vm_id;
  pw_buffer vm_config, plugin_config;
  bool fail_open;
  bool http, tcp;
};

/* ---- VMs, contexts ------------------------------------------------------------------ */

typedef struct pw_property {
  char *path; /* segments joined by NUL bytes, as the ABI has them */
  size_t path_len;
  uint8_t *value;
  size_t len;
  struct pw_property *next;
} pw_property;

typedef struct pw_root {
  wp_pw_plugin *plugin; /* a reference */
  uint32_t ctx;
  uint64_t tick_ns;     /* 0: no tick */
  uint64_t next_tick_ns;
  pw_property *props;   /* set by the filter from its root context */
} pw_root;

typedef struct pw_ctx {
  uint32_t id;
  uint32_t root;        /* the root context's id; 0 for a root context */
  wp_pw_stream *stream; /* NULL for root contexts and finished streams */
  bool awaiting_done;   /* on_done said false: deleted when the filter calls proxy_done */
} pw_ctx;

/* An HTTP call's response while proxy_on_http_call_response runs. */
typedef struct pw_call_response {
  pw_map headers, trailers;
  pw_buffer body;
} pw_call_response;

typedef struct pw_vm {
  wp_pw_worker *w;
  struct pw_vm *next;
  char *vm_id;
  char sha256[65];
  uint8_t *vm_config; /* what it was started with (part of what makes VMs shared) */
  size_t vm_config_len;
  wp_buf line[2];     /* the filter's stdout and stderr up to their next newline */
  wp_instance *inst;
  pw_root **roots;
  size_t nroots;
  bool started;      /* proxy_on_vm_start answered true */
  pw_ctx *ctxs; /* live contexts (a handful: linear search) */
  size_t nctxs, cap;
  uint32_t next_id;
  /* during a callback */
  uint32_t ctx;      /* the effective context */
  pw_root *root;     /* its root */
  uint32_t done_ctx; /* the context proxy_done was called for, 0 if none */
  pw_call_response *call; /* during proxy_on_http_call_response */
  uint32_t call_status;   /* what proxy_get_status reports */
  bool failed;
} pw_vm;

/* The VM of plugin p on worker w (made and started if needed), with p's root context. */
wp_error *pw_vm_get(wp_pw_worker *w, wp_pw_plugin *p, pw_vm **out, pw_root **root);
void pw_vm_free(pw_vm *vm);
/* Calls callback cb with args if the filter exports it (else *result = dflt).
   On failure the VM is failed (pw_vm_fail) and the error returned. */
wp_error *pw_vm_call(pw_vm *vm, pw_cb cb, uint32_t ctx, const uint32_t *args, unsigned nargs,
                     uint32_t dflt, uint32_t *result);
/* A new context id (a stream's): on_context_create(id, root). */
wp_error *pw_vm_new_context(pw_vm *vm, pw_root *root, wp_pw_stream *s, uint32_t *id);
pw_ctx *pw_vm_find(pw_vm *vm, uint32_t id);
/* Finishes a context: on_done, then on_log and on_delete unless on_done said false. */
void pw_vm_end_context(pw_vm *vm, uint32_t id);
/* proxy_done: on_log and on_delete for contexts that were waiting for it. */
void pw_vm_finish_done(pw_vm *vm);
/* Ends p's root context in vm; true when the VM has no root left. */
bool pw_vm_stop_root(pw_vm *vm, const wp_pw_plugin *p);
/* Drops a VM whose callback failed: its streams are told, the worker forgets it. */
void pw_vm_fail(pw_vm *vm);
/* Makes id the effective context (false: no such context in this VM). */
bool pw_vm_set_effective(pw_vm *vm, uint32_t id);
/* The stream of the effective context, or NULL (a root context). */
wp_pw_stream *pw_vm_stream(pw_vm *vm);
/* Logs what the filter wrote to stdout (0) or stderr (1) line by line; with
   `flush`, also an unfinished line (at the end of each callback). */
void pw_vm_output(pw_vm *vm, int fd, const uint8_t *data, size_t len, bool flush);
/* The plugin of the effective context. */
wp_pw_plugin *pw_vm_plugin(pw_vm *vm);
/* The root entry of the effective context. */
pw_root *pw_vm_root(pw_vm *vm);

/* ---- workers ------------------------------------------------------------------------- */

typedef enum pw_mail_kind {
  PW_MAIL_HTTP_RESPONSE,
  PW_MAIL_HTTP_FAILURE,
  PW_MAIL_QUEUE
} pw_mail_kind;

typedef struct pw_mail {
  pw_mail_kind kind;
  uint64_t token;         /* HTTP */
  pw_call_response *resp; /* HTTP response */
  uint32_t queue;         /* queue ready: id */
  wp_pw_plugin *plugin;   /* queue ready: the root to tell (a reference) */
  struct pw_mail *next;
} pw_mail;

typedef struct pw_pending_call {
  uint64_t token;
  pw_vm *vm;
  uint32_t root_ctx;
  uint64_t deadline_ns;
  struct pw_pending_call *next;
} pw_pending_call;

typedef struct pw_event {
  wp_pw_stream *s;
  wp_pw_event event;
} pw_event;

#define PW_SPARE_STREAMS 32 /* freed streams a worker keeps to make the next ones from */

struct wp_pw_worker {
  wp_pw_host *host;
  void *user_data;
  pw_vm *vms;
  pw_pending_call *calls;
  uint64_t next_token;
  pw_event *events;
  size_t nevents, events_cap;
  wp_pw_stream *stepping; /* the stream whose step is running */
  pthread_mutex_t mail_lock;
  pw_mail *mail, **mail_tail;
  wp_pw_stream *spare[PW_SPARE_STREAMS]; /* freed streams, their maps and buffers kept */
  size_t nspare;
};

/* Frees the worker's failed VMs after telling their streams (end of each entry point). */
void pw_worker_reap(wp_pw_worker *w);
/* Monotonic time in ns. */
uint64_t pw_now_ns(void);
/* Queues an event for a stream (delivered by wp_pw_worker_poll; the embedder is woken). */
void pw_worker_event(wp_pw_worker *w, wp_pw_stream *s, wp_pw_event ev);
/* Forgets events and nothing else of a stream being freed. */
void pw_worker_forget_stream(wp_pw_worker *w, wp_pw_stream *s);
/* Forgets one pending HTTP call (the embedder refused it). */
void pw_pending_call_cancel(wp_pw_worker *w, uint64_t token);
/* Forgets the pending HTTP calls of a VM's root context (0: of all its roots). */
void pw_worker_forget_calls(wp_pw_worker *w, pw_vm *vm, uint32_t root_ctx);
/* Records a dispatched HTTP call (token returned). */
bool pw_worker_add_call(wp_pw_worker *w, pw_vm *vm, uint32_t root_ctx, uint32_t timeout_ms,
                        uint64_t *token);
/* Posts a mail from any thread and wakes the worker. */
void pw_worker_post(wp_pw_worker *w, pw_mail *m);
void pw_mail_free(pw_mail *m);

/* ---- streams -------------------------------------------------------------------------- */

typedef struct pw_local {
  wp_pw_local_response view;
  pw_map headers;
  pw_buffer body;
  char *details;
} pw_local;

struct wp_pw_stream {
  wp_pw_worker *w;
  wp_pw_plugin *plugin; /* a reference */
  pw_vm *vm;            /* NULL once the VM failed */
  uint32_t ctx;
  bool tcp;
  pw_map maps[4];
  pw_buffer bufs[4];
  wp_pw_event_fn event_fn;
  void *user_data;
  char *source, *destination, *protocol, *route_name, *upstream; /* in `info`, or NULL */
  char *info;      /* kept (with its capacity) when the stream is recycled */
  size_t info_cap;
  uint64_t connection_id;
  pw_property *props;
  /* effects the filter recorded during a callback */
  bool continue_req, continue_resp, close;
  pw_local *local;
};

/* Frees a spare stream for good (its worker is going away). */
void pw_stream_destroy(wp_pw_stream *s);
/* Records effects for stream s from a host function (continue, local response, close). */
void pw_stream_effect(wp_pw_stream *s, wp_pw_event ev);
/* The VM died under the stream. */
void pw_stream_vm_failed(wp_pw_stream *s);

/* ---- properties (properties.c) ------------------------------------------------------ */

/* proxy_get_property for the effective context: PW_OK with a malloc'ed value, or PW_NOT_FOUND. */
int pw_property_get(pw_vm *vm, const uint8_t *path, size_t len, uint8_t **value, size_t *vlen);
/* proxy_set_property: stored on the stream (or the root: per plugin on this VM). */
int pw_property_set(pw_vm *vm, const uint8_t *path, size_t len, const uint8_t *value, size_t vlen);
void pw_properties_free(pw_property *p);
/* Sets a property on a list (path with NUL separators). */
bool pw_properties_put(pw_property **list, const char *path, size_t path_len, const void *value,
                       size_t len);

#endif
