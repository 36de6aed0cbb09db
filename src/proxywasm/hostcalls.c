/*
 * hostcalls.c - the host functions of Proxy-Wasm ABI 0.2.1 (env.proxy_*),
 * all 39 of them: those that make sense in wasmplug for real, the gRPC
 * family answering UNIMPLEMENTED.
 *
 * Every pointer and length comes from the filter: each is checked against
 * its memory before use (pw_in_bounds), inputs are copied out before the
 * guest allocator runs (it may grow memory and move the base), and results
 * go back through the allocator the filter exports, re-checked. A status the
 * filter gets is never a crash of the host; a bad pointer is
 * INVALID_MEMORY_ACCESS.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/error.h"
#include "proxywasm/abi.h"
#include "proxywasm/pw.h"

/* One host call in progress. */
typedef struct hc {
  wp_instance *inst;
  pw_vm *vm;         /* NULL when the module runs outside a VM (wp_instance_call) */
  wasm_trap_t *trap; /* set when the guest allocator trapped */
} hc;

typedef int32_t (*hc_fn)(hc *c, const wasmtime_val_raw_t *a);

/* ---- memory -------------------------------------------------------------------------- */

/* The guest bytes [ptr, ptr + len), or NULL if outside memory. */
static const uint8_t *in(hc *c, uint32_t ptr, uint32_t len) {
  size_t size;
  uint8_t *mem = pw_memory(c->inst, &size);
  if (!mem || !pw_in_bounds(ptr, len, size)) return NULL;
  return mem + ptr;
}

/* Copies guest bytes out (NUL-terminated); NULL if outside memory or no memory. */
static uint8_t *copy_in(hc *c, uint32_t ptr, uint32_t len) {
  const uint8_t *src = in(c, ptr, len);
  uint8_t *dst = src ? malloc((size_t)len + 1) : NULL;
  if (!dst) return NULL;
  memcpy(dst, src, len);
  dst[len] = '\0';
  return dst;
}

static bool put_u32(hc *c, uint32_t ptr, uint32_t v) {
  size_t size;
  uint8_t *mem = pw_memory(c->inst, &size);
  if (!mem || !pw_in_bounds(ptr, 4, size)) return false;
  for (int i = 0; i < 4; i++) mem[ptr + i] = (uint8_t)(v >> (8 * i));
  return true;
}

static bool put_u64(hc *c, uint32_t ptr, uint64_t v) {
  size_t size;
  uint8_t *mem = pw_memory(c->inst, &size);
  if (!mem || !pw_in_bounds(ptr, 8, size)) return false;
  for (int i = 0; i < 8; i++) mem[ptr + i] = (uint8_t)(v >> (8 * i));
  return true;
}

/*
 * Gives bytes to the filter: its allocator makes room, the bytes are copied
 * there and (address, length) written at ptr_ptr and len_ptr. Empty data is
 * (0, 0) with no allocation, as Envoy does.
 */
static int32_t give(hc *c, const void *data, size_t len, uint32_t ptr_ptr, uint32_t len_ptr) {
  if (len > UINT32_MAX) return PW_INTERNAL_FAILURE;
  uint32_t addr = 0;
  if (len) {
    pw_instance *pi = pw_inst(c->inst);
    if (!pi->has_alloc) return PW_INTERNAL_FAILURE;
    wasmtime_val_raw_t raw[1] = {{.i32 = (int32_t)len}};
    wasm_trap_t *trap = NULL;
    wasmtime_error_t *werr = wasmtime_func_call_unchecked(c->inst->ctx, &pi->alloc, raw, 1, &trap);
    if (werr) {
      wasmtime_error_delete(werr);
      c->trap = wasmtime_trap_new("the filter's allocator failed", 29);
      return PW_INTERNAL_FAILURE;
    }
    if (trap) {
      c->trap = trap;
      return PW_INTERNAL_FAILURE;
    }
    addr = (uint32_t)raw[0].i32;
    size_t size;
    uint8_t *mem = pw_memory(c->inst, &size); /* after the call: memory may have grown */
    if (!addr || !mem || !pw_in_bounds(addr, (uint32_t)len, size)) return PW_INVALID_MEMORY_ACCESS;
    memcpy(mem + addr, data, len);
  }
  if (!put_u32(c, ptr_ptr, addr) || !put_u32(c, len_ptr, (uint32_t)len))
    return PW_INVALID_MEMORY_ACCESS;
  return PW_OK;
}

static uint32_t u(const wasmtime_val_raw_t *a, int i) { return (uint32_t)a[i].i32; }

/* ---- maps and buffers of the effective context ----------------------------------------- */

static pw_map *map_of(hc *c, uint32_t type) {
  wp_pw_stream *s = pw_vm_stream(c->vm);
  if (type <= WP_PW_RESPONSE_TRAILERS) return s && !s->tcp ? &s->maps[type] : NULL;
  if (type == PW_MAP_HTTP_CALL_RESPONSE_HEADERS) return c->vm->call ? &c->vm->call->headers : NULL;
  if (type == PW_MAP_HTTP_CALL_RESPONSE_TRAILERS)
    return c->vm->call ? &c->vm->call->trailers : NULL;
  return NULL;
}

static int32_t map_status(pw_map_status st) {
  return st == PW_MAP_OK ? PW_OK : st == PW_MAP_NO_MEMORY ? PW_INTERNAL_FAILURE : PW_BAD_ARGUMENT;
}

static int32_t get_header_map_pairs(hc *c, const wasmtime_val_raw_t *a) {
  pw_map *m = map_of(c, u(a, 0));
  /* An absent map reads as empty: the Rust SDK accepts nothing but OK here. */
  size_t n = m ? pw_map_serialized_size(m) : 0;
  if (!m || !m->n) return give(c, NULL, 0, u(a, 1), u(a, 2));
  uint8_t *buf = malloc(n);
  if (!buf) return PW_INTERNAL_FAILURE;
  pw_map_serialize(m, buf);
  int32_t rc = give(c, buf, n, u(a, 1), u(a, 2));
  free(buf);
  return rc;
}

static int32_t get_header_map_size(hc *c, const wasmtime_val_raw_t *a) {
  pw_map *m = map_of(c, u(a, 0));
  if (!m) return PW_NOT_FOUND;
  return put_u32(c, u(a, 1), (uint32_t)pw_map_serialized_size(m)) ? PW_OK
                                                                  : PW_INVALID_MEMORY_ACCESS;
}

static int32_t set_header_map_pairs(hc *c, const wasmtime_val_raw_t *a) {
  pw_map *m = map_of(c, u(a, 0));
  if (!m) return PW_NOT_FOUND;
  const uint8_t *data = in(c, u(a, 1), u(a, 2));
  if (!data) return PW_INVALID_MEMORY_ACCESS;
  return map_status(pw_map_deserialize(m, data, u(a, 2)));
}

static int32_t get_header_map_value(hc *c, const wasmtime_val_raw_t *a) {
  pw_map *m = map_of(c, u(a, 0));
  const uint8_t *key = in(c, u(a, 1), u(a, 2));
  if (!key) return PW_INVALID_MEMORY_ACCESS;
  const pw_pair *p = m ? pw_map_get(m, (const char *)key, u(a, 2)) : NULL;
  if (!p) return PW_NOT_FOUND;
  return give(c, p->value, p->value_len, u(a, 3), u(a, 4));
}

static int32_t add_or_replace(hc *c, const wasmtime_val_raw_t *a, bool replace) {
  pw_map *m = map_of(c, u(a, 0));
  if (!m) return PW_NOT_FOUND;
  const uint8_t *key = in(c, u(a, 1), u(a, 2)), *value = in(c, u(a, 3), u(a, 4));
  if (!key || !value) return PW_INVALID_MEMORY_ACCESS;
  pw_map_status st = replace ? pw_map_replace(m, (const char *)key, u(a, 2), value, u(a, 4))
                             : pw_map_add(m, (const char *)key, u(a, 2), value, u(a, 4));
  return map_status(st);
}
static int32_t add_header_map_value(hc *c, const wasmtime_val_raw_t *a) {
  return add_or_replace(c, a, false);
}
static int32_t replace_header_map_value(hc *c, const wasmtime_val_raw_t *a) {
  return add_or_replace(c, a, true);
}

static int32_t remove_header_map_value(hc *c, const wasmtime_val_raw_t *a) {
  pw_map *m = map_of(c, u(a, 0));
  if (!m) return PW_NOT_FOUND;
  const uint8_t *key = in(c, u(a, 1), u(a, 2));
  if (!key) return PW_INVALID_MEMORY_ACCESS;
  pw_map_remove(m, (const char *)key, u(a, 2));
  return PW_OK;
}

/* The buffer of that type for the effective context; *writable says if set may change it. */
static pw_buffer *buffer_of(hc *c, uint32_t type, bool *writable) {
  wp_pw_stream *s = pw_vm_stream(c->vm);
  const wp_pw_plugin *p = pw_vm_plugin(c->vm);
  *writable = type <= WP_PW_UPSTREAM_DATA;
  switch (type) {
  case WP_PW_REQUEST_BODY:
  case WP_PW_RESPONSE_BODY: return s && !s->tcp ? &s->bufs[type] : NULL;
  case WP_PW_DOWNSTREAM_DATA:
  case WP_PW_UPSTREAM_DATA: return s && s->tcp ? &s->bufs[type] : NULL;
  case PW_BUF_HTTP_CALL_RESPONSE_BODY: return c->vm->call ? &c->vm->call->body : NULL;
  case PW_BUF_VM_CONFIGURATION: return p ? (pw_buffer *)&p->vm_config : NULL;
  case PW_BUF_PLUGIN_CONFIGURATION: return p ? (pw_buffer *)&p->plugin_config : NULL;
  default: return NULL;
  }
}

static int32_t get_buffer_bytes(hc *c, const wasmtime_val_raw_t *a) {
  bool writable;
  pw_buffer *b = buffer_of(c, u(a, 0), &writable);
  if (!b) return PW_NOT_FOUND;
  const uint8_t *data;
  size_t len;
  if (!pw_buffer_slice(b, u(a, 1), u(a, 2), &data, &len)) return PW_NOT_FOUND;
  return give(c, data, len, u(a, 3), u(a, 4));
}

static int32_t set_buffer_bytes(hc *c, const wasmtime_val_raw_t *a) {
  bool writable;
  pw_buffer *b = buffer_of(c, u(a, 0), &writable);
  if (!b) return PW_NOT_FOUND;
  if (!writable) return PW_BAD_ARGUMENT;
  const uint8_t *data = in(c, u(a, 3), u(a, 4));
  if (!data) return PW_INVALID_MEMORY_ACCESS;
  pw_buffer_status st = pw_buffer_splice(b, u(a, 1), u(a, 2), data, u(a, 4));
  return st == PW_BUFFER_OK        ? PW_OK
         : st == PW_BUFFER_TOO_BIG ? PW_BAD_ARGUMENT
                                   : PW_INTERNAL_FAILURE;
}

static int32_t get_buffer_status(hc *c, const wasmtime_val_raw_t *a) {
  bool writable;
  pw_buffer *b = buffer_of(c, u(a, 0), &writable);
  if (!b) return PW_NOT_FOUND;
  return put_u32(c, u(a, 1), (uint32_t)b->len) && put_u32(c, u(a, 2), 0) ? PW_OK
                                                                         : PW_INVALID_MEMORY_ACCESS;
}

/* ---- streams ----------------------------------------------------------------------------- */

static int32_t continue_stream(hc *c, const wasmtime_val_raw_t *a) {
  wp_pw_stream *s = pw_vm_stream(c->vm);
  if (!s) return PW_NOT_FOUND;
  uint32_t type = u(a, 0);
  if (type > PW_STREAM_UPSTREAM) return PW_BAD_ARGUMENT;
  bool request = type == PW_STREAM_REQUEST || type == PW_STREAM_DOWNSTREAM;
  pw_stream_effect(s, request ? WP_PW_EVENT_CONTINUE_REQUEST : WP_PW_EVENT_CONTINUE_RESPONSE);
  return PW_OK;
}

static int32_t close_stream(hc *c, const wasmtime_val_raw_t *a) {
  wp_pw_stream *s = pw_vm_stream(c->vm);
  if (!s) return PW_NOT_FOUND;
  if (u(a, 0) > PW_STREAM_UPSTREAM) return PW_BAD_ARGUMENT;
  pw_stream_effect(s, WP_PW_EVENT_CLOSE);
  return PW_OK;
}

static int32_t send_local_response(hc *c, const wasmtime_val_raw_t *a) {
  wp_pw_stream *s = pw_vm_stream(c->vm);
  if (!s || s->tcp) return PW_NOT_FOUND;
  uint32_t status = u(a, 0);
  int32_t grpc = a[7].i32;
  const uint8_t *details = in(c, u(a, 1), u(a, 2)), *body = in(c, u(a, 3), u(a, 4)),
                *headers = in(c, u(a, 5), u(a, 6));
  if (!details || !body || !headers) return PW_INVALID_MEMORY_ACCESS;
  if (status < 100 || status > 599) return PW_BAD_ARGUMENT;
  pw_local *l = calloc(1, sizeof *l);
  if (!l) return PW_INTERNAL_FAILURE;
  int32_t rc = map_status(pw_map_deserialize(&l->headers, headers, u(a, 6)));
  if (rc == PW_OK && grpc >= 0) {
    char text[16];
    int n = snprintf(text, sizeof text, "%d", (int)grpc);
    rc = map_status(
        pw_map_replace(&l->headers, "grpc-status", 11, (const uint8_t *)text, (size_t)n));
  }
  if (rc == PW_OK && (pw_buffer_assign(&l->body, body, u(a, 4)) != PW_BUFFER_OK ||
                      !(l->details = (char *)copy_in(c, u(a, 1), u(a, 2)))))
    rc = PW_INTERNAL_FAILURE;
  if (rc != PW_OK) {
    pw_map_free(&l->headers);
    pw_buffer_free(&l->body);
    free(l->details);
    free(l);
    return rc;
  }
  l->view = (wp_pw_local_response){.status = (int)status,
                                   .details = l->details,
                                   .body = l->body.data,
                                   .body_len = l->body.len,
                                   .grpc_status = grpc >= 0 ? grpc : -1};
  l->view.headers = pw_map_view(&l->headers, &l->view.n_headers);
  if (s->local) {
    pw_map_free(&s->local->headers);
    pw_buffer_free(&s->local->body);
    free(s->local->details);
    free(s->local);
  }
  s->local = l;
  pw_stream_effect(s, WP_PW_EVENT_LOCAL_RESPONSE);
  return PW_OK;
}

static int32_t set_effective_context(hc *c, const wasmtime_val_raw_t *a) {
  return pw_vm_set_effective(c->vm, u(a, 0)) ? PW_OK : PW_BAD_ARGUMENT;
}

static int32_t done(hc *c, const wasmtime_val_raw_t *a) {
  (void)a;
  c->vm->done_ctx = c->vm->ctx;
  return PW_OK;
}

/* ---- log, time, ticks ---------------------------------------------------------------------- */

static int32_t log_(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *msg = in(c, u(a, 1), u(a, 2));
  if (!msg) return PW_INVALID_MEMORY_ACCESS;
  uint32_t level = u(a, 0);
  wp_log_level l = level >= 4 ? WP_LOG_ERROR : (wp_log_level)level; /* critical -> error */
  pw_log(c->vm->w->host, pw_vm_plugin(c->vm), l, (const char *)msg, u(a, 2));
  return PW_OK;
}

static int32_t get_log_level(hc *c, const wasmtime_val_raw_t *a) {
  return put_u32(c, u(a, 0), (uint32_t)atomic_load(&c->vm->w->host->log_level))
             ? PW_OK
             : PW_INVALID_MEMORY_ACCESS;
}

static int32_t get_current_time(hc *c, const wasmtime_val_raw_t *a) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
  return put_u64(c, u(a, 0), ns) ? PW_OK : PW_INVALID_MEMORY_ACCESS;
}

static int32_t set_tick_period(hc *c, const wasmtime_val_raw_t *a) {
  pw_root *r = pw_vm_root(c->vm);
  if (!r) return PW_NOT_FOUND;
  r->tick_ns = (uint64_t)u(a, 0) * 1000000u;
  r->next_tick_ns = pw_now_ns() + r->tick_ns;
  wp_pw_host *h = c->vm->w->host;
  if (h->methods.wake) h->methods.wake(h->user_data, c->vm->w); /* the next timeout changed */
  return PW_OK;
}

/* ---- HTTP calls ------------------------------------------------------------------------------ */

#define PW_CALL_DEFAULT_TIMEOUT_MS 30000u
#define PW_CALL_MAX_TIMEOUT_MS 600000u

static int32_t http_call(hc *c, const wasmtime_val_raw_t *a) {
  wp_pw_host *h = c->vm->w->host;
  pw_root *root = pw_vm_root(c->vm);
  const uint8_t *hdrs = in(c, u(a, 2), u(a, 3)), *body = in(c, u(a, 4), u(a, 5)),
                *trl = in(c, u(a, 6), u(a, 7));
  char *cluster = (char *)copy_in(c, u(a, 0), u(a, 1));
  if (!cluster || !hdrs || !body || !trl) {
    free(cluster);
    return PW_INVALID_MEMORY_ACCESS;
  }
  pw_map headers = {0}, trailers = {0};
  int32_t rc = map_status(pw_map_deserialize(&headers, hdrs, u(a, 3)));
  if (rc == PW_OK) rc = map_status(pw_map_deserialize(&trailers, trl, u(a, 7)));
  if (rc == PW_OK && (!root || !h->methods.http_call || strlen(cluster) != u(a, 1) ||
                      !pw_map_get(&headers, ":method", 7) || !pw_map_get(&headers, ":path", 5) ||
                      !pw_map_get(&headers, ":authority", 10)))
    rc = PW_BAD_ARGUMENT;
  uint32_t timeout = u(a, 8) ? u(a, 8) : PW_CALL_DEFAULT_TIMEOUT_MS;
  if (timeout > PW_CALL_MAX_TIMEOUT_MS) timeout = PW_CALL_MAX_TIMEOUT_MS;
  uint64_t token = 0;
  if (rc == PW_OK && !pw_worker_add_call(c->vm->w, c->vm, root->ctx, timeout, &token))
    rc = PW_INTERNAL_FAILURE;
  if (rc == PW_OK) {
    wp_pw_http_call call = {
        .cluster = cluster, .body = body, .body_len = u(a, 5), .timeout_ms = timeout};
    call.headers = pw_map_view(&headers, &call.n_headers);
    call.trailers = pw_map_view(&trailers, &call.n_trailers);
    if (h->methods.http_call(h->user_data, c->vm->w, root->plugin, token, &call) != 0) {
      pw_pending_call_cancel(c->vm->w, token);
      rc = PW_BAD_ARGUMENT;
    }
  }
  if (rc == PW_OK && !put_u32(c, u(a, 9), (uint32_t)token)) rc = PW_INVALID_MEMORY_ACCESS;
  pw_map_free(&headers);
  pw_map_free(&trailers);
  free(cluster);
  return rc;
}

static int32_t get_status(hc *c, const wasmtime_val_raw_t *a) {
  if (!put_u32(c, u(a, 0), c->vm->call_status)) return PW_INVALID_MEMORY_ACCESS;
  return give(c, NULL, 0, u(a, 1), u(a, 2));
}

/* gRPC needs an HTTP/2 client the host does not have. */
static int32_t unimplemented(hc *c, const wasmtime_val_raw_t *a) {
  (void)c, (void)a;
  return PW_UNIMPLEMENTED;
}

/* ---- shared data and queues ------------------------------------------------------------------ */

static int32_t get_shared_data(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *key = in(c, u(a, 0), u(a, 1));
  if (!key) return PW_INVALID_MEMORY_ACCESS;
  uint8_t *value = NULL;
  size_t len = 0;
  uint32_t cas = 0;
  pw_shared_status st = pw_shared_get(c->vm->w->host->shared, c->vm->vm_id, key, u(a, 1), &value,
                                      &len, &cas);
  if (st != PW_SHARED_OK) return st == PW_SHARED_NOT_FOUND ? PW_NOT_FOUND : PW_INTERNAL_FAILURE;
  int32_t rc = give(c, value, len, u(a, 2), u(a, 3));
  free(value);
  if (rc == PW_OK && !put_u32(c, u(a, 4), cas)) rc = PW_INVALID_MEMORY_ACCESS;
  return rc;
}

static int32_t set_shared_data(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *key = in(c, u(a, 0), u(a, 1)), *value = in(c, u(a, 2), u(a, 3));
  if (!key || !value) return PW_INVALID_MEMORY_ACCESS;
  switch (
      pw_shared_set(c->vm->w->host->shared, c->vm->vm_id, key, u(a, 1), value, u(a, 3), u(a, 4))) {
  case PW_SHARED_OK: return PW_OK;
  case PW_SHARED_CAS_MISMATCH: return PW_CAS_MISMATCH;
  case PW_SHARED_TOO_BIG: return PW_BAD_ARGUMENT;
  default: return PW_INTERNAL_FAILURE;
  }
}

static int32_t register_shared_queue(hc *c, const wasmtime_val_raw_t *a) {
  pw_root *root = pw_vm_root(c->vm);
  const uint8_t *name = in(c, u(a, 0), u(a, 1));
  if (!name) return PW_INVALID_MEMORY_ACCESS;
  if (!root) return PW_NOT_FOUND;
  uint32_t id;
  int32_t rc = pw_queue_register(c->vm->w->host, c->vm->vm_id, name, u(a, 1), c->vm->w,
                                 root->plugin, &id);
  if (rc == PW_OK && !put_u32(c, u(a, 2), id)) rc = PW_INVALID_MEMORY_ACCESS;
  return rc;
}

static int32_t resolve_shared_queue(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *vm_id = in(c, u(a, 0), u(a, 1)), *name = in(c, u(a, 2), u(a, 3));
  if (!vm_id || !name) return PW_INVALID_MEMORY_ACCESS;
  uint32_t id;
  int32_t rc = pw_queue_resolve(c->vm->w->host, vm_id, u(a, 1), name, u(a, 3), &id);
  if (rc == PW_OK && !put_u32(c, u(a, 4), id)) rc = PW_INVALID_MEMORY_ACCESS;
  return rc;
}

static int32_t enqueue_shared_queue(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *value = in(c, u(a, 1), u(a, 2));
  if (!value) return PW_INVALID_MEMORY_ACCESS;
  return pw_queue_enqueue(c->vm->w->host, u(a, 0), value, u(a, 2));
}

static int32_t dequeue_shared_queue(hc *c, const wasmtime_val_raw_t *a) {
  uint8_t *item = NULL;
  size_t len = 0;
  int32_t rc = pw_queue_dequeue(c->vm->w->host, u(a, 0), &item, &len);
  if (rc == PW_OK) rc = give(c, item, len, u(a, 1), u(a, 2));
  free(item);
  return rc;
}

/* ---- metrics ----------------------------------------------------------------------------------
 */

static int32_t metric_status(pw_metric_status st) {
  switch (st) {
  case PW_METRIC_OK: return PW_OK;
  case PW_METRIC_NOT_FOUND: return PW_NOT_FOUND;
  case PW_METRIC_BAD_ARGUMENT: return PW_BAD_ARGUMENT;
  default: return PW_INTERNAL_FAILURE;
  }
}

static int32_t define_metric(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *name = in(c, u(a, 1), u(a, 2));
  if (!name) return PW_INVALID_MEMORY_ACCESS;
  if (u(a, 0) > WP_PW_HISTOGRAM) return PW_BAD_ARGUMENT;
  uint32_t id;
  int32_t rc = metric_status(pw_metrics_define(c->vm->w->host->metrics, (wp_pw_metric_type)u(a, 0),
                                               (const char *)name, u(a, 2), &id));
  if (rc == PW_OK && !put_u32(c, u(a, 3), id)) rc = PW_INVALID_MEMORY_ACCESS;
  return rc;
}

static int32_t increment_metric(hc *c, const wasmtime_val_raw_t *a) {
  return metric_status(pw_metrics_increment(c->vm->w->host->metrics, u(a, 0), a[1].i64));
}

static int32_t record_metric(hc *c, const wasmtime_val_raw_t *a) {
  return metric_status(pw_metrics_record(c->vm->w->host->metrics, u(a, 0), a[1].i64));
}

static int32_t get_metric(hc *c, const wasmtime_val_raw_t *a) {
  int64_t v;
  int32_t rc = metric_status(pw_metrics_get(c->vm->w->host->metrics, u(a, 0), &v));
  if (rc == PW_OK && !put_u64(c, u(a, 1), (uint64_t)v)) rc = PW_INVALID_MEMORY_ACCESS;
  return rc;
}

/* ---- properties and foreign functions
 * ------------------------------------------------------------ */

static int32_t get_property(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *path = in(c, u(a, 0), u(a, 1));
  if (!path) return PW_INVALID_MEMORY_ACCESS;
  uint8_t *value = NULL;
  size_t len = 0;
  int32_t rc = pw_property_get(c->vm, path, u(a, 1), &value, &len);
  if (rc == PW_OK) rc = give(c, value, len, u(a, 2), u(a, 3));
  free(value);
  return rc;
}

static int32_t set_property(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *path = in(c, u(a, 0), u(a, 1)), *value = in(c, u(a, 2), u(a, 3));
  if (!path || !value) return PW_INVALID_MEMORY_ACCESS;
  return pw_property_set(c->vm, path, u(a, 1), value, u(a, 3));
}

static int32_t call_foreign_function(hc *c, const wasmtime_val_raw_t *a) {
  const uint8_t *name = in(c, u(a, 0), u(a, 1));
  uint8_t *args = copy_in(c, u(a, 2), u(a, 3));
  if (!name || !args) {
    free(args);
    return PW_INVALID_MEMORY_ACCESS;
  }
  uint8_t *out = NULL;
  size_t len = 0;
  int32_t rc = pw_foreign_call(c->vm->w->host, pw_vm_plugin(c->vm), (const char *)name, u(a, 1),
                               args, u(a, 3), &out, &len);
  free(args);
  if (rc == PW_OK) rc = give(c, out, len, u(a, 4), u(a, 5));
  free(out);
  return rc;
}

/* ---- the table ---------------------------------------------------------------------------------
 */

typedef struct hostcall {
  const char *name;
  const char *params; /* 'i' i32, 'I' i64; every result is one i32 status */
  hc_fn fn;
} hostcall;

static const hostcall hostcalls[] = {
    {"proxy_log", "iii", log_},
    {"proxy_get_log_level", "i", get_log_level},
    {"proxy_get_current_time_nanoseconds", "i", get_current_time},
    {"proxy_set_tick_period_milliseconds", "i", set_tick_period},
    {"proxy_get_buffer_bytes", "iiiii", get_buffer_bytes},
    {"proxy_set_buffer_bytes", "iiiii", set_buffer_bytes},
    {"proxy_get_buffer_status", "iii", get_buffer_status},
    {"proxy_get_header_map_size", "ii", get_header_map_size},
    {"proxy_get_header_map_pairs", "iii", get_header_map_pairs},
    {"proxy_set_header_map_pairs", "iii", set_header_map_pairs},
    {"proxy_get_header_map_value", "iiiii", get_header_map_value},
    {"proxy_add_header_map_value", "iiiii", add_header_map_value},
    {"proxy_replace_header_map_value", "iiiii", replace_header_map_value},
    {"proxy_remove_header_map_value", "iii", remove_header_map_value},
    {"proxy_continue_stream", "i", continue_stream},
    {"proxy_close_stream", "i", close_stream},
    {"proxy_send_local_response", "iiiiiiii", send_local_response},
    {"proxy_get_status", "iii", get_status},
    {"proxy_http_call", "iiiiiiiiii", http_call},
    {"proxy_grpc_call", "iiiiiiiiiiii", unimplemented},
    {"proxy_grpc_stream", "iiiiiiiii", unimplemented},
    {"proxy_grpc_send", "iiii", unimplemented},
    {"proxy_grpc_cancel", "i", unimplemented},
    {"proxy_grpc_close", "i", unimplemented},
    {"proxy_get_shared_data", "iiiii", get_shared_data},
    {"proxy_set_shared_data", "iiiii", set_shared_data},
    {"proxy_register_shared_queue", "iii", register_shared_queue},
    {"proxy_resolve_shared_queue", "iiiii", resolve_shared_queue},
    {"proxy_enqueue_shared_queue", "iii", enqueue_shared_queue},
    {"proxy_dequeue_shared_queue", "iii", dequeue_shared_queue},
    {"proxy_define_metric", "iiii", define_metric},
    {"proxy_increment_metric", "iI", increment_metric},
    {"proxy_record_metric", "iI", record_metric},
    {"proxy_get_metric", "ii", get_metric},
    {"proxy_get_property", "iiii", get_property},
    {"proxy_set_property", "iiii", set_property},
    {"proxy_set_effective_context", "i", set_effective_context},
    {"proxy_done", "", done},
    {"proxy_call_foreign_function", "iiiiii", call_foreign_function},
};

#define NHOSTCALLS (sizeof hostcalls / sizeof hostcalls[0])

static wasm_trap_t *trampoline(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *raw,
                               size_t n) {
  (void)n;
  const hostcall *h = env;
  wp_instance *inst = wasmtime_context_get_data(wasmtime_caller_context(caller));
  hc c = {inst, inst && pw_inst(inst) ? pw_inst(inst)->vm : NULL, NULL};
  /* Outside a VM (a filter called as a plain module) there is no proxy to talk to. */
  int32_t status = c.vm ? h->fn(&c, raw) : PW_INTERNAL_FAILURE;
  if (c.trap) return c.trap;
  if (inst && wp_instance_take_interrupt(inst)) return wasmtime_trap_new("interrupted", 11);
  raw[0].i32 = status;
  return NULL;
}

bool pw_is_hostcall(const char *module, const char *name) {
  if (strcmp(module, "env") != 0) return false;
  for (size_t i = 0; i < NHOSTCALLS; i++)
    if (strcmp(hostcalls[i].name, name) == 0) return true;
  return false;
}

static wasm_functype_t *functype(const char *params) {
  wasm_valtype_vec_t ps, rs;
  size_t np = strlen(params);
  wasm_valtype_vec_new_uninitialized(&ps, np);
  for (size_t i = 0; i < np; i++)
    ps.data[i] = wasm_valtype_new(params[i] == 'I' ? WASM_I64 : WASM_I32);
  wasm_valtype_vec_new_uninitialized(&rs, 1);
  rs.data[0] = wasm_valtype_new(WASM_I32);
  return wasm_functype_new(&ps, &rs);
}

wasmtime_error_t *pw_define_hostcalls(wasmtime_linker_t *linker) {
  for (size_t i = 0; i < NHOSTCALLS; i++) {
    wasm_functype_t *ft = functype(hostcalls[i].params);
    wasmtime_error_t *werr = wasmtime_linker_define_func_unchecked(
        linker, "env", 3, hostcalls[i].name, strlen(hostcalls[i].name), ft, trampoline,
        (void *)&hostcalls[i], NULL);
    wasm_functype_delete(ft);
    if (werr) return werr;
  }
  return NULL;
}
