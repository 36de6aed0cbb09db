/*
 * properties.c - proxy_get_property / proxy_set_property. A path is a list
 * of segments joined by NUL bytes (as the SDKs send it). Values set by the
 * embedder (wp_pw_stream_set_property) or by the filter come first; then the
 * built-in ones, named as Envoy names them (docs/proxywasm.md lists them).
 * Integers are 8 bytes little-endian, as in Envoy.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "proxywasm/abi.h"
#include "proxywasm/pw.h"

#define PW_PROPERTY_MAX (1u << 20)

void pw_properties_free(pw_property *p) {
  while (p) {
    pw_property *next = p->next;
    free(p->path);
    free(p->value);
    free(p);
    p = next;
  }
}

static pw_property *find(pw_property *list, const char *path, size_t len) {
  for (; list; list = list->next)
    if (list->path_len == len && memcmp(list->path, path, len) == 0) return list;
  return NULL;
}

bool pw_properties_put(pw_property **list, const char *path, size_t path_len, const void *value,
                       size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return false;
  if (len) memcpy(copy, value, len);
  pw_property *p = find(*list, path, path_len);
  if (!p) {
    if (!(p = calloc(1, sizeof *p)) || !(p->path = malloc(path_len + 1))) {
      free(p);
      free(copy);
      return false;
    }
    memcpy(p->path, path, path_len);
    p->path[path_len] = '\0';
    p->path_len = path_len;
    p->next = *list;
    *list = p;
  }
  free(p->value);
  p->value = copy;
  p->len = len;
  return true;
}

/* ---- built-ins ------------------------------------------------------------------------- */

typedef struct out {
  uint8_t **value;
  size_t *len;
} out;

static int give(out o, const void *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return PW_INTERNAL_FAILURE;
  if (len) memcpy(copy, data, len);
  *o.value = copy;
  *o.len = len;
  return PW_OK;
}

static int give_str(out o, const char *s) { return s ? give(o, s, strlen(s)) : PW_NOT_FOUND; }

static int give_u64(out o, uint64_t v) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
  return give(o, b, 8);
}

static int give_header(out o, wp_pw_stream *s, int map, const char *name, size_t len) {
  if (!s) return PW_NOT_FOUND;
  const pw_pair *p = pw_map_get(&s->maps[map], name, len);
  return p ? give(o, p->value, p->value_len) : PW_NOT_FOUND;
}

/* "ip:port" -> the port as a number. */
static int give_port(out o, const char *addr) {
  const char *colon = addr ? strrchr(addr, ':') : NULL;
  if (!colon) return PW_NOT_FOUND;
  return give_u64(o, strtoull(colon + 1, NULL, 10));
}

/* Is the path exactly the segments a, b (b may be NULL)? */
static bool is(const char *path, size_t len, const char *a, const char *b) {
  size_t la = strlen(a);
  if (!b) return len == la && memcmp(path, a, la) == 0;
  size_t lb = strlen(b);
  return len == la + 1 + lb && memcmp(path, a, la) == 0 && path[la] == '\0' &&
         memcmp(path + la + 1, b, lb) == 0;
}

/* Path "a\0b\0rest": the rest after two segments, or NULL. */
static const char *third(const char *path, size_t len, const char *a, const char *b, size_t *rest) {
  size_t la = strlen(a), lb = strlen(b), head = la + 1 + lb + 1;
  if (len <= head || memcmp(path, a, la) != 0 || path[la] != '\0' ||
      memcmp(path + la + 1, b, lb) != 0 || path[la + 1 + lb] != '\0')
    return NULL;
  *rest = len - head;
  return path + head;
}

static int request_property(wp_pw_stream *s, const char *path, size_t len, out o) {
  if (is(path, len, "request", "path")) return give_header(o, s, WP_PW_REQUEST_HEADERS, ":path", 5);
  if (is(path, len, "request", "method"))
    return give_header(o, s, WP_PW_REQUEST_HEADERS, ":method", 7);
  if (is(path, len, "request", "host"))
    return give_header(o, s, WP_PW_REQUEST_HEADERS, ":authority", 10);
  if (is(path, len, "request", "scheme"))
    return give_header(o, s, WP_PW_REQUEST_HEADERS, ":scheme", 7);
  if (is(path, len, "request", "protocol")) return give_str(o, s ? s->protocol : NULL);
  if (is(path, len, "request", "url_path") || is(path, len, "request", "query")) {
    const pw_pair *p = s ? pw_map_get(&s->maps[WP_PW_REQUEST_HEADERS], ":path", 5) : NULL;
    if (!p) return PW_NOT_FOUND;
    const uint8_t *q = memchr(p->value, '?', p->value_len);
    size_t at = q ? (size_t)(q - p->value) : p->value_len;
    if (path[len - 1] == 'y') return give(o, q ? q + 1 : p->value, q ? p->value_len - at - 1 : 0);
    return give(o, p->value, at);
  }
  if (is(path, len, "response", "code")) {
    const pw_pair *p = s ? pw_map_get(&s->maps[WP_PW_RESPONSE_HEADERS], ":status", 7) : NULL;
    return p ? give_u64(o, strtoull((const char *)p->value, NULL, 10)) : PW_NOT_FOUND;
  }
  size_t rest;
  const char *name = third(path, len, "request", "headers", &rest);
  if (name) return give_header(o, s, WP_PW_REQUEST_HEADERS, name, rest);
  if ((name = third(path, len, "response", "headers", &rest)))
    return give_header(o, s, WP_PW_RESPONSE_HEADERS, name, rest);
  return -1;
}

static int connection_property(wp_pw_stream *s, const char *path, size_t len, out o) {
  if (is(path, len, "source", "address")) return give_str(o, s ? s->source : NULL);
  if (is(path, len, "source", "port")) return give_port(o, s ? s->source : NULL);
  if (is(path, len, "destination", "address")) return give_str(o, s ? s->destination : NULL);
  if (is(path, len, "destination", "port")) return give_port(o, s ? s->destination : NULL);
  if (is(path, len, "upstream", "address")) return give_str(o, s ? s->upstream : NULL);
  if (is(path, len, "connection", "id") || is(path, len, "connection_id", NULL))
    return s ? give_u64(o, s->connection_id) : PW_NOT_FOUND;
  if (is(path, len, "route_name", NULL)) return give_str(o, s ? s->route_name : NULL);
  return -1;
}

int pw_property_get(pw_vm *vm, const uint8_t *p, size_t len, uint8_t **value, size_t *vlen) {
  const char *path = (const char *)p;
  while (len && path[len - 1] == '\0') len--; /* a trailing separator is not a segment */
  wp_pw_stream *s = pw_vm_stream(vm);
  pw_root *root = pw_vm_root(vm);
  out o = {value, vlen};
  pw_property *set = s ? find(s->props, path, len) : NULL;
  if (!set && root) set = find(root->props, path, len);
  if (set) return give(o, set->value, set->len);
  const wp_pw_plugin *plugin = pw_vm_plugin(vm);
  if (plugin && is(path, len, "plugin_name", NULL)) return give_str(o, plugin->name);
  if (plugin && is(path, len, "plugin_root_id", NULL)) return give_str(o, plugin->root_id);
  if (plugin && is(path, len, "plugin_vm_id", NULL)) return give_str(o, plugin->vm_id);
  int rc = request_property(s, path, len, o);
  if (rc < 0) rc = connection_property(s, path, len, o);
  return rc < 0 ? PW_NOT_FOUND : rc;
}

int pw_property_set(pw_vm *vm, const uint8_t *path, size_t len, const uint8_t *value, size_t vlen) {
  if (len == 0 || len > 4096 || vlen > PW_PROPERTY_MAX) return PW_BAD_ARGUMENT;
  wp_pw_stream *s = pw_vm_stream(vm);
  pw_root *root = pw_vm_root(vm);
  pw_property **list = s ? &s->props : root ? &root->props : NULL;
  if (!list) return PW_NOT_FOUND;
  size_t n = 0;
  for (pw_property *q = *list; q; q = q->next) n++;
  if (n >= 256 && !find(*list, (const char *)path, len)) return PW_BAD_ARGUMENT;
  return pw_properties_put(list, (const char *)path, len, value, vlen) ? PW_OK
                                                                       : PW_INTERNAL_FAILURE;
}
