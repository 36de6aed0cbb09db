/*
 * ffi.c - wasi:dl/ffi: the alloc resource (wit/wasi-dl/dl.wit; memory in
 * mem.h). Each method takes `self` first and answers a result whose err
 * names what it refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared.h"
#include "util/utf8.h"

#define WHY 256

static void alloc_drop(void *object, void *ud) {
  (void)ud;
  dl_alloc_free(object);
}

static bool is_pointer(const dl_alloc *a) {
  return !a->type->is_struct && a->type->prim == DL_POINTER;
}

static void print_type(const dl_alloc *a, char *buf, size_t size) {
  buf[0] = '\0';
  dl_type_print(a->type, buf, size);
}

static const char *tname(const dl_alloc *a, char buf[WHY]) {
  print_type(a, buf, WHY);
  return buf;
}

/* The alloc behind `self` and, for the pointer methods, the check that it
   holds a pointer (else *result says so). */
static wp_error *self_alloc(const dl_state *st, wp_host_call *call, const wp_value *const *args,
                            size_t nargs, const char *fn, bool want_pointer, dl_alloc **a,
                            wp_value **result, bool *refused) {
  *refused = false;
  void *obj;
  wp_error *err = dl_handle(call, args, nargs, 0, st->alloc, fn, &obj);
  if (err) return err;
  *a = obj;
  if (!want_pointer || is_pointer(*a)) return NULL;
  char t[WHY];
  print_type(*a, t, sizeof t);
  *refused = true;
  return dl_fail(result, "alloc.%s: the alloc holds a %s, not a pointer", fn, t);
}

/* new: static func(types: list<ffi-type>) -> result<alloc, string> */
static wp_error *a_new(wp_host_call *call, const wp_value *const *args, size_t nargs,
                       wp_value **result, void *ud) {
  const dl_state *st = ud;
  dl_grant *g;
  wp_error *err = dl_granted(st, call, "alloc.new", &g, result);
  if (err || !g) return err;
  const wp_value *list = dl_arg(args, nargs, 0, WP_TYPE_LIST);
  if (!list) return dl_shape("alloc.new", "types");
  char why[WHY];
  bool oom;
  dl_type *t = dl_types_from_list(list, why, sizeof why, &oom);
  if (!t) return oom ? dl_no_memory() : dl_fail(result, "alloc.new: %s", why);
  dl_block *b = dl_block_new(t);
  if (!b) return dl_no_memory();
  if (!dl_block_charge(b, &g->used)) err = dl_over_budget(result, "alloc.new");
  else err = dl_ok_alloc(st, call, b, 0, b->type, &g->used, result);
  dl_block_unref(b);
  return err;
}

/* select: func(index: u32) -> result<alloc, string> */
static wp_error *a_select(wp_host_call *call, const wp_value *const *args, size_t nargs,
                          wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "select", false, &a, result, &refused);
  if (err) return err;
  const wp_value *iv = dl_arg(args, nargs, 1, WP_TYPE_U32);
  if (!iv) return dl_shape("alloc.select", "index");
  uint64_t i = wp_value_get_uint(iv);
  if (!a->type->is_struct) {
    char t[WHY];
    print_type(a, t, sizeof t);
    return dl_fail(result, "alloc.select: the alloc holds a %s, not a struct", t);
  }
  if (i >= a->type->n)
    return dl_fail(result, "alloc.select: field %llu of a struct of %zu fields",
                   (unsigned long long)i, a->type->n);
  return dl_ok_alloc(ud, call, a->b, a->off + a->type->offsets[i], a->type->fields[i], a->used,
                     result);
}

static bool has_pointer(const dl_type *t) {
  if (!t->is_struct) return t->prim == DL_POINTER;
  for (size_t i = 0; i < t->n; i++)
    if (has_pointer(t->fields[i])) return true;
  return false;
}

/* Stores the pointer `ptr` at a's place, into block `to` (NULL: none). */
static wp_error *store_pointer(dl_alloc *a, dl_block *to, const uint8_t *ptr, size_t avail,
                               wp_value **result) {
  char why[WHY];
  if (!dl_block_point(a->b, a->off, to, ptr, avail, why, sizeof why))
    return why[0] ? dl_fail(result, "alloc.write-primitive: %s", why) : dl_no_memory();
  memcpy(dl_alloc_mem(a), &ptr, sizeof ptr);
  return dl_ok_unit(result);
}

/* write-primitive: func(value: outgoing-value) -> result<_, string> */
static wp_error *a_write(wp_host_call *call, const wp_value *const *args, size_t nargs,
                         wp_value **result, void *ud) {
  const dl_state *st = ud;
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(st, call, args, nargs, "write-primitive", false, &a, result, &refused);
  if (err) return err;
  const wp_value *v = dl_arg(args, nargs, 1, WP_TYPE_VARIANT);
  const char *c = v ? wp_value_get_case(v) : NULL;
  if (!c) return dl_shape("alloc.write-primitive", "value");
  char t[WHY]; /* the alloc's type, printed only for a refusal */
  if (a->b->readonly)
    return dl_fail(result, "alloc.write-primitive: this memory is native code's, read-only to "
                           "plugins");
  if (a->type->is_struct && strcmp(c, "value") != 0)
    return dl_fail(result, "alloc.write-primitive: the alloc holds a %s: select a field first",
                   tname(a, t));
  if (strcmp(c, "primitive") == 0) {
    char why[WHY];
    const wp_value *pl = wp_value_get_payload(v);
    if (!pl) return dl_shape("alloc.write-primitive", "value");
    if (!dl_store_prim(a->type->prim, pl, dl_alloc_mem(a), why, sizeof why))
      return dl_fail(result, "alloc.write-primitive: %s", why);
    return dl_ok_unit(result);
  }
  if (strcmp(c, "null") == 0) {
    if (!is_pointer(a))
      return dl_fail(result, "alloc.write-primitive: null into a %s", tname(a, t));
    return store_pointer(a, NULL, NULL, 0, result);
  }
  void *obj;
  const wp_value *pl = wp_value_get_payload(v);
  const wp_value *one[1] = {pl};
  if (!pl || (strcmp(c, "value") && strcmp(c, "address")))
    return dl_shape("alloc.write-primitive", "value");
  if ((err = dl_handle(call, one, 1, 0, st->alloc, "alloc.write-primitive", &obj))) return err;
  dl_alloc *src = obj;
  if (strcmp(c, "address") == 0) {
    if (!is_pointer(a))
      return dl_fail(result, "alloc.write-primitive: an address into a %s", tname(a, t));
    return store_pointer(a, src->b, dl_alloc_mem(src), src->b->size - src->off, result);
  }
  if (!dl_type_equal(a->type, src->type)) {
    char s[WHY];
    print_type(src, s, sizeof s);
    return dl_fail(result, "alloc.write-primitive: the value of a %s into a %s", s, tname(a, t));
  }
  if (is_pointer(a)) {
    const uint8_t *ptr;
    size_t avail;
    dl_block *to = dl_block_owner(src->b, src->off, &ptr, &avail);
    return store_pointer(a, to, ptr, avail, result);
  }
  if (has_pointer(a->type))
    return dl_fail(result, "alloc.write-primitive: a struct holding pointers is copied field by "
                           "field");
  memmove(dl_alloc_mem(a), dl_alloc_mem(src), dl_type_size(a->type));
  return dl_ok_unit(result);
}

/* read-primitive: func() -> result<primitive-value, string> */
static wp_error *a_read(wp_host_call *call, const wp_value *const *args, size_t nargs,
                        wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "read-primitive", false, &a, result, &refused);
  if (err) return err;
  if (a->type->is_struct || a->type->prim == DL_POINTER) {
    char t[WHY];
    print_type(a, t, sizeof t);
    return dl_fail(result,
                   "alloc.read-primitive: the alloc holds a %s; it reads numbers (select a "
                   "field of a struct; read a pointer with read-string, read-bytes, is-null or "
                   "deref)",
                   t);
  }
  return dl_ok(result, dl_load_prim(a->type->prim, dl_alloc_mem(a)));
}

/* Copies `len` bytes (and a NUL when `nul`) into new plugin memory that the
   pointer in `a` then points to. */
static wp_error *write_copy(const char *fn, dl_alloc *a, const uint8_t *data, size_t len, bool nul,
                            wp_value **result) {
  if (a->b->readonly)
    return dl_fail(result, "alloc.%s: this memory is native code's, read-only to plugins", fn);
  if (len > WP_DL_MAX_BYTES)
    return dl_fail(result, "alloc.%s: %zu bytes, over the limit of %u (WP_DL_MAX_BYTES)", fn, len,
                   WP_DL_MAX_BYTES);
  const uint8_t *zero = nul ? memchr(data, 0, len) : NULL;
  if (zero)
    return dl_fail(result, "alloc.%s: the string holds a NUL byte at %zu; use write-bytes", fn,
                   (size_t)(zero - data));
  dl_block *b = dl_block_bytes(len + nul);
  if (!b) return dl_no_memory();
  if (!dl_block_charge(b, a->used)) {
    dl_block_unref(b);
    return dl_over_budget(result, fn);
  }
  if (len) memcpy(b->mem, data, len);
  wp_error *err = store_pointer(a, b, b->mem, b->size, result);
  dl_block_unref(b);
  return err;
}

/* write-string: func(value: string) -> result<_, string> */
static wp_error *a_write_string(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "write-string", true, &a, result, &refused);
  if (err || refused) return err;
  const wp_value *s = dl_arg(args, nargs, 1, WP_TYPE_STRING);
  if (!s) return dl_shape("alloc.write-string", "value");
  size_t len;
  const char *p = wp_value_get_string(s, &len);
  return write_copy("write-string", a, (const uint8_t *)p, len, true, result);
}

/* write-bytes: func(value: list<u8>) -> result<_, string> */
static wp_error *a_write_bytes(wp_host_call *call, const wp_value *const *args, size_t nargs,
                               wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "write-bytes", true, &a, result, &refused);
  if (err || refused) return err;
  const wp_value *l = dl_arg(args, nargs, 1, WP_TYPE_LIST);
  if (!l) return dl_shape("alloc.write-bytes", "value");
  size_t n = wp_value_get_count(l);
  if (n > WP_DL_MAX_BYTES)
    return dl_fail(result, "alloc.write-bytes: %zu bytes, over the limit of %u (WP_DL_MAX_BYTES)",
                   n, WP_DL_MAX_BYTES);
  uint8_t *d = malloc(n ? n : 1);
  if (!d) return dl_no_memory();
  for (size_t i = 0; i < n; i++) {
    const wp_value *item = wp_value_get_item(l, i);
    if (!item || wp_value_get_kind(item) != WP_TYPE_U8) {
      free(d);
      return dl_shape("alloc.write-bytes", "value");
    }
    d[i] = (uint8_t)wp_value_get_uint(item);
  }
  err = write_copy("write-bytes", a, d, n, false, result);
  free(d);
  return err;
}

/* The pointer `a` holds, or NULL with *result saying it is NULL. */
static const uint8_t *target(const char *fn, dl_alloc *a, wp_value **result, wp_error **err) {
  const uint8_t *p;
  memcpy(&p, dl_alloc_mem(a), sizeof p);
  if (!p) *err = dl_fail(result, "alloc.%s: the pointer is NULL", fn);
  return p;
}

/* read-string: func() -> result<string, string> */
static wp_error *a_read_string(wp_host_call *call, const wp_value *const *args, size_t nargs,
                               wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "read-string", true, &a, result, &refused);
  if (err || refused) return err;
  const uint8_t *p = target("read-string", a, result, &err);
  if (!p) return err;
  size_t known = dl_block_avail(a->b, a->off, SIZE_MAX);
  size_t max = known < (size_t)WP_DL_MAX_STRING + 1 ? known : (size_t)WP_DL_MAX_STRING + 1;
  size_t n = strnlen((const char *)p, max);
  if (n == max && known == max)
    return dl_fail(result,
                   "alloc.read-string: no NUL within the %zu bytes the pointer points to (use "
                   "read-bytes)",
                   known);
  if (n == max)
    return dl_fail(result,
                   "alloc.read-string: no NUL within %u bytes: the string is over the limit "
                   "(WP_DL_MAX_STRING; use read-bytes)",
                   WP_DL_MAX_STRING);
  if (!wp_utf8_valid(p, n))
    return dl_fail(result, "alloc.read-string: the %zu bytes are not UTF-8 (use read-bytes)", n);
  return dl_ok(result, wp_value_new_string_n((const char *)p, n));
}

/* read-bytes: func(len: u32) -> result<list<u8>, string> */
static wp_error *a_read_bytes(wp_host_call *call, const wp_value *const *args, size_t nargs,
                              wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "read-bytes", true, &a, result, &refused);
  if (err || refused) return err;
  const wp_value *lv = dl_arg(args, nargs, 1, WP_TYPE_U32);
  if (!lv) return dl_shape("alloc.read-bytes", "len");
  uint64_t len = wp_value_get_uint(lv);
  if (len > WP_DL_MAX_BYTES)
    return dl_fail(result, "alloc.read-bytes: %llu bytes, over the limit of %u (WP_DL_MAX_BYTES)",
                   (unsigned long long)len, WP_DL_MAX_BYTES);
  const uint8_t *p = target("read-bytes", a, result, &err);
  if (!p) return err;
  size_t known = dl_block_avail(a->b, a->off, SIZE_MAX);
  if (len > known)
    return dl_fail(result, "alloc.read-bytes: %llu bytes asked, the pointer points to %zu",
                   (unsigned long long)len, known);
  return dl_ok(result, wp_value_new_bytes(p, (size_t)len));
}

/* is-null: func() -> result<bool, string> */
static wp_error *a_is_null(wp_host_call *call, const wp_value *const *args, size_t nargs,
                           wp_value **result, void *ud) {
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(ud, call, args, nargs, "is-null", true, &a, result, &refused);
  if (err || refused) return err;
  const uint8_t *p;
  memcpy(&p, dl_alloc_mem(a), sizeof p);
  return dl_ok(result, wp_value_new_bool(p == NULL));
}

/* deref: func(types: list<ffi-type>) -> result<alloc, string> */
static wp_error *a_deref(wp_host_call *call, const wp_value *const *args, size_t nargs,
                         wp_value **result, void *ud) {
  const dl_state *st = ud;
  dl_alloc *a;
  bool refused;
  wp_error *err = self_alloc(st, call, args, nargs, "deref", true, &a, result, &refused);
  if (err || refused) return err;
  const wp_value *list = dl_arg(args, nargs, 1, WP_TYPE_LIST);
  if (!list) return dl_shape("alloc.deref", "types");
  if (!target("deref", a, result, &err)) return err;
  char why[WHY];
  bool oom;
  dl_type *t = dl_types_from_list(list, why, sizeof why, &oom);
  if (!t) return oom ? dl_no_memory() : dl_fail(result, "alloc.deref: %s", why);
  const uint8_t *p;
  size_t avail;
  dl_block *owner = dl_block_owner(a->b, a->off, &p, &avail);
  size_t size = dl_type_size(t);
  if (size > avail) {
    dl_type_free(t);
    return dl_fail(result, "alloc.deref: %zu bytes asked, the pointer points to %zu", size, avail);
  }
  dl_block *v = calloc(1, sizeof *v);
  if (!v) {
    dl_type_free(t);
    return dl_no_memory();
  }
  /* A view: it keeps the memory's owner, never frees the memory. */
  *v = (dl_block){.mem = (uint8_t *)p, .size = size, .readonly = true, .type = t, .parent = owner};
  atomic_init(&v->refs, 1);
  atomic_fetch_add(&owner->refs, 1);
  if (!dl_block_charge(v, a->used)) err = dl_over_budget(result, "alloc.deref");
  else err = dl_ok_alloc(st, call, v, 0, t, a->used, result);
  dl_block_unref(v);
  return err;
}

wp_error *dl_install_ffi(wp_engine *e, dl_state *st) {
  wp_error *err = wp_engine_define_resource(e, DL_FFI, "alloc", alloc_drop, NULL, NULL, &st->alloc);
  static const struct {
    const char *name;
    wp_component_fn fn;
  } fns[] = {
      {"[static]alloc.new", a_new},
      {"[method]alloc.select", a_select},
      {"[method]alloc.write-primitive", a_write},
      {"[method]alloc.read-primitive", a_read},
      {"[method]alloc.write-string", a_write_string},
      {"[method]alloc.read-string", a_read_string},
      {"[method]alloc.write-bytes", a_write_bytes},
      {"[method]alloc.read-bytes", a_read_bytes},
      {"[method]alloc.is-null", a_is_null},
      {"[method]alloc.deref", a_deref},
  };
  for (size_t i = 0; !err && i < sizeof fns / sizeof *fns; i++)
    err = wp_engine_define_component_func(e, DL_FFI, fns[i].name, fns[i].fn, st, NULL);
  return err;
}
