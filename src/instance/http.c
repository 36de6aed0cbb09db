/*
 * http.c - wp_instance_handle_http: the one entry point for every kind of
 * HTTP handler (the kinds implement it in their wp_kind table), and the
 * checked response builders they fill responses with.
 */
#include "instance/http.h"

#include <stdlib.h>
#include <string.h>

#include "engine/error.h"
#include "plugin/kind.h"

const char *wp_http_kind_name(wp_http_kind kind) {
  switch (kind) {
  case WP_HTTP_WASI: return "wasi:http";
  case WP_HTTP_WASMPLUG: return "wasmplug:http";
  case WP_HTTP_CORE: return "core";
  case WP_HTTP_NONE: break;
  }
  return "none";
}

wp_http_kind wp_plugin_get_http_kind(const wp_plugin *plugin) {
  if (!plugin || !plugin->kind || !plugin->kind->http_kind) return WP_HTTP_NONE;
  return plugin->kind->http_kind(plugin);
}

/* RFC 9110 tchar, as a table: every header of every request is checked. */
#define T_(c) [c] = true
const bool wp_http_tchar[256] = {
    T_('!'), T_('#'), T_('$'), T_('%'), T_('&'), T_('\''), T_('*'), T_('+'), T_('-'), T_('.'),
    T_('^'), T_('_'), T_('`'), T_('|'), T_('~'), T_('0'),  T_('1'), T_('2'), T_('3'), T_('4'),
    T_('5'), T_('6'), T_('7'), T_('8'), T_('9'), T_('a'),  T_('b'), T_('c'), T_('d'), T_('e'),
    T_('f'), T_('g'), T_('h'), T_('i'), T_('j'), T_('k'),  T_('l'), T_('m'), T_('n'), T_('o'),
    T_('p'), T_('q'), T_('r'), T_('s'), T_('t'), T_('u'),  T_('v'), T_('w'), T_('x'), T_('y'),
    T_('z'), T_('A'), T_('B'), T_('C'), T_('D'), T_('E'),  T_('F'), T_('G'), T_('H'), T_('I'),
    T_('J'), T_('K'), T_('L'), T_('M'), T_('N'), T_('O'),  T_('P'), T_('Q'), T_('R'), T_('S'),
    T_('T'), T_('U'), T_('V'), T_('W'), T_('X'), T_('Y'),  T_('Z'),
};
#undef T_

bool wp_http_header_name_valid(const char *name, size_t len) {
  if (!name || len == 0) return false;
  for (size_t i = 0; i < len; i++)
    if (!wp_http_tchar[(unsigned char)name[i]]) return false;
  return true;
}

bool wp_http_header_value_valid(const uint8_t *value, size_t len) {
  if (len && !value) return false;
  for (size_t i = 0; i < len; i++)
    if (value[i] == '\r' || value[i] == '\n' || value[i] == 0) return false;
  return true;
}

void wp_http_response_clear(wp_http_response *resp) {
  if (!resp) return;
  for (size_t i = 0; i < resp->n_headers; i++) {
    free((char *)resp->headers[i].name);
    free((uint8_t *)resp->headers[i].value);
  }
  free(resp->headers);
  free(resp->body);
  memset(resp, 0, sizeof *resp);
}

wp_error *wp_http_response_set_status(wp_instance *inst, wp_http_response *r, uint32_t status) {
  if (status < 100 || status > 599)
    return wp_error_new(WP_ERR_ABI, WP_PLUGIN_FMT ": HTTP status %u is not 100-599",
                        inst->plugin->name, status);
  r->status = (uint16_t)status;
  return NULL;
}

/* Bytes of headers held so far, to bound the total. */
static size_t header_bytes(const wp_http_response *r) {
  size_t n = 0;
  for (size_t i = 0; i < r->n_headers; i++) n += r->headers[i].name_len + r->headers[i].value_len;
  return n;
}

wp_error *wp_http_response_add_header(wp_instance *inst, wp_http_response *r, const char *name,
                                      size_t name_len, const uint8_t *value, size_t value_len) {
  const char *pn = inst->plugin->name;
  if (!wp_http_header_name_valid(name, name_len)) {
    /* The name is the plugin's bytes: quote it printable, and short. */
    char shown[65];
    size_t n = 0;
    for (size_t i = 0; name && i < name_len && n < sizeof shown - 1; i++)
      shown[n++] = name[i] > ' ' && name[i] < 0x7f ? name[i] : '?';
    shown[n] = 0;
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT ": response header name '%s' (%zu bytes) is not a token", pn,
                        shown, name_len);
  }
  if (!wp_http_header_value_valid(value, value_len))
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT ": response header '%.*s' has CR, LF or NUL in its value", pn,
                        (int)(name_len > 64 ? 64 : name_len), name);
  if (r->n_headers >= WP_HTTP_MAX_HEADERS ||
      header_bytes(r) + name_len + value_len > WP_HTTP_MAX_HEADER_BYTES)
    return wp_error_new(WP_ERR_ABI,
                        WP_PLUGIN_FMT ": response headers over the limit (%d fields, %zu bytes)",
                        pn, WP_HTTP_MAX_HEADERS, WP_HTTP_MAX_HEADER_BYTES);
  /* Grow by doubling; the array is sized by n_headers rounded up to a power of two. */
  size_t n = r->n_headers;
  if ((n & (n - 1)) == 0) {
    wp_http_header *h = realloc(r->headers, (n ? n * 2 : 4) * sizeof *h);
    if (!h) return wp_error_no_memory();
    r->headers = h;
  }
  char *nm = malloc(name_len + 1);
  uint8_t *val = malloc(value_len + 1);
  if (!nm || !val) {
    free(nm);
    free(val);
    return wp_error_no_memory();
  }
  for (size_t i = 0; i < name_len; i++) {
    char c = name[i];
    nm[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  nm[name_len] = 0;
  if (value_len) memcpy(val, value, value_len);
  val[value_len] = 0;
  r->headers[n] = (wp_http_header){nm, name_len, val, value_len};
  r->n_headers = n + 1;
  return NULL;
}

static wp_error *body_too_big(wp_instance *inst, size_t len, size_t max_body) {
  return wp_error_new(WP_ERR_ABI,
                      WP_PLUGIN_FMT ": response body of %zu bytes is over the %zu-byte limit",
                      inst->plugin->name, len, max_body);
}

wp_error *wp_http_response_take_body(wp_instance *inst, wp_http_response *r, uint8_t *body,
                                     size_t len, size_t max_body) {
  if (!max_body) max_body = WP_HTTP_DEFAULT_MAX_BODY;
  if (len > max_body) {
    free(body);
    return body_too_big(inst, len, max_body);
  }
  free(r->body);
  r->body = body;
  r->body_len = len;
  return NULL;
}

wp_error *wp_http_response_set_body(wp_instance *inst, wp_http_response *r, const uint8_t *body,
                                    size_t len, size_t max_body) {
  if (!max_body) max_body = WP_HTTP_DEFAULT_MAX_BODY;
  if (len > max_body) return body_too_big(inst, len, max_body);
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return wp_error_no_memory();
  if (len) memcpy(copy, body, len);
  return wp_http_response_take_body(inst, r, copy, len, max_body);
}

static wp_error *check_request(const wp_instance *inst, const wp_http_request *req) {
  if (!req || !req->method || !req->path_with_query || req->path_with_query[0] != '/' ||
      (req->n_headers && !req->headers) || (req->body_len && !req->body))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": request needs a method, a path starting with '/', and "
                                      "headers and body pointers for their lengths",
                        inst->plugin->name);
  if (!wp_http_header_name_valid(req->method, strlen(req->method)))
    return wp_error_new(WP_ERR_BAD_INPUT, WP_PLUGIN_FMT ": request method is not a token",
                        inst->plugin->name);
  for (size_t i = 0; i < req->n_headers; i++) {
    const wp_http_header *h = &req->headers[i];
    if (!wp_http_header_name_valid(h->name, h->name_len) ||
        !wp_http_header_value_valid(h->value, h->value_len))
      return wp_error_new(WP_ERR_BAD_INPUT,
                          WP_PLUGIN_FMT ": request header %zu is not a token name with a value "
                                        "free of CR, LF and NUL",
                          inst->plugin->name, i);
  }
  return NULL;
}

wp_error *wp_instance_handle_http(wp_instance *inst, const wp_http_request *req,
                                  size_t max_response_body, wp_http_response *out) {
  if (!inst || !out)
    return wp_error_new(WP_ERR_BAD_INPUT, "wp_instance_handle_http: NULL argument");
  memset(out, 0, sizeof *out);
  const wp_plugin *p = inst->plugin;
  if (wp_plugin_get_http_kind(p) == WP_HTTP_NONE)
    return wp_error_new(WP_ERR_NOT_FOUND,
                        WP_PLUGIN_FMT ": not an HTTP handler (it exports neither "
                                      "wasi:http/incoming-handler, wasmplug:http/handler nor a "
                                      "core 'handle' function)",
                        p->name);
  wp_error *err = check_request(inst, req);
  if (err) return err;
  /* A kind that builds its instances elsewhere (a worker) has no store here. */
  if (!inst->ctx && !p->kind->build)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": this instance could not be rebuilt after a failure; "
                                      "free it or reset it again",
                        p->name);
  if (inst->in_call)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WP_PLUGIN_FMT ": request handled while another call runs on the instance",
                        p->name);
  err = p->kind->http_handle(inst, req,
                             max_response_body ? max_response_body : WP_HTTP_DEFAULT_MAX_BODY, out);
  if (!err && out->status == 0)
    err = wp_error_new(WP_ERR_ABI, WP_PLUGIN_FMT ": the handler returned no response", p->name);
  if (err) {
    wp_http_response_clear(out);
    return err;
  }
  return NULL;
}
