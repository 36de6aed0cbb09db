/*
 * http.c - components as HTTP handlers: `wasi:http/incoming-handler@0.2.x`
 * and wasmplug's own `wasmplug:http/handler@0.1.0` (pdk/wit/http.wit). The
 * calls run in the instance's own store through the Rust extension
 * (deps/wasmtime/src/http.rs), with the bookkeeping of any other call
 * (timeout, fuel, interrupts), and what the plugin answers goes into the
 * response only through instance/http.h's checked builders.
 */
#define _POSIX_C_SOURCE 200809L
#include "component/http.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "util/str.h"

#define WASI_HANDLER "wasi:http/incoming-handler@0.2."
#define OWN_HANDLER "wasmplug:http/handler@0.1.0"

bool wp_component_is_wasi_http(const char *iface) {
  return iface && strncmp(iface, "wasi:http/", strlen("wasi:http/")) == 0;
}

void wp_component_http_detect(wp_plugin *p) {
  struct wp_component *c = wp_comp(p);
  c->http_kind = WP_HTTP_NONE;
  for (size_t i = 0; i < p->nexports; i++) {
    const wp_extern_info *e = &p->exports[i];
    if (e->kind != WP_EXTERN_FUNC || !e->module || strcmp(e->name, "handle") != 0) continue;
    wp_http_kind k = WP_HTTP_NONE;
    if (strncmp(e->module, WASI_HANDLER, strlen(WASI_HANDLER)) == 0) k = WP_HTTP_WASI;
    else if (strcmp(e->module, OWN_HANDLER) == 0) k = WP_HTTP_WASMPLUG;
    if (k == WP_HTTP_NONE) continue;
    c->http_kind = k;
    c->http_export = i;
    return;
  }
}

wp_http_kind wp_component_http_kind(const wp_plugin *p) {
  return wp_comp(p) ? wp_comp(p)->http_kind : WP_HTTP_NONE;
}

/* The instance's handle of export `id`, cached like call.c's. */
static bool resolve(wp_instance *inst, size_t id, wasmtime_component_func_t *out) {
  wp_component_instance *ci = wp_cinst(inst);
  if (!inst->resolved[id]) {
    const wp_cexport *e = &wp_comp(inst->plugin)->exports[id];
    if (!e->index ||
        !wasmtime_component_instance_get_func(&ci->instance, inst->ctx, e->index, &ci->funcs[id]))
      return false;
    inst->resolved[id] = 1;
  }
  *out = ci->funcs[id];
  return true;
}

/* A failure the extension described (not the call's own), as a wp_error. */
static wp_error *outcome_error(const wp_instance *inst, const char *what, int rc,
                               const wasmplug_http_response_t *r, size_t max_body) {
  const char *pn = inst->plugin->name;
  char *msg = r->message ? wp_strdup_printable(r->message, strlen(r->message)) : NULL;
  const char *m = msg ? msg : "no details";
  wp_error *err;
  switch (rc) {
  case WASMPLUG_HTTP_NO_RESPONSE:
    err = wp_error_new(WP_ERR_ABI,
                       WP_PLUGIN_FMT ": '%s' returned without a response (a wasi:http handler "
                                     "must call response-outparam.set)",
                       pn, what);
    break;
  case WASMPLUG_HTTP_ERROR_CODE:
    err = wp_error_new(WP_ERR_PLUGIN, WP_PLUGIN_FMT ": '%s' answered with an error: %s", pn, what,
                       m);
    break;
  case WASMPLUG_HTTP_BODY_TOO_BIG:
    err = wp_error_new(WP_ERR_ABI,
                       WP_PLUGIN_FMT ": '%s': %s (raise the max_response_body given to "
                                     "wp_instance_handle_http, now %zu)",
                       pn, what, m, max_body);
    break;
  case WASMPLUG_HTTP_BAD_BODY:
    err = wp_error_new(WP_ERR_ABI, WP_PLUGIN_FMT ": '%s' gave a bad response body: %s", pn, what,
                       m);
    break;
  case WASMPLUG_HTTP_BAD_TYPE:
    err = wp_error_new(WP_ERR_ABI,
                       WP_PLUGIN_FMT ": '%s' does not have the type of an HTTP handler (%s); "
                                     "build it against the handler world's WIT",
                       pn, what, m);
    break;
  case WASMPLUG_HTTP_BAD_REQUEST:
    err = wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": the request cannot be given to '%s': %s",
                       pn, what, m);
    break;
  default:
    err = wp_error_new(WP_ERR_HOST, WP_PLUGIN_FMT ": '%s': unexpected outcome %d of the handler",
                       pn, what, rc);
  }
  free(msg);
  return err;
}

/* Moves what the plugin answered into `out`, through the checked builders. */
static wp_error *fill(wp_instance *inst, wasmplug_http_response_t *r, size_t max_body,
                      wp_http_response *out) {
  wp_error *err = wp_http_response_set_status(inst, out, r->status);
  for (size_t i = 0; !err && i < r->n_headers; i++) {
    const wasmplug_http_field_t *h = &r->headers[i];
    err = wp_http_response_add_header(inst, out, h->name, h->name_len, h->value, h->value_len);
  }
  if (err) return err;
  uint8_t *body = r->body;
  r->body = NULL; /* taken, freed by take_body on error */
  return wp_http_response_take_body(inst, out, body, r->body_len, max_body);
}

wp_error *wp_component_http_handle(wp_instance *inst, const wp_http_request *req, size_t max_body,
                                   wp_http_response *out) {
  const wp_plugin *p = inst->plugin;
  const struct wp_component *c = wp_comp(p);
  const char *what = c->exports[c->http_export].qualified;
  wasmtime_component_func_t func;
  if (!resolve(inst, c->http_export, &func))
    return wp_error_new(WP_ERR_NOT_FOUND,
                        WP_PLUGIN_FMT ": export '%s' is not a function in this instance", p->name,
                        what);
  wasmplug_http_field_t small[16];
  wasmplug_http_field_t *fields = req->n_headers <= 16 ? small
                                                       : malloc(req->n_headers * sizeof *fields);
  if (!fields) return wp_error_no_memory();
  for (size_t i = 0; i < req->n_headers; i++) {
    const wp_http_header *h = &req->headers[i];
    fields[i] = (wasmplug_http_field_t){h->name, h->name_len, h->value, h->value_len};
  }
  wasmplug_http_request_t r = {
      .method = req->method,
      .scheme = req->scheme ? req->scheme : "http",
      .authority = req->authority ? req->authority : "",
      .path_with_query = req->path_with_query,
      .headers = fields,
      .n_headers = req->n_headers,
      .body = req->body,
      .body_len = req->body_len,
  };
  wasmplug_http_response_t resp;
  wasmtime_error_t *werr = NULL;
  wp_call_begin(inst);
  int rc = c->http_kind == WP_HTTP_WASI
               ? wasmplug_http_handle(inst->ctx, &func, wp_instance_wasi_budget, &r, max_body,
                                      &resp, &werr)
               : wasmplug_http_own_handle(inst->ctx, &func, &r, max_body, &resp, &werr);
  if (fields != small) free(fields);
  if (rc == WASMPLUG_HTTP_CALL_FAILED) {
    wasmplug_http_response_free(&resp);
    if (!werr) werr = wasmtime_error_new("the HTTP handler failed");
    return wp_call_failure(inst, what, werr, NULL);
  }
  wp_error *err = wp_call_end(inst, what);
  if (!err && rc != WASMPLUG_HTTP_OK) err = outcome_error(inst, what, rc, &resp, max_body);
  if (!err) err = fill(inst, &resp, max_body, out);
  /* The guest kept resources of this request: a pool must not hand the
     instance out again (a fresh one has an empty table). */
  if (resp.leftover) inst->failed = true;
  wasmplug_http_response_free(&resp);
  return err;
}
