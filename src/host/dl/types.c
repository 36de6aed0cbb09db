/*
 * types.c - the FFI types of wasi:dl (types.h).
 */
#include "types.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

/* The WIT's integer payloads are 64 bits at most; the fixed-size cases are
   exact, and the C types below must fit them. */
_Static_assert(sizeof(long long) == 8, "c-longlong is carried as s64");
_Static_assert(sizeof(long) <= 8 && sizeof(size_t) <= 8 && sizeof(void *) <= 8,
               "c-long, size-t and pointers fit 64 bits");

#define SIZED_INT(sz, sign) ((sz) == 8 ? &ffi_type_##sign##int64 : &ffi_type_##sign##int32)

static const char *const names[DL_NPRIM] = {
    [DL_SCHAR] = "c-schar",         [DL_UCHAR] = "c-uchar",   [DL_SHORT] = "c-short",
    [DL_USHORT] = "c-ushort",       [DL_INT] = "c-int",       [DL_UINT] = "c-uint",
    [DL_LONG] = "c-long",           [DL_ULONG] = "c-ulong",   [DL_LONGLONG] = "c-longlong",
    [DL_ULONGLONG] = "c-ulonglong", [DL_INT8] = "int8-t",     [DL_UINT8] = "uint8-t",
    [DL_INT16] = "int16-t",         [DL_UINT16] = "uint16-t", [DL_INT32] = "int32-t",
    [DL_UINT32] = "uint32-t",       [DL_INT64] = "int64-t",   [DL_UINT64] = "uint64-t",
    [DL_SIZE] = "size-t",           [DL_SSIZE] = "ssize-t",   [DL_POINTER] = "pointer",
    [DL_FLOAT] = "c-float",         [DL_DOUBLE] = "c-double",
};

#define P(x) [x] = {.prim = x}
static dl_type prims[DL_NPRIM] = {
    P(DL_SCHAR), P(DL_UCHAR),  P(DL_SHORT),    P(DL_USHORT),    P(DL_INT),    P(DL_UINT),
    P(DL_LONG),  P(DL_ULONG),  P(DL_LONGLONG), P(DL_ULONGLONG), P(DL_INT8),   P(DL_UINT8),
    P(DL_INT16), P(DL_UINT16), P(DL_INT32),    P(DL_UINT32),    P(DL_INT64),  P(DL_UINT64),
    P(DL_SIZE),  P(DL_SSIZE),  P(DL_POINTER),  P(DL_FLOAT),     P(DL_DOUBLE),
};
#undef P

const char *dl_prim_name(dl_prim p) { return p < DL_NPRIM ? names[p] : "?"; }

bool dl_prim_from(const char *name, size_t len, dl_prim *out) {
  for (int i = 0; i < DL_NPRIM; i++)
    if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
      *out = (dl_prim)i;
      return true;
    }
  return false;
}

dl_type *dl_prim_type(dl_prim p) { return &prims[p]; }

static ffi_type *prim_ffi(dl_prim p) {
  switch (p) {
  case DL_SCHAR: return &ffi_type_schar;
  case DL_UCHAR: return &ffi_type_uchar;
  case DL_SHORT: return &ffi_type_sshort;
  case DL_USHORT: return &ffi_type_ushort;
  case DL_INT: return &ffi_type_sint;
  case DL_UINT: return &ffi_type_uint;
  case DL_LONG: return &ffi_type_slong;
  case DL_ULONG: return &ffi_type_ulong;
  case DL_LONGLONG: return &ffi_type_sint64;
  case DL_ULONGLONG: return &ffi_type_uint64;
  case DL_INT8: return &ffi_type_sint8;
  case DL_UINT8: return &ffi_type_uint8;
  case DL_INT16: return &ffi_type_sint16;
  case DL_UINT16: return &ffi_type_uint16;
  case DL_INT32: return &ffi_type_sint32;
  case DL_UINT32: return &ffi_type_uint32;
  case DL_INT64: return &ffi_type_sint64;
  case DL_UINT64: return &ffi_type_uint64;
  case DL_SIZE: return SIZED_INT(sizeof(size_t), u);
  case DL_SSIZE: return SIZED_INT(sizeof(ssize_t), s);
  case DL_POINTER: return &ffi_type_pointer;
  case DL_FLOAT: return &ffi_type_float;
  case DL_DOUBLE: return &ffi_type_double;
  default: return NULL;
  }
}

bool dl_prim_is_float(dl_prim p) { return p == DL_FLOAT || p == DL_DOUBLE; }

bool dl_prim_is_signed(dl_prim p) {
  switch (p) {
  case DL_SCHAR:
  case DL_SHORT:
  case DL_INT:
  case DL_LONG:
  case DL_LONGLONG:
  case DL_INT8:
  case DL_INT16:
  case DL_INT32:
  case DL_INT64:
  case DL_SSIZE: return true;
  default: return false;
  }
}

ffi_type *dl_type_ffi(dl_type *t) { return t->is_struct ? &t->st : prim_ffi(t->prim); }

size_t dl_type_size(const dl_type *t) {
  return t->is_struct ? t->st.size : prim_ffi(t->prim)->size;
}

size_t dl_type_align(const dl_type *t) {
  return t->is_struct ? t->st.alignment : prim_ffi(t->prim)->alignment;
}

void dl_type_free(dl_type *t) {
  if (!t || !t->is_struct) return;
  for (size_t i = 0; i < t->n; i++) dl_type_free(t->fields[i]);
  free(t->fields);
  free(t->offsets);
  free(t->elements);
  free(t);
}

dl_type *dl_struct_new(dl_type **fields, size_t n, const char **msg) {
  *msg = NULL;
  dl_type *t = calloc(1, sizeof *t);
  dl_type **f = calloc(n ? n : 1, sizeof *f);
  size_t *offsets = calloc(n ? n : 1, sizeof *offsets);
  ffi_type **el = calloc(n + 1, sizeof *el);
  if (!t || !f || !offsets || !el) {
    for (size_t i = 0; i < n; i++) dl_type_free(fields[i]);
    free(t), free(f), free(offsets), free(el);
    return NULL;
  }
  *t = (dl_type){.is_struct = true, .n = n, .fields = f, .offsets = offsets, .elements = el};
  memcpy(f, fields, n * sizeof *f);
  for (size_t i = 0; i < n; i++) el[i] = dl_type_ffi(f[i]);
  t->st = (ffi_type){.size = 0, .alignment = 0, .type = FFI_TYPE_STRUCT, .elements = el};
  if (n == 0) *msg = "a struct needs at least one field";
  else if (n > WP_DL_MAX_FIELDS) *msg = "a struct has too many fields (limit WP_DL_MAX_FIELDS)";
  else if (ffi_get_struct_offsets(FFI_DEFAULT_ABI, &t->st, offsets) != FFI_OK)
    *msg = "libffi cannot lay the struct out";
  else if (t->st.size > WP_DL_MAX_ALLOC) *msg = "the struct is over WP_DL_MAX_ALLOC bytes";
  if (*msg) {
    dl_type_free(t);
    return NULL;
  }
  return t;
}

dl_type *dl_type_clone(const dl_type *t) {
  if (!t->is_struct) return dl_prim_type(t->prim);
  dl_type **f = calloc(t->n, sizeof *f);
  if (!f) return NULL;
  size_t i = 0;
  for (; i < t->n; i++)
    if (!(f[i] = dl_type_clone(t->fields[i]))) break;
  const char *msg;
  dl_type *c = i == t->n ? dl_struct_new(f, t->n, &msg) : NULL;
  if (i < t->n)
    while (i--) dl_type_free(f[i]);
  free(f);
  return c;
}

bool dl_type_equal(const dl_type *a, const dl_type *b) {
  if (a->is_struct != b->is_struct) return false;
  if (!a->is_struct) return a->prim == b->prim;
  if (a->n != b->n) return false;
  for (size_t i = 0; i < a->n; i++)
    if (!dl_type_equal(a->fields[i], b->fields[i])) return false;
  return true;
}

static void append(char *buf, size_t size, const char *s) {
  size_t at = strnlen(buf, size);
  if (at + 1 < size) snprintf(buf + at, size - at, "%s", s);
}

void dl_type_print(const dl_type *t, char *buf, size_t size) {
  if (!t->is_struct) {
    append(buf, size, names[t->prim]);
    return;
  }
  append(buf, size, "struct(");
  for (size_t i = 0; i < t->n; i++) {
    if (i) append(buf, size, ", ");
    dl_type_print(t->fields[i], buf, size);
  }
  append(buf, size, ")");
}

void dl_sig_clear(dl_sig *s) {
  for (size_t i = 0; i < s->nargs; i++) dl_type_free(s->args[i]);
  free(s->args);
  dl_type_free(s->ret);
  *s = (dl_sig){0};
}

bool dl_sig_equal(const dl_sig *a, const dl_sig *b) {
  if (a->nargs != b->nargs || !a->ret != !b->ret) return false;
  if (a->ret && !dl_type_equal(a->ret, b->ret)) return false;
  for (size_t i = 0; i < a->nargs; i++)
    if (!dl_type_equal(a->args[i], b->args[i])) return false;
  return true;
}

bool dl_sig_clone(const dl_sig *from, dl_sig *to) {
  *to = (dl_sig){0};
  if (from->nargs && !(to->args = calloc(from->nargs, sizeof *to->args))) return false;
  for (; to->nargs < from->nargs; to->nargs++)
    if (!(to->args[to->nargs] = dl_type_clone(from->args[to->nargs]))) {
      dl_sig_clear(to);
      return false;
    }
  if (from->ret && !(to->ret = dl_type_clone(from->ret))) {
    dl_sig_clear(to);
    return false;
  }
  return true;
}

void dl_sig_print(const dl_sig *s, char *buf, size_t size) {
  buf[0] = '\0';
  append(buf, size, "(");
  for (size_t i = 0; i < s->nargs; i++) {
    if (i) append(buf, size, ", ");
    dl_type_print(s->args[i], buf, size);
  }
  append(buf, size, ") -> ");
  if (s->ret) dl_type_print(s->ret, buf, size);
  else append(buf, size, "void");
}

/* ---- from the plugin's values ------------------------------------------------------ */

static bool prim_from_value(const wp_value *v, dl_prim *p) {
  const char *c = wp_value_get_kind(v) == WP_TYPE_ENUM ? wp_value_get_case(v) : NULL;
  return c && dl_prim_from(c, strlen(c), p);
}

dl_type *dl_type_from_value(const wp_value *v, char *why, size_t size, bool *oom) {
  *oom = false;
  const char *c = wp_value_get_kind(v) == WP_TYPE_VARIANT ? wp_value_get_case(v) : NULL;
  const wp_value *pl = c ? wp_value_get_payload(v) : NULL;
  dl_prim p;
  if (c && pl && strcmp(c, "primitive") == 0 && prim_from_value(pl, &p)) return dl_prim_type(p);
  if (!c || !pl || strcmp(c, "struct") != 0 || wp_value_get_kind(pl) != WP_TYPE_LIST) {
    snprintf(why, size, "bad FFI type: not an ffi-type of wit/wasi-dl/dl.wit");
    return NULL;
  }
  size_t n = wp_value_get_count(pl);
  if (n == 0 || n > WP_DL_MAX_FIELDS) {
    snprintf(why, size, "bad FFI type: a struct of %zu fields (1 to %u)", n, WP_DL_MAX_FIELDS);
    return NULL;
  }
  dl_type *fields[WP_DL_MAX_FIELDS];
  for (size_t i = 0; i < n; i++) {
    if (!prim_from_value(wp_value_get_item(pl, i), &p)) {
      snprintf(why, size, "bad FFI type: field %zu of the struct is not a primitive-type", i);
      return NULL;
    }
    fields[i] = dl_prim_type(p);
  }
  const char *msg;
  dl_type *t = dl_struct_new(fields, n, &msg);
  if (!t && msg) snprintf(why, size, "bad FFI type: %s", msg);
  *oom = !t && !msg;
  return t;
}

dl_type *dl_types_from_list(const wp_value *list, char *why, size_t size, bool *oom) {
  *oom = false;
  size_t n = wp_value_get_kind(list) == WP_TYPE_LIST ? wp_value_get_count(list) : 0;
  if (n == 0 || n > WP_DL_MAX_ARGS) {
    snprintf(why, size, "bad FFI type: %zu types given (1 to %u)", n, WP_DL_MAX_ARGS);
    return NULL;
  }
  if (n == 1) return dl_type_from_value(wp_value_get_item(list, 0), why, size, oom);
  dl_type *fields[WP_DL_MAX_ARGS];
  for (size_t i = 0; i < n; i++) {
    if (!(fields[i] = dl_type_from_value(wp_value_get_item(list, i), why, size, oom))) {
      while (i--) dl_type_free(fields[i]);
      return NULL;
    }
  }
  const char *msg;
  dl_type *t = dl_struct_new(fields, n, &msg);
  if (!t && msg) snprintf(why, size, "bad FFI type: %s", msg);
  *oom = !t && !msg;
  return t;
}
