/*
 * worker.c - the worker's side of process isolation (wp_worker_main): loads
 * the plugin it is sent, with the host's engine settings and manifest, runs
 * one instance of it, and answers the host's calls over the socket. The
 * embedder's host functions are stubs that ask the host to run them; its
 * resource types are stand-ins whose objects are the host's ids.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/error.h"
#include "instance/http.h"
#include "instance/instance.h"
#include "isolation/wire.h"

typedef struct worker {
  int fd;
  wp_engine *engine;
  wp_plugin *plugin;
  wp_instance *inst;
  wp_buf frame;  /* the host's request being served (a call's input lives here) */
  wp_buf hframe; /* host function calls and their replies */
  wp_buf lframe; /* log lines */
  wp_buf dframe; /* drops of host objects */
  size_t out_sent, err_sent; /* captured stdout/stderr already sent */
  /* Per entry of LOAD's host list: the stand-in for a host resource type,
     whose objects are the host's ids; NULL for functions. */
  const wp_resource_type **res_of;
  uint32_t nhosts;
  /* Handles of the plugin's own resources that crossed to the host, by id:
     (generation << 32) | (slot + 1). */
  struct guest *guests;
  uint32_t nguests, guests_cap, free_guest; /* free_guest: head of free slots + 1, 0 none */
} worker;

typedef struct guest {
  wp_value *v; /* NULL: a free slot */
  uint32_t gen, next_free;
} guest;

/* One embedder's host function, as the worker defines it (its user data). */
typedef struct stub {
  worker *w;
  uint32_t index;  /* in the host's list (HOSTCALL) */
  uint32_t import; /* components: the plugin's import, for its types */
} stub;

/*
 * The interrupt signal (SIGUSR1, its value the call's number) may arrive on
 * any thread, before the call it is meant for starts or after it ended: the
 * handler records it, and interrupts only the call of that number.
 */
static volatile sig_atomic_t cur_seq, pending_seq;
static wp_instance *volatile sig_inst;

static void on_interrupt(int sig, siginfo_t *info, void *uc) {
  (void)sig;
  (void)uc;
  int seq = info->si_value.sival_int;
  pending_seq = seq;
  if (seq != 0 && seq == cur_seq && sig_inst) wp_instance_interrupt(sig_inst);
}

/* The host is gone or broke the protocol: nothing is left to serve. */
static _Noreturn void lost(void) { _exit(2); }

/* Sends a HOSTCALL (built in w->hframe) and reads its HOSTRESULT. */
static wp_wire_reader ask_host(worker *w) {
  if (!wp_wire_send(w->fd, &w->hframe) || !wp_wire_recv(w->fd, &w->hframe) ||
      w->hframe.data[0] != WP_FR_HOSTRESULT)
    lost();
  return wp_wire_reader_of(&w->hframe);
}

/* The host function's error as the host made it; NULL if it succeeded. */
static bool host_failed(wp_wire_reader *r, wp_error **err) {
  uint8_t ok;
  if (!wp_wire_get_u8(r, &ok)) lost();
  *err = ok ? NULL : wp_wire_get_error(r);
  if (!ok && !*err) lost();
  return !ok;
}

/* The plugin dropped its last handle to a host object (or the instance
   went): the host runs the embedder's drop callback. Once the host is gone
   there is nobody left to tell. */
static void stub_drop(void *object, void *user_data) {
  worker *w = user_data;
  wp_wire_begin(&w->dframe, WP_FR_DROP);
  wp_wire_u64(&w->dframe, (uint64_t)(uintptr_t)object);
  wp_wire_send(w->fd, &w->dframe);
}

static uint64_t guest_id(const worker *w, uint32_t slot) {
  return (uint64_t)w->guests[slot].gen << 32 | (slot + 1);
}

static guest *find_guest(const worker *w, uint64_t id) {
  uint32_t slot = (uint32_t)id;
  if (slot == 0 || slot > w->nguests) return NULL;
  guest *g = &w->guests[slot - 1];
  return g->v && g->gen == (uint32_t)(id >> 32) ? g : NULL;
}

static void forget_guest(worker *w, guest *g) {
  wp_value_free(g->v);
  g->v = NULL;
  g->gen = (g->gen + 1) & 0x7fffffffu; /* ids stay below 2^63 */
  g->next_free = w->free_guest;
  w->free_guest = (uint32_t)(g - w->guests) + 1;
}

/* The instance went (a reset, or the end): its handles name nothing. */
static void forget_guests(worker *w) {
  for (uint32_t i = 0; i < w->nguests; i++)
    if (w->guests[i].v) forget_guest(w, &w->guests[i]);
}

/* Keeps a copy of a handle of the plugin's own resource for the host. */
static wp_error *keep_guest(worker *w, const wp_value *v, uint64_t *id) {
  wp_value *copy = wp_value_clone(v);
  if (!copy) return wp_error_no_memory();
  uint32_t slot;
  if (w->free_guest) {
    slot = w->free_guest - 1;
    w->free_guest = w->guests[slot].next_free;
  } else {
    if (w->nguests == w->guests_cap) {
      uint32_t cap = w->guests_cap ? w->guests_cap * 2 : 8;
      guest *n = realloc(w->guests, cap * sizeof *n);
      if (!n) {
        wp_value_free(copy);
        return wp_error_no_memory();
      }
      w->guests = n;
      w->guests_cap = cap;
    }
    slot = w->nguests++;
    w->guests[slot].gen = 0;
  }
  w->guests[slot].v = copy;
  *id = guest_id(w, slot);
  return NULL;
}

/* A handle going to the host: a stand-in's object is the host's id; any
   other handle is the plugin's own, kept here. */
static wp_error *handle_out(void *ctx, const wp_value *v, wp_wire_handle *h) {
  worker *w = ctx;
  for (uint32_t i = 0; i < w->nhosts; i++) {
    void *object;
    wp_error *err;
    if (!w->res_of[i] || (err = wp_value_get_resource(v, w->inst, w->res_of[i], &object))) {
      if (w->res_of[i]) wp_error_free(err);
      continue;
    }
    *h = (wp_wire_handle){WP_WIRE_HOST_OBJECT, i, (uint64_t)(uintptr_t)object};
    return NULL;
  }
  *h = (wp_wire_handle){WP_WIRE_GUEST_HANDLE, 0, 0};
  return keep_guest(w, v, &h->id);
}

/* A handle coming from the host: a stand-in handle carrying the host's id. */
static wp_value *handle_in(void *ctx, const wp_type *type, const wp_wire_handle *h) {
  worker *w = ctx;
  (void)type;
  if (h->tag == WP_WIRE_GUEST_HANDLE) {
    guest *g = find_guest(w, h->id);
    return g ? wp_value_clone(g->v) : NULL;
  }
  if (h->tag != WP_WIRE_HOST_OBJECT || h->index >= w->nhosts || !w->res_of[h->index] || !h->id)
    return NULL;
  return wp_value_new_resource(w->inst, w->res_of[h->index], (void *)(uintptr_t)h->id);
}

static wp_error *stub_numeric(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                              size_t nresults, void *user_data) {
  (void)call;
  stub *s = user_data;
  worker *w = s->w;
  wp_wire_begin(&w->hframe, WP_FR_HOSTCALL);
  wp_wire_u32(&w->hframe, s->index);
  wp_wire_u32(&w->hframe, (uint32_t)nargs);
  for (size_t i = 0; i < nargs; i++) wp_wire_val(&w->hframe, &args[i]);
  wp_wire_reader r = ask_host(w);
  wp_error *err;
  if (host_failed(&r, &err)) return err;
  uint32_t n;
  if (!wp_wire_get_u32(&r, &n) || n != nresults) lost();
  for (size_t i = 0; i < n; i++)
    if (!wp_wire_get_val(&r, &results[i])) lost();
  if (!wp_wire_done(&r)) lost();
  return NULL;
}

static wp_error *stub_bytes(wp_host_call *call, const uint8_t *input, size_t len, void *user_data) {
  stub *s = user_data;
  worker *w = s->w;
  wp_wire_begin(&w->hframe, WP_FR_HOSTCALL);
  wp_wire_u32(&w->hframe, s->index);
  wp_wire_bytes(&w->hframe, input, len);
  wp_wire_reader r = ask_host(w);
  wp_error *err;
  if (host_failed(&r, &err)) return err;
  const uint8_t *out;
  size_t out_len;
  if (!wp_wire_get_bytes(&r, &out, &out_len) || !wp_wire_done(&r)) lost();
  return wp_host_call_set_output(call, out, out_len);
}

static wp_error *stub_component(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                wp_value **result, void *user_data) {
  (void)call;
  stub *s = user_data;
  worker *w = s->w;
  const wp_extern_info *imp = wp_plugin_get_import(w->plugin, s->import);
  if (!imp || !imp->functype) lost();
  wp_wire_begin(&w->hframe, WP_FR_HOSTCALL);
  wp_wire_u32(&w->hframe, s->index);
  wp_wire_u32(&w->hframe, (uint32_t)nargs);
  for (size_t i = 0; i < nargs; i++) {
    wp_error *err = wp_wire_value(&w->hframe, args[i], handle_out, w);
    if (err) return err;
  }
  wp_wire_reader r = ask_host(w);
  wp_error *err;
  if (host_failed(&r, &err)) return err;
  uint8_t has;
  const wp_type *rt = wp_functype_result(imp->functype);
  if (!wp_wire_get_u8(&r, &has) || (has && !rt) ||
      (has && !wp_wire_get_value(&r, rt, handle_in, w, result, &err)) || !wp_wire_done(&r))
    lost();
  return err;
}

static void forward_log(void *user_data, wp_log_level level, const char *plugin, const char *msg,
                        size_t len) {
  worker *w = user_data;
  wp_wire_begin(&w->lframe, WP_FR_LOG);
  wp_wire_u8(&w->lframe, (uint8_t)level);
  wp_wire_str(&w->lframe, plugin);
  wp_wire_bytes(&w->lframe, msg, len);
  if (!wp_wire_send(w->fd, &w->lframe)) lost();
}

/* ---- LOAD ----------------------------------------------------------------- */

/* The host's engine settings (parent.c put_engine), so that the compile
   cache is shared and the limits are the same. */
static bool read_engine(worker *w, wp_wire_reader *r, wp_engine_config *cfg) {
  char *cache = NULL;
  uint8_t has_cache, log;
  uint32_t pooling, tick, functions, table_elements;
  uint64_t max_memory, inst_timeout, module_size, instance_size;
  bool ok = wp_wire_get_str(r, &cache) && wp_wire_get_u8(r, &has_cache) &&
            wp_wire_get_u32(r, &pooling) && wp_wire_get_u64(r, &max_memory) &&
            wp_wire_get_u32(r, &tick) && wp_wire_get_u64(r, &inst_timeout) &&
            wp_wire_get_u64(r, &module_size) && wp_wire_get_u32(r, &functions) &&
            wp_wire_get_u32(r, &table_elements) && wp_wire_get_u64(r, &instance_size) &&
            wp_wire_get_u8(r, &log) && inst_timeout <= UINT32_MAX;
  if (ok) {
    wp_engine_config_set_cache_dir(cfg, has_cache ? cache : NULL);
    wp_engine_config_set_pooling(cfg, pooling);
    wp_engine_config_set_max_memory(cfg, max_memory);
    wp_engine_config_set_tick_us(cfg, tick);
    wp_engine_config_set_instantiate_timeout_ms(cfg, (uint32_t)inst_timeout);
    wp_engine_config_set_max_module_size(cfg, module_size);
    wp_engine_config_set_max_functions(cfg, functions);
    wp_engine_config_set_pool_table_elements(cfg, table_elements);
    wp_engine_config_set_pool_instance_size(cfg, instance_size);
    wp_engine_config_set_isolation(cfg, WP_ISOLATION_NONE);
    if (log) wp_engine_config_set_log(cfg, forward_log, w);
  }
  free(cache);
  return ok;
}

/* The capabilities' engine-wide settings (parent.c put_settings). */
static wp_error *read_settings(worker *w, wp_wire_reader *r, bool *bad) {
  uint32_t n;
  if (!wp_wire_get_u32(r, &n)) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    char *name = NULL, *json = NULL;
    if (!wp_wire_get_str(r, &name) || !wp_wire_get_str(r, &json)) {
      free(name);
      return NULL;
    }
    const wp_capability *cap = wp_engine_get_capability(w->engine, name);
    const wp_capability_methods *m = cap ? cap->methods : NULL;
    wp_error *err = m && m->settings_apply
                        ? m->settings_apply(wp_capability_get_data(cap), json)
                        : wp_error_new(
                              WP_ERR_HOST,
                              "wasmplug worker: the host sent settings of capability '%s', "
                              "which this worker does not have",
                              name);
    free(name);
    free(json);
    if (err) {
      *bad = false;
      return err;
    }
  }
  *bad = false;
  return NULL;
}

static wp_stdio_mode stdio_mode(uint8_t inherit, uint8_t capture) {
  return inherit ? WP_STDIO_INHERIT : capture ? WP_STDIO_CAPTURE : WP_STDIO_DISCARD;
}

/* The manifest (parent.c put_manifest): its JSON, and what JSON cannot say. */
static wp_error *read_manifest(wp_wire_reader *r, char **name, wp_manifest **out) {
  char *json = NULL, *origin = NULL;
  uint64_t max_memory;
  uint8_t has_stdin, oi, oc, ei, ec;
  const uint8_t *stdin_data;
  size_t stdin_len;
  if (!wp_wire_get_str(r, name) || !wp_wire_get_str(r, &json) || !wp_wire_get_u64(r, &max_memory) ||
      !wp_wire_get_u8(r, &has_stdin) || !wp_wire_get_bytes(r, &stdin_data, &stdin_len) ||
      !wp_wire_get_str(r, &origin) || !wp_wire_get_u8(r, &oi) || !wp_wire_get_u8(r, &oc) ||
      !wp_wire_get_u8(r, &ei) || !wp_wire_get_u8(r, &ec)) {
    free(json);
    free(origin);
    return NULL;
  }
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(json, strlen(json), NULL, &m);
  if (!err) {
    wp_manifest_set_max_memory(m, max_memory);
    wp_manifest_set_isolation(m, WP_ISOLATION_NONE);
    wp_manifest_set_stdout(m, stdio_mode(oi, oc), NULL, NULL);
    wp_manifest_set_stderr(m, stdio_mode(ei, ec), NULL, NULL);
    if (has_stdin) err = wp_manifest_set_stdin(m, stdin_data, stdin_len);
  }
  if (!err && *origin) err = wp_manifest_set_timeout_origin(m, origin);
  free(json);
  free(origin);
  if (err) wp_manifest_free(m);
  else *out = m;
  return err;
}

/* A core host function's signature (parent.c put_hosts). */
static bool read_signature(wp_wire_reader *r, wp_valkind *params, uint8_t *np, wp_valkind *results,
                           uint8_t *nr) {
  uint8_t k;
  if (!wp_wire_get_u8(r, np) || *np > 16) return false;
  for (uint8_t j = 0; j < *np; j++) {
    if (!wp_wire_get_u8(r, &k) || k > WP_F64) return false;
    params[j] = (wp_valkind)k;
  }
  if (!wp_wire_get_u8(r, nr) || *nr > 16) return false;
  for (uint8_t j = 0; j < *nr; j++) {
    if (!wp_wire_get_u8(r, &k) || k > WP_F64) return false;
    results[j] = (wp_valkind)k;
  }
  return true;
}

/* One stub, defined as the host defined the function it stands for. */
static wp_error *define_host(worker *w, wp_wire_reader *r, uint32_t index, const char *module,
                             const char *name, uint8_t shape, bool *bad) {
  wp_valkind params[16], results[16];
  uint8_t np = 0, nr = 0, has_module = 0;
  uint32_t import = 0;
  if (shape == WP_SHAPE_RESOURCE) {
    *bad = !wp_wire_get_u8(r, &has_module);
    return *bad ? NULL
                : wp_engine_define_resource(w->engine, has_module ? module : NULL, name, stub_drop,
                                            w, NULL, &w->res_of[index]);
  }
  *bad = shape == WP_SHAPE_COMPONENT
             ? !wp_wire_get_u8(r, &has_module) || !wp_wire_get_u32(r, &import)
             : shape > WP_SHAPE_COMPONENT || !read_signature(r, params, &np, results, &nr);
  if (*bad) return NULL;
  stub *s = malloc(sizeof *s);
  if (!s) return wp_error_no_memory();
  *s = (stub){w, index, import};
  switch (shape) {
  case WP_SHAPE_NUMERIC:
    return wp_engine_define_func(w->engine, module, name, params, np, results, nr, stub_numeric, s,
                                 free);
  case WP_SHAPE_STRING:
    return wp_engine_define_string(w->engine, module, name, stub_bytes, s, free);
  case WP_SHAPE_BYTES: return wp_engine_define_bytes(w->engine, module, name, stub_bytes, s, free);
  default:
    return wp_engine_define_component_func(w->engine, has_module ? module : NULL, name,
                                           stub_component, s, free);
  }
}

/* The embedder's host functions the plugin imports: stubs that ask the host. */
static wp_error *define_hosts(worker *w, wp_wire_reader *r, bool *bad) {
  uint32_t n;
  *bad = !wp_wire_get_u32(r, &n) || n > WP_WIRE_MAX / 16;
  if (*bad) return NULL;
  w->res_of = calloc(n ? n : 1, sizeof *w->res_of);
  if (!w->res_of) return wp_error_no_memory();
  w->nhosts = n;
  for (uint32_t i = 0; !*bad && i < n; i++) {
    char *module = NULL, *name = NULL;
    uint8_t shape;
    wp_error *err = NULL;
    *bad = !wp_wire_get_str(r, &module) || !wp_wire_get_str(r, &name) || !wp_wire_get_u8(r, &shape);
    if (!*bad) err = define_host(w, r, i, module, name, shape, bad);
    free(module);
    free(name);
    if (err) return err;
  }
  return NULL;
}

static wp_error *load(worker *w, bool *bad) {
  wp_wire_reader r = wp_wire_reader_of(&w->frame);
  uint32_t version;
  *bad = true;
  if (w->frame.data[0] != WP_FR_LOAD || !wp_wire_get_u32(&r, &version)) return NULL;
  if (version != WP_WIRE_VERSION)
    return wp_error_new(WP_ERR_HOST,
                        "wasmplug worker: the host speaks protocol version %u, this worker %u: "
                        "run the worker program of the same wasmplug as the host",
                        (unsigned)version, (unsigned)WP_WIRE_VERSION);
  wp_engine_config *cfg = wp_engine_config_new();
  if (!cfg) return wp_error_no_memory();
  bool ok = read_engine(w, &r, cfg);
  wp_error *err = ok ? wp_engine_new(cfg, &w->engine) : NULL;
  wp_engine_config_free(cfg);
  if (!ok || err) return err;
  if ((err = read_settings(w, &r, bad)) || *bad) return err;
  *bad = true;
  char *name = NULL;
  wp_manifest *m = NULL;
  err = read_manifest(&r, &name, &m);
  if (!err && !m) return NULL;
  if (!err) err = define_hosts(w, &r, bad);
  const uint8_t *wasm;
  size_t len;
  if (!err && !*bad) {
    *bad = !wp_wire_get_bytes(&r, &wasm, &len) || !wp_wire_done(&r);
    if (!*bad) err = wp_plugin_load_bytes(w->engine, name, wasm, len, m, &w->plugin);
  }
  free(name);
  wp_manifest_free(m);
  return err;
}

/* ---- serving ---------------------------------------------------------------- */

static void send_or_die(worker *w, wp_buf *b) {
  if (!wp_wire_send(w->fd, b)) lost();
}

static void send_error(worker *w, wp_error *err) {
  wp_wire_begin(&w->frame, WP_FR_ERROR);
  wp_wire_put_error(&w->frame, err);
  wp_error_free(err);
  send_or_die(w, &w->frame);
}

/* Fuel, memory size, failure and the output captured since the last call
   (parent.c take_tail). */
static void put_tail(worker *w, wp_buf *b) {
  size_t out_len, err_len;
  const uint8_t *out = wp_instance_get_stdout(w->inst, &out_len);
  const uint8_t *errb = wp_instance_get_stderr(w->inst, &err_len);
  if (out_len < w->out_sent) w->out_sent = 0;
  if (err_len < w->err_sent) w->err_sent = 0;
  wp_wire_u64(b, wp_instance_get_fuel_used(w->inst));
  wp_wire_u64(b, wp_instance_get_memory_size(w->inst));
  wp_wire_u8(b, w->inst->failed);
  wp_wire_bytes(b, out + w->out_sent, out_len - w->out_sent);
  wp_wire_bytes(b, errb + w->err_sent, err_len - w->err_sent);
  w->out_sent = out_len;
  w->err_sent = err_len;
}

static void instantiate(worker *w) {
  wp_error *err;
  forget_guests(w);
  if (w->inst) {
    err = wp_instance_reset(w->inst);
  } else {
    err = wp_instance_new(w->plugin, &w->inst);
    sig_inst = w->inst;
  }
  w->out_sent = w->err_sent = 0;
  if (err) {
    send_error(w, err);
    return;
  }
  wp_wire_begin(&w->frame, WP_FR_OK);
  send_or_die(w, &w->frame);
}

/* An HTTP request (parent.c http_handle), handled by the instance; the
   response goes into b after the tail. */
typedef struct http_call {
  char *method, *scheme, *authority, *path;
  wp_http_header *headers;
  uint64_t max_body;
  wp_http_request req;
} http_call;

static bool read_request(wp_wire_reader *r, http_call *h) {
  uint32_t n;
  if (!wp_wire_get_u64(r, &h->max_body) || !wp_wire_get_str(r, &h->method) ||
      !wp_wire_get_str(r, &h->scheme) || !wp_wire_get_str(r, &h->authority) ||
      !wp_wire_get_str(r, &h->path) || !wp_wire_get_u32(r, &n) || n > WP_WIRE_MAX / 8)
    return false;
  h->headers = calloc(n ? n : 1, sizeof *h->headers);
  if (!h->headers) return false;
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *name;
    if (!wp_wire_get_bytes(r, &name, &h->headers[i].name_len) ||
        !wp_wire_get_bytes(r, &h->headers[i].value, &h->headers[i].value_len))
      return false;
    h->headers[i].name = (const char *)name;
  }
  h->req = (wp_http_request){h->method, h->scheme, h->authority, h->path, h->headers, n, NULL, 0};
  return wp_wire_get_bytes(r, &h->req.body, &h->req.body_len);
}

static void http_call_free(http_call *h) {
  free(h->method);
  free(h->scheme);
  free(h->authority);
  free(h->path);
  free(h->headers);
}

static void put_response(wp_buf *b, const wp_http_response *resp) {
  wp_wire_u32(b, resp->status);
  wp_wire_u32(b, (uint32_t)resp->n_headers);
  for (size_t i = 0; i < resp->n_headers; i++) {
    wp_wire_bytes(b, resp->headers[i].name, resp->headers[i].name_len);
    wp_wire_bytes(b, resp->headers[i].value, resp->headers[i].value_len);
  }
  wp_wire_bytes(b, resp->body, resp->body_len);
}

/* A component export's arguments as WAVE text, read with its types. */
typedef struct invoke_call {
  wp_value *args[64];
  size_t nargs;
  wp_error *err; /* a text that does not read as its type */
  wp_value *result;
} invoke_call;

static bool read_invoke(worker *w, wp_wire_reader *r, uint32_t id, invoke_call *v) {
  uint32_t n;
  const wp_functype *ft = wp_plugin_get_functype(w->plugin, id);
  if (!wp_wire_get_u32(r, &n) || n > 64 || !ft || n != wp_functype_param_count(ft)) return false;
  for (uint32_t i = 0; i < n; i++) {
    wp_value *arg = NULL;
    wp_error *err = NULL;
    if (!wp_wire_get_value(r, wp_functype_param_type(ft, i), handle_in, w, &arg, &err))
      return false;
    if (!v->err && !err) v->args[v->nargs++] = arg;
    else wp_value_free(arg);
    if (!v->err) v->err = err;
    else wp_error_free(err);
  }
  return true;
}

static void invoke_call_free(invoke_call *v) {
  for (size_t i = 0; i < v->nargs; i++) wp_value_free(v->args[i]);
  wp_error_free(v->err);
  wp_value_free(v->result);
}

static wp_error *put_invoke_result(worker *w, wp_buf *b, const invoke_call *v) {
  wp_wire_u8(b, v->result != NULL);
  return v->result ? wp_wire_value(b, v->result, handle_out, w) : NULL;
}

/* Runs the call in w->frame; builds the RESULT or ERROR in w->hframe (the
   call's input lives in w->frame until the call is done). */
static void call(worker *w) {
  wp_wire_reader r = wp_wire_reader_of(&w->frame);
  uint32_t seq, id, nargs = 0, nresults = 0;
  uint8_t mode, intr;
  wp_val args[64], results[64];
  const uint8_t *input = NULL;
  size_t len = 0;
  http_call http = {0};
  invoke_call inv = {0};
  wp_http_response resp = {0};
  uint64_t drop_id = 0;
  bool ok = wp_wire_get_u32(&r, &seq) && wp_wire_get_u8(&r, &mode) && wp_wire_get_u32(&r, &id) &&
            wp_wire_get_u8(&r, &intr) && w->inst;
  if (ok && mode == WP_CALL_NUMERIC) {
    ok = wp_wire_get_u32(&r, &nargs) && nargs <= 64;
    for (uint32_t i = 0; ok && i < nargs; i++) ok = wp_wire_get_val(&r, &args[i]);
    ok = ok && wp_wire_get_u32(&r, &nresults) && nresults <= 64;
  } else if (ok && mode == WP_CALL_BYTES) {
    ok = wp_wire_get_bytes(&r, &input, &len);
  } else if (ok && mode == WP_CALL_HTTP) {
    ok = read_request(&r, &http);
  } else if (ok && mode == WP_CALL_INVOKE) {
    ok = read_invoke(w, &r, id, &inv);
  } else if (ok && mode == WP_CALL_DROP) {
    ok = wp_wire_get_u64(&r, &drop_id);
  } else if (ok && mode != WP_CALL_RUN) {
    ok = false;
  }
  if (!ok || !wp_wire_done(&r)) lost();

  /* This call's number first, so that a late signal of the last call is
     ignored; then a request that came before the call began. */
  cur_seq = (sig_atomic_t)seq;
  atomic_store(&w->inst->interrupt, false);
  if (intr || pending_seq == (sig_atomic_t)seq) wp_instance_interrupt(w->inst);
  wp_error *err = NULL;
  const uint8_t *out = NULL;
  size_t out_len = 0;
  int code = 0;
  switch (mode) {
  case WP_CALL_NUMERIC:
    err = wp_instance_call_func(w->inst, id, args, nargs, results, nresults);
    break;
  case WP_CALL_BYTES:
    err = wp_instance_call_func_bytes(w->inst, id, input, len, &out, &out_len);
    break;
  case WP_CALL_HTTP:
    err = wp_instance_handle_http(w->inst, &http.req, (size_t)http.max_body, &resp);
    break;
  case WP_CALL_INVOKE:
    /* An argument that does not read as its type fails the call here. */
    err = inv.err ? wp_error_prefix(inv.err, "a WAVE argument the host sent: ")
                  : wp_instance_invoke_func(w->inst, id, (const wp_value *const *)inv.args,
                                            inv.nargs, &inv.result);
    inv.err = NULL;
    break;
  case WP_CALL_DROP: {
    guest *g = find_guest(w, drop_id);
    err = g ? wp_instance_drop_resource(w->inst, g->v)
            : wp_error_new(WP_ERR_BAD_INPUT,
                           "wp_instance_drop_resource: the value is not a live owning handle");
    if (g) forget_guest(w, g);
    break;
  }
  default: err = wp_instance_run(w->inst, &code); break;
  }
  cur_seq = 0;

  wp_buf *b = &w->hframe;
  if (err) {
    wp_wire_begin(b, WP_FR_ERROR);
    wp_wire_put_error(b, err);
    wp_error_free(err);
    put_tail(w, b);
  } else {
    wp_wire_begin(b, WP_FR_RESULT);
    put_tail(w, b);
    if (mode == WP_CALL_NUMERIC) {
      wp_wire_u32(b, nresults);
      for (uint32_t i = 0; i < nresults; i++) wp_wire_val(b, &results[i]);
    } else if (mode == WP_CALL_BYTES) {
      wp_wire_bytes(b, out, out_len);
    } else if (mode == WP_CALL_HTTP) {
      put_response(b, &resp);
    } else if (mode == WP_CALL_INVOKE && (err = put_invoke_result(w, b, &inv))) {
      wp_wire_begin(b, WP_FR_ERROR);
      wp_wire_put_error(b, err);
      wp_error_free(err);
      put_tail(w, b);
    } else if (mode != WP_CALL_INVOKE && mode != WP_CALL_DROP) {
      wp_wire_u32(b, (uint32_t)code);
    }
  }
  if (b->oom) {
    wp_wire_begin(b, WP_FR_ERROR);
    wp_error *oom = wp_error_no_memory();
    wp_wire_put_error(b, oom);
    wp_error_free(oom);
    put_tail(w, b);
  }
  http_call_free(&http);
  invoke_call_free(&inv);
  wp_http_response_clear(&resp);
  send_or_die(w, b);
}

static void worker_free(worker *w) {
  sig_inst = NULL;
  forget_guests(w);
  free(w->guests);
  wp_instance_free(w->inst);
  wp_plugin_free(w->plugin);
  wp_engine_free(w->engine);
  wp_buf_free(&w->frame);
  wp_buf_free(&w->hframe);
  wp_buf_free(&w->lframe);
  wp_buf_free(&w->dframe);
  free(w->res_of);
}

int wp_worker_main(int fd) {
  worker w = {.fd = fd};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_interrupt;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);

  if (!wp_wire_recv(fd, &w.frame)) return 2;
  bool bad;
  wp_error *err = load(&w, &bad);
  if (err) {
    send_error(&w, err);
    worker_free(&w);
    return 0;
  }
  if (bad) {
    worker_free(&w);
    return 2;
  }
  wp_wire_begin(&w.frame, WP_FR_READY);
  wp_wire_u32(&w.frame, (uint32_t)wp_plugin_export_count(w.plugin));
  send_or_die(&w, &w.frame);
  while (wp_wire_recv(fd, &w.frame)) {
    uint8_t type = w.frame.data[0];
    if (type == WP_FR_INSTANTIATE && w.frame.len == 1) instantiate(&w);
    else if (type == WP_FR_CALL) call(&w);
    else lost();
  }
  worker_free(&w);
  return 0;
}
