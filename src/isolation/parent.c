/*
 * parent.c - the host's side of process isolation: the process kind, which
 * spawns a worker per instance (worker.c serves it), forwards calls over a
 * socketpair (wire.h), runs the embedder's host functions when the worker
 * asks, and turns a worker's death or silence into a clean error.
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np (glibc 2.34) */
#define _POSIX_C_SOURCE 200809L
#include "isolation/process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "component/component.h"
#include "engine/error.h"
#include "instance/http.h"
#include "isolation/wire.h"
#include "plugin/manifest.h"

extern char **environ;

static wp_proc_plugin *pp_of(const wp_plugin *p) { return p->kind_data; }
static wp_proc_instance *pi_of(const wp_instance *inst) { return inst->kind_data; }

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- loading -------------------------------------------------------------- */

/* Whether d is one of the embedder's definitions (made after wp_engine_new);
   engine->lock held. */
static bool embedders(const wp_engine *e, const wp_def *d) {
  for (const wp_def *x = e->defs; x && x != e->builtin_defs; x = x->next)
    if (x == d) return true;
  return false;
}

/* The embedder's host functions the plugin imports, which the worker must
   forward, and its resource types, which the worker stands in for (their
   objects stay here, named by id); WASI and the engine's built-ins run in
   the worker. */
static wp_error *find_hosts(wp_plugin *p, wp_proc_plugin *pp) {
  const wp_plugin *in = pp->inner;
  const struct wp_component *c = wp_comp(in);
  wp_error *err = NULL;
  pp->hosts = calloc(in->nimports ? in->nimports : 1, sizeof *pp->hosts);
  if (!pp->hosts) return wp_error_no_memory();
  pthread_mutex_lock(&p->engine->lock);
  for (size_t i = 0; !err && i < in->nimports; i++) {
    const wp_extern_info *imp = &in->imports[i];
    bool resource = imp->kind == WP_EXTERN_RESOURCE;
    if (imp->kind != WP_EXTERN_FUNC && !resource) continue;
    const wp_def *d = c ? (const wp_def *)wp_component_find_def(p->engine, imp->module, imp->name,
                                                                resource)
                        : wp_engine_find_def(p->engine, WP_DEF_CORE_FUNC,
                                             imp->module ? imp->module : "", imp->name);
    if (!d || !embedders(p->engine, d)) continue;
    pp->hosts[pp->nhosts++] = (wp_proc_host){d, c ? c->import_types[i] : NULL, (uint32_t)i};
  }
  pthread_mutex_unlock(&p->engine->lock);
  return err;
}

static wp_error *load(wp_plugin *p, const uint8_t *bytes, size_t len) {
  wp_proc_plugin *pp = calloc(1, sizeof *pp);
  if (!pp) return wp_error_no_memory();
  p->kind_data = pp;
  wp_manifest *m = wp_manifest_copy(p->manifest);
  if (!m) return wp_error_no_memory();
  m->isolation = WP_ISOLATION_NONE;
  /* The pin was checked here, on the bytes as given; `bytes` may be the
     binary a .wat text became. */
  m->has_sha256 = false;
  /* The embedder's own capabilities stay here, with their grants: their
     host functions run here when the worker asks. */
  pthread_mutex_lock(&p->engine->lock);
  for (size_t i = p->engine->builtin_caps; i < p->engine->ncaps; i++)
    wp_manifest_set_capability(m, p->engine->caps[i]->methods->name, NULL);
  pthread_mutex_unlock(&p->engine->lock);
  wp_error *err = wp_manifest_set_name(m, p->name);
  if (!err) err = wp_plugin_from_bytes(p->engine, p->name, bytes, len, m, &pp->inner);
  if (!err) {
    pp->manifest_json = wp_manifest_to_json(m);
    pp->wasm = malloc(len ? len : 1);
    if (!pp->manifest_json || !pp->wasm) err = wp_error_no_memory();
  }
  wp_manifest_free(m);
  if (err) return err;
  memcpy(pp->wasm, bytes, len);
  pp->len = len;
  /* The host's view of the plugin is its own kind's: borrowed, given back in
     free_plugin before the inner plugin goes. */
  p->imports = pp->inner->imports;
  p->nimports = pp->inner->nimports;
  p->exports = pp->inner->exports;
  p->nexports = pp->inner->nexports;
  p->cached = pp->inner->cached;
  return find_hosts(p, pp);
}

static void free_plugin(wp_plugin *p) {
  wp_proc_plugin *pp = pp_of(p);
  if (!pp) return;
  if (pp->inner && p->exports == pp->inner->exports) {
    p->imports = p->exports = NULL;
    p->nimports = p->nexports = 0;
  }
  wp_plugin_free(pp->inner);
  free(pp->wasm);
  free(pp->manifest_json);
  free(pp->hosts);
  free(pp);
  p->kind_data = NULL;
}

static const char *call_name(const wp_plugin *p, size_t i) {
  const wp_plugin *in = pp_of(p)->inner;
  return in->kind->call_name(in, i);
}

static bool is_bytes_func(const wp_plugin *p, size_t i) {
  return wp_plugin_is_bytes_func(pp_of(p)->inner, (wp_func_id)i);
}

/* ---- host objects ------------------------------------------------------------ */

/* A host object the worker's plugin may hold a handle to: the worker's
   stand-in handle carries its id. */
struct wp_proc_object {
  const wp_chost_def *def; /* NULL: a free slot */
  void *object;
  uint32_t gen; /* bumped when the slot is freed */
  uint32_t next_free;
};

/* A remote handle of the plugin's own resource, kept by the worker, has
   this bit set over the worker's id; a host object's id has it clear. */
#define GUEST_BIT ((uint64_t)1 << 63)

static uint64_t object_id(const wp_proc_instance *pi, uint32_t slot) {
  return (uint64_t)pi->objects[slot].gen << 32 | (slot + 1);
}

static struct wp_proc_object *find_object(const wp_proc_instance *pi, uint64_t id) {
  uint32_t slot = (uint32_t)id;
  if (!pi || (id & GUEST_BIT) || slot == 0 || slot > pi->nobjects) return NULL;
  struct wp_proc_object *o = &pi->objects[slot - 1];
  return o->def && o->gen == (uint32_t)(id >> 32) ? o : NULL;
}

/* Runs the embedder's drop callback, once: a second drop of the same id (a
   handle the worker held twice, or one already dropped by a reset) finds no
   object. */
static void drop_object(wp_proc_instance *pi, uint64_t id) {
  struct wp_proc_object *o = find_object(pi, id);
  if (!o) return;
  const wp_chost_def *d = o->def;
  void *object = o->object;
  o->def = NULL;
  o->object = NULL;
  o->gen = (o->gen + 1) & 0x7fffffffu; /* ids stay below GUEST_BIT */
  o->next_free = pi->free_object;
  pi->free_object = (uint32_t)id;
  if (d->drop) d->drop(object, d->user_data);
}

/* The worker's instance is gone (a reset, its death, the instance freed):
   the objects it held are dropped here. */
static void release_objects(wp_proc_instance *pi) {
  for (uint32_t i = 0; i < pi->nobjects; i++)
    if (pi->objects[i].def) drop_object(pi, object_id(pi, i));
}

/* The index of definition d in LOAD's host list; -1 if the plugin does not import it. */
static int host_index(const wp_proc_plugin *pp, const wp_def *d) {
  for (size_t i = 0; i < pp->nhosts; i++)
    if (pp->hosts[i].def == d) return (int)i;
  return -1;
}

static wp_value *new_resource(wp_instance *inst, const wp_resource_type *type, void *object) {
  wp_proc_instance *pi = pi_of(inst);
  const wp_chost_def *d = (const wp_chost_def *)type;
  if (!pi || host_index(pp_of(inst->plugin), &d->base) < 0) return NULL;
  wp_value *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  uint32_t slot;
  if (pi->free_object) {
    slot = pi->free_object - 1;
    pi->free_object = pi->objects[slot].next_free;
  } else {
    if (pi->nobjects == pi->objects_cap) {
      uint32_t cap = pi->objects_cap ? pi->objects_cap * 2 : 8;
      struct wp_proc_object *n = realloc(pi->objects, cap * sizeof *n);
      if (!n) {
        free(v);
        return NULL;
      }
      pi->objects = n;
      pi->objects_cap = cap;
    }
    slot = pi->nobjects++;
    pi->objects[slot].gen = 0;
  }
  pi->objects[slot].def = d;
  pi->objects[slot].object = object;
  v->kind = WP_TYPE_OWN;
  v->of.remote = object_id(pi, slot);
  v->of.life = inst->life;
  return v;
}

static wp_error *get_resource(const wp_value *v, wp_instance *inst, const wp_resource_type *type,
                              void **object) {
  const wp_chost_def *d = (const wp_chost_def *)type;
  if ((v->kind != WP_TYPE_OWN && v->kind != WP_TYPE_BORROW) || !v->of.remote)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_value_get_resource: the value is a %s, not a live resource handle of "
                        "a host object",
                        wp_type_kind_name(v->kind));
  if (v->of.life != inst->life) return wp_component_foreign_handle("wp_value_get_resource");
  struct wp_proc_object *o = find_object(pi_of(inst), v->of.remote);
  if (!o || o->def != d)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_value_get_resource: the handle is not a live '%s'",
                        d->base.name);
  *object = o->object;
  return NULL;
}

/* A handle going to the worker: the id of one of this instance's objects. */
static wp_error *handle_out(void *ctx, const wp_value *v, wp_wire_handle *h) {
  wp_instance *inst = ctx;
  /* Ids are per worker: another instance's (or an earlier life's) would
     name some other object there. */
  if (v->of.life != inst->life) return wp_component_foreign_handle(inst->plugin->name);
  if (v->of.remote & GUEST_BIT) {
    *h = (wp_wire_handle){WP_WIRE_GUEST_HANDLE, 0, v->of.remote & ~GUEST_BIT};
    return NULL;
  }
  struct wp_proc_object *o = v->of.remote ? find_object(pi_of(inst), v->of.remote) : NULL;
  int index = o ? host_index(pp_of(inst->plugin), &o->def->base) : -1;
  if (index < 0)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": a resource handle that is not a live host object of this "
                                      "instance cannot cross to its worker process; make it with "
                                      "wp_value_new_resource on the same instance",
                        inst->plugin->name);
  *h = (wp_wire_handle){WP_WIRE_HOST_OBJECT, (uint32_t)index, v->of.remote};
  return NULL;
}

/* A handle coming from the worker: it must name a live object of its type. */
static wp_value *handle_in(void *ctx, const wp_type *type, const wp_wire_handle *h) {
  wp_instance *inst = ctx;
  const wp_proc_plugin *pp = pp_of(inst->plugin);
  if (h->tag == WP_WIRE_GUEST_HANDLE) {
    wp_value *v = h->id && !(h->id & GUEST_BIT) ? calloc(1, sizeof *v) : NULL;
    if (v)
      *v = (wp_value){
          .kind = wp_type_get_kind(type), .of.remote = h->id | GUEST_BIT, .of.life = inst->life};
    return v;
  }
  struct wp_proc_object *o = h->tag == WP_WIRE_HOST_OBJECT ? find_object(pi_of(inst), h->id) : NULL;
  if (!o || h->index >= pp->nhosts || pp->hosts[h->index].def != &o->def->base) return NULL;
  wp_value *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->kind = wp_type_get_kind(type);
  v->of.remote = h->id;
  v->of.life = inst->life;
  return v;
}

/* ---- the worker process ------------------------------------------------- */

static const char *signal_name(int sig) {
  switch (sig) {
  case SIGSEGV: return "SIGSEGV";
  case SIGABRT: return "SIGABRT";
  case SIGKILL: return "SIGKILL";
  case SIGBUS: return "SIGBUS";
  case SIGILL: return "SIGILL";
  case SIGFPE: return "SIGFPE";
  case SIGTERM: return "SIGTERM";
  case SIGPIPE: return "SIGPIPE";
  }
  return "a signal";
}

/* Ends the worker (if it still runs) and reaps it; describes how it ended
   in `why`. The lock keeps wp_instance_interrupt from signalling a pid that
   is being reaped. */
static void stop_worker(wp_proc_instance *pi, bool kill_it, char *why, size_t cap) {
  pthread_mutex_lock(&pi->lock);
  pid_t pid = pi->pid;
  pi->pid = 0;
  pi->calling = false;
  pthread_mutex_unlock(&pi->lock);
  if (pi->fd >= 0) close(pi->fd);
  pi->fd = -1;
  pi->instantiated = false;
  release_objects(pi);
  if (why) snprintf(why, cap, "ended");
  if (pid <= 0) return;
  if (kill_it) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (!why) return;
  if (WIFSIGNALED(status))
    snprintf(why, cap, "(pid %d) was killed by signal %d (%s)", (int)pid, WTERMSIG(status),
             signal_name(WTERMSIG(status)));
  else if (WIFEXITED(status))
    snprintf(why, cap, "(pid %d) exited with status %d", (int)pid, WEXITSTATUS(status));
}

/* Waits until the worker exits by itself (it closed the socket), for up to
   two seconds (a loaded machine may take that long to finish a process),
   then kills it: a worker that died is reaped with its real status. */
static void reap_dead(wp_proc_instance *pi, char *why, size_t cap) {
  for (int i = 0; i < 2000 && pi->pid > 0; i++) {
    int status;
    pid_t r = waitpid(pi->pid, &status, WNOHANG);
    if (r == pi->pid) {
      pthread_mutex_lock(&pi->lock);
      pid_t pid = pi->pid;
      pi->pid = 0;
      pi->calling = false;
      pthread_mutex_unlock(&pi->lock);
      close(pi->fd);
      pi->fd = -1;
      pi->instantiated = false;
      release_objects(pi);
      if (WIFSIGNALED(status))
        snprintf(why, cap, "(pid %d) was killed by signal %d (%s)", (int)pid, WTERMSIG(status),
                 signal_name(WTERMSIG(status)));
      else
        snprintf(why, cap, "(pid %d) exited with status %d", (int)pid,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      return;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  stop_worker(pi, true, why, cap);
}

static wp_error *spawn_error(const wp_plugin *p, const char *path, int rc) {
  return wp_error_new(rc == ENOENT || rc == EACCES || rc == ENOEXEC ? WP_ERR_NOT_FOUND
                                                                    : WP_ERR_HOST,
                      WP_PLUGIN_FMT ": cannot start its worker process '%s' (%s): install "
                                    "wasmplug, or name the worker with $WASMPLUG_WORKER or "
                                    "wp_engine_config_set_worker_path",
                      p->name, path, strerror(rc));
}

static wp_error *spawn(wp_instance *inst) {
  const wp_plugin *p = inst->plugin;
  wp_proc_instance *pi = pi_of(inst);
  const char *path = p->engine->worker_path;
  if (!path) return wp_error_no_memory();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": cannot make a socketpair for its worker: %s",
                        p->name, strerror(errno));
  /* The child's end goes to fd 3; if it already is 3, move it first, as
     dup2 onto itself would keep close-on-exec. */
  if (sv[1] == 3) {
    int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 4);
    close(sv[1]);
    sv[1] = moved;
  }
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, dflt;
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGPIPE);
  sigaddset(&dflt, SIGUSR1);
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  /* Whatever the embedder left open without close-on-exec stays here. */
  posix_spawn_file_actions_addclosefrom_np(&fa, 4);
  char *argv[] = {(char *)path, "worker", "--fd", "3", NULL};
  pid_t pid = 0;
  int rc = sv[1] < 0 ? errno : posix_spawn(&pid, path, &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (sv[1] >= 0) close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    return spawn_error(p, path, rc);
  }
  pthread_mutex_lock(&pi->lock);
  pi->pid = pid;
  pthread_mutex_unlock(&pi->lock);
  pi->fd = sv[0];
  return NULL;
}

/* ---- waiting for the worker ------------------------------------------------ */

/* The result of waiting: a frame of the wanted kind in pi->frame, or an
   error (the worker died, fell silent or broke the protocol). */
typedef struct wait_ctx {
  wp_instance *inst;
  const char *what; /* the call, for messages */
  uint64_t deadline; /* now_ms() when the worker is killed; 0: never */
  uint32_t limit_ms; /* the call's own limit, for the message */
} wait_ctx;

static wp_error *worker_died(wait_ctx *w) {
  char why[160];
  wp_proc_instance *pi = pi_of(w->inst);
  reap_dead(pi, why, sizeof why);
  w->inst->failed = true;
  return wp_error_new(WP_ERR_TRAP,
                      WP_PLUGIN_FMT ": '%s' failed: its worker process %s; the instance's state "
                                    "is lost, and its next call or reset starts a fresh worker",
                      w->inst->plugin->name, w->what, why);
}

static wp_error *worker_silent(wait_ctx *w) {
  char why[160];
  stop_worker(pi_of(w->inst), true, why, sizeof why);
  w->inst->failed = true;
  return wp_error_new(WP_ERR_TIMEOUT,
                      WP_PLUGIN_FMT ": '%s' ran past its %u ms limit and its worker process did "
                                    "not answer within %u ms more, so it was killed; the "
                                    "instance's state is lost, and its next call or reset starts a "
                                    "fresh worker",
                      w->inst->plugin->name, w->what, w->limit_ms,
                      (unsigned)WP_ISOLATION_WATCHDOG_MARGIN_MS);
}

static wp_error *broken(wait_ctx *w, const char *detail) {
  stop_worker(pi_of(w->inst), true, NULL, 0);
  w->inst->failed = true;
  return wp_error_new(WP_ERR_HOST,
                      WP_PLUGIN_FMT ": '%s' failed: its worker process broke the protocol (%s) and "
                                    "was stopped; is the worker program a wasmplug of the same "
                                    "version?",
                      w->inst->plugin->name, w->what, detail);
}

/* A core host function: numeric values, or bytes in and out. */
static bool core_host_call(wp_instance *inst, const wp_host_def *d, wp_wire_reader *r,
                           wp_error **err) {
  wp_proc_instance *pi = pi_of(inst);
  wp_host_call call = {.inst = inst, .def = &d->base};
  wp_val args[16], results[16];
  if (d->kind == WP_HOST_NUMERIC) {
    uint32_t n;
    if (!wp_wire_get_u32(r, &n) || n != d->nparams) return false;
    for (size_t i = 0; i < n; i++)
      if (!wp_wire_get_val(r, &args[i]) || args[i].kind != d->params[i]) return false;
    if (!wp_wire_done(r)) return false;
    for (size_t i = 0; i < d->nresults; i++) results[i] = (wp_val){.kind = d->results[i]};
    *err = d->fn(&call, args, n, results, d->nresults, d->user_data);
    for (size_t i = 0; !*err && i < d->nresults; i++)
      if (results[i].kind != d->results[i])
        *err = wp_error_new(WP_ERR_HOST, "result %zu must be %s, got %s", i + 1,
                            wp_valkind_name(d->results[i]), wp_valkind_name(results[i].kind));
    if (*err) return true;
    wp_wire_u8(&pi->reply, 1);
    wp_wire_u32(&pi->reply, (uint32_t)d->nresults);
    for (size_t i = 0; i < d->nresults; i++) wp_wire_val(&pi->reply, &results[i]);
    return true;
  }
  const uint8_t *in;
  size_t len;
  if (!wp_wire_get_bytes(r, &in, &len) || !wp_wire_done(r)) return false;
  inst->host_out.len = 0;
  *err = d->bytes_fn(&call, in, len, d->user_data);
  if (*err) return true;
  wp_wire_u8(&pi->reply, 1);
  wp_wire_bytes(&pi->reply, inst->host_out.data, inst->host_out.len);
  return true;
}

/* A component host function: WAVE text read with the import's types, and
   the result checked as in-process, then written back as WAVE. */
static bool component_host_call(wp_instance *inst, const wp_proc_host *h, wp_wire_reader *r,
                                wp_error **err) {
  const wp_chost_def *d = (const wp_chost_def *)h->def;
  uint32_t n;
  if (!h->type || !wp_wire_get_u32(r, &n) || n != wp_functype_param_count(h->type) || n > 64)
    return false;
  wp_value *args[64];
  size_t made = 0;
  bool ok = true;
  for (; ok && made < n; made++) {
    ok = wp_wire_get_value(r, wp_functype_param_type(h->type, made), handle_in, inst, &args[made],
                           err) &&
         !*err;
    if (!ok) break;
  }
  wp_value *result = NULL;
  if (ok && wp_wire_done(r)) {
    wp_host_call call = {.inst = inst, .def = NULL, .type = h->type};
    *err = d->fn(&call, (const wp_value *const *)args, n, &result, d->user_data);
  } else if (!*err) {
    ok = false;
  }
  for (size_t i = 0; i < made; i++) wp_value_free(args[i]);
  const wp_type *rt = wp_functype_result(h->type);
  char msg[512];
  if (ok && !*err && rt && !result)
    *err = wp_error_new(WP_ERR_HOST, "host function '%s' returned no result; it must return %s",
                        d->base.name, wp_type_to_string(rt));
  else if (ok && !*err && rt && !wp_value_check(result, rt, 0, msg, sizeof msg))
    *err = wp_error_new(WP_ERR_HOST, "host function '%s' returned a wrong result: %s", d->base.name,
                        msg);
  if (ok && !*err) {
    wp_proc_instance *pi = pi_of(inst);
    wp_wire_u8(&pi->reply, 1);
    wp_wire_u8(&pi->reply, rt != NULL);
    if (rt) *err = wp_wire_value(&pi->reply, result, handle_out, inst);
  }
  wp_value_free(result);
  return ok || *err;
}

/* Runs an embedder's host function for the worker and builds the reply in
   pi->reply: u8 ok, then the results (numeric), the output (bytes) or the
   result as WAVE (components), or the error. */
static bool host_call(wp_instance *inst, wp_wire_reader *r) {
  wp_proc_instance *pi = pi_of(inst);
  const wp_proc_plugin *pp = pp_of(inst->plugin);
  uint32_t index;
  if (!wp_wire_get_u32(r, &index) || index >= pp->nhosts) return false;
  const wp_proc_host *h = &pp->hosts[index];
  wp_error *err = NULL;
  wp_wire_begin(&pi->reply, WP_FR_HOSTRESULT);
  bool ok = h->def->kind == WP_DEF_CORE_FUNC
                ? core_host_call(inst, (const wp_host_def *)h->def, r, &err)
                : component_host_call(inst, h, r, &err);
  if (err) {
    wp_wire_begin(&pi->reply, WP_FR_HOSTRESULT);
    wp_wire_u8(&pi->reply, 0);
    wp_wire_put_error(&pi->reply, err);
    wp_error_free(err);
  }
  return ok;
}

static bool forward_log(wp_instance *inst, wp_wire_reader *r) {
  uint8_t level;
  char *plugin = NULL;
  const uint8_t *msg;
  size_t len;
  bool ok = wp_wire_get_u8(r, &level) && level <= WP_LOG_ERROR && wp_wire_get_str(r, &plugin) &&
            wp_wire_get_bytes(r, &msg, &len) && wp_wire_done(r);
  if (ok) wp_engine_log(inst->plugin->engine, level, plugin, (const char *)msg, len);
  free(plugin);
  return ok;
}

/*
 * Reads frames until one of type `want` or ERROR arrives, running host
 * functions and forwarding log lines meanwhile. On success pi->frame holds
 * that frame; an ERROR frame comes back as *remote (the worker's error), the
 * worker's death or silence as the return value.
 */
static wp_error *await(wait_ctx *w, wp_wire_type want) {
  wp_proc_instance *pi = pi_of(w->inst);
  for (;;) {
    if (w->deadline) {
      /* Without a deadline the read below waits, one system call less. */
      uint64_t now = now_ms();
      if (now >= w->deadline) return worker_silent(w);
      int timeout = (int)(w->deadline - now > 60000 ? 60000 : w->deadline - now);
      struct pollfd pfd = {pi->fd, POLLIN, 0};
      int n = poll(&pfd, 1, timeout);
      if (n <= 0) continue; /* EINTR, or the deadline, checked above */
    }
    if (!wp_wire_recv(pi->fd, &pi->frame)) return worker_died(w);
    wp_wire_reader r = wp_wire_reader_of(&pi->frame);
    uint8_t type = pi->frame.data[0];
    if (type == want || type == WP_FR_ERROR) return NULL;
    if (type == WP_FR_LOG) {
      if (!forward_log(w->inst, &r)) return broken(w, "a bad LOG frame");
    } else if (type == WP_FR_DROP) {
      uint64_t id;
      if (!wp_wire_get_u64(&r, &id) || !wp_wire_done(&r)) return broken(w, "a bad DROP frame");
      drop_object(pi, id);
    } else if (type == WP_FR_HOSTCALL) {
      if (!host_call(w->inst, &r)) return broken(w, "a bad HOSTCALL frame");
      if (!wp_wire_send(pi->fd, &pi->reply)) return worker_died(w);
    } else {
      return broken(w, "an unexpected frame");
    }
  }
}

/* ---- load and instantiate in the worker ---------------------------------- */

static void put_engine(wp_buf *b, const wp_engine *e) {
  wp_wire_str(b, e->cache_dir);
  wp_wire_u8(b, e->cache_dir != NULL);
  wp_wire_u32(b, e->pooling);
  wp_wire_u64(b, e->max_memory);
  wp_wire_u32(b, e->tick_us);
  wp_wire_u64(b, e->instantiate_timeout_ns / 1000000u);
  wp_wire_u64(b, e->max_module_size);
  wp_wire_u32(b, e->max_functions);
  wp_wire_u32(b, e->pool_table_elements);
  wp_wire_u64(b, e->pool_instance_size);
  wp_wire_u8(b, e->log_fn != NULL);
}

/* The built-in capabilities' engine-wide settings (the keyvalue default):
   u32 count, then text name, text JSON each. Counted first, since the
   count leads. Out of memory for the list fails the load (b->oom); a
   settings_get that runs out returns NULL and its settings are left out. */
static void put_settings(wp_buf *b, wp_engine *e) {
  size_t n = 0;
  struct wp_capability **caps = wp_engine_capabilities(e, &n);
  size_t builtin = e->builtin_caps < n ? e->builtin_caps : n;
  char **json = calloc(builtin ? builtin : 1, sizeof *json);
  uint32_t count = 0;
  if (!json) b->oom = true;
  for (size_t i = 0; json && i < builtin; i++)
    if (caps[i]->methods->settings_get && (json[i] = caps[i]->methods->settings_get(caps[i]->data)))
      count++;
  wp_wire_u32(b, count);
  for (size_t i = 0; json && i < builtin; i++)
    if (json[i]) {
      wp_wire_str(b, caps[i]->methods->name);
      wp_wire_str(b, json[i]);
      free(json[i]);
    }
  free(json);
  free(caps);
}

static void put_manifest(wp_buf *b, const wp_plugin *p) {
  const wp_manifest *m = p->manifest;
  wp_wire_str(b, p->name);
  wp_wire_str(b, pp_of(p)->manifest_json);
  wp_wire_u64(b, m->max_memory);
  wp_wire_u8(b, m->has_stdin);
  wp_wire_bytes(b, m->stdin_data, m->stdin_len);
  wp_wire_str(b, m->timeout_origin);
  /* Captured or handed to a callback here: captured there, sent back. */
  wp_wire_u8(b, m->out.mode == WP_STDIO_INHERIT);
  wp_wire_u8(b, m->out.mode == WP_STDIO_CAPTURE || m->out.mode == WP_STDIO_CALLBACK);
  wp_wire_u8(b, m->err.mode == WP_STDIO_INHERIT);
  wp_wire_u8(b, m->err.mode == WP_STDIO_CAPTURE || m->err.mode == WP_STDIO_CALLBACK);
}

static void put_hosts(wp_buf *b, const wp_proc_plugin *pp) {
  wp_wire_u32(b, (uint32_t)pp->nhosts);
  for (size_t i = 0; i < pp->nhosts; i++) {
    const wp_proc_host *h = &pp->hosts[i];
    if (h->def->kind == WP_DEF_COMPONENT_RESOURCE) {
      const wp_extern_info *imp = &pp->inner->imports[h->import];
      wp_wire_str(b, imp->module);
      wp_wire_str(b, imp->name);
      wp_wire_u8(b, WP_SHAPE_RESOURCE);
      wp_wire_u8(b, imp->module != NULL);
      continue;
    }
    if (h->def->kind != WP_DEF_CORE_FUNC) {
      /* The import as the plugin names it: the worker links it the same way. */
      const wp_extern_info *imp = &pp->inner->imports[h->import];
      wp_wire_str(b, imp->module);
      wp_wire_str(b, imp->name);
      wp_wire_u8(b, WP_SHAPE_COMPONENT);
      wp_wire_u8(b, imp->module != NULL);
      wp_wire_u32(b, h->import);
      continue;
    }
    const wp_host_def *d = (const wp_host_def *)h->def;
    wp_wire_str(b, d->base.module);
    wp_wire_str(b, d->base.name);
    wp_wire_u8(b, d->kind == WP_HOST_STRING  ? WP_SHAPE_STRING
                  : d->kind == WP_HOST_BYTES ? WP_SHAPE_BYTES
                                             : WP_SHAPE_NUMERIC);
    wp_wire_u8(b, (uint8_t)d->nparams);
    for (size_t j = 0; j < d->nparams; j++) wp_wire_u8(b, (uint8_t)d->params[j]);
    wp_wire_u8(b, (uint8_t)d->nresults);
    for (size_t j = 0; j < d->nresults; j++) wp_wire_u8(b, (uint8_t)d->results[j]);
  }
}

/* The worker's error, or the protocol's. */
static wp_error *remote_error(wait_ctx *w) {
  wp_wire_reader r = wp_wire_reader_of(&pi_of(w->inst)->frame);
  wp_error *err = wp_wire_get_error(&r);
  return err ? err : broken(w, "a bad ERROR frame");
}

/* A new worker with the plugin loaded in it. */
static wp_error *start_worker(wp_instance *inst) {
  wp_proc_instance *pi = pi_of(inst);
  const wp_plugin *p = inst->plugin;
  wp_error *err = spawn(inst);
  if (err) return err;
  wp_buf *b = &pi->frame;
  wp_wire_begin(b, WP_FR_LOAD);
  wp_wire_u32(b, WP_WIRE_VERSION);
  put_engine(b, p->engine);
  put_settings(b, p->engine);
  put_manifest(b, p);
  put_hosts(b, pp_of(p));
  wp_wire_bytes(b, pp_of(p)->wasm, pp_of(p)->len);
  wait_ctx w = {inst, "load", now_ms() + WP_WORKER_LOAD_TIMEOUT_MS, WP_WORKER_LOAD_TIMEOUT_MS};
  if (b->oom) {
    stop_worker(pi, true, NULL, 0);
    return wp_error_no_memory();
  }
  if (!wp_wire_send(pi->fd, b)) return worker_died(&w);
  if ((err = await(&w, WP_FR_READY))) return err;
  if (pi->frame.data[0] == WP_FR_ERROR) {
    err = remote_error(&w);
    stop_worker(pi, true, NULL, 0);
    return err;
  }
  wp_wire_reader r = wp_wire_reader_of(&pi->frame);
  uint32_t nexports;
  if (!wp_wire_get_u32(&r, &nexports) || !wp_wire_done(&r) || nexports != p->nexports)
    return broken(&w, "its plugin has other exports than the host's");
  return NULL;
}

/* The instantiation's limit, as the worker applies it. */
static uint32_t instantiate_limit_ms(const wp_plugin *p) {
  if (p->manifest->timeout_ms) return p->manifest->timeout_ms;
  return (uint32_t)(p->engine->instantiate_timeout_ns / 1000000u);
}

static wp_error *build(wp_instance *inst) {
  wp_proc_instance *pi = pi_of(inst);
  if (!pi) {
    pi = calloc(1, sizeof *pi);
    if (!pi) return wp_error_no_memory();
    pthread_mutex_init(&pi->lock, NULL);
    pi->fd = -1;
    inst->kind_data = pi;
  }
  /* A reset: the objects the old instance held go with it, as in-process. */
  release_objects(pi);
  wp_error *err = pi->pid ? NULL : start_worker(inst);
  if (err) return err;
  uint32_t limit = instantiate_limit_ms(inst->plugin);
  wait_ctx w = {inst, "instantiate", limit ? now_ms() + limit + WP_ISOLATION_WATCHDOG_MARGIN_MS : 0,
                limit};
  wp_wire_begin(&pi->frame, WP_FR_INSTANTIATE);
  if (!wp_wire_send(pi->fd, &pi->frame)) return worker_died(&w);
  if ((err = await(&w, WP_FR_OK))) return err;
  if (pi->frame.data[0] == WP_FR_ERROR) return remote_error(&w);
  pi->instantiated = true;
  inst->failed = false;
  return NULL;
}

static void instance_free(wp_instance *inst) {
  wp_proc_instance *pi = pi_of(inst);
  if (!pi) return;
  /* Closing the socket ends the worker; killing it does not wait for that. */
  stop_worker(pi, true, NULL, 0);
  free(pi->objects);
  wp_buf_free(&pi->frame);
  wp_buf_free(&pi->reply);
  pthread_mutex_destroy(&pi->lock);
  free(pi);
  inst->kind_data = NULL;
}

static void interrupt(wp_instance *inst) {
  wp_proc_instance *pi = pi_of(inst);
  if (!pi) return;
  pthread_mutex_lock(&pi->lock);
  if (pi->calling && pi->pid > 0) sigqueue(pi->pid, SIGUSR1, (union sigval){(int)pi->seq});
  pthread_mutex_unlock(&pi->lock);
}

/* ---- calls ----------------------------------------------------------------- */

/* What the worker sends with every call's outcome: fuel used, its memory
   size, whether its instance failed, and the stdout/stderr captured since
   the last call. */
static bool take_tail(wp_instance *inst, wp_wire_reader *r) {
  uint64_t fuel, memory;
  uint8_t failed;
  const uint8_t *out, *err;
  size_t out_len, err_len;
  if (!wp_wire_get_u64(r, &fuel) || !wp_wire_get_u64(r, &memory) || !wp_wire_get_u8(r, &failed) ||
      !wp_wire_get_bytes(r, &out, &out_len) || !wp_wire_get_bytes(r, &err, &err_len))
    return false;
  inst->fuel_used = fuel;
  inst->limits.memory_bytes = memory; /* wp_instance_get_memory_size: as of the last call */
  if (failed) inst->failed = true;
  const wp_manifest *m = inst->plugin->manifest;
  const wp_stdio *modes[2] = {&m->out, &m->err};
  wp_buf *bufs[2] = {&inst->stdout_buf, &inst->stderr_buf};
  const uint8_t *data[2] = {out, err};
  size_t lens[2] = {out_len, err_len};
  for (int i = 0; i < 2; i++) {
    if (!lens[i]) continue;
    if (modes[i]->mode == WP_STDIO_CALLBACK && modes[i]->fn)
      modes[i]->fn(modes[i]->user_data, inst, data[i], lens[i]);
    else if (modes[i]->mode == WP_STDIO_CAPTURE) wp_buf_add(bufs[i], data[i], lens[i]);
  }
  return true;
}

static const char *export_name(const wp_instance *inst, wp_func_id id) {
  const wp_plugin *p = inst->plugin;
  return id < p->nexports ? p->exports[id].name : "?";
}

/* Checks what the host must (the worker checks the rest, in the same words
   as in-process) and starts a fresh worker after a crash. */
static wp_error *begin(wp_instance *inst, wp_func_id id) {
  wp_proc_instance *pi = pi_of(inst);
  const wp_plugin *p = inst->plugin;
  if (inst->in_call)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": '%s' called while another call runs on the same "
                        "instance (a host function may not call back into its caller)",
                        p->name, export_name(inst, id));
  if (!pi || !pi->instantiated) {
    wp_error *err = build(inst);
    if (err) return err;
  }
  return NULL;
}

/* Sends the CALL built in pi->frame and waits for its RESULT; on success
   the reader is left at the results. */
static wp_error *exchange(wp_instance *inst, const char *what, wp_wire_reader *r) {
  wp_proc_instance *pi = pi_of(inst);
  const wp_plugin *p = inst->plugin;
  uint32_t limit = p->manifest->timeout_ms;
  wait_ctx w = {inst, what, limit ? now_ms() + limit + WP_ISOLATION_WATCHDOG_MARGIN_MS : 0, limit};
  inst->in_call = true;
  inst->deadline_ns = 0;
  if (p->timeout_ns) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    inst->deadline_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + p->timeout_ns;
  }
  wp_error *err = NULL;
  if (pi->frame.oom) err = wp_error_no_memory();
  else if (!wp_wire_send(pi->fd, &pi->frame)) err = worker_died(&w);
  else err = await(&w, WP_FR_RESULT);
  if (!err) {
    *r = wp_wire_reader_of(&pi->frame);
    if (pi->frame.data[0] == WP_FR_ERROR) {
      err = wp_wire_get_error(r);
      if (!err || !take_tail(inst, r) || !wp_wire_done(r)) {
        wp_error_free(err);
        err = broken(&w, "a bad ERROR frame");
      }
    } else if (!take_tail(inst, r)) {
      err = broken(&w, "a bad RESULT frame");
    }
  }
  pthread_mutex_lock(&pi->lock);
  pi->calling = false;
  pthread_mutex_unlock(&pi->lock);
  inst->in_call = false;
  /* A request made during the call is used up by it. */
  atomic_store(&inst->interrupt, false);
  return err;
}

/* Starts a CALL frame: its number, mode, export, and an interrupt asked for
   before it. */
static void begin_call(wp_instance *inst, wp_call_mode mode, wp_func_id id) {
  wp_proc_instance *pi = pi_of(inst);
  pthread_mutex_lock(&pi->lock);
  pi->seq++;
  pi->calling = true;
  pthread_mutex_unlock(&pi->lock);
  wp_wire_begin(&pi->frame, WP_FR_CALL);
  wp_wire_u32(&pi->frame, pi->seq);
  wp_wire_u8(&pi->frame, (uint8_t)mode);
  wp_wire_u32(&pi->frame, id);
  wp_wire_u8(&pi->frame, atomic_exchange(&inst->interrupt, false));
}

static wp_error *call_func(wp_instance *inst, wp_func_id id, const wp_val *args, size_t nargs,
                           wp_val *results, size_t nresults) {
  wp_error *err = begin(inst, id);
  if (err) return err;
  wp_proc_instance *pi = pi_of(inst);
  if (nargs > 64 || nresults > 64)
    return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": '%s': too many values (at most 64)",
                        inst->plugin->name, export_name(inst, id));
  begin_call(inst, WP_CALL_NUMERIC, id);
  wp_wire_u32(&pi->frame, (uint32_t)nargs);
  for (size_t i = 0; i < nargs; i++) wp_wire_val(&pi->frame, &args[i]);
  wp_wire_u32(&pi->frame, (uint32_t)nresults);
  wp_wire_reader r;
  if ((err = exchange(inst, export_name(inst, id), &r))) return err;
  uint32_t n;
  wp_val got[64];
  bool ok = wp_wire_get_u32(&r, &n) && n == nresults;
  for (size_t i = 0; ok && i < n; i++) ok = wp_wire_get_val(&r, &got[i]);
  if (!ok || !wp_wire_done(&r)) {
    wait_ctx w = {inst, export_name(inst, id), 0, 0};
    return broken(&w, "a bad RESULT frame");
  }
  if (n) memcpy(results, got, n * sizeof *got);
  return NULL;
}

static wp_error *call_bytes(wp_instance *inst, wp_func_id id, const void *input, size_t len) {
  wp_error *err = begin(inst, id);
  if (err) return err;
  wp_proc_instance *pi = pi_of(inst);
  if (len > WP_WIRE_MAX - 64)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": input of %zu bytes to '%s' is more than the %u bytes a "
                                      "call to an isolated plugin carries",
                        inst->plugin->name, len, export_name(inst, id), WP_WIRE_MAX - 64);
  begin_call(inst, WP_CALL_BYTES, id);
  wp_wire_bytes(&pi->frame, input, len);
  wp_wire_reader r;
  if ((err = exchange(inst, export_name(inst, id), &r))) return err;
  const uint8_t *out;
  size_t out_len;
  if (!wp_wire_get_bytes(&r, &out, &out_len) || !wp_wire_done(&r)) {
    wait_ctx w = {inst, export_name(inst, id), 0, 0};
    return broken(&w, "a bad RESULT frame");
  }
  if (!wp_buf_reserve(&inst->out, out_len + 1)) return wp_error_no_memory();
  if (out_len) memcpy(inst->out.data, out, out_len);
  inst->out.data[out_len] = '\0';
  inst->out.len = out_len;
  return NULL;
}

static wp_error *run(wp_instance *inst, int *exit_code) {
  wp_func_id id;
  wp_error *err = wp_plugin_find_func(inst->plugin, "_start", &id);
  if (err) return wp_error_prefix(err, "not a WASI command (build it as a program with main): ");
  if ((err = begin(inst, id))) return err;
  begin_call(inst, WP_CALL_RUN, id);
  wp_wire_reader r;
  if ((err = exchange(inst, "_start", &r))) return err;
  uint32_t code;
  if (!wp_wire_get_u32(&r, &code) || !wp_wire_done(&r)) {
    wait_ctx w = {inst, "_start", 0, 0};
    return broken(&w, "a bad RESULT frame");
  }
  *exit_code = (int)code;
  return NULL;
}

/* A component export: the host checks the arguments against the export's
   type (the same errors as in-process), and they cross as WAVE text, which
   the worker reads with the same types; the result comes back the same way. */
static wp_error *check_invoke(const wp_instance *inst, wp_func_id id, const wp_value *const *args,
                              size_t nargs, const wp_cexport **out) {
  const wp_plugin *p = inst->plugin, *in = pp_of(p)->inner;
  if (!wp_comp(in))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": is a core module; call it with wp_instance_call, "
                                      "_call_bytes or _call_string",
                        p->name);
  if (id >= in->nexports || in->exports[id].kind != WP_EXTERN_FUNC)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": function id %u is not one of its exported functions",
                        p->name, (unsigned)id);
  *out = &wp_comp(in)->exports[id];
  if (nargs > 64)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT
                        ": '%s': too many arguments for a worker process (at most 64)",
                        p->name, (*out)->qualified);
  return wp_component_check_args(in, *out, 0, args, nargs);
}

static wp_error *invoke(wp_instance *inst, wp_func_id id, const wp_value *const *args, size_t nargs,
                        wp_value **result) {
  const wp_cexport *e = NULL;
  /* In-process order: a call already running is named before the arguments. */
  wp_error *err = inst->in_call ? begin(inst, id) : check_invoke(inst, id, args, nargs, &e);
  if (!err) err = begin(inst, id);
  if (err) return err;
  wp_proc_instance *pi = pi_of(inst);
  begin_call(inst, WP_CALL_INVOKE, id);
  wp_wire_u32(&pi->frame, (uint32_t)nargs);
  for (size_t i = 0; !err && i < nargs; i++)
    err = wp_wire_value(&pi->frame, args[i], handle_out, inst);
  if (err) {
    pthread_mutex_lock(&pi->lock);
    pi->calling = false;
    pthread_mutex_unlock(&pi->lock);
    return err;
  }
  wp_wire_reader r;
  if ((err = exchange(inst, e->qualified, &r))) return err;
  uint8_t has;
  wp_value *v = NULL;
  wp_error *bad = NULL;
  bool ok = wp_wire_get_u8(&r, &has) &&
            (!has || (e->type->result && wp_wire_get_value(&r, wp_functype_result(e->type),
                                                           handle_in, inst, &v, &bad))) &&
            wp_wire_done(&r);
  if (!ok || bad) {
    wp_error_free(bad);
    wp_value_free(v);
    wait_ctx w = {inst, e->qualified, 0, 0};
    return broken(&w, "a bad RESULT frame");
  }
  if (result) *result = v;
  else wp_value_free(v);
  return NULL;
}

/* wp_instance_drop_resource on a handle the worker keeps: the plugin's
   destructor runs there, as a call. */
static wp_error *drop_resource(wp_instance *inst, wp_value *v) {
  if (!(v->of.remote & GUEST_BIT))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_instance_drop_resource: the value is not a live owning handle made by "
                        "the plugin (a host object's handle is dropped by the plugin)");
  if (v->of.life != inst->life) return wp_component_foreign_handle("wp_instance_drop_resource");
  wp_error *err = begin(inst, 0);
  if (err) return err;
  wp_proc_instance *pi = pi_of(inst);
  begin_call(inst, WP_CALL_DROP, 0);
  wp_wire_u64(&pi->frame, v->of.remote & ~GUEST_BIT);
  v->of.remote = 0;
  wp_wire_reader r;
  if ((err = exchange(inst, "resource drop", &r))) return err;
  if (!wp_wire_done(&r)) {
    wait_ctx w = {inst, "resource drop", 0, 0};
    return broken(&w, "a bad RESULT frame");
  }
  return NULL;
}

static const wp_plugin *inner(const wp_plugin *p) { return pp_of(p)->inner; }

static wp_http_kind http_kind(const wp_plugin *p) {
  return wp_plugin_get_http_kind(pp_of(p)->inner);
}

/* The response, through instance/http.h's checks (the worker checked it
   too, but the host trusts no frame). */
static wp_error *read_response(wp_instance *inst, wp_wire_reader *r, size_t max_body,
                               wp_http_response *out, bool *bad) {
  uint32_t status, n;
  const uint8_t *name, *value, *body;
  size_t name_len, value_len, body_len;
  *bad = !wp_wire_get_u32(r, &status) || !wp_wire_get_u32(r, &n);
  wp_error *err = *bad ? NULL : wp_http_response_set_status(inst, out, status);
  for (uint32_t i = 0; !err && !*bad && i < n; i++) {
    *bad = !wp_wire_get_bytes(r, &name, &name_len) || !wp_wire_get_bytes(r, &value, &value_len);
    if (!*bad)
      err = wp_http_response_add_header(inst, out, (const char *)name, name_len, value, value_len);
  }
  if (!err && !*bad) *bad = !wp_wire_get_bytes(r, &body, &body_len) || !wp_wire_done(r);
  if (!err && !*bad) err = wp_http_response_set_body(inst, out, body, body_len, max_body);
  return err;
}

static wp_error *http_handle(wp_instance *inst, const wp_http_request *req, size_t max_body,
                             wp_http_response *out) {
  wp_error *err = begin(inst, 0);
  if (err) return err;
  wp_proc_instance *pi = pi_of(inst);
  begin_call(inst, WP_CALL_HTTP, 0);
  wp_buf *b = &pi->frame;
  wp_wire_u64(b, max_body);
  wp_wire_str(b, req->method);
  wp_wire_str(b, req->scheme);
  wp_wire_str(b, req->authority);
  wp_wire_str(b, req->path_with_query);
  wp_wire_u32(b, (uint32_t)req->n_headers);
  for (size_t i = 0; i < req->n_headers; i++) {
    wp_wire_bytes(b, req->headers[i].name, req->headers[i].name_len);
    wp_wire_bytes(b, req->headers[i].value, req->headers[i].value_len);
  }
  wp_wire_bytes(b, req->body, req->body_len);
  wp_wire_reader r;
  if ((err = exchange(inst, "handle", &r))) return err;
  bool bad;
  err = read_response(inst, &r, max_body, out, &bad);
  if (bad && !err) {
    wait_ctx w = {inst, "handle", 0, 0};
    return broken(&w, "a bad RESULT frame");
  }
  return err;
}

int wp_instance_get_worker_pid(const wp_instance *inst) {
  if (!inst || inst->plugin->kind != &wp_process_kind || !pi_of(inst)) return 0;
  wp_proc_instance *pi = pi_of(inst);
  pthread_mutex_lock(&pi->lock);
  int pid = (int)pi->pid;
  pthread_mutex_unlock(&pi->lock);
  return pid;
}

const wp_kind wp_process_kind = {
    .name = "plugin in a worker process",
    .load = load,
    .free = free_plugin,
    .call_name = call_name,
    .build = build,
    .instance_free = instance_free,
    .is_bytes_func = is_bytes_func,
    .call_bytes = call_bytes,
    .call_func = call_func,
    .run = run,
    .interrupt = interrupt,
    .http_kind = http_kind,
    .http_handle = http_handle,
    .invoke = invoke,
    .new_resource = new_resource,
    .get_resource = get_resource,
    .drop_resource = drop_resource,
    .inner = inner,
};
