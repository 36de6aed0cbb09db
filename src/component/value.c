/*
 * value.c - building, reading, copying and freeing WIT values (wp_value).
 *
 * Constructors that take child values own them from the moment they are
 * called, so that nested constructor calls can be written as one expression
 * and checked once: a NULL child (out of memory further down) makes the
 * parent free its other children and return NULL too.
 */
#include <stdlib.h>
#include <string.h>

#include "component/value.h"
#include "util/zalloc.h"
#include "util/str.h"

static wp_value *alloc_kind(wp_type_kind kind) {
  wp_value *v = wp_zalloc(1, sizeof *v);
  if (v) v->kind = kind;
  return v;
}

/* ---- scalars -------------------------------------------------------------- */

#define SIGNED_CTOR(fn, T, K)    \
  wp_value *fn(T x) {            \
    wp_value *v = alloc_kind(K); \
    if (v) v->of.s = x;          \
    return v;                    \
  }
#define UNSIGNED_CTOR(fn, T, K)  \
  wp_value *fn(T x) {            \
    wp_value *v = alloc_kind(K); \
    if (v) v->of.u = x;          \
    return v;                    \
  }
SIGNED_CTOR(wp_value_new_s8, int8_t, WP_TYPE_S8)
SIGNED_CTOR(wp_value_new_s16, int16_t, WP_TYPE_S16)
SIGNED_CTOR(wp_value_new_s32, int32_t, WP_TYPE_S32)
SIGNED_CTOR(wp_value_new_s64, int64_t, WP_TYPE_S64)
UNSIGNED_CTOR(wp_value_new_u8, uint8_t, WP_TYPE_U8)
UNSIGNED_CTOR(wp_value_new_u16, uint16_t, WP_TYPE_U16)
UNSIGNED_CTOR(wp_value_new_u32, uint32_t, WP_TYPE_U32)
UNSIGNED_CTOR(wp_value_new_u64, uint64_t, WP_TYPE_U64)

wp_value *wp_value_new_bool(bool x) {
  wp_value *v = alloc_kind(WP_TYPE_BOOL);
  if (v) v->of.b = x;
  return v;
}

wp_value *wp_value_new_f32(float x) {
  wp_value *v = alloc_kind(WP_TYPE_F32);
  if (v) v->of.f32 = x;
  return v;
}

wp_value *wp_value_new_f64(double x) {
  wp_value *v = alloc_kind(WP_TYPE_F64);
  if (v) v->of.f64 = x;
  return v;
}

wp_value *wp_value_new_char(uint32_t x) {
  wp_value *v = alloc_kind(WP_TYPE_CHAR);
  if (v) v->of.ch = x;
  return v;
}

static wp_value *new_text(wp_type_kind kind, const char *s, size_t len) {
  if (!s && len) return NULL;
  wp_value *v = alloc_kind(kind);
  if (!v) return NULL;
  v->of.str.data = wp_strdup_n(s ? s : "", len);
  v->of.str.len = len;
  if (!v->of.str.data) {
    free(v);
    return NULL;
  }
  return v;
}

wp_value *wp_value_new_string(const char *s) {
  return s ? new_text(WP_TYPE_STRING, s, strlen(s)) : NULL;
}
wp_value *wp_value_new_string_n(const char *s, size_t len) {
  return new_text(WP_TYPE_STRING, s, len);
}
wp_value *wp_value_new_enum(const char *name) {
  return name ? new_text(WP_TYPE_ENUM, name, strlen(name)) : NULL;
}

/* ---- compounds ------------------------------------------------------------ */

static void free_all(wp_value *const *items, size_t n) {
  for (size_t i = 0; i < n; i++) wp_value_free(items[i]);
}

/* Moves `n` taken values into one new array of structs. */
static wp_value *new_agg(wp_type_kind kind, wp_value *const *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!items[i]) {
      free_all(items, n);
      return NULL;
    }
  }
  wp_value *v = alloc_kind(kind);
  wp_value *arr = n ? malloc(n * sizeof *arr) : NULL;
  if (!v || (n && !arr)) {
    free(v);
    free(arr);
    free_all(items, n);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    arr[i] = *items[i];
    free(items[i]); /* the shell only: its contents moved into arr */
  }
  v->of.agg.items = arr;
  v->of.agg.n = n;
  return v;
}

static char **dup_names(const char *const *names, size_t n) {
  char **out = wp_zalloc(n ? n : 1, sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    out[i] = names[i] ? wp_strdup_n(names[i], strlen(names[i])) : NULL;
    if (!out[i]) {
      for (size_t j = 0; j < i; j++) free(out[j]);
      free(out);
      return NULL;
    }
  }
  return out;
}

void wp_value_set_bytes(wp_value *v, uint8_t *data, size_t len) {
  v->kind = WP_TYPE_LIST;
  v->compact = true;
  atomic_init(&v->of.bytes.view, NULL);
  v->of.bytes.data = data;
  v->of.bytes.len = len;
}

wp_value *wp_value_new_bytes(const void *data, size_t len) {
  if (!data && len) return NULL;
  wp_value *v = alloc_kind(WP_TYPE_LIST);
  if (!v || !len) return v;
  uint8_t *copy = malloc(len);
  if (!copy) {
    free(v);
    return NULL;
  }
  memcpy(copy, data, len);
  wp_value_set_bytes(v, copy, len);
  return v;
}

/* A list of u8 values, taken, as one buffer; NULL when out of memory. */
static wp_value *new_u8_list(wp_value *const *items, size_t n) {
  wp_value *v = alloc_kind(WP_TYPE_LIST);
  uint8_t *data = malloc(n);
  if (!v || !data) {
    free(v);
    free(data);
    free_all(items, n);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    data[i] = (uint8_t)items[i]->of.u;
    free(items[i]);
  }
  wp_value_set_bytes(v, data, n);
  return v;
}

static bool all_u8(wp_value *const *items, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!items[i] || items[i]->kind != WP_TYPE_U8) return false;
  return n > 0;
}

wp_value *wp_value_new_list(wp_value *const *items, size_t n) {
  if (all_u8(items, n)) return new_u8_list(items, n);
  return new_agg(WP_TYPE_LIST, items, n);
}
wp_value *wp_value_new_tuple(wp_value *const *items, size_t n) {
  return new_agg(WP_TYPE_TUPLE, items, n);
}

wp_value *wp_value_new_record(const char *const *names, wp_value *const *fields, size_t n) {
  char **copy = names ? dup_names(names, n) : NULL;
  if (!copy) {
    free_all(fields, n);
    return NULL;
  }
  wp_value *v = new_agg(WP_TYPE_RECORD, fields, n);
  if (!v) {
    for (size_t i = 0; i < n; i++) free(copy[i]);
    free(copy);
    return NULL;
  }
  v->of.agg.names = copy;
  return v;
}

wp_value *wp_value_new_flags(const char *const *names, size_t n) {
  if (!names && n) return NULL;
  char **copy = dup_names(names, n);
  wp_value *v = alloc_kind(WP_TYPE_FLAGS);
  if (!copy || !v) {
    if (copy) {
      for (size_t i = 0; i < n; i++) free(copy[i]);
      free(copy);
    }
    free(v);
    return NULL;
  }
  v->of.agg.names = copy;
  v->of.agg.n = n;
  return v;
}

wp_value *wp_value_new_variant(const char *case_name, wp_value *payload) {
  wp_value *v = case_name ? alloc_kind(WP_TYPE_VARIANT) : NULL;
  char *name = v ? wp_strdup_n(case_name, strlen(case_name)) : NULL;
  if (!name) {
    free(v);
    wp_value_free(payload);
    return NULL;
  }
  v->of.var.name = name;
  v->of.var.payload = payload;
  return v;
}

static wp_value *new_case(wp_type_kind kind, bool flag, wp_value *payload) {
  wp_value *v = alloc_kind(kind);
  if (!v) {
    wp_value_free(payload);
    return NULL;
  }
  v->of.var.flag = flag;
  v->of.var.payload = payload;
  return v;
}

wp_value *wp_value_new_some(wp_value *x) { return x ? new_case(WP_TYPE_OPTION, true, x) : NULL; }
wp_value *wp_value_new_none(void) { return new_case(WP_TYPE_OPTION, false, NULL); }
wp_value *wp_value_new_ok(wp_value *x) { return new_case(WP_TYPE_RESULT, true, x); }
wp_value *wp_value_new_err(wp_value *x) { return new_case(WP_TYPE_RESULT, false, x); }

/* ---- freeing and copying ----------------------------------------------------- */

void wp_value_clear(wp_value *v) {
  if (v->compact) {
    free(v->of.bytes.data);
    free(atomic_load(&v->of.bytes.view));
    v->compact = false;
    memset(&v->of, 0, sizeof v->of);
    return;
  }
  switch (v->kind) {
  case WP_TYPE_STRING:
  case WP_TYPE_ENUM: free(v->of.str.data); break;
  case WP_TYPE_LIST:
  case WP_TYPE_TUPLE:
  case WP_TYPE_RECORD:
  case WP_TYPE_FLAGS:
    if (v->of.agg.items)
      for (size_t i = 0; i < v->of.agg.n; i++) wp_value_clear(&v->of.agg.items[i]);
    if (v->of.agg.names)
      for (size_t i = 0; i < v->of.agg.n; i++) free(v->of.agg.names[i]);
    free(v->of.agg.items);
    free(v->of.agg.names);
    break;
  case WP_TYPE_VARIANT:
  case WP_TYPE_OPTION:
  case WP_TYPE_RESULT:
    free(v->of.var.name);
    wp_value_free(v->of.var.payload);
    break;
  case WP_TYPE_OWN:
  case WP_TYPE_BORROW:
    if (v->of.res) wasmtime_component_resource_any_delete(v->of.res);
    break;
  default: break;
  }
  memset(&v->of, 0, sizeof v->of);
}

void wp_value_free(wp_value *v) {
  if (!v) return;
  wp_value_clear(v);
  free(v);
}

bool wp_value_copy(wp_value *dst, const wp_value *src) {
  dst->kind = src->kind;
  dst->compact = false;
  memset(&dst->of, 0, sizeof dst->of);
  if (src->compact) {
    uint8_t *data = malloc(src->of.bytes.len);
    if (!data) return false;
    memcpy(data, src->of.bytes.data, src->of.bytes.len);
    wp_value_set_bytes(dst, data, src->of.bytes.len);
    return true;
  }
  switch (src->kind) {
  case WP_TYPE_STRING:
  case WP_TYPE_ENUM:
    dst->of.str.data = wp_strdup_n(src->of.str.data, src->of.str.len);
    dst->of.str.len = src->of.str.len;
    return dst->of.str.data != NULL;
  case WP_TYPE_LIST:
  case WP_TYPE_TUPLE:
  case WP_TYPE_RECORD:
  case WP_TYPE_FLAGS: {
    size_t n = src->of.agg.n;
    if (src->of.agg.names) {
      dst->of.agg.names = dup_names((const char *const *)src->of.agg.names, n);
      if (!dst->of.agg.names) return false;
      dst->of.agg.n = n; /* so that clear frees the names */
    }
    if (src->of.agg.items && n) {
      dst->of.agg.items = wp_zalloc(n, sizeof *dst->of.agg.items);
      if (!dst->of.agg.items) return false;
      dst->of.agg.n = n;
      for (size_t i = 0; i < n; i++)
        if (!wp_value_copy(&dst->of.agg.items[i], &src->of.agg.items[i])) return false;
    }
    dst->of.agg.n = n;
    return true;
  }
  case WP_TYPE_VARIANT:
  case WP_TYPE_OPTION:
  case WP_TYPE_RESULT:
    dst->of.var.flag = src->of.var.flag;
    if (src->of.var.name &&
        !(dst->of.var.name = wp_strdup_n(src->of.var.name, strlen(src->of.var.name))))
      return false;
    if (src->of.var.payload) {
      dst->of.var.payload = wp_value_clone(src->of.var.payload);
      if (!dst->of.var.payload) return false;
    }
    return true;
  case WP_TYPE_OWN:
  case WP_TYPE_BORROW:
    dst->of.remote = src->of.remote;
    dst->of.life = src->of.life;
    if (src->of.res && !(dst->of.res = wasmtime_component_resource_any_clone(src->of.res)))
      return false;
    return true;
  default: dst->of = src->of; return true;
  }
}

wp_value *wp_value_clone(const wp_value *v) {
  if (!v) return NULL;
  wp_value *c = wp_zalloc(1, sizeof *c);
  if (!c) return NULL;
  if (!wp_value_copy(c, v)) {
    wp_value_free(c);
    return NULL;
  }
  return c;
}

static bool names_equal(char *const *a, char *const *b, size_t n) {
  if (!a || !b) return a == b;
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i], b[i]) != 0) return false;
  return true;
}

/* Lists of which one or both are held as bytes. */
static bool bytes_equal(const wp_value *a, const wp_value *b) {
  if (a->compact && b->compact)
    return a->of.bytes.len == b->of.bytes.len &&
           memcmp(a->of.bytes.data, b->of.bytes.data, a->of.bytes.len) == 0;
  if (!a->compact) return bytes_equal(b, a);
  if (b->of.agg.n != a->of.bytes.len || !b->of.agg.items) return false;
  for (size_t i = 0; i < a->of.bytes.len; i++)
    if (b->of.agg.items[i].kind != WP_TYPE_U8 || b->of.agg.items[i].of.u != a->of.bytes.data[i])
      return false;
  return true;
}

bool wp_value_equal(const wp_value *a, const wp_value *b) {
  if (!a || !b) return a == b;
  if (a->kind != b->kind) return false;
  if (a->compact || b->compact) return bytes_equal(a, b);
  switch (a->kind) {
  case WP_TYPE_BOOL: return a->of.b == b->of.b;
  case WP_TYPE_S8:
  case WP_TYPE_S16:
  case WP_TYPE_S32:
  case WP_TYPE_S64: return a->of.s == b->of.s;
  case WP_TYPE_U8:
  case WP_TYPE_U16:
  case WP_TYPE_U32:
  case WP_TYPE_U64: return a->of.u == b->of.u;
  case WP_TYPE_F32: return memcmp(&a->of.f32, &b->of.f32, sizeof(float)) == 0;
  case WP_TYPE_F64: return memcmp(&a->of.f64, &b->of.f64, sizeof(double)) == 0;
  case WP_TYPE_CHAR: return a->of.ch == b->of.ch;
  case WP_TYPE_STRING:
  case WP_TYPE_ENUM:
    return a->of.str.len == b->of.str.len &&
           memcmp(a->of.str.data, b->of.str.data, a->of.str.len) == 0;
  case WP_TYPE_LIST:
  case WP_TYPE_TUPLE:
  case WP_TYPE_RECORD:
  case WP_TYPE_FLAGS:
    if (a->of.agg.n != b->of.agg.n || !names_equal(a->of.agg.names, b->of.agg.names, a->of.agg.n))
      return false;
    if (a->of.agg.items)
      for (size_t i = 0; i < a->of.agg.n; i++)
        if (!wp_value_equal(&a->of.agg.items[i], &b->of.agg.items[i])) return false;
    return true;
  case WP_TYPE_VARIANT:
  case WP_TYPE_OPTION:
  case WP_TYPE_RESULT:
    if (a->of.var.flag != b->of.var.flag) return false;
    if ((a->of.var.name == NULL) != (b->of.var.name == NULL)) return false;
    if (a->of.var.name && strcmp(a->of.var.name, b->of.var.name) != 0) return false;
    return wp_value_equal(a->of.var.payload, b->of.var.payload);
  default: return a->of.res == b->of.res && a->of.remote == b->of.remote;
  }
}

/* ---- reading ------------------------------------------------------------- */

wp_type_kind wp_value_get_kind(const wp_value *v) { return v->kind; }
bool wp_value_get_bool(const wp_value *v) { return v->kind == WP_TYPE_BOOL && v->of.b; }

int64_t wp_value_get_int(const wp_value *v) {
  switch (v->kind) {
  case WP_TYPE_S8:
  case WP_TYPE_S16:
  case WP_TYPE_S32:
  case WP_TYPE_S64: return v->of.s;
  default: return 0;
  }
}

uint64_t wp_value_get_uint(const wp_value *v) {
  switch (v->kind) {
  case WP_TYPE_U8:
  case WP_TYPE_U16:
  case WP_TYPE_U32:
  case WP_TYPE_U64: return v->of.u;
  default: return 0;
  }
}

float wp_value_get_f32(const wp_value *v) { return v->kind == WP_TYPE_F32 ? v->of.f32 : 0.0f; }
double wp_value_get_f64(const wp_value *v) { return v->kind == WP_TYPE_F64 ? v->of.f64 : 0.0; }
uint32_t wp_value_get_char(const wp_value *v) { return v->kind == WP_TYPE_CHAR ? v->of.ch : 0; }

const char *wp_value_get_string(const wp_value *v, size_t *len) {
  if (v->kind != WP_TYPE_STRING) {
    if (len) *len = 0;
    return NULL;
  }
  if (len) *len = v->of.str.len;
  return v->of.str.data;
}

static bool is_agg(const wp_value *v) {
  return v->kind == WP_TYPE_LIST || v->kind == WP_TYPE_TUPLE || v->kind == WP_TYPE_RECORD ||
         v->kind == WP_TYPE_FLAGS;
}

size_t wp_value_get_count(const wp_value *v) {
  if (v->compact) return v->of.bytes.len;
  return is_agg(v) ? v->of.agg.n : 0;
}

/* The items of a list held as bytes, made once; NULL when out of memory. */
static wp_value *byte_items(wp_value *v) {
  wp_value *view = atomic_load(&v->of.bytes.view);
  if (view) return view;
  size_t n = v->of.bytes.len;
  wp_value *made = wp_zalloc(n, sizeof *made);
  if (!made) return NULL;
  for (size_t i = 0; i < n; i++) {
    made[i].kind = WP_TYPE_U8;
    made[i].of.u = v->of.bytes.data[i];
  }
  /* Another thread may have made them first: keep the first. */
  if (atomic_compare_exchange_strong(&v->of.bytes.view, &view, made)) return made;
  free(made);
  return view;
}

const wp_value *wp_value_get_item(const wp_value *v, size_t i) {
  if (v->compact) {
    if (i >= v->of.bytes.len) return NULL;
    /* The view is a cache: making it changes nothing a reader can see. */
    wp_value *items = byte_items((wp_value *)v);
    return items ? &items[i] : NULL;
  }
  if (!is_agg(v) || !v->of.agg.items || i >= v->of.agg.n) return NULL;
  return &v->of.agg.items[i];
}

const uint8_t *wp_value_get_bytes(const wp_value *v, size_t *len) {
  static const uint8_t empty[1];
  size_t n = 0;
  const uint8_t *p = NULL;
  if (v && v->compact) {
    n = v->of.bytes.len;
    p = v->of.bytes.data;
  } else if (v && v->kind == WP_TYPE_LIST && v->of.agg.n == 0) {
    p = empty;
  }
  if (len) *len = n;
  return p;
}

const char *wp_value_get_name(const wp_value *v, size_t i) {
  if (v->compact || !is_agg(v) || !v->of.agg.names || i >= v->of.agg.n) return NULL;
  return v->of.agg.names[i];
}

const wp_value *wp_value_get_field(const wp_value *v, const char *name) {
  if (v->kind != WP_TYPE_RECORD || !name) return NULL;
  for (size_t i = 0; i < v->of.agg.n; i++)
    if (strcmp(v->of.agg.names[i], name) == 0) return &v->of.agg.items[i];
  return NULL;
}

bool wp_value_has_flag(const wp_value *v, const char *name) {
  if (v->kind != WP_TYPE_FLAGS || !name) return false;
  for (size_t i = 0; i < v->of.agg.n; i++)
    if (strcmp(v->of.agg.names[i], name) == 0) return true;
  return false;
}

const char *wp_value_get_case(const wp_value *v) {
  switch (v->kind) {
  case WP_TYPE_VARIANT: return v->of.var.name;
  case WP_TYPE_ENUM: return v->of.str.data;
  case WP_TYPE_OPTION: return v->of.var.flag ? "some" : "none";
  case WP_TYPE_RESULT: return v->of.var.flag ? "ok" : "err";
  default: return NULL;
  }
}

const wp_value *wp_value_get_payload(const wp_value *v) {
  if (v->kind != WP_TYPE_VARIANT && v->kind != WP_TYPE_OPTION && v->kind != WP_TYPE_RESULT)
    return NULL;
  return v->of.var.payload;
}

void wp_free(void *ptr) { free(ptr); }

size_t wp_value_field_index(const wp_value *v, const char *name, size_t hint) {
  if (hint < v->of.agg.n && strcmp(v->of.agg.names[hint], name) == 0) return hint;
  for (size_t k = 0; k < v->of.agg.n; k++)
    if (strcmp(v->of.agg.names[k], name) == 0) return k;
  return SIZE_MAX;
}

bool wp_value_has_remote(const wp_value *v) {
  if (!v || v->compact) return false;
  switch (v->kind) {
  case WP_TYPE_OWN:
  case WP_TYPE_BORROW: return v->of.remote != 0;
  case WP_TYPE_LIST:
  case WP_TYPE_TUPLE:
  case WP_TYPE_RECORD:
    if (v->of.agg.items)
      for (size_t i = 0; i < v->of.agg.n; i++)
        if (wp_value_has_remote(&v->of.agg.items[i])) return true;
    return false;
  case WP_TYPE_VARIANT:
  case WP_TYPE_OPTION:
  case WP_TYPE_RESULT: return wp_value_has_remote(v->of.var.payload);
  default: return false;
  }
}
