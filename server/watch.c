/*
 * watch.c - hot reload. inotify watches the directories of the plugin files
 * and of the config file (editors, cp and mv replace files, so watching the
 * files themselves would lose them), for a file closed after writing, moved
 * in, or touched. Events are gathered for 50 ms, then the change is applied
 * like any other (state.c: built whole, published atomically, the old state
 * kept if anything fails).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "server.h"

#define MAX_WATCHES 256
#define DEBOUNCE_MS 50

typedef struct watch_set {
  int wd[MAX_WATCHES];
  char *dir[MAX_WATCHES];
  size_t n;
} watch_set;

static void unwatch_all(int fd, watch_set *w) {
  for (size_t i = 0; i < w->n; i++) {
    inotify_rm_watch(fd, w->wd[i]);
    free(w->dir[i]);
  }
  w->n = 0;
}

static void watch_dir_of(int fd, watch_set *w, const char *path) {
  char *copy = strdup(path);
  if (!copy) return;
  const char *dir = dirname(copy);
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->dir[i], dir) == 0) {
      free(copy);
      return;
    }
  if (w->n == MAX_WATCHES) {
    free(copy);
    return;
  }
  int wd = inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_ATTRIB | IN_CREATE);
  if (wd < 0) {
    srv_log("hot reload: cannot watch %s: %s", dir, strerror(errno));
    free(copy);
    return;
  }
  char *d = strdup(dir);
  free(copy);
  if (!d) return;
  w->wd[w->n] = wd;
  w->dir[w->n++] = d;
}

/* The files a state was built from besides the config: plugins, filters and
   the filters' configuration files (NULL entries are skipped). */
static const char *source_file(const srv_config *c, size_t i) {
  if (i < c->nplugins) return c->plugins[i].path;
  i -= c->nplugins;
  const cfg_filter *f = &c->filters[i / 3];
  return i % 3 == 0 ? f->path : i % 3 == 1 ? f->config_file : f->vm_config_file;
}

static size_t source_files(const srv_config *c) { return c->nplugins + 3 * c->nfilters; }

/* Watches what the live state was built from. The new set is made before
   the old one goes: adding a directory already watched gives back its watch
   descriptor, so events queued meanwhile (a file replaced while a reload was
   being applied) still match, and none is lost in a gap between the two. */
static void rewatch(wp_server *srv, watch_set *w) {
  watch_set next = {0};
  srv_state *st = state_acquire(srv);
  for (size_t i = 0; st && i < source_files(st->config); i++)
    if (source_file(st->config, i)) watch_dir_of(srv->watch_fd, &next, source_file(st->config, i));
  state_release(st);
  if (srv->config_path) watch_dir_of(srv->watch_fd, &next, srv->config_path);
  for (size_t i = 0; i < w->n; i++) {
    bool kept = false;
    for (size_t j = 0; j < next.n && !kept; j++) kept = next.wd[j] == w->wd[i];
    if (!kept) inotify_rm_watch(srv->watch_fd, w->wd[i]);
    free(w->dir[i]);
  }
  *w = next;
}

/* Whether directory `dir` + file `name` is the config file (2) or one of a
   plugin's or a filter's (1). */
static int which_file(wp_server *srv, const char *dir, const char *name) {
  size_t dl = strlen(dir);
  char path[4096];
  if (dl + strlen(name) + 2 > sizeof path) return 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (srv->config_path) {
    char *cp = strdup(srv->config_path);
    if (cp) {
      char *base = basename(cp);
      char *dcopy = strdup(srv->config_path);
      bool same = dcopy && strcmp(dirname(dcopy), dir) == 0 && strcmp(base, name) == 0;
      free(dcopy);
      free(cp);
      if (same) return 2;
    }
  }
  int hit = 0;
  srv_state *st = state_acquire(srv);
  for (size_t i = 0; st && i < source_files(st->config) && !hit; i++) {
    const char *file = source_file(st->config, i);
    if (!file) continue;
    char *pc = strdup(file), *pd = strdup(file);
    if (pc && pd && strcmp(basename(pc), name) == 0 && strcmp(dirname(pd), dir) == 0) hit = 1;
    free(pc);
    free(pd);
  }
  state_release(st);
  return hit;
}

static void apply_config_file(wp_server *srv) {
  size_t len;
  char *text = srv_read_file(srv->config_path, &len);
  if (!text) {
    srv_log("hot reload: %s: %s (keeping the running config)", srv->config_path,
            errno == EFBIG ? "over 64 MiB" : strerror(errno));
    return;
  }
  cJSON *doc = cJSON_ParseWithLength(text, len);
  free(text);
  if (!doc) {
    srv_log("hot reload: %s is not valid JSON (keeping the running config)", srv->config_path);
    atomic_fetch_add(&srv->metrics.reload_failures, 1);
    return;
  }
  wp_error *err = state_apply_doc(srv, doc, false);
  if (err) {
    srv_log("hot reload: %s: %s (keeping the running config)", srv->config_path,
            wp_error_get_message(err));
    wp_error_free(err);
  } else {
    srv_log("hot reload: applied %s", srv->config_path);
  }
}

static void *watch_main(void *arg) {
  wp_server *srv = arg;
  watch_set w = {0};
  rewatch(srv, &w);
  struct pollfd pfd[2] = {{.fd = srv->watch_fd, .events = POLLIN},
                          {.fd = srv->watch_pipe[0], .events = POLLIN}};
  char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    int pending = 0; /* 1: a plugin changed, 2: the config changed (bits) */
    int timeout = -1;
    for (;;) {
      int r = poll(pfd, 2, timeout);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 || pfd[1].revents) goto out;
      if (r == 0) break; /* the debounce window closed */
      ssize_t n = read(srv->watch_fd, buf, sizeof buf);
      for (ssize_t off = 0; n > 0 && off < n;) {
        const struct inotify_event *e = (const struct inotify_event *)(buf + off);
        off += (ssize_t)(sizeof *e + e->len);
        if (!e->len || (e->mask & IN_CREATE)) continue; /* wait for the write to finish */
        for (size_t i = 0; i < w.n; i++)
          if (w.wd[i] == e->wd) pending |= which_file(srv, w.dir[i], e->name);
      }
      if (pending) timeout = DEBOUNCE_MS;
    }
    if (pending & 2) {
      apply_config_file(srv);
    } else if (pending & 1) {
      wp_error *err = state_reload(srv);
      if (err) {
        srv_log("hot reload: %s (the previous version keeps serving)", wp_error_get_message(err));
        wp_error_free(err);
      } else {
        srv_log("hot reload: plugins reloaded");
      }
    }
    rewatch(srv, &w);
  }
out:
  unwatch_all(srv->watch_fd, &w);
  return NULL;
}

wp_error *watch_start(wp_server *srv) {
  srv->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (srv->watch_fd < 0) return wp_error_new(WP_ERR_IO, "inotify: %s", strerror(errno));
  if (pipe(srv->watch_pipe) != 0) {
    close(srv->watch_fd);
    return wp_error_new(WP_ERR_IO, "pipe: %s", strerror(errno));
  }
  if (pthread_create(&srv->watcher, NULL, watch_main, srv) != 0) {
    close(srv->watch_fd);
    close(srv->watch_pipe[0]);
    close(srv->watch_pipe[1]);
    return wp_error_new(WP_ERR_IO, "cannot start the file watcher thread");
  }
  srv->watcher_running = true;
  return NULL;
}

void watch_stop(wp_server *srv) {
  if (!srv->watcher_running) return;
  ssize_t w = write(srv->watch_pipe[1], "x", 1);
  (void)w;
  pthread_join(srv->watcher, NULL);
  close(srv->watch_fd);
  close(srv->watch_pipe[0]);
  close(srv->watch_pipe[1]);
  srv->watcher_running = false;
}
