/*
 * process.h - process isolation (internal): the kind that runs a plugin of
 * another kind in a worker process (parent.c), and what it keeps.
 *
 * The isolation floor sits above the kinds: it loads a plugin as its own
 * kind in the host (for its exports, types and the link check), runs the
 * embedder's core host functions (core/host.h) when the worker asks, and
 * answers the instance floor through the wp_kind table (plugin/kind.h).
 */
#ifndef WP_ISOLATION_PROCESS_H
#define WP_ISOLATION_PROCESS_H

#include <pthread.h>
#include <sys/types.h>

#include "core/host.h"
#include "instance/instance.h"

/* How long a worker may take to load a plugin (compiling it when the cache
   misses) before the host gives up on it. */
#define WP_WORKER_LOAD_TIMEOUT_MS 120000

/* One of the embedder's host functions (or resource types) an isolated plugin imports. */
typedef struct wp_proc_host {
  const wp_def *def; /* a wp_host_def (core) or wp_chost_def (component function or resource) */
  const struct wp_functype *type; /* components: the import's type */
  uint32_t import;               /* components: its index among the plugin's imports */
} wp_proc_host;

/* What an isolated plugin keeps (wp_plugin.kind_data). */
typedef struct wp_proc_plugin {
  wp_plugin *inner;         /* the same bytes loaded in the host as their own kind */
  uint8_t *wasm;            /* the bytes the worker loads */
  size_t len;
  char *manifest_json;      /* the manifest, isolation none */
  wp_proc_host *hosts;       /* the embedder's host functions it imports */
  size_t nhosts;
} wp_proc_plugin;

/* What an isolated instance keeps (wp_instance.kind_data). */
typedef struct wp_proc_instance {
  pthread_mutex_t lock; /* pid, seq and calling, against wp_instance_interrupt */
  pid_t pid;            /* 0: no worker */
  int fd;               /* the host's end of the socketpair; -1: none */
  uint32_t seq;         /* the current call's number: the interrupt signal's value */
  bool calling;
  bool instantiated;    /* the worker has a live instance */
  wp_buf frame;         /* frames in and out, reused */
  wp_buf reply;         /* a host function's reply, built while `frame` is read */
  /* The host objects the worker's plugin may hold, by id: (generation << 32)
     | (slot + 1), so that a stale id never names a later object. */
  struct wp_proc_object *objects;
  uint32_t nobjects, objects_cap, free_object; /* free_object: head of free slots + 1, 0 none */
} wp_proc_instance;

extern const wp_kind wp_process_kind;

#endif
