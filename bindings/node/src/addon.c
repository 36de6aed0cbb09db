/*
 * addon.c - the Node.js binding's native half: an N-API (version 8) addon
 * over the installed libwasmplug. index.js wraps it in classes; nothing here
 * is meant to be called by users directly.
 *
 * Handles: every wasmplug object is a JS external pointing to a `box` that
 * owns the C handle. close() frees the handle and leaves the box empty (a
 * second close does nothing); the external's finalizer frees whatever is
 * still there. Pooled instances go back to their pool instead.
 *
 * Threads: host functions and the log callback run JS. On Node's main thread
 * (a synchronous call) they call JS directly; on any other thread (an async
 * call on libuv's pool, a wasmplug thread) they post to a threadsafe
 * function and block until the main thread has run the JS and answered.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wasmplug.h>

#define MAX_VALS 16

/* ---------------------------------------------------------------- state */

typedef struct state {
  napi_env env;
  pthread_t main;
  napi_threadsafe_function tsfn;
  napi_ref make_error; /* (kind, kindName, message, backtrace) -> Error */
  napi_ref scratch_ref; /* a Buffer index.js gave for small bytes outputs */
  uint8_t *scratch;
  size_t scratch_len;
  int dead;
} state;

static bool on_main(const state *st) { return !st->dead && pthread_equal(pthread_self(), st->main); }

enum { T_ENGINE = 1, T_PLUGIN, T_INSTANCE, T_POOL, T_FUNC };

typedef struct box {
  int type;
  void *ptr;        /* the wasmplug handle; NULL once closed */
  struct box *pool; /* a pooled instance: its pool */
  int busy;         /* an instance in a call (sync or async) */
  int taken;        /* a pool: instances out */
  int js_gone;      /* a pool: its JS object was finalized */
  int closed;       /* a pool: close() asked */
} box;

typedef struct func {
  int type; /* T_FUNC */
  wp_plugin *plugin; /* own reference */
  wp_func_id id;
  bool component, bytes, numeric;
  const wp_functype *ft;
  size_t np, nr;
  wp_valkind params[MAX_VALS], results[MAX_VALS];
  char *name;
} func;

/* ---------------------------------------------------------------- errors */

#define CHECK(call)                                                                                \
  do {                                                                                             \
    if ((call) != napi_ok) return NULL;                                                            \
  } while (0)

static napi_value make_error_value(napi_env env, int kind, const char *msg, const char *bt) {
  state *st;
  napi_get_instance_data(env, (void **)&st);
  napi_value fn, argv[4], res = NULL, undef;
  napi_get_undefined(env, &undef);
  napi_create_int32(env, kind, &argv[0]);
  napi_create_string_utf8(env, kind ? wp_error_kind_name((wp_error_kind)kind) : "", NAPI_AUTO_LENGTH,
                          &argv[1]);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &argv[2]);
  if (bt) napi_create_string_utf8(env, bt, NAPI_AUTO_LENGTH, &argv[3]);
  else argv[3] = undef;
  if (st && st->make_error && napi_get_reference_value(env, st->make_error, &fn) == napi_ok && fn &&
      napi_call_function(env, undef, fn, 4, argv, &res) == napi_ok)
    return res;
  napi_create_error(env, NULL, argv[2], &res);
  return res;
}

/* Throws a wasmplug error (and frees it); returns NULL for the caller. */
static napi_value throw_wp(napi_env env, wp_error *err) {
  bool pending;
  napi_is_exception_pending(env, &pending);
  if (!pending)
    napi_throw(env, make_error_value(env, (int)wp_error_get_kind(err), wp_error_get_message(err),
                                     wp_error_get_backtrace(err)));
  wp_error_free(err);
  return NULL;
}

static napi_value throw_kind(napi_env env, wp_error_kind kind, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  bool pending;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw(env, make_error_value(env, (int)kind, buf, NULL));
  return NULL;
}

#define BAD(env, ...) throw_kind(env, WP_ERR_BAD_INPUT, __VA_ARGS__)

/* ---------------------------------------------------------------- helpers */

/* A UTF-8 copy of a JS string (malloc'd), or NULL (exception thrown). */
static char *get_str(napi_env env, napi_value v, const char *what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t != napi_string) {
    BAD(env, "%s must be a string", what);
    return NULL;
  }
  size_t len;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *s = malloc(len + 1);
  if (!s) return (char *)throw_kind(env, WP_ERR_NO_MEMORY, "out of memory");
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

static bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_undefined || t == napi_null;
}

/* The bytes of a Buffer / TypedArray / ArrayBuffer / DataView (borrowed). */
static bool get_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  bool is;
  napi_is_typedarray(env, v, &is);
  if (is) {
    napi_typedarray_type tt;
    size_t n, off;
    void *p;
    napi_value ab;
    napi_get_typedarray_info(env, v, &tt, &n, &p, &ab, &off);
    size_t el = 1;
    switch (tt) {
    case napi_int16_array: case napi_uint16_array: el = 2; break;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: el = 4; break;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: el = 8; break;
    default: break;
    }
    *data = p ? p : (const uint8_t *)"";
    *len = n * el;
    return true;
  }
  napi_is_arraybuffer(env, v, &is);
  if (is) {
    void *p;
    napi_get_arraybuffer_info(env, v, &p, len);
    *data = p ? p : (const uint8_t *)"";
    return true;
  }
  napi_is_dataview(env, v, &is);
  if (is) {
    void *p;
    napi_value ab;
    size_t off;
    napi_get_dataview_info(env, v, len, &p, &ab, &off);
    *data = p ? p : (const uint8_t *)"";
    return true;
  }
  return false;
}

static napi_value new_buffer(napi_env env, const uint8_t *data, size_t len) {
  napi_value b;
  void *dst;
  if (napi_create_buffer_copy(env, len, len ? data : (const uint8_t *)"", &dst, &b) != napi_ok)
    return NULL;
  return b;
}

static void *get_ext(napi_env env, napi_value v, int type, const char *what) {
  void *p = NULL;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null) { /* index.js nulls its handle on close() */
    BAD(env, "%s is closed", what);
    return NULL;
  }
  if (t != napi_external || napi_get_value_external(env, v, &p) != napi_ok || !p ||
      *(int *)p != type) {
    BAD(env, "%s: not a wasmplug handle of the right kind", what);
    return NULL;
  }
  return p;
}

/* A live handle of `type` from a box external, else a thrown error. */
static box *get_box(napi_env env, napi_value v, int type, const char *what) {
  box *b = get_ext(env, v, type, what);
  if (b && !b->ptr) {
    BAD(env, "%s is closed", what);
    return NULL;
  }
  return b;
}

static void pool_unref(box *p) {
  if (p->taken == 0 && p->ptr && (p->closed || p->js_gone)) {
    wp_pool_free(p->ptr);
    p->ptr = NULL;
  }
  if (p->taken == 0 && p->js_gone) free(p);
}

static void close_box(box *b) {
  if (!b->ptr) return;
  switch (b->type) {
  case T_ENGINE: wp_engine_free(b->ptr); break;
  case T_PLUGIN: wp_plugin_free(b->ptr); break;
  case T_INSTANCE:
    if (b->pool) {
      box *p = b->pool;
      wp_pool_release(p->ptr, b->ptr);
      b->pool = NULL;
      p->taken--;
      pool_unref(p);
    } else {
      wp_instance_free(b->ptr);
    }
    break;
  case T_POOL:
    b->closed = 1;
    pool_unref(b);
    return;
  }
  b->ptr = NULL;
}

static void box_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  box *b = data;
  if (b->type == T_POOL) {
    b->js_gone = 1;
    pool_unref(b);
    return;
  }
  close_box(b);
  free(b);
}

static napi_value wrap_box(napi_env env, int type, void *ptr, box *pool) {
  box *b = calloc(1, sizeof *b);
  if (!b) return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory");
  b->type = type;
  b->ptr = ptr;
  b->pool = pool;
  napi_value v;
  if (napi_create_external(env, b, box_finalize, NULL, &v) != napi_ok) {
    close_box(b);
    free(b);
    return NULL;
  }
  return v;
}

static void func_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  func *f = data;
  wp_plugin_free(f->plugin);
  free(f->name);
  free(f);
}

/* ---------------------------------------------------------------- values */

static const char *valkind_name(wp_valkind k) { return wp_valkind_name(k); }

static bool js_to_val(napi_env env, napi_value v, wp_valkind k, wp_val *out, size_t i,
                      const char *what) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  out->kind = k;
  switch (k) {
  case WP_I32:
    if (t != napi_number) break;
    napi_get_value_int32(env, v, &out->of.i32);
    return true;
  case WP_I64:
    if (t == napi_bigint) {
      bool lossless;
      napi_get_value_bigint_int64(env, v, &out->of.i64, &lossless);
      if (!lossless) {
        BAD(env, "%s %zu: BigInt out of the range of i64", what, i + 1);
        return false;
      }
      return true;
    }
    if (t != napi_number) break;
    napi_get_value_int64(env, v, &out->of.i64);
    return true;
  case WP_F32: {
    if (t != napi_number) break;
    double d;
    napi_get_value_double(env, v, &d);
    out->of.f32 = (float)d;
    return true;
  }
  case WP_F64:
    if (t != napi_number) break;
    napi_get_value_double(env, v, &out->of.f64);
    return true;
  }
  BAD(env, "%s %zu: expected a %s for %s", what, i + 1, k == WP_I64 ? "BigInt or number" : "number",
      valkind_name(k));
  return false;
}

static napi_value val_to_js(napi_env env, const wp_val *v) {
  napi_value r = NULL;
  switch (v->kind) {
  case WP_I32: napi_create_int32(env, v->of.i32, &r); break;
  case WP_I64: napi_create_bigint_int64(env, v->of.i64, &r); break;
  case WP_F32: napi_create_double(env, v->of.f32, &r); break;
  case WP_F64: napi_create_double(env, v->of.f64, &r); break;
  }
  return r;
}

static napi_value vals_to_js(napi_env env, const wp_val *vals, size_t n) {
  napi_value r;
  if (n == 0) {
    napi_get_undefined(env, &r);
    return r;
  }
  if (n == 1) return val_to_js(env, &vals[0]);
  napi_create_array_with_length(env, n, &r);
  for (size_t i = 0; i < n; i++) napi_set_element(env, r, (uint32_t)i, val_to_js(env, &vals[i]));
  return r;
}

/* Component values, directed by the WIT type. Errors are thrown as
   WP_ERR_BAD_INPUT naming `path`. */
static wp_value *js_to_value(napi_env env, napi_value v, const wp_type *t, const char *path);

static bool js_int(napi_env env, napi_value v, const char *path, const char *tn, int64_t lo,
                   int64_t hi, int64_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    bool lossless;
    napi_get_value_bigint_int64(env, v, out, &lossless);
    if (!lossless || *out < lo || *out > hi) {
      BAD(env, "%s: %s out of range", path, tn);
      return false;
    }
    return true;
  }
  if (t != napi_number) {
    BAD(env, "%s: expected an integer (%s)", path, tn);
    return false;
  }
  double d;
  napi_get_value_double(env, v, &d);
  if (d != d || d < (double)lo || d > (double)hi || d != (double)(int64_t)d) {
    BAD(env, "%s: %g is not a %s", path, d, tn);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static bool js_u64(napi_env env, napi_value v, const char *path, uint64_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    bool lossless;
    napi_get_value_bigint_uint64(env, v, out, &lossless);
    if (!lossless) {
      BAD(env, "%s: u64 out of range", path);
      return false;
    }
    return true;
  }
  if (t != napi_number) {
    BAD(env, "%s: expected a BigInt or integer (u64)", path);
    return false;
  }
  double d;
  napi_get_value_double(env, v, &d);
  if (d != d || d < 0 || d > 18446744073709551615.0 || d != (double)(uint64_t)d) {
    BAD(env, "%s: %g is not a u64", path, d);
    return false;
  }
  *out = (uint64_t)d;
  return true;
}

static napi_value get_prop(napi_env env, napi_value obj, const char *name, bool *has) {
  napi_value v = NULL;
  napi_has_named_property(env, obj, name, has);
  if (*has) napi_get_named_property(env, obj, name, &v);
  return v;
}


/* The index of the flag `name` (a JS string) names in flags type `t`; false
   with a JS exception pending if it is not a string or not one of them. */
static bool flag_index(napi_env env, const wp_type *t, napi_value name, const char *path,
                       size_t *out) {
  char *s = get_str(env, name, path);
  if (!s) return false;
  size_t n = wp_type_get_count(t), i;
  for (i = 0; i < n && strcmp(wp_type_get_name(t, i), s) != 0; i++) {}
  if (i == n) BAD(env, "%s: no flag '%s' in %s", path, s, wp_type_to_string(t));
  free(s);
  *out = i;
  return i < n;
}
static wp_value *js_to_value(napi_env env, napi_value v, const wp_type *t, const char *path) {
  wp_type_kind k = wp_type_get_kind(t);
  napi_valuetype jt;
  napi_typeof(env, v, &jt);
  char sub[400];
  int64_t iv;
  switch (k) {
  case WP_TYPE_BOOL:
    if (jt != napi_boolean) return BAD(env, "%s: expected a boolean", path), NULL;
    bool b;
    napi_get_value_bool(env, v, &b);
    return wp_value_new_bool(b);
  case WP_TYPE_S8:
    return js_int(env, v, path, "s8", INT8_MIN, INT8_MAX, &iv) ? wp_value_new_s8((int8_t)iv) : NULL;
  case WP_TYPE_U8:
    return js_int(env, v, path, "u8", 0, UINT8_MAX, &iv) ? wp_value_new_u8((uint8_t)iv) : NULL;
  case WP_TYPE_S16:
    return js_int(env, v, path, "s16", INT16_MIN, INT16_MAX, &iv) ? wp_value_new_s16((int16_t)iv)
                                                                   : NULL;
  case WP_TYPE_U16:
    return js_int(env, v, path, "u16", 0, UINT16_MAX, &iv) ? wp_value_new_u16((uint16_t)iv) : NULL;
  case WP_TYPE_S32:
    return js_int(env, v, path, "s32", INT32_MIN, INT32_MAX, &iv) ? wp_value_new_s32((int32_t)iv)
                                                                   : NULL;
  case WP_TYPE_U32:
    return js_int(env, v, path, "u32", 0, UINT32_MAX, &iv) ? wp_value_new_u32((uint32_t)iv) : NULL;
  case WP_TYPE_S64:
    return js_int(env, v, path, "s64", INT64_MIN, INT64_MAX, &iv) ? wp_value_new_s64(iv) : NULL;
  case WP_TYPE_U64: {
    uint64_t u;
    return js_u64(env, v, path, &u) ? wp_value_new_u64(u) : NULL;
  }
  case WP_TYPE_F32:
  case WP_TYPE_F64: {
    if (jt != napi_number) return BAD(env, "%s: expected a number", path), NULL;
    double d;
    napi_get_value_double(env, v, &d);
    return k == WP_TYPE_F32 ? wp_value_new_f32((float)d) : wp_value_new_f64(d);
  }
  case WP_TYPE_CHAR: {
    if (jt != napi_string) return BAD(env, "%s: expected a one-character string (char)", path), NULL;
    char16_t u[3];
    size_t n;
    napi_get_value_string_utf16(env, v, u, 3, &n);
    uint32_t c;
    if (n == 1 && (u[0] < 0xd800 || u[0] > 0xdfff)) c = u[0];
    else if (n == 2 && u[0] >= 0xd800 && u[0] < 0xdc00 && u[1] >= 0xdc00 && u[1] <= 0xdfff)
      c = 0x10000 + (((uint32_t)u[0] - 0xd800) << 10) + ((uint32_t)u[1] - 0xdc00);
    else return BAD(env, "%s: expected exactly one Unicode character (char)", path), NULL;
    return wp_value_new_char(c);
  }
  case WP_TYPE_STRING: {
    if (jt != napi_string) return BAD(env, "%s: expected a string", path), NULL;
    char *s = get_str(env, v, path);
    if (!s) return NULL;
    size_t full; /* the real length: JS strings may hold NUL */
    napi_get_value_string_utf8(env, v, NULL, 0, &full);
    wp_value *r = wp_value_new_string_n(s, full);
    free(s);
    return r;
  }
  case WP_TYPE_LIST: {
    const wp_type *el = wp_type_get_child(t, 0);
    const uint8_t *data;
    size_t len;
    if (wp_type_get_kind(el) == WP_TYPE_U8 && get_bytes(env, v, &data, &len))
      return wp_value_new_bytes(data, len);
    bool isarr;
    napi_is_array(env, v, &isarr);
    if (!isarr)
      return BAD(env, "%s: expected an array%s", path,
                 wp_type_get_kind(el) == WP_TYPE_U8 ? " or Uint8Array" : ""),
             NULL;
    uint32_t n;
    napi_get_array_length(env, v, &n);
    wp_value **items = calloc(n ? n : 1, sizeof *items);
    if (!items) return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory"), NULL;
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      napi_get_element(env, v, i, &e);
      snprintf(sub, sizeof sub, "%s[%u]", path, i);
      if (!(items[i] = js_to_value(env, e, el, sub))) {
        for (uint32_t j = 0; j < i; j++) wp_value_free(items[j]);
        free(items);
        return NULL;
      }
    }
    wp_value *r = wp_value_new_list(items, n);
    free(items);
    return r;
  }
  case WP_TYPE_TUPLE:
  case WP_TYPE_RECORD: {
    size_t n = wp_type_get_count(t);
    bool isarr;
    napi_is_array(env, v, &isarr);
    if (k == WP_TYPE_TUPLE) {
      uint32_t len = 0;
      if (isarr) napi_get_array_length(env, v, &len);
      if (!isarr || len != n) return BAD(env, "%s: expected an array of %zu (tuple)", path, n), NULL;
    } else if (jt != napi_object || isarr) {
      return BAD(env, "%s: expected an object (record)", path), NULL;
    }
    wp_value **items = calloc(n ? n : 1, sizeof *items);
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!items || !names) {
      free(items), free(names);
      return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory"), NULL;
    }
    for (size_t i = 0; i < n; i++) {
      napi_value e;
      if (k == WP_TYPE_TUPLE) {
        napi_get_element(env, v, (uint32_t)i, &e);
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
      } else {
        names[i] = wp_type_get_name(t, i);
        bool has;
        e = get_prop(env, v, names[i], &has);
        snprintf(sub, sizeof sub, "%s.%s", path, names[i]);
        if (!has) {
          napi_get_undefined(env, &e);
          if (wp_type_get_kind(wp_type_get_child(t, i)) != WP_TYPE_OPTION) {
            BAD(env, "%s: missing field", sub);
            e = NULL;
          }
        }
      }
      if (!e || !(items[i] = js_to_value(env, e, wp_type_get_child(t, i), sub))) {
        for (size_t j = 0; j < i; j++) wp_value_free(items[j]);
        free(items), free(names);
        return NULL;
      }
    }
    wp_value *r = k == WP_TYPE_TUPLE ? wp_value_new_tuple(items, n)
                                     : wp_value_new_record(names, items, n);
    free(items), free(names);
    return r;
  }
  case WP_TYPE_VARIANT: {
    bool has = false;
    napi_value tag = jt == napi_object ? get_prop(env, v, "tag", &has) : NULL;
    if (!has) return BAD(env, "%s: expected {tag, value} (variant)", path), NULL;
    char *name = get_str(env, tag, path);
    if (!name) return NULL;
    size_t n = wp_type_get_count(t), i;
    for (i = 0; i < n; i++)
      if (strcmp(wp_type_get_name(t, i), name) == 0) break;
    if (i == n) {
      BAD(env, "%s: no case '%s' in %s", path, name, wp_type_to_string(t));
      free(name);
      return NULL;
    }
    const wp_type *pt = wp_type_get_child(t, i);
    wp_value *payload = NULL;
    if (pt) {
      bool hv;
      napi_value pv = get_prop(env, v, "value", &hv);
      snprintf(sub, sizeof sub, "%s<%s>", path, name);
      if (!hv) {
        BAD(env, "%s: case '%s' needs a value", path, name);
        free(name);
        return NULL;
      }
      if (!(payload = js_to_value(env, pv, pt, sub))) {
        free(name);
        return NULL;
      }
    }
    wp_value *r = wp_value_new_variant(name, payload);
    free(name);
    return r;
  }
  case WP_TYPE_ENUM: {
    char *name = get_str(env, v, path);
    if (!name) return NULL;
    size_t n = wp_type_get_count(t), i;
    for (i = 0; i < n; i++)
      if (strcmp(wp_type_get_name(t, i), name) == 0) break;
    wp_value *r = i < n ? wp_value_new_enum(name) : NULL;
    if (!r) BAD(env, "%s: no case '%s' in %s", path, name, wp_type_to_string(t));
    free(name);
    return r;
  }
  case WP_TYPE_OPTION: {
    if (jt == napi_undefined || jt == napi_null) return wp_value_new_none();
    snprintf(sub, sizeof sub, "%s?", path);
    wp_value *in = js_to_value(env, v, wp_type_get_child(t, 0), sub);
    return in ? wp_value_new_some(in) : NULL;
  }
  case WP_TYPE_RESULT: {
    bool hok = false, herr = false;
    napi_value ok = NULL, er = NULL;
    bool isarr;
    napi_is_array(env, v, &isarr);
    if (jt == napi_object && !isarr) {
      ok = get_prop(env, v, "ok", &hok);
      er = get_prop(env, v, "err", &herr);
    }
    if (hok == herr) return BAD(env, "%s: expected {ok: ...} or {err: ...} (result)", path), NULL;
    const wp_type *pt = wp_type_get_child(t, hok ? 0 : 1);
    wp_value *payload = NULL;
    if (pt) {
      snprintf(sub, sizeof sub, "%s.%s", path, hok ? "ok" : "err");
      if (!(payload = js_to_value(env, hok ? ok : er, pt, sub))) return NULL;
    }
    return hok ? wp_value_new_ok(payload) : wp_value_new_err(payload);
  }
  case WP_TYPE_FLAGS: {
    size_t n = wp_type_get_count(t), set = 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!names) return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory"), NULL;
    bool isarr;
    napi_is_array(env, v, &isarr);
    if (isarr) { /* ["read", "write"] */
      uint32_t len;
      napi_get_array_length(env, v, &len);
      for (uint32_t j = 0; j < len; j++) {
        napi_value e;
        napi_get_element(env, v, j, &e);
        size_t i;
        if (!flag_index(env, t, e, path, &i)) return free(names), NULL;
        bool dup = false;
        for (size_t m = 0; m < set; m++) dup |= names[m] == wp_type_get_name(t, i);
        if (!dup) names[set++] = wp_type_get_name(t, i);
      }
    } else if (jt == napi_object) { /* {read: true, write: false} */
      napi_value keys;
      napi_get_property_names(env, v, &keys);
      uint32_t len;
      napi_get_array_length(env, keys, &len);
      for (uint32_t j = 0; j < len; j++) {
        napi_value key, val;
        napi_get_element(env, keys, j, &key);
        size_t i;
        if (!flag_index(env, t, key, path, &i)) return free(names), NULL;
        napi_get_property(env, v, key, &val);
        bool on = false;
        napi_coerce_to_bool(env, val, &val);
        napi_get_value_bool(env, val, &on);
        if (on) names[set++] = wp_type_get_name(t, i);
      }
    } else {
      free(names);
      return BAD(env, "%s: expected an array of flag names or an object of booleans (flags)", path),
             NULL;
    }
    wp_value *r = wp_value_new_flags(names, set);
    free(names);
    return r;
  }
  default:
    return BAD(env, "%s: values of type %s cannot be passed from JavaScript", path,
               wp_type_kind_name(k)),
           NULL;
  }
}

static napi_value value_to_js(napi_env env, const wp_value *v, const wp_type *t) {
  napi_value r = NULL;
  if (!v) {
    napi_get_undefined(env, &r);
    return r;
  }
  wp_type_kind k = wp_value_get_kind(v);
  switch (k) {
  case WP_TYPE_BOOL: napi_get_boolean(env, wp_value_get_bool(v), &r); break;
  case WP_TYPE_S8: case WP_TYPE_S16: case WP_TYPE_S32:
    napi_create_int64(env, wp_value_get_int(v), &r);
    break;
  case WP_TYPE_U8: case WP_TYPE_U16: case WP_TYPE_U32:
    napi_create_int64(env, (int64_t)wp_value_get_uint(v), &r);
    break;
  case WP_TYPE_S64: napi_create_bigint_int64(env, wp_value_get_int(v), &r); break;
  case WP_TYPE_U64: napi_create_bigint_uint64(env, wp_value_get_uint(v), &r); break;
  case WP_TYPE_F32: napi_create_double(env, wp_value_get_f32(v), &r); break;
  case WP_TYPE_F64: napi_create_double(env, wp_value_get_f64(v), &r); break;
  case WP_TYPE_CHAR: {
    uint32_t c = wp_value_get_char(v);
    char16_t u[2];
    size_t n = 1;
    if (c >= 0x10000) {
      c -= 0x10000;
      u[0] = (char16_t)(0xd800 + (c >> 10));
      u[1] = (char16_t)(0xdc00 + (c & 0x3ff));
      n = 2;
    } else {
      u[0] = (char16_t)c;
    }
    napi_create_string_utf16(env, u, n, &r);
    break;
  }
  case WP_TYPE_STRING: {
    size_t len;
    const char *s = wp_value_get_string(v, &len);
    napi_create_string_utf8(env, s, len, &r);
    break;
  }
  case WP_TYPE_LIST: {
    size_t n = wp_value_get_count(v);
    const wp_type *el = t ? wp_type_get_child(t, 0) : NULL;
    bool bytes = el ? wp_type_get_kind(el) == WP_TYPE_U8
                    : n > 0 && wp_value_get_kind(wp_value_get_item(v, 0)) == WP_TYPE_U8;
    if (bytes) {
      napi_value ab;
      void *p;
      napi_create_arraybuffer(env, n, &p, &ab);
      /* One copy of the value's buffer (a list<u8> is held as one); item by
         item only for a list built some other way. */
      size_t m = 0;
      const uint8_t *data = wp_value_get_bytes(v, &m);
      if (data && m == n) memcpy(p, data, n);
      else
        for (size_t i = 0; i < n; i++)
          ((uint8_t *)p)[i] = (uint8_t)wp_value_get_uint(wp_value_get_item(v, i));
      napi_create_typedarray(env, napi_uint8_array, n, ab, 0, &r);
      break;
    }
    napi_create_array_with_length(env, n, &r);
    for (size_t i = 0; i < n; i++) {
      napi_value e = value_to_js(env, wp_value_get_item(v, i), el);
      if (!e) return NULL;
      napi_set_element(env, r, (uint32_t)i, e);
    }
    break;
  }
  case WP_TYPE_TUPLE: {
    size_t n = wp_value_get_count(v);
    napi_create_array_with_length(env, n, &r);
    for (size_t i = 0; i < n; i++) {
      napi_value e = value_to_js(env, wp_value_get_item(v, i), t ? wp_type_get_child(t, i) : NULL);
      if (!e) return NULL;
      napi_set_element(env, r, (uint32_t)i, e);
    }
    break;
  }
  case WP_TYPE_RECORD: {
    size_t n = wp_value_get_count(v);
    napi_create_object(env, &r);
    for (size_t i = 0; i < n; i++) {
      const char *name = wp_value_get_name(v, i);
      const wp_type *ft = NULL;
      if (t)
        for (size_t j = 0; j < wp_type_get_count(t); j++)
          if (strcmp(wp_type_get_name(t, j), name) == 0) ft = wp_type_get_child(t, j);
      napi_value e = value_to_js(env, wp_value_get_item(v, i), ft);
      if (!e) return NULL;
      napi_set_named_property(env, r, name, e);
    }
    break;
  }
  case WP_TYPE_VARIANT: {
    const char *c = wp_value_get_case(v);
    napi_value tag;
    napi_create_object(env, &r);
    napi_create_string_utf8(env, c, NAPI_AUTO_LENGTH, &tag);
    napi_set_named_property(env, r, "tag", tag);
    const wp_value *p = wp_value_get_payload(v);
    if (p) {
      const wp_type *pt = NULL;
      if (t)
        for (size_t j = 0; j < wp_type_get_count(t); j++)
          if (strcmp(wp_type_get_name(t, j), c) == 0) pt = wp_type_get_child(t, j);
      napi_value e = value_to_js(env, p, pt);
      if (!e) return NULL;
      napi_set_named_property(env, r, "value", e);
    }
    break;
  }
  case WP_TYPE_ENUM:
    napi_create_string_utf8(env, wp_value_get_case(v), NAPI_AUTO_LENGTH, &r);
    break;
  case WP_TYPE_OPTION: {
    const wp_value *p = wp_value_get_payload(v);
    if (strcmp(wp_value_get_case(v), "none") == 0 || !p) napi_get_null(env, &r);
    else r = value_to_js(env, p, t ? wp_type_get_child(t, 0) : NULL);
    break;
  }
  case WP_TYPE_RESULT: {
    bool ok = strcmp(wp_value_get_case(v), "ok") == 0;
    const wp_value *p = wp_value_get_payload(v);
    napi_value e;
    if (p) e = value_to_js(env, p, t ? wp_type_get_child(t, ok ? 0 : 1) : NULL);
    else napi_get_undefined(env, &e);
    if (!e) return NULL;
    napi_create_object(env, &r);
    napi_set_named_property(env, r, ok ? "ok" : "err", e);
    break;
  }
  case WP_TYPE_FLAGS: {
    napi_create_object(env, &r);
    if (t) {
      for (size_t j = 0; j < wp_type_get_count(t); j++) {
        napi_value b;
        napi_get_boolean(env, wp_value_has_flag(v, wp_type_get_name(t, j)), &b);
        napi_set_named_property(env, r, wp_type_get_name(t, j), b);
      }
    } else {
      for (size_t j = 0; j < wp_value_get_count(v); j++) {
        napi_value b;
        napi_get_boolean(env, true, &b);
        napi_set_named_property(env, r, wp_value_get_name(v, j), b);
      }
    }
    break;
  }
  default:
    return throw_kind(env, WP_ERR_BAD_INPUT, "values of type %s cannot be read in JavaScript",
                      wp_type_kind_name(k));
  }
  return r;
}

/* ---------------------------------------------------------------- host calls */

enum { H_NUMERIC, H_BYTES, H_STRING, H_COMPONENT, H_LOG };

typedef struct hostfn {
  state *st;
  napi_ref fn;
  int kind;
  char *module, *name;
  size_t np, nr;
  wp_valkind params[MAX_VALS], results[MAX_VALS];
} hostfn;

typedef struct req {
  hostfn *h;
  /* numeric */
  const wp_val *args;
  wp_val *results;
  /* bytes, string */
  const uint8_t *in;
  size_t in_len;
  uint8_t *out;
  size_t out_len;
  /* component */
  const wp_value *const *cargs;
  size_t ncargs;
  const wp_functype *ft;
  wp_value *cresult;
  /* log */
  wp_log_level level;
  const char *plugin;
  /* outcome */
  wp_error *err;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} req;

/* Clears the pending exception and writes its message into buf. */
static void take_exception(napi_env env, char *buf, size_t size) {
  napi_value ex, msg = NULL;
  buf[0] = 0;
  if (napi_get_and_clear_last_exception(env, &ex) != napi_ok) return;
  bool has = false;
  napi_valuetype t;
  napi_typeof(env, ex, &t);
  if (t == napi_object) {
    napi_has_named_property(env, ex, "message", &has);
    if (has) napi_get_named_property(env, ex, "message", &msg);
  }
  if (napi_coerce_to_string(env, msg ? msg : ex, &msg) != napi_ok) return;
  size_t n;
  napi_get_value_string_utf8(env, msg, buf, size, &n);
}

static wp_error *exception_to_error(napi_env env, const hostfn *h) {
  char buf[400];
  take_exception(env, buf, sizeof buf);
  return wp_error_new(WP_ERR_HOST, "host function %s%s%s threw: %s", h->module ? h->module : "",
                      h->module ? "." : "", h->name, buf);
}

/* A wasmplug error from the (pending) exception a conversion threw. */
static wp_error *conversion_error(napi_env env, const hostfn *h, const char *what) {
  char buf[400];
  take_exception(env, buf, sizeof buf);
  return wp_error_new(WP_ERR_HOST, "host function %s%s%s: bad %s: %s", h->module ? h->module : "",
                      h->module ? "." : "", h->name, what, buf);
}

/* Runs the JS side of a host call; on the main thread. */
static void run_req(napi_env env, req *r) {
  hostfn *h = r->h;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, undef, ret = NULL, argv[MAX_VALS];
  size_t argc = 0;
  napi_get_undefined(env, &undef);
  napi_get_reference_value(env, h->fn, &fn);
  bool pending;
  switch (h->kind) {
  case H_NUMERIC:
    for (size_t i = 0; i < h->np; i++) argv[argc++] = val_to_js(env, &r->args[i]);
    break;
  case H_BYTES: argv[argc++] = new_buffer(env, r->in, r->in_len); break;
  case H_STRING:
    napi_create_string_utf8(env, (const char *)r->in, r->in_len, &argv[argc++]);
    break;
  case H_COMPONENT:
    for (size_t i = 0; i < r->ncargs && i < MAX_VALS; i++) {
      argv[argc] = value_to_js(env, r->cargs[i], r->ft ? wp_functype_param_type(r->ft, i) : NULL);
      if (!argv[argc]) {
        r->err = conversion_error(env, h, "argument");
        goto out;
      }
      argc++;
    }
    break;
  case H_LOG:
    napi_create_string_utf8(env, wp_log_level_name(r->level), NAPI_AUTO_LENGTH, &argv[0]);
    napi_create_string_utf8(env, r->plugin ? r->plugin : "", NAPI_AUTO_LENGTH, &argv[1]);
    napi_create_string_utf8(env, (const char *)r->in, r->in_len, &argv[2]);
    argc = 3;
    break;
  }
  if (napi_call_function(env, undef, fn, argc, argv, &ret) != napi_ok) {
    napi_is_exception_pending(env, &pending);
    if (h->kind == H_LOG) { /* nowhere to report it: clear it */
      if (pending) {
        napi_value ex;
        napi_get_and_clear_last_exception(env, &ex);
        napi_fatal_exception(env, ex);
      }
    } else {
      r->err = pending ? exception_to_error(env, h)
                       : wp_error_new(WP_ERR_HOST, "host function %s: could not call JavaScript",
                                      h->name);
    }
    goto out;
  }
  switch (h->kind) {
  case H_NUMERIC:
    if (h->nr == 1) {
      if (!js_to_val(env, ret, h->results[0], &r->results[0], 0, "result")) {
        r->err = conversion_error(env, h, "result");
        goto out;
      }
    } else if (h->nr > 1) {
      bool isarr;
      uint32_t len = 0;
      napi_is_array(env, ret, &isarr);
      if (isarr) napi_get_array_length(env, ret, &len);
      if (!isarr || len != h->nr) {
        r->err = wp_error_new(WP_ERR_HOST, "host function %s.%s must return an array of %zu numbers",
                              h->module, h->name, h->nr);
        goto out;
      }
      for (size_t i = 0; i < h->nr; i++) {
        napi_value e;
        napi_get_element(env, ret, (uint32_t)i, &e);
        if (!js_to_val(env, e, h->results[i], &r->results[i], i, "result")) {
          r->err = conversion_error(env, h, "result");
          goto out;
        }
      }
    }
    break;
  case H_BYTES:
  case H_STRING: {
    napi_valuetype t;
    napi_typeof(env, ret, &t);
    const uint8_t *data = NULL;
    size_t len = 0;
    char *s = NULL;
    if (t == napi_string) {
      napi_get_value_string_utf8(env, ret, NULL, 0, &len);
      s = malloc(len + 1);
      if (s) napi_get_value_string_utf8(env, ret, s, len + 1, &len);
      data = (const uint8_t *)s;
    } else if (t == napi_undefined || t == napi_null) {
      data = (const uint8_t *)"";
    } else if (!get_bytes(env, ret, &data, &len)) {
      r->err = wp_error_new(WP_ERR_HOST, "host function %s.%s must return a %s", h->module,
                            h->name, h->kind == H_STRING ? "string" : "Buffer, Uint8Array or string");
      goto out;
    }
    r->out = malloc(len ? len : 1);
    if (!r->out || !data) r->err = wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
    else memcpy(r->out, data, len), r->out_len = len;
    free(s);
    break;
  }
  case H_COMPONENT: {
    const wp_type *rt = r->ft ? wp_functype_result(r->ft) : NULL;
    if (!rt) break;
    char path[300];
    snprintf(path, sizeof path, "result of %s", h->name);
    if (!(r->cresult = js_to_value(env, ret, rt, path))) r->err = conversion_error(env, h, "result");
    break;
  }
  }
out:
  napi_close_handle_scope(env, scope);
}

static void tsfn_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb, (void)context;
  req *r = data;
  if (env) run_req(env, r);
  else if (r->h->kind != H_LOG)
    r->err = wp_error_new(WP_ERR_HOST, "host function %s: Node.js is shutting down", r->h->name);
  pthread_mutex_lock(&r->mu);
  r->done = 1;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

/* Runs `r` on the main thread: directly when already there, else through
   the threadsafe function, waiting for the answer. */
static void dispatch(req *r) {
  state *st = r->h->st;
  if (on_main(st)) {
    run_req(st->env, r);
    return;
  }
  if (st->dead) {
    if (r->h->kind != H_LOG)
      r->err = wp_error_new(WP_ERR_HOST, "host function %s: Node.js is shutting down", r->h->name);
    return;
  }
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (napi_call_threadsafe_function(st->tsfn, r, napi_tsfn_blocking) != napi_ok) {
    if (r->h->kind != H_LOG)
      r->err = wp_error_new(WP_ERR_HOST, "host function %s: Node.js is shutting down", r->h->name);
  } else {
    pthread_mutex_lock(&r->mu);
    while (!r->done) pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
  }
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
}

static wp_error *host_numeric(wp_host_call *call, const wp_val *args, size_t nargs,
                              wp_val *results, size_t nresults, void *ud) {
  (void)call, (void)nargs, (void)nresults;
  req r = {.h = ud, .args = args, .results = results};
  dispatch(&r);
  return r.err;
}

static wp_error *host_bytes(wp_host_call *call, const uint8_t *in, size_t len, void *ud) {
  req r = {.h = ud, .in = in, .in_len = len};
  dispatch(&r);
  if (!r.err && r.out) r.err = wp_host_call_set_output(call, r.out, r.out_len);
  free(r.out);
  return r.err;
}

static wp_error *host_component(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                wp_value **result, void *ud) {
  hostfn *h = ud;
  req r = {.h = h, .cargs = args, .ncargs = nargs,
           .ft = wp_host_call_get_functype(call)};
  dispatch(&r);
  if (r.err) {
    wp_value_free(r.cresult);
    return r.err;
  }
  *result = r.cresult;
  return NULL;
}

static void log_cb(void *ud, wp_log_level level, const char *plugin, const char *msg, size_t len) {
  req r = {.h = ud, .level = level, .plugin = plugin, .in = (const uint8_t *)msg, .in_len = len};
  dispatch(&r);
  wp_error_free(r.err);
}

static void hostfn_free(void *ud) {
  hostfn *h = ud;
  if (!h) return;
  if (on_main(h->st)) napi_delete_reference(h->st->env, h->fn);
  /* else: the env is gone (its references with it) or we are on another
     thread, where N-API may not be called: the reference stays. */
  free(h->module);
  free(h->name);
  free(h);
}

static hostfn *new_hostfn(napi_env env, napi_value fn, int kind) {
  napi_valuetype t;
  napi_typeof(env, fn, &t);
  if (t != napi_function) return BAD(env, "the callback must be a function"), NULL;
  hostfn *h = calloc(1, sizeof *h);
  if (!h) return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory"), NULL;
  napi_get_instance_data(env, (void **)&h->st);
  h->kind = kind;
  napi_create_reference(env, fn, 1, &h->fn);
  return h;
}

/* ---------------------------------------------------------------- natives */

#define ARGS(n)                                                                                    \
  size_t argc = n;                                                                                 \
  napi_value argv[n > 0 ? n : 1], this_;                                                           \
  napi_get_cb_info(env, info, &argc, argv, &this_, NULL);                                          \
  (void)this_;                                                                                     \
  for (size_t i_ = argc; i_ < n; i_++) napi_get_undefined(env, &argv[i_])

/* setup(makeError, scratch): the error factory, and a Buffer that
   callBytes fills with small outputs (index.js copies them out with
   Buffer.allocUnsafe, which is much cheaper than a new backing store). */
static napi_value n_setup(napi_env env, napi_callback_info info) {
  ARGS(2);
  state *st;
  napi_get_instance_data(env, (void **)&st);
  if (st->make_error) napi_delete_reference(env, st->make_error);
  napi_create_reference(env, argv[0], 1, &st->make_error);
  const uint8_t *data;
  size_t len;
  if (get_bytes(env, argv[1], &data, &len)) {
    if (st->scratch_ref) napi_delete_reference(env, st->scratch_ref);
    napi_create_reference(env, argv[1], 1, &st->scratch_ref);
    st->scratch = (uint8_t *)data;
    st->scratch_len = len;
  }
  return NULL;
}

static bool opt_num(napi_env env, napi_value obj, const char *name, double *out) {
  bool has;
  napi_value v = get_prop(env, obj, name, &has);
  if (!has || is_nullish(env, v)) return false;
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_bigint) {
    bool l;
    uint64_t u;
    napi_get_value_bigint_uint64(env, v, &u, &l);
    *out = (double)u;
    return true;
  }
  if (t != napi_number || napi_get_value_double(env, v, out) != napi_ok || *out < 0) {
    BAD(env, "engine option %s must be a non-negative number", name);
    *out = -1;
    return true;
  }
  return true;
}

/* engineNew({cacheDir, pooling, maxMemory, maxModuleSize, maxFunctions,
   instantiateTimeoutMs, tickUs, log}) */
static napi_value n_engine_new(napi_env env, napi_callback_info info) {
  ARGS(1);
  wp_engine_config *cfg = wp_engine_config_new();
  hostfn *logh = NULL;
  napi_value res = NULL;
  char *dir = NULL;
  if (!cfg) return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory");
  napi_valuetype t;
  napi_typeof(env, argv[0], &t);
  if (t == napi_object) {
    bool has;
    double d;
    napi_value v = get_prop(env, argv[0], "cacheDir", &has);
    if (has) {
      bool on = true;
      napi_typeof(env, v, &t);
      if (t == napi_boolean) napi_get_value_bool(env, v, &on);
      if (t == napi_null || !on) {
        wp_engine_config_set_cache_dir(cfg, NULL);
      } else if (t == napi_boolean) {
        /* true: the default directory */
      } else if (!is_nullish(env, v)) {
        if (!(dir = get_str(env, v, "cacheDir"))) goto out;
        wp_engine_config_set_cache_dir(cfg, dir);
      }
    }
#define NUMOPT(n, call)                                                                            \
  if (opt_num(env, argv[0], n, &d)) {                                                              \
    if (d < 0) goto out;                                                                           \
    call;                                                                                          \
  }
    NUMOPT("pooling", wp_engine_config_set_pooling(cfg, (uint32_t)d));
    NUMOPT("maxMemory", wp_engine_config_set_max_memory(cfg, (uint64_t)d));
    NUMOPT("maxModuleSize", wp_engine_config_set_max_module_size(cfg, (uint64_t)d));
    NUMOPT("maxFunctions", wp_engine_config_set_max_functions(cfg, (uint32_t)d));
    NUMOPT("instantiateTimeoutMs", wp_engine_config_set_instantiate_timeout_ms(cfg, (uint32_t)d));
    NUMOPT("tickUs", wp_engine_config_set_tick_us(cfg, (uint32_t)d));
    v = get_prop(env, argv[0], "isolation", &has);
    if (has && !is_nullish(env, v)) {
      char *iso = get_str(env, v, "isolation");
      if (!iso) goto out;
      bool known = strcmp(iso, "none") == 0 || strcmp(iso, "process") == 0;
      if (known)
        wp_engine_config_set_isolation(cfg, iso[0] == 'p' ? WP_ISOLATION_PROCESS : WP_ISOLATION_NONE);
      free(iso);
      if (!known) {
        BAD(env, "isolation must be 'none' or 'process'");
        goto out;
      }
    }
    v = get_prop(env, argv[0], "workerPath", &has);
    if (has && !is_nullish(env, v)) {
      char *wpath = get_str(env, v, "workerPath");
      if (!wpath) goto out;
      wp_engine_config_set_worker_path(cfg, wpath);
      free(wpath);
    }
    v = get_prop(env, argv[0], "log", &has);
    if (has && !is_nullish(env, v)) {
      if (!(logh = new_hostfn(env, v, H_LOG))) goto out;
      logh->name = strdup("log");
      wp_engine_config_set_log(cfg, log_cb, logh);
      /* The engine releases it when it is finally destroyed (after its
         last plugin), which may be long after Engine.close(). */
      wp_engine_config_set_log_free(cfg, hostfn_free);
    }
  } else if (t != napi_undefined && t != napi_null) {
    BAD(env, "the engine config must be an object");
    goto out;
  }
  wp_engine *e;
  wp_error *err = wp_engine_new(cfg, &e);
  if (err) {
    throw_wp(env, err);
    goto out;
  }
  logh = NULL; /* the engine owns it now */
  res = wrap_box(env, T_ENGINE, e, NULL);
out:
  if (logh) hostfn_free(logh);
  free(dir);
  wp_engine_config_free(cfg);
  return res;
}

static napi_value n_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *p = NULL;
  if (napi_get_value_external(env, argv[0], &p) != napi_ok || !p) return BAD(env, "not a handle");
  if (*(int *)p == T_FUNC) return NULL;
  box *b = p;
  if (b->busy) return throw_kind(env, WP_ERR_BUSY, "the instance is busy: a call is running on it");
  if (b->type == T_POOL && b->ptr && b->taken > 0)
    return throw_kind(env, WP_ERR_BUSY, "the pool has %d instance(s) out: close them first",
                      b->taken);
  close_box(b);
  return NULL;
}

static bool parse_kinds(napi_env env, napi_value arr, wp_valkind *out, size_t *n, const char *what) {
  bool isarr;
  napi_is_array(env, arr, &isarr);
  if (!isarr) return BAD(env, "%s must be an array of 'i32', 'i64', 'f32', 'f64'", what), false;
  uint32_t len;
  napi_get_array_length(env, arr, &len);
  if (len > MAX_VALS) return BAD(env, "%s: at most %d", what, MAX_VALS), false;
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    napi_get_element(env, arr, i, &e);
    char *s = get_str(env, e, what);
    if (!s) return false;
    int k = -1;
    for (int j = 0; j < 4; j++)
      if (strcmp(s, wp_valkind_name((wp_valkind)j)) == 0) k = j;
    free(s);
    if (k < 0) return BAD(env, "%s: expected 'i32', 'i64', 'f32' or 'f64'", what), false;
    out[i] = (wp_valkind)k;
  }
  *n = len;
  return true;
}

/* define(engine, kind, module, name, fn, params, results) */
static napi_value n_define(napi_env env, napi_callback_info info) {
  ARGS(7);
  box *e = get_box(env, argv[0], T_ENGINE, "engine");
  if (!e) return NULL;
  int32_t kind;
  if (napi_get_value_int32(env, argv[1], &kind) != napi_ok || kind < H_NUMERIC || kind > H_COMPONENT)
    return BAD(env, "bad host function kind");
  char *module = NULL, *name = NULL;
  if (!(kind == H_COMPONENT && is_nullish(env, argv[2])) &&
      !(module = get_str(env, argv[2], kind == H_COMPONENT ? "interface" : "module")))
    return NULL;
  if (!(name = get_str(env, argv[3], "name"))) return free(module), NULL;
  hostfn *h = new_hostfn(env, argv[4], kind);
  if (!h) return free(module), free(name), NULL;
  h->module = module;
  h->name = name;
  if (kind == H_NUMERIC && (!parse_kinds(env, argv[5], h->params, &h->np, "params") ||
                            !parse_kinds(env, argv[6], h->results, &h->nr, "results"))) {
    hostfn_free(h);
    return NULL;
  }
  wp_error *err;
  switch (kind) {
  case H_NUMERIC:
    err = wp_engine_define_func(e->ptr, module, name, h->params, h->np, h->results, h->nr,
                                host_numeric, h, hostfn_free);
    break;
  case H_BYTES: err = wp_engine_define_bytes(e->ptr, module, name, host_bytes, h, hostfn_free); break;
  case H_STRING: err = wp_engine_define_string(e->ptr, module, name, host_bytes, h, hostfn_free); break;
  default:
    err = wp_engine_define_component_func(e->ptr, module, name, host_component, h, hostfn_free);
    break;
  }
  if (err) { /* on failure the caller keeps its user data */
    hostfn_free(h);
    return throw_wp(env, err);
  }
  return NULL;
}

static wp_manifest *get_manifest(napi_env env, napi_value json, napi_value base, bool *ok) {
  *ok = true;
  if (is_nullish(env, json)) return NULL;
  char *s = get_str(env, json, "manifest JSON"), *dir = NULL;
  if (!s) return *ok = false, NULL;
  if (!is_nullish(env, base) && !(dir = get_str(env, base, "manifest base directory"))) {
    free(s);
    return *ok = false, NULL;
  }
  wp_manifest *m = NULL;
  wp_error *err = wp_manifest_parse(s, strlen(s), dir, &m);
  free(s);
  free(dir);
  if (err) {
    throw_wp(env, err);
    *ok = false;
    return NULL;
  }
  return m;
}

/* loadFile(engine, path, manifestJson, baseDir) */
static napi_value n_load_file(napi_env env, napi_callback_info info) {
  ARGS(4);
  box *e = get_box(env, argv[0], T_ENGINE, "engine");
  if (!e) return NULL;
  char *path = get_str(env, argv[1], "path");
  if (!path) return NULL;
  bool ok;
  wp_manifest *m = get_manifest(env, argv[2], argv[3], &ok);
  if (!ok) return free(path), NULL;
  wp_plugin *p;
  wp_error *err = wp_plugin_load(e->ptr, path, m, &p);
  free(path);
  wp_manifest_free(m);
  if (err) return throw_wp(env, err);
  return wrap_box(env, T_PLUGIN, p, NULL);
}

/* loadBytes(engine, name, bytes, manifestJson) */
static napi_value n_load_bytes(napi_env env, napi_callback_info info) {
  ARGS(4);
  box *e = get_box(env, argv[0], T_ENGINE, "engine");
  if (!e) return NULL;
  char *name = get_str(env, argv[1], "name");
  if (!name) return NULL;
  const uint8_t *data;
  size_t len;
  if (!get_bytes(env, argv[2], &data, &len)) {
    free(name);
    return BAD(env, "the plugin's bytes must be a Buffer, Uint8Array or ArrayBuffer");
  }
  bool ok;
  napi_value undef;
  napi_get_undefined(env, &undef);
  wp_manifest *m = get_manifest(env, argv[3], undef, &ok);
  if (!ok) return free(name), NULL;
  wp_plugin *p;
  wp_error *err = wp_plugin_load_bytes(e->ptr, name, data, len, m, &p);
  free(name);
  wp_manifest_free(m);
  if (err) return throw_wp(env, err);
  return wrap_box(env, T_PLUGIN, p, NULL);
}

static void set_str(napi_env env, napi_value obj, const char *k, const char *v) {
  napi_value s;
  if (v) napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &s);
  else napi_get_null(env, &s);
  napi_set_named_property(env, obj, k, s);
}

static napi_value kinds_array(napi_env env, const wp_valkind *k, size_t n) {
  napi_value a;
  napi_create_array_with_length(env, n, &a);
  for (size_t i = 0; i < n; i++) {
    napi_value s;
    napi_create_string_utf8(env, wp_valkind_name(k[i]), NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, a, (uint32_t)i, s);
  }
  return a;
}

static napi_value extern_list(napi_env env, wp_plugin *p, bool imports) {
  size_t n = imports ? wp_plugin_import_count(p) : wp_plugin_export_count(p);
  static const char *kinds[] = {"func", "memory", "table", "global", "tag", "resource"};
  napi_value a;
  napi_create_array_with_length(env, n, &a);
  for (size_t i = 0; i < n; i++) {
    const wp_extern_info *x = imports ? wp_plugin_get_import(p, i) : wp_plugin_get_export(p, i);
    napi_value o;
    napi_create_object(env, &o);
    set_str(env, o, "module", x->module);
    set_str(env, o, "name", x->name);
    set_str(env, o, "kind", (unsigned)x->kind < 6 ? kinds[x->kind] : "?");
    set_str(env, o, "type", x->type);
    if (x->kind == WP_EXTERN_FUNC && x->numeric && !x->functype) {
      napi_set_named_property(env, o, "params", kinds_array(env, x->params, x->nparams));
      napi_set_named_property(env, o, "results", kinds_array(env, x->results, x->nresults));
    }
    napi_set_element(env, a, (uint32_t)i, o);
  }
  return a;
}

static napi_value n_plugin_info(napi_env env, napi_callback_info info) {
  ARGS(1);
  box *b = get_box(env, argv[0], T_PLUGIN, "plugin");
  if (!b) return NULL;
  wp_plugin *p = b->ptr;
  napi_value o, v;
  napi_create_object(env, &o);
  set_str(env, o, "name", wp_plugin_get_name(p));
  set_str(env, o, "sha256", wp_plugin_get_sha256(p));
  napi_create_double(env, (double)wp_plugin_get_size(p), &v);
  napi_set_named_property(env, o, "size", v);
  napi_get_boolean(env, wp_plugin_is_component(p), &v);
  napi_set_named_property(env, o, "isComponent", v);
  napi_get_boolean(env, wp_plugin_was_cached(p), &v);
  napi_set_named_property(env, o, "wasCached", v);
  napi_set_named_property(env, o, "imports", extern_list(env, p, true));
  napi_set_named_property(env, o, "exports", extern_list(env, p, false));
  return o;
}

/* find(plugin or instance, name) -> func handle */
static napi_value n_find(napi_env env, napi_callback_info info) {
  ARGS(2);
  void *p = NULL;
  napi_get_value_external(env, argv[0], &p);
  box *b = get_box(env, argv[0], p && *(int *)p == T_INSTANCE ? T_INSTANCE : T_PLUGIN, "plugin");
  if (!b) return NULL;
  wp_plugin *plugin = b->type == T_INSTANCE ? wp_instance_get_plugin(b->ptr) : b->ptr;
  char *name = get_str(env, argv[1], "function name");
  if (!name) return NULL;
  wp_func_id id;
  wp_error *err = wp_plugin_find_func(plugin, name, &id);
  if (err) return free(name), throw_wp(env, err);
  func *f = calloc(1, sizeof *f);
  if (!f) return free(name), throw_kind(env, WP_ERR_NO_MEMORY, "out of memory");
  f->type = T_FUNC;
  f->plugin = wp_plugin_ref(plugin);
  f->id = id;
  f->name = name;
  f->component = wp_plugin_is_component(plugin);
  f->bytes = wp_plugin_is_bytes_func(plugin, id);
  f->ft = wp_plugin_get_functype(plugin, id);
  if (!f->component) {
    size_t n = wp_plugin_export_count(plugin);
    for (size_t i = 0; i < n; i++) {
      const wp_extern_info *x = wp_plugin_get_export(plugin, i);
      if (x->kind == WP_EXTERN_FUNC && strcmp(x->name, name) == 0) {
        f->numeric = x->numeric && x->nparams <= MAX_VALS && x->nresults <= MAX_VALS;
        if (f->numeric) {
          f->np = x->nparams;
          f->nr = x->nresults;
          memcpy(f->params, x->params, f->np * sizeof *f->params);
          memcpy(f->results, x->results, f->nr * sizeof *f->results);
        }
        break;
      }
    }
  }
  napi_value v, o, s;
  if (napi_create_external(env, f, func_finalize, NULL, &v) != napi_ok) {
    func_finalize(env, f, NULL);
    return NULL;
  }
  napi_create_object(env, &o);
  napi_set_named_property(env, o, "handle", v);
  napi_get_boolean(env, f->bytes, &s);
  napi_set_named_property(env, o, "isBytes", s);
  napi_get_boolean(env, f->numeric, &s);
  napi_set_named_property(env, o, "isNumeric", s);
  if (f->numeric) {
    napi_set_named_property(env, o, "params", kinds_array(env, f->params, f->np));
    napi_set_named_property(env, o, "results", kinds_array(env, f->results, f->nr));
  }
  if (f->ft) set_str(env, o, "type", wp_functype_to_string(f->ft));
  return o;
}

static napi_value n_instance_new(napi_env env, napi_callback_info info) {
  ARGS(1);
  box *b = get_box(env, argv[0], T_PLUGIN, "plugin");
  if (!b) return NULL;
  wp_instance *inst;
  wp_error *err = wp_instance_new(b->ptr, &inst);
  if (err) return throw_wp(env, err);
  return wrap_box(env, T_INSTANCE, inst, NULL);
}

/* An instance ready for a call from the main thread. */
static box *get_inst(napi_env env, napi_value v) {
  box *b = get_box(env, v, T_INSTANCE, "instance");
  if (b && b->busy) {
    throw_kind(env, WP_ERR_BUSY,
               "the instance is busy: a call is running on it (an async call, or a host function "
               "calling back into its own instance)");
    return NULL;
  }
  return b;
}

static func *get_func(napi_env env, napi_value v, box *inst) {
  func *f = get_ext(env, v, T_FUNC, "function");
  if (f && wp_instance_get_plugin(inst->ptr) != f->plugin) {
    BAD(env, "function '%s' belongs to another plugin", f->name);
    return NULL;
  }
  return f;
}

static napi_value n_instance_op(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t op;
  napi_get_value_int32(env, argv[1], &op);
  box *b = op == 1 ? get_box(env, argv[0], T_INSTANCE, "instance") : get_inst(env, argv[0]);
  if (!b) return NULL;
  napi_value r = NULL;
  switch (op) {
  case 0: { /* reset */
    wp_error *err = wp_instance_reset(b->ptr);
    if (err) return throw_wp(env, err);
    break;
  }
  case 1: wp_instance_interrupt(b->ptr); break;
  case 2: napi_create_double(env, (double)wp_instance_get_fuel_used(b->ptr), &r); break;
  case 3: napi_create_double(env, (double)wp_instance_get_memory_size(b->ptr), &r); break;
  case 4: napi_create_int32(env, wp_instance_get_worker_pid(b->ptr), &r); break;
  }
  return r;
}

/* callNum(inst, func, ...args) */
static napi_value n_call(napi_env env, napi_callback_info info) {
  size_t argc = MAX_VALS + 2;
  napi_value argv[MAX_VALS + 2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return BAD(env, "call needs an instance and a function");
  box *b = get_inst(env, argv[0]);
  if (!b) return NULL;
  func *f = get_func(env, argv[1], b);
  if (!f) return NULL;
  if (!f->numeric)
    return BAD(env, "'%s' is not a numeric function: use %s", f->name,
               f->component ? "invoke()" : f->bytes ? "callBytes() or callString()" : "another call");
  if (argc - 2 != f->np)
    return BAD(env, "'%s' takes %zu argument(s), got %zu", f->name, f->np, argc - 2);
  wp_val args[MAX_VALS], res[MAX_VALS];
  for (size_t i = 0; i < f->np; i++)
    if (!js_to_val(env, argv[i + 2], f->params[i], &args[i], i, "argument")) return NULL;
  b->busy = 1;
  wp_error *err = wp_instance_call_func(b->ptr, f->id, args, f->np, res, f->nr);
  b->busy = 0;
  if (err) return throw_wp(env, err);
  return vals_to_js(env, res, f->nr);
}

/* callBytes(inst, func, input, asString): a string, or the output's length
   when it is in the scratch Buffer, else a new Buffer. */
static napi_value n_call_bytes(napi_env env, napi_callback_info info) {
  ARGS(4);
  box *b = get_inst(env, argv[0]);
  if (!b) return NULL;
  func *f = get_func(env, argv[1], b);
  if (!f) return NULL;
  bool as_string = false;
  napi_get_value_bool(env, argv[3], &as_string);
  const uint8_t *in;
  size_t len;
  char *s = NULL;
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t == napi_string) {
    if (!(s = get_str(env, argv[2], "input"))) return NULL;
    napi_get_value_string_utf8(env, argv[2], NULL, 0, &len);
    in = (const uint8_t *)s;
  } else if (t == napi_undefined || t == napi_null) {
    in = (const uint8_t *)"";
    len = 0;
  } else if (!get_bytes(env, argv[2], &in, &len)) {
    return BAD(env, "input must be a Buffer, Uint8Array or string");
  }
  const uint8_t *out;
  size_t out_len;
  b->busy = 1;
  wp_error *err = wp_instance_call_func_bytes(b->ptr, f->id, in, len, &out, &out_len);
  b->busy = 0;
  free(s);
  if (err) return throw_wp(env, err);
  if (as_string) {
    napi_value r;
    napi_create_string_utf8(env, (const char *)out, out_len, &r);
    return r;
  }
  state *st;
  napi_get_instance_data(env, (void **)&st);
  if (out_len <= st->scratch_len) {
    memcpy(st->scratch, out, out_len);
    napi_value r;
    napi_create_uint32(env, (uint32_t)out_len, &r);
    return r;
  }
  return new_buffer(env, out, out_len);
}

static bool component_args(napi_env env, func *f, napi_value arr, wp_value **vals, size_t *n) {
  if (!f->ft) return BAD(env, "'%s' is not a component function: use call() or callBytes()", f->name), false;
  size_t np = wp_functype_param_count(f->ft);
  uint32_t len;
  napi_get_array_length(env, arr, &len);
  if (len != np) return BAD(env, "'%s' takes %zu argument(s), got %u", f->name, np, len), false;
  if (np > MAX_VALS) return BAD(env, "'%s': too many parameters", f->name), false;
  for (size_t i = 0; i < np; i++) {
    napi_value e;
    napi_get_element(env, arr, (uint32_t)i, &e);
    char path[200];
    snprintf(path, sizeof path, "argument %zu (%s)", i + 1, wp_functype_param_name(f->ft, i));
    if (!(vals[i] = js_to_value(env, e, wp_functype_param_type(f->ft, i), path))) {
      for (size_t j = 0; j < i; j++) wp_value_free(vals[j]);
      return false;
    }
  }
  *n = np;
  return true;
}

/* invoke(inst, func, argsArray) */
static napi_value n_invoke(napi_env env, napi_callback_info info) {
  ARGS(3);
  box *b = get_inst(env, argv[0]);
  if (!b) return NULL;
  func *f = get_func(env, argv[1], b);
  if (!f) return NULL;
  wp_value *vals[MAX_VALS];
  size_t n;
  if (!component_args(env, f, argv[2], vals, &n)) return NULL;
  wp_value *res = NULL;
  b->busy = 1;
  wp_error *err = wp_instance_invoke_func(b->ptr, f->id, (const wp_value *const *)vals, n, &res);
  b->busy = 0;
  for (size_t i = 0; i < n; i++) wp_value_free(vals[i]);
  if (err) return throw_wp(env, err);
  napi_value r = value_to_js(env, res, wp_functype_result(f->ft));
  wp_value_free(res);
  return r;
}

/* ---------------------------------------------------------------- async */

enum { A_NUM, A_BYTES, A_STRING, A_INVOKE };

typedef struct work {
  int kind;
  box *inst;
  func *f;
  napi_ref inst_ref, func_ref;
  napi_deferred deferred;
  napi_async_work aw;
  wp_val args[MAX_VALS], res[MAX_VALS];
  uint8_t *in;
  size_t in_len;
  uint8_t *out;
  size_t out_len;
  wp_value *vals[MAX_VALS];
  size_t nvals;
  wp_value *result;
  wp_error *err;
} work;

static void work_execute(napi_env env, void *data) {
  (void)env;
  work *w = data;
  switch (w->kind) {
  case A_NUM:
    w->err = wp_instance_call_func(w->inst->ptr, w->f->id, w->args, w->f->np, w->res, w->f->nr);
    break;
  case A_BYTES:
  case A_STRING: {
    const uint8_t *out;
    size_t len;
    w->err = wp_instance_call_func_bytes(w->inst->ptr, w->f->id, w->in, w->in_len, &out, &len);
    if (!w->err) { /* copied here: the output lives until the instance's next call */
      w->out = malloc(len ? len : 1);
      if (!w->out) w->err = wp_error_new(WP_ERR_NO_MEMORY, "out of memory");
      else memcpy(w->out, out, len), w->out_len = len;
    }
    break;
  }
  case A_INVOKE:
    w->err = wp_instance_invoke_func(w->inst->ptr, w->f->id, (const wp_value *const *)w->vals,
                                     w->nvals, &w->result);
    break;
  }
}

static void work_complete(napi_env env, napi_status status, void *data) {
  work *w = data;
  w->inst->busy = 0;
  napi_value v = NULL;
  if (status != napi_ok && !w->err)
    w->err = wp_error_new(WP_ERR_HOST, "the async call was cancelled");
  if (w->err) {
    v = make_error_value(env, (int)wp_error_get_kind(w->err), wp_error_get_message(w->err),
                         wp_error_get_backtrace(w->err));
    napi_reject_deferred(env, w->deferred, v);
  } else {
    switch (w->kind) {
    case A_NUM: v = vals_to_js(env, w->res, w->f->nr); break;
    case A_BYTES: v = new_buffer(env, w->out, w->out_len); break;
    case A_STRING: napi_create_string_utf8(env, (const char *)w->out, w->out_len, &v); break;
    case A_INVOKE: v = value_to_js(env, w->result, wp_functype_result(w->f->ft)); break;
    }
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (!v || pending) {
      napi_value ex;
      napi_get_and_clear_last_exception(env, &ex);
      napi_reject_deferred(env, w->deferred, ex);
    } else {
      napi_resolve_deferred(env, w->deferred, v);
    }
  }
  wp_error_free(w->err);
  free(w->in);
  free(w->out);
  for (size_t i = 0; i < w->nvals; i++) wp_value_free(w->vals[i]);
  wp_value_free(w->result);
  napi_delete_reference(env, w->inst_ref);
  napi_delete_reference(env, w->func_ref);
  napi_delete_async_work(env, w->aw);
  free(w);
}

/* callAsync(kind, inst, func, args) -> Promise; args: an array (numeric,
   invoke) or the input (bytes, string). */
static napi_value n_call_async(napi_env env, napi_callback_info info) {
  ARGS(4);
  int32_t kind;
  napi_get_value_int32(env, argv[0], &kind);
  box *b = get_inst(env, argv[1]);
  if (!b) return NULL;
  func *f = get_func(env, argv[2], b);
  if (!f) return NULL;
  work *w = calloc(1, sizeof *w);
  if (!w) return throw_kind(env, WP_ERR_NO_MEMORY, "out of memory");
  w->kind = kind;
  w->inst = b;
  w->f = f;
  if (kind == A_NUM) {
    bool isarr;
    uint32_t n = 0;
    napi_is_array(env, argv[3], &isarr);
    if (isarr) napi_get_array_length(env, argv[3], &n);
    if (!f->numeric) {
      BAD(env, "'%s' is not a numeric function", f->name);
      goto fail;
    }
    if (n != f->np) {
      BAD(env, "'%s' takes %zu argument(s), got %u", f->name, f->np, n);
      goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
      napi_value e;
      napi_get_element(env, argv[3], i, &e);
      if (!js_to_val(env, e, f->params[i], &w->args[i], i, "argument")) goto fail;
    }
  } else if (kind == A_INVOKE) {
    if (!component_args(env, f, argv[3], w->vals, &w->nvals)) goto fail;
  } else {
    const uint8_t *in = (const uint8_t *)"";
    size_t len = 0;
    napi_valuetype t;
    napi_typeof(env, argv[3], &t);
    if (t == napi_string) {
      char *s = get_str(env, argv[3], "input");
      if (!s) goto fail;
      napi_get_value_string_utf8(env, argv[3], NULL, 0, &len);
      w->in = (uint8_t *)s;
      w->in_len = len;
    } else if (t != napi_undefined && t != napi_null) {
      if (!get_bytes(env, argv[3], &in, &len)) {
        BAD(env, "input must be a Buffer, Uint8Array or string");
        goto fail;
      }
      if (!(w->in = malloc(len ? len : 1))) goto fail;
      memcpy(w->in, in, len);
      w->in_len = len;
    }
  }
  napi_value promise, name;
  napi_create_promise(env, &w->deferred, &promise);
  napi_create_string_utf8(env, "wasmplug.call", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, work_execute, work_complete, w, &w->aw);
  napi_create_reference(env, argv[1], 1, &w->inst_ref);
  napi_create_reference(env, argv[2], 1, &w->func_ref);
  b->busy = 1;
  napi_queue_async_work(env, w->aw);
  return promise;
fail:
  for (size_t i = 0; i < w->nvals; i++) wp_value_free(w->vals[i]);
  free(w->in);
  free(w);
  return NULL;
}

/* ---------------------------------------------------------------- pools */

static napi_value n_pool_new(napi_env env, napi_callback_info info) {
  ARGS(3);
  box *b = get_box(env, argv[0], T_PLUGIN, "plugin");
  if (!b) return NULL;
  int64_t uses = -1, idle = -1;
  napi_valuetype t1, t2;
  napi_typeof(env, argv[1], &t1);
  napi_typeof(env, argv[2], &t2);
  if (t1 == napi_number) napi_get_value_int64(env, argv[1], &uses);
  if (t2 == napi_number) napi_get_value_int64(env, argv[2], &idle);
  if (uses < 0 || idle < 0 || uses > UINT32_MAX || idle > UINT32_MAX)
    return BAD(env, "maxUses and maxIdle must be integers from 0 to 2^32-1");
  wp_pool *p;
  wp_error *err = wp_pool_new(b->ptr, (uint32_t)uses, (uint32_t)idle, &p);
  if (err) return throw_wp(env, err);
  return wrap_box(env, T_POOL, p, NULL);
}

static napi_value n_pool_take(napi_env env, napi_callback_info info) {
  ARGS(1);
  box *p = get_box(env, argv[0], T_POOL, "pool");
  if (!p) return NULL;
  if (p->closed) return BAD(env, "pool is closed");
  wp_instance *inst;
  wp_error *err = wp_pool_take(p->ptr, &inst);
  if (err) return throw_wp(env, err);
  p->taken++;
  napi_value v = wrap_box(env, T_INSTANCE, inst, p);
  if (!v) { /* wrap_box released it */
    return NULL;
  }
  return v;
}

static napi_value n_pool_idle(napi_env env, napi_callback_info info) {
  ARGS(1);
  box *p = get_box(env, argv[0], T_POOL, "pool");
  if (!p) return NULL;
  napi_value r;
  napi_create_double(env, (double)wp_pool_get_idle(p->ptr), &r);
  return r;
}

/* ---------------------------------------------------------------- init */

static void state_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  state *st = data;
  /* Host functions may outlive the env (their engine frees them later):
     they see `dead` and touch N-API no more. The state itself stays. */
  st->dead = 1;
}

static napi_value init(napi_env env, napi_value exports) {
  state *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->env = env;
  st->main = pthread_self();
  napi_value name;
  napi_create_string_utf8(env, "wasmplug callbacks", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, st, tsfn_call_js,
                                      &st->tsfn) != napi_ok)
    return NULL;
  napi_unref_threadsafe_function(env, st->tsfn);
  napi_set_instance_data(env, st, state_finalize, NULL);
  napi_property_descriptor props[] = {
#define FN(n, f) {n, NULL, f, NULL, NULL, NULL, napi_default, NULL}
      FN("setup", n_setup),
      FN("engineNew", n_engine_new),
      FN("close", n_close),
      FN("define", n_define),
      FN("loadFile", n_load_file),
      FN("loadBytes", n_load_bytes),
      FN("pluginInfo", n_plugin_info),
      FN("find", n_find),
      FN("instanceNew", n_instance_new),
      FN("instanceOp", n_instance_op),
      FN("call", n_call),
      FN("callBytes", n_call_bytes),
      FN("invoke", n_invoke),
      FN("callAsync", n_call_async),
      FN("poolNew", n_pool_new),
      FN("poolTake", n_pool_take),
      FN("poolIdle", n_pool_idle),
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
