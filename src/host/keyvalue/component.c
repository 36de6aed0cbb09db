/*
 * component.c - wasi:keyvalue for components, at the two drafts components
 * import today: 0.2.0-draft2 (Spin 3; wit/keyvalue-0.2.0-draft2/) and
 * 0.2.0-draft (wasmCloud; wit/keyvalue-0.2.0-draft/). They differ in the
 * list-keys cursor (string / u64), increment (s64 / u64) and CAS (draft2
 * only: a `cas` resource holding the value it saw, and `swap`).
 *
 * A bucket handle is the granted kv_bucket itself (it lives as long as the
 * plugin). `open` of a bucket the manifest does not grant answers
 * access-denied (and logs, through the engine's log callback, a warning
 * naming the missing grant); every other failure is other(message), except
 * the call's deadline reached while a backend waited (WP_ERR_TIMEOUT) or
 * an interrupt (WP_ERR_INTERRUPTED), which fail the plugin's call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/keyvalue/kv.h"

typedef struct iface {
  kv_cap *kc;
  bool draft2;
  char store[48], atomics[48], batch[48];
  const wp_resource_type *bucket, *cas;
} iface;

/* A CAS in progress: the value the key held when it was made. */
typedef struct cas {
  const kv_bucket *b;
  char *key;
  size_t klen;
  bool found;
  kv_bytes seen;
} cas;

static void cas_drop(void *object, void *ud) {
  (void)ud;
  cas *c = object;
  free(c->key);
  free(c->seen.data);
  free(c);
}

/* ---- values ---------------------------------------------------------------------- */

static wp_value *store_error(wp_error *err) {
  wp_value *v = wp_value_new_variant("other", wp_value_new_string(wp_error_get_message(err)));
  wp_error_free(err);
  return v;
}

static wp_value *fail(wp_error *err) { return wp_value_new_err(store_error(err)); }

static wp_value *bytes_or_none(bool found, kv_bytes *v) {
  wp_value *r = found ? wp_value_new_some(wp_value_new_bytes(v->data, v->len))
                      : wp_value_new_none();
  free(v->data);
  *v = (kv_bytes){0};
  return r;
}

/* A list<u8> argument as bytes (malloc'd). */
static wp_error *get_bytes(const wp_value *v, kv_bytes *out) {
  size_t n = wp_value_get_count(v);
  *out = (kv_bytes){malloc(n ? n : 1), n};
  if (!out->data) return KV_OOM();
  for (size_t i = 0; i < n; i++) out->data[i] = (uint8_t)wp_value_get_uint(wp_value_get_item(v, i));
  return NULL;
}

static wp_error *self_bucket(const iface *f, wp_host_call *call, const wp_value *v,
                             const kv_bucket **b) {
  void *obj = NULL;
  wp_error *err = wp_value_get_resource(v, wp_host_call_get_instance(call), f->bucket, &obj);
  *b = obj;
  return err;
}

/* Results must come back even for errors: *result is always set. */
#define OUT(expr)                  \
  do {                             \
    *result = (expr);              \
    if (!*result) return KV_OOM(); \
    return NULL;                   \
  } while (0)

/* A store error answered as other(message), or one that ends the call (its
   deadline, an interrupt) failing it. */
#define FAIL(err)                        \
  do {                                   \
    if (kv_ends_call(err)) return (err); \
    OUT(fail(err));                      \
  } while (0)

/* ---- store ------------------------------------------------------------------------ */

static wp_error *s_open(wp_host_call *call, const wp_value *const *args, size_t nargs,
                        wp_value **result, void *ud) {
  (void)nargs;
  const iface *f = ud;
  size_t len;
  const char *name = wp_value_get_string(args[0], &len);
  const kv_bucket *b = NULL;
  wp_error *err = kv_bucket_for(f->kc, call, name, len, &b);
  if (err) {
    /* access-denied carries no text: the engine's log gets the message
       naming the missing grant. */
    const wp_plugin *p = wp_instance_get_plugin(wp_host_call_get_instance(call));
    const char *msg = wp_error_get_message(err);
    wp_engine_log(wp_plugin_get_engine(p), WP_LOG_WARN, wp_plugin_get_name(p), msg, strlen(msg));
    wp_error_free(err);
    OUT(wp_value_new_err(wp_value_new_variant("access-denied", NULL)));
  }
  wp_value *h = wp_value_new_resource(wp_host_call_get_instance(call), f->bucket, (void *)b);
  if (!h) return KV_OOM();
  OUT(wp_value_new_ok(h));
}

static wp_error *s_get(wp_host_call *call, const wp_value *const *args, size_t nargs,
                       wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t klen;
  const char *key = wp_value_get_string(args[1], &klen);
  bool found = false;
  kv_bytes v = {0};
  if ((err = kv_op_get(b, call, key, klen, &found, &v))) FAIL(err);
  OUT(wp_value_new_ok(bytes_or_none(found, &v)));
}

static wp_error *s_set(wp_host_call *call, const wp_value *const *args, size_t nargs,
                       wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t klen;
  const char *key = wp_value_get_string(args[1], &klen);
  kv_bytes v;
  if ((err = get_bytes(args[2], &v))) return err;
  err = kv_op_set(b, call, key, klen, v.data, v.len);
  free(v.data);
  if (err) FAIL(err);
  OUT(wp_value_new_ok(NULL));
}

static wp_error *s_delete(wp_host_call *call, const wp_value *const *args, size_t nargs,
                          wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t klen;
  const char *key = wp_value_get_string(args[1], &klen);
  if ((err = kv_op_delete(b, call, key, klen))) FAIL(err);
  OUT(wp_value_new_ok(NULL));
}

static wp_error *s_exists(wp_host_call *call, const wp_value *const *args, size_t nargs,
                          wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t klen;
  const char *key = wp_value_get_string(args[1], &klen);
  bool found = false;
  if ((err = kv_op_exists(b, call, key, klen, &found))) FAIL(err);
  OUT(wp_value_new_ok(wp_value_new_bool(found)));
}

static wp_error *s_list_keys(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *ud) {
  (void)nargs;
  const iface *f = ud;
  const kv_bucket *b;
  wp_error *err = self_bucket(f, call, args[0], &b);
  if (err) return err;
  uint64_t cursor = 0;
  const wp_value *c = wp_value_get_payload(args[1]); /* NULL for none */
  if (c && f->draft2) {
    size_t len;
    const char *s = wp_value_get_string(c, &len);
    if (!kv_parse_cursor(s, len, &cursor))
      OUT(fail(wp_error_new(
          WP_ERR_HOST, "keyvalue bucket '%s': the cursor is not one list-keys returned", b->name)));
  } else if (c) {
    cursor = wp_value_get_uint(c);
  }
  kv_keys k;
  if ((err = kv_op_keys(b, call, cursor, &k))) FAIL(err);
  wp_value **items = k.n ? calloc(k.n, sizeof *items) : NULL;
  if (k.n && !items) {
    kv_keys_free(&k);
    return KV_OOM();
  }
  for (size_t i = 0; i < k.n; i++) items[i] = wp_value_new_string(k.keys[i]);
  wp_value *keys = wp_value_new_list(items, k.n);
  free(items);
  wp_value *next = wp_value_new_none();
  if (k.next) {
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)k.next);
    wp_value_free(next);
    next = wp_value_new_some(f->draft2 ? wp_value_new_string(text) : wp_value_new_u64(k.next));
  }
  kv_keys_free(&k);
  OUT(wp_value_new_ok(
      wp_value_new_record((const char *[]){"keys", "cursor"}, (wp_value *[]){keys, next}, 2)));
}

/* ---- atomics ---------------------------------------------------------------------- */

static wp_error *a_increment(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *ud) {
  (void)nargs;
  const iface *f = ud;
  const kv_bucket *b;
  wp_error *err = self_bucket(f, call, args[0], &b);
  if (err) return err;
  size_t klen;
  const char *key = wp_value_get_string(args[1], &klen);
  int64_t delta, v = 0;
  if (f->draft2) {
    delta = wp_value_get_int(args[2]);
  } else {
    uint64_t u = wp_value_get_uint(args[2]);
    if (u > INT64_MAX)
      OUT(fail(wp_error_new(WP_ERR_HOST,
                            "keyvalue bucket '%s': a delta above 2^63-1 is not "
                            "supported (values are 64-bit signed)",
                            b->name)));
    delta = (int64_t)u;
  }
  if ((err = kv_op_increment(b, call, key, klen, delta, &v))) FAIL(err);
  if (f->draft2) OUT(wp_value_new_ok(wp_value_new_s64(v)));
  if (v < 0)
    OUT(fail(wp_error_new(WP_ERR_HOST,
                          "keyvalue bucket '%s': '%s' is now %lld, which a u64 "
                          "cannot hold",
                          b->name, key, (long long)v)));
  OUT(wp_value_new_ok(wp_value_new_u64((uint64_t)v)));
}

/* A new cas resource for key, holding what it holds now. */
static wp_error *new_cas(const iface *f, wp_host_call *call, const kv_bucket *b, const char *key,
                         size_t klen, wp_value **handle, wp_error **store_err) {
  cas *c = calloc(1, sizeof *c);
  if (!c || !(c->key = malloc(klen + 1))) {
    free(c);
    return KV_OOM();
  }
  memcpy(c->key, key, klen);
  c->key[klen] = '\0';
  c->klen = klen;
  c->b = b;
  *store_err = kv_op_get(b, call, key, klen, &c->found, &c->seen);
  if (*store_err) {
    cas_drop(c, NULL);
    if (!kv_ends_call(*store_err)) return NULL;
    wp_error *end = *store_err;
    *store_err = NULL;
    return end;
  }
  *handle = wp_value_new_resource(wp_host_call_get_instance(call), f->cas, c);
  if (!*handle) {
    cas_drop(c, NULL);
    return KV_OOM();
  }
  return NULL;
}

static wp_error *a_cas_new(wp_host_call *call, const wp_value *const *args, size_t nargs,
                           wp_value **result, void *ud) {
  (void)nargs;
  const iface *f = ud;
  const kv_bucket *b;
  wp_error *err = self_bucket(f, call, args[0], &b);
  if (err) return err;
  size_t klen;
  const char *key = wp_value_get_string(args[1], &klen);
  wp_value *h = NULL;
  wp_error *store_err = NULL;
  if ((err = new_cas(f, call, b, key, klen, &h, &store_err))) return err;
  OUT(store_err ? fail(store_err) : wp_value_new_ok(h));
}

static wp_error *a_cas_current(wp_host_call *call, const wp_value *const *args, size_t nargs,
                               wp_value **result, void *ud) {
  (void)nargs;
  const iface *f = ud;
  void *obj = NULL;
  wp_error *err = wp_value_get_resource(args[0], wp_host_call_get_instance(call), f->cas, &obj);
  if (err) return err;
  cas *c = obj;
  kv_bytes copy = {c->found ? malloc(c->seen.len ? c->seen.len : 1) : NULL, c->seen.len};
  if (c->found && !copy.data) return KV_OOM();
  if (c->found && c->seen.len) memcpy(copy.data, c->seen.data, c->seen.len);
  OUT(wp_value_new_ok(bytes_or_none(c->found, &copy)));
}

static wp_error *a_swap(wp_host_call *call, const wp_value *const *args, size_t nargs,
                        wp_value **result, void *ud) {
  (void)nargs;
  const iface *f = ud;
  void *obj = NULL;
  wp_error *err = wp_value_get_resource(args[0], wp_host_call_get_instance(call), f->cas, &obj);
  if (err) return err;
  cas *c = obj; /* dropped by the library after this returns: own<cas> */
  kv_bytes v;
  if ((err = get_bytes(args[1], &v))) return err;
  bool swapped = false;
  err = kv_op_cas(c->b, call, c->key, c->klen, c->found ? &c->seen : NULL, v.data, v.len, &swapped);
  free(v.data);
  if (kv_ends_call(err)) return err;
  if (err) OUT(wp_value_new_err(wp_value_new_variant("store-error", store_error(err))));
  if (swapped) OUT(wp_value_new_ok(NULL));
  wp_value *h = NULL;
  wp_error *store_err = NULL;
  if ((err = new_cas(f, call, c->b, c->key, c->klen, &h, &store_err))) return err;
  if (store_err) OUT(wp_value_new_err(wp_value_new_variant("store-error", store_error(store_err))));
  OUT(wp_value_new_err(wp_value_new_variant("cas-failed", h)));
}

/* ---- batch ------------------------------------------------------------------------ */

static wp_error *b_get_many(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t n = wp_value_get_count(args[1]);
  wp_value **items = n ? calloc(n, sizeof *items) : NULL;
  if (n && !items) return KV_OOM();
  for (size_t i = 0; i < n && !err; i++) {
    size_t klen;
    const char *key = wp_value_get_string(wp_value_get_item(args[1], i), &klen);
    bool found = false;
    kv_bytes v = {0};
    err = kv_op_get(b, call, key, klen, &found, &v);
    if (!err && found)
      items[i] = wp_value_new_some(wp_value_new_tuple(
          (wp_value *[]){wp_value_new_string_n(key, klen), wp_value_new_bytes(v.data, v.len)}, 2));
    else if (!err) items[i] = wp_value_new_none();
    free(v.data);
  }
  if (err) {
    for (size_t i = 0; i < n; i++) wp_value_free(items[i]);
    free(items);
    FAIL(err);
  }
  wp_value *list = wp_value_new_list(items, n);
  free(items);
  OUT(wp_value_new_ok(list));
}

static wp_error *b_set_many(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t n = wp_value_get_count(args[1]);
  for (size_t i = 0; i < n; i++) {
    const wp_value *kv = wp_value_get_item(args[1], i);
    size_t klen;
    const char *key = wp_value_get_string(wp_value_get_item(kv, 0), &klen);
    kv_bytes v;
    if ((err = get_bytes(wp_value_get_item(kv, 1), &v))) return err;
    err = kv_op_set(b, call, key, klen, v.data, v.len);
    free(v.data);
    if (err) FAIL(err);
  }
  OUT(wp_value_new_ok(NULL));
}

static wp_error *b_delete_many(wp_host_call *call, const wp_value *const *args, size_t nargs,
                               wp_value **result, void *ud) {
  (void)nargs;
  const kv_bucket *b;
  wp_error *err = self_bucket(ud, call, args[0], &b);
  if (err) return err;
  size_t n = wp_value_get_count(args[1]);
  for (size_t i = 0; i < n; i++) {
    size_t klen;
    const char *key = wp_value_get_string(wp_value_get_item(args[1], i), &klen);
    if ((err = kv_op_delete(b, call, key, klen))) FAIL(err);
  }
  OUT(wp_value_new_ok(NULL));
}

/* ---- definitions -------------------------------------------------------------------- */

static wp_error *define_version(wp_engine *e, kv_cap *kc, const char *version, bool draft2) {
  iface *f = calloc(1, sizeof *f);
  if (!f) return KV_OOM();
  f->kc = kc;
  f->draft2 = draft2;
  snprintf(f->store, sizeof f->store, "wasi:keyvalue/store@%s", version);
  snprintf(f->atomics, sizeof f->atomics, "wasi:keyvalue/atomics@%s", version);
  snprintf(f->batch, sizeof f->batch, "wasi:keyvalue/batch@%s", version);
  /* "open" owns f: its free runs when the engine goes, after every plugin. */
  wp_error *err = wp_engine_define_component_func(e, f->store, "open", s_open, f, free);
  if (err) {
    free(f);
    return err;
  }
  const struct {
    const char *iface, *name;
    wp_component_fn fn;
  } fns[] = {
      {f->store, "[method]bucket.get", s_get},
      {f->store, "[method]bucket.set", s_set},
      {f->store, "[method]bucket.delete", s_delete},
      {f->store, "[method]bucket.exists", s_exists},
      {f->store, "[method]bucket.list-keys", s_list_keys},
      {f->atomics, "increment", a_increment},
      {f->batch, "get-many", b_get_many},
      {f->batch, "set-many", b_set_many},
      {f->batch, "delete-many", b_delete_many},
      {draft2 ? f->atomics : NULL, "[static]cas.new", a_cas_new},
      {draft2 ? f->atomics : NULL, "[method]cas.current", a_cas_current},
      {draft2 ? f->atomics : NULL, "swap", a_swap},
  };
  err = wp_engine_define_resource(e, f->store, "bucket", NULL, NULL, NULL, &f->bucket);
  if (!err && draft2)
    err = wp_engine_define_resource(e, f->atomics, "cas", cas_drop, NULL, NULL, &f->cas);
  for (size_t i = 0; !err && i < sizeof fns / sizeof *fns; i++)
    if (fns[i].iface)
      err = wp_engine_define_component_func(e, fns[i].iface, fns[i].name, fns[i].fn, f, NULL);
  return err;
}

wp_error *kv_define_component(wp_engine *e, kv_cap *kc) {
  wp_error *err = define_version(e, kc, "0.2.0-draft2", true);
  if (!err) err = define_version(e, kc, "0.2.0-draft", false);
  return err;
}
