/*
 * stream.c - wp_pw_stream: one HTTP request/response or TCP connection
 * through one plugin: its context in the VM, its header maps and buffers,
 * and the steps that call the filter and turn what it did into an action.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "proxywasm/abi.h"
#include "proxywasm/pw.h"

/* The connection's facts, copied into one allocation (s->info). */
static wp_error *copy_info(wp_pw_stream *s, const wp_pw_stream_info *info) {
  if (!info) return NULL;
  const char *src[5] = {info->source_address, info->destination_address, info->protocol,
                        info->route_name, info->upstream_address};
  char **dst[5] = {&s->source, &s->destination, &s->protocol, &s->route_name, &s->upstream};
  size_t total = 0;
  for (int i = 0; i < 5; i++) total += src[i] ? strlen(src[i]) + 1 : 0;
  s->connection_id = info->connection_id;
  if (!total) return NULL;
  if (total > s->info_cap) {
    free(s->info);
    s->info_cap = 0;
    if (!(s->info = malloc(total))) return wp_error_no_memory();
    s->info_cap = total;
  }
  char *at = s->info;
  for (int i = 0; i < 5; i++) {
    if (!src[i]) continue;
    size_t n = strlen(src[i]) + 1;
    memcpy(at, src[i], n);
    *dst[i] = at;
    at += n;
  }
  return NULL;
}

static void free_local(pw_local *l) {
  if (!l) return;
  pw_map_free(&l->headers);
  pw_buffer_free(&l->body);
  free(l->details);
  free(l);
}

/* Frees what a stream holds for its request; its maps and buffers are only
   emptied, their memory kept for the next stream made from a spare one. */
static void clear_fields(wp_pw_stream *s) {
  for (int i = 0; i < 4; i++) {
    pw_map_clear(&s->maps[i]);
    pw_buffer_clear(&s->bufs[i]);
  }
  pw_properties_free(s->props);
  free_local(s->local);
  wp_pw_plugin_free(s->plugin);
  pw_map maps[4];
  pw_buffer bufs[4];
  memcpy(maps, s->maps, sizeof maps);
  memcpy(bufs, s->bufs, sizeof bufs);
  char *info = s->info;
  size_t info_cap = s->info_cap;
  memset(s, 0, sizeof *s);
  memcpy(s->maps, maps, sizeof maps);
  memcpy(s->bufs, bufs, sizeof bufs);
  s->info = info;
  s->info_cap = info_cap;
}

/* Frees what clear_fields keeps. */
static void free_kept(wp_pw_stream *s) {
  for (int i = 0; i < 4; i++) {
    pw_map_free(&s->maps[i]);
    pw_buffer_free(&s->bufs[i]);
  }
  free(s->info);
  free(s);
}

void pw_stream_destroy(wp_pw_stream *s) {
  clear_fields(s);
  free_kept(s);
}

/* A stream goes back to its worker's spares (a few, so that a burst does not
   keep memory forever); a big body's buffer is not kept. */
static void recycle(wp_pw_worker *w, wp_pw_stream *s) {
  clear_fields(s);
  bool small = true;
  for (int i = 0; i < 4; i++) small = small && s->bufs[i].cap <= (64u << 10);
  if (w->nspare < PW_SPARE_STREAMS && small) {
    w->spare[w->nspare++] = s;
    return;
  }
  free_kept(s);
}

static wp_error *stream_new(wp_pw_worker *w, wp_pw_plugin *p, const wp_pw_stream_info *info,
                            wp_pw_event_fn fn, void *user, bool tcp, wp_pw_stream **out) {
  if (!w || !p || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_pw_stream_new: worker, plugin and out are required");
  wp_pw_stream *s = w->nspare ? w->spare[--w->nspare] : calloc(1, sizeof *s);
  if (!s) return wp_error_no_memory();
  s->w = w;
  s->plugin = wp_pw_plugin_ref(p);
  s->event_fn = fn;
  s->user_data = user;
  s->tcp = tcp;
  wp_error *err = copy_info(s, info);
  pw_root *root;
  if (!err) err = pw_vm_get(w, p, &s->vm, &root);
  if (!err) err = pw_vm_new_context(s->vm, root, s, &s->ctx);
  if (err) {
    s->vm = NULL;
    pw_worker_reap(w);
    recycle(w, s);
    return err;
  }
  *out = s;
  return NULL;
}

wp_error *wp_pw_stream_new_http(wp_pw_worker *w, wp_pw_plugin *p, const wp_pw_stream_info *info,
                                wp_pw_event_fn fn, void *user, wp_pw_stream **out) {
  return stream_new(w, p, info, fn, user, false, out);
}

void wp_pw_stream_free(wp_pw_stream *s) {
  if (!s) return;
  wp_pw_worker *w = s->w;
  pw_worker_forget_stream(w, s);
  if (s->vm) {
    w->stepping = s;
    pw_vm_end_context(s->vm, s->ctx);
    w->stepping = NULL;
    pw_worker_reap(w);
  }
  recycle(w, s);
}

void *wp_pw_stream_get_user_data(const wp_pw_stream *s) { return s ? s->user_data : NULL; }
wp_pw_plugin *wp_pw_stream_get_plugin(const wp_pw_stream *s) { return s ? s->plugin : NULL; }

wp_error *wp_pw_stream_set_property(wp_pw_stream *s, const char *path, const void *value,
                                    size_t len) {
  if (!s || !path || (!value && len))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_pw_stream_set_property: stream and path are required");
  /* Dots in the public form are the ABI's NUL separators. */
  size_t n = strlen(path);
  char *abi = strdup(path);
  if (!abi) return wp_error_no_memory();
  for (size_t i = 0; i < n; i++)
    if (abi[i] == '.') abi[i] = '\0';
  bool ok = pw_properties_put(&s->props, abi, n, value, len);
  free(abi);
  return ok ? NULL : wp_error_no_memory();
}

/* ---- effects ---------------------------------------------------------------------------- */

void pw_stream_effect(wp_pw_stream *s, wp_pw_event ev) {
  switch (ev) {
  case WP_PW_EVENT_CONTINUE_REQUEST: s->continue_req = true; break;
  case WP_PW_EVENT_CONTINUE_RESPONSE: s->continue_resp = true; break;
  case WP_PW_EVENT_CLOSE: s->close = true; break;
  default: break;
  }
  /* Outside this stream's own step the embedder hears it as an event. */
  if (s->w->stepping != s) pw_worker_event(s->w, s, ev);
}

void pw_stream_vm_failed(wp_pw_stream *s) {
  s->vm = NULL;
  if (s->w->stepping != s) pw_worker_event(s->w, s, WP_PW_EVENT_FAILED);
}

/* ---- steps ------------------------------------------------------------------------------- */

static wp_error *dead(const wp_pw_stream *s) {
  return wp_error_new(WP_ERR_TRAP, "plugin '%s': the stream's VM failed; the stream cannot go on",
                      s->plugin->name);
}

/* Calls cb for the stream and turns the filter's answer and effects into an action. */
static wp_error *step(wp_pw_stream *s, pw_cb cb, const uint32_t *args, unsigned nargs,
                      bool request_side, wp_pw_action *action) {
  if (!s->vm) return dead(s);
  s->continue_req = s->continue_resp = s->close = false;
  s->w->stepping = s;
  uint32_t result = 0;
  wp_error *err = pw_vm_call(s->vm, cb, s->ctx, args, nargs, 0, &result);
  s->w->stepping = NULL;
  if (err) {
    pw_worker_reap(s->w);
    return err;
  }
  wp_pw_action a = result == 1 ? WP_PW_PAUSE : WP_PW_CONTINUE;
  if (a == WP_PW_PAUSE && (request_side ? s->continue_req : s->continue_resp)) a = WP_PW_CONTINUE;
  if (s->local) a = WP_PW_LOCAL_RESPONSE;
  else if (s->close) a = WP_PW_CLOSE;
  if (action) *action = a;
  pw_worker_reap(s->w);
  return NULL;
}

static wp_error *bad_map(const wp_pw_stream *s, pw_map_status st) {
  return st == PW_MAP_NO_MEMORY
             ? wp_error_no_memory()
             : wp_error_new(WP_ERR_BAD_INPUT,
                            "plugin '%s': headers with an invalid name or value, "
                            "or too many (over %d or %u bytes)",
                            s->plugin->name, PW_MAP_MAX_PAIRS, PW_MAP_MAX_BYTES);
}

static wp_error *headers_step(wp_pw_stream *s, wp_pw_map map, pw_cb cb, const wp_http_header *h,
                              size_t n, bool eos, bool trailers, wp_pw_action *action) {
  if (!s || (!h && n))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: stream is required", pw_callbacks[cb].name);
  pw_map_status st = pw_map_set_all(&s->maps[map], h, n);
  if (st != PW_MAP_OK) return bad_map(s, st);
  uint32_t args[3] = {s->ctx, (uint32_t)n, eos};
  bool req = map == WP_PW_REQUEST_HEADERS || map == WP_PW_REQUEST_TRAILERS;
  return step(s, cb, args, trailers ? 2 : 3, req, action);
}

static wp_error *data_step(wp_pw_stream *s, wp_pw_buffer b, pw_cb cb, const void *data, size_t len,
                           bool eos, wp_pw_action *action) {
  if (!s || (!data && len))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: stream is required", pw_callbacks[cb].name);
  pw_buffer_status st = pw_buffer_append(&s->bufs[b], data, len);
  if (st != PW_BUFFER_OK)
    return st == PW_BUFFER_NO_MEMORY
               ? wp_error_no_memory()
               : wp_error_new(WP_ERR_BAD_INPUT, "plugin '%s': buffered data over %zu bytes",
                              s->plugin->name, (size_t)PW_BUFFER_DEFAULT_MAX);
  if (s->bufs[b].len > UINT32_MAX)
    return wp_error_new(WP_ERR_BAD_INPUT, "plugin '%s': buffered data over 4 GiB", s->plugin->name);
  uint32_t args[3] = {s->ctx, (uint32_t)s->bufs[b].len, eos};
  return step(s, cb, args, 3, b == WP_PW_REQUEST_BODY || b == WP_PW_DOWNSTREAM_DATA, action);
}

wp_error *wp_pw_stream_request_headers(wp_pw_stream *s, const wp_http_header *h, size_t n, bool eos,
                                       wp_pw_action *a) {
  return headers_step(s, WP_PW_REQUEST_HEADERS, PW_ON_REQUEST_HEADERS, h, n, eos, false, a);
}
wp_error *wp_pw_stream_request_body(wp_pw_stream *s, const void *d, size_t len, bool eos,
                                    wp_pw_action *a) {
  return data_step(s, WP_PW_REQUEST_BODY, PW_ON_REQUEST_BODY, d, len, eos, a);
}
wp_error *wp_pw_stream_request_trailers(wp_pw_stream *s, const wp_http_header *h, size_t n,
                                        wp_pw_action *a) {
  return headers_step(s, WP_PW_REQUEST_TRAILERS, PW_ON_REQUEST_TRAILERS, h, n, true, true, a);
}
wp_error *wp_pw_stream_response_headers(wp_pw_stream *s, const wp_http_header *h, size_t n,
                                        bool eos, wp_pw_action *a) {
  return headers_step(s, WP_PW_RESPONSE_HEADERS, PW_ON_RESPONSE_HEADERS, h, n, eos, false, a);
}
wp_error *wp_pw_stream_response_body(wp_pw_stream *s, const void *d, size_t len, bool eos,
                                     wp_pw_action *a) {
  return data_step(s, WP_PW_RESPONSE_BODY, PW_ON_RESPONSE_BODY, d, len, eos, a);
}
wp_error *wp_pw_stream_response_trailers(wp_pw_stream *s, const wp_http_header *h, size_t n,
                                         wp_pw_action *a) {
  return headers_step(s, WP_PW_RESPONSE_TRAILERS, PW_ON_RESPONSE_TRAILERS, h, n, true, true, a);
}

/* ---- TCP ----------------------------------------------------------------------------------- */

wp_error *wp_pw_stream_new_tcp(wp_pw_worker *w, wp_pw_plugin *p, const wp_pw_stream_info *info,
                               wp_pw_event_fn fn, void *user, wp_pw_stream **out,
                               wp_pw_action *action) {
  wp_pw_stream *s;
  wp_error *err = stream_new(w, p, info, fn, user, true, &s);
  if (err) return err;
  uint32_t arg = s->ctx;
  if ((err = step(s, PW_ON_NEW_CONNECTION, &arg, 1, true, action))) {
    wp_pw_stream_free(s);
    return err;
  }
  *out = s;
  return NULL;
}

wp_error *wp_pw_stream_downstream_data(wp_pw_stream *s, const void *d, size_t len, bool eos,
                                       wp_pw_action *a) {
  return data_step(s, WP_PW_DOWNSTREAM_DATA, PW_ON_DOWNSTREAM_DATA, d, len, eos, a);
}
wp_error *wp_pw_stream_upstream_data(wp_pw_stream *s, const void *d, size_t len, bool eos,
                                     wp_pw_action *a) {
  return data_step(s, WP_PW_UPSTREAM_DATA, PW_ON_UPSTREAM_DATA, d, len, eos, a);
}

static wp_error *close_step(wp_pw_stream *s, pw_cb cb, bool remote) {
  if (!s) return wp_error_new(WP_ERR_BAD_INPUT, "%s: stream is required", pw_callbacks[cb].name);
  uint32_t args[2] = {s->ctx, remote ? 2u : 1u}; /* peer type: 1 local, 2 remote */
  return step(s, cb, args, 2, cb == PW_ON_DOWNSTREAM_CLOSE, NULL);
}
wp_error *wp_pw_stream_downstream_close(wp_pw_stream *s, bool remote) {
  return close_step(s, PW_ON_DOWNSTREAM_CLOSE, remote);
}
wp_error *wp_pw_stream_upstream_close(wp_pw_stream *s, bool remote) {
  return close_step(s, PW_ON_UPSTREAM_CLOSE, remote);
}

/* ---- reading back -----------------------------------------------------------------------------
 */

const wp_http_header *wp_pw_stream_get_headers(wp_pw_stream *s, wp_pw_map map, size_t *n) {
  *n = 0;
  if (!s || (unsigned)map > WP_PW_RESPONSE_TRAILERS) return NULL;
  return pw_map_view(&s->maps[map], n);
}

wp_error *wp_pw_stream_set_headers(wp_pw_stream *s, wp_pw_map map, const wp_http_header *h,
                                   size_t n) {
  if (!s || (unsigned)map > WP_PW_RESPONSE_TRAILERS || (!h && n))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "wp_pw_stream_set_headers: a stream and a map are required");
  pw_map_status st = pw_map_set_all(&s->maps[map], h, n);
  return st == PW_MAP_OK ? NULL : bad_map(s, st);
}

const uint8_t *wp_pw_stream_get_buffer(const wp_pw_stream *s, wp_pw_buffer b, size_t *len) {
  *len = 0;
  if (!s || (unsigned)b > WP_PW_UPSTREAM_DATA) return NULL;
  *len = s->bufs[b].len;
  return s->bufs[b].data;
}

void wp_pw_stream_drain_buffer(wp_pw_stream *s, wp_pw_buffer b) {
  if (s && (unsigned)b <= WP_PW_UPSTREAM_DATA) pw_buffer_clear(&s->bufs[b]);
}

const wp_pw_local_response *wp_pw_stream_get_local_response(const wp_pw_stream *s) {
  return s && s->local ? &s->local->view : NULL;
}
