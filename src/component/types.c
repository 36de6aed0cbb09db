/*
 * types.c - WIT types: a tree built once per plugin from Wasmtime's type
 * reflection, so that callers can walk it by index and print it as WIT
 * without calling into Wasmtime again.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/value.h"
#include "util/buf.h"
#include "util/str.h"

static const char *const kind_names[] = {
    "bool",   "s8",     "u8",    "s16",    "u16",    "s32",    "u32",    "s64",           "u64",
    "f32",    "f64",    "char",  "string", "list",   "record", "tuple",  "variant",       "enum",
    "option", "result", "flags", "own",    "borrow", "future", "stream", "error-context", "map",
};

const char *wp_type_kind_name(wp_type_kind kind) {
  return (unsigned)kind < sizeof kind_names / sizeof *kind_names ? kind_names[kind] : "?";
}

/* Wasmtime numbers its type kinds in another order than wp_type_kind. */
static wp_type_kind from_wasmtime_kind(uint8_t k) {
  static const wp_type_kind map[] = {
      [WASMTIME_COMPONENT_VALTYPE_BOOL] = WP_TYPE_BOOL,
      [WASMTIME_COMPONENT_VALTYPE_S8] = WP_TYPE_S8,
      [WASMTIME_COMPONENT_VALTYPE_S16] = WP_TYPE_S16,
      [WASMTIME_COMPONENT_VALTYPE_S32] = WP_TYPE_S32,
      [WASMTIME_COMPONENT_VALTYPE_S64] = WP_TYPE_S64,
      [WASMTIME_COMPONENT_VALTYPE_U8] = WP_TYPE_U8,
      [WASMTIME_COMPONENT_VALTYPE_U16] = WP_TYPE_U16,
      [WASMTIME_COMPONENT_VALTYPE_U32] = WP_TYPE_U32,
      [WASMTIME_COMPONENT_VALTYPE_U64] = WP_TYPE_U64,
      [WASMTIME_COMPONENT_VALTYPE_F32] = WP_TYPE_F32,
      [WASMTIME_COMPONENT_VALTYPE_F64] = WP_TYPE_F64,
      [WASMTIME_COMPONENT_VALTYPE_CHAR] = WP_TYPE_CHAR,
      [WASMTIME_COMPONENT_VALTYPE_STRING] = WP_TYPE_STRING,
      [WASMTIME_COMPONENT_VALTYPE_LIST] = WP_TYPE_LIST,
      [WASMTIME_COMPONENT_VALTYPE_RECORD] = WP_TYPE_RECORD,
      [WASMTIME_COMPONENT_VALTYPE_TUPLE] = WP_TYPE_TUPLE,
      [WASMTIME_COMPONENT_VALTYPE_VARIANT] = WP_TYPE_VARIANT,
      [WASMTIME_COMPONENT_VALTYPE_ENUM] = WP_TYPE_ENUM,
      [WASMTIME_COMPONENT_VALTYPE_OPTION] = WP_TYPE_OPTION,
      [WASMTIME_COMPONENT_VALTYPE_RESULT] = WP_TYPE_RESULT,
      [WASMTIME_COMPONENT_VALTYPE_FLAGS] = WP_TYPE_FLAGS,
      [WASMTIME_COMPONENT_VALTYPE_OWN] = WP_TYPE_OWN,
      [WASMTIME_COMPONENT_VALTYPE_BORROW] = WP_TYPE_BORROW,
      [WASMTIME_COMPONENT_VALTYPE_FUTURE] = WP_TYPE_FUTURE,
      [WASMTIME_COMPONENT_VALTYPE_STREAM] = WP_TYPE_STREAM,
      [WASMTIME_COMPONENT_VALTYPE_ERROR_CONTEXT] = WP_TYPE_ERROR_CONTEXT,
      [WASMTIME_COMPONENT_VALTYPE_MAP] = WP_TYPE_MAP,
  };
  return k < sizeof map / sizeof *map ? map[k] : WP_TYPE_ERROR_CONTEXT;
}

/* ---- text built in a wp_buf ------------------------------------------------- */

/* The text built in b (taken), "" when nothing was added; NULL when out of
   memory. */
static char *text_of(wp_buf *b) {
  if (b->oom) {
    wp_buf_free(b);
    return NULL;
  }
  if (!b->data) return strdup("");
  return (char *)b->data;
}

/* ---- building ------------------------------------------------------------------ */

/* Children and names for a type with `n` of them. */
static bool alloc_children(struct wp_type *t, size_t n, bool names) {
  t->n = n;
  t->children = calloc(n ? n : 1, sizeof *t->children);
  if (names) t->names = calloc(n ? n : 1, sizeof *t->names);
  return t->children && (!names || t->names);
}

/* A child built from a type Wasmtime wrote into `raw` (taken). */
static bool add_child(struct wp_type *t, size_t i, wasmtime_component_valtype_t *raw,
                      const wp_resource_names *rn) {
  t->children[i] = wp_type_from_wasmtime(raw, rn);
  return t->children[i] != NULL;
}

static bool set_name(struct wp_type *t, size_t i, const char *name, size_t len) {
  t->names[i] = wp_strdup_n(name, len);
  return t->names[i] != NULL;
}

static bool build_children(struct wp_type *t, const wp_resource_names *rn) {
  const wasmtime_component_valtype_union_t *of = &t->raw.of;
  wasmtime_component_valtype_t child;
  const char *name;
  size_t len;
  switch (t->kind) {
  case WP_TYPE_LIST:
    if (!alloc_children(t, 1, false)) return false;
    wasmtime_component_list_type_element(of->list, &child);
    return add_child(t, 0, &child, rn);
  case WP_TYPE_OPTION:
    if (!alloc_children(t, 1, false)) return false;
    wasmtime_component_option_type_ty(of->option, &child);
    return add_child(t, 0, &child, rn);
  case WP_TYPE_RESULT:
    if (!alloc_children(t, 2, true) || !set_name(t, 0, "ok", 2) || !set_name(t, 1, "err", 3))
      return false;
    if (wasmtime_component_result_type_ok(of->result, &child) && !add_child(t, 0, &child, rn))
      return false;
    if (wasmtime_component_result_type_err(of->result, &child) && !add_child(t, 1, &child, rn))
      return false;
    return true;
  case WP_TYPE_RECORD: {
    size_t n = wasmtime_component_record_type_field_count(of->record);
    if (!alloc_children(t, n, true)) return false;
    for (size_t i = 0; i < n; i++) {
      wasmtime_component_record_type_field_nth(of->record, i, &name, &len, &child);
      if (!set_name(t, i, name, len) || !add_child(t, i, &child, rn)) return false;
    }
    return true;
  }
  case WP_TYPE_TUPLE: {
    size_t n = wasmtime_component_tuple_type_types_count(of->tuple);
    if (!alloc_children(t, n, false)) return false;
    for (size_t i = 0; i < n; i++) {
      wasmtime_component_tuple_type_types_nth(of->tuple, i, &child);
      if (!add_child(t, i, &child, rn)) return false;
    }
    return true;
  }
  case WP_TYPE_VARIANT: {
    size_t n = wasmtime_component_variant_type_case_count(of->variant);
    if (!alloc_children(t, n, true)) return false;
    for (size_t i = 0; i < n; i++) {
      bool has = false;
      wasmtime_component_variant_type_case_nth(of->variant, i, &name, &len, &has, &child);
      if (!set_name(t, i, name, len)) return false;
      if (has && !add_child(t, i, &child, rn)) return false;
    }
    return true;
  }
  case WP_TYPE_ENUM: {
    size_t n = wasmtime_component_enum_type_names_count(of->enum_);
    if (!alloc_children(t, n, true)) return false;
    for (size_t i = 0; i < n; i++) {
      wasmtime_component_enum_type_names_nth(of->enum_, i, &name, &len);
      if (!set_name(t, i, name, len)) return false;
    }
    return true;
  }
  case WP_TYPE_FLAGS: {
    size_t n = wasmtime_component_flags_type_names_count(of->flags);
    if (!alloc_children(t, n, true)) return false;
    for (size_t i = 0; i < n; i++) {
      wasmtime_component_flags_type_names_nth(of->flags, i, &name, &len);
      if (!set_name(t, i, name, len)) return false;
    }
    return true;
  }
  case WP_TYPE_MAP:
    if (!alloc_children(t, 2, false)) return false;
    wasmtime_component_map_type_key(of->map, &child);
    if (!add_child(t, 0, &child, rn)) return false;
    wasmtime_component_map_type_value(of->map, &child);
    return add_child(t, 1, &child, rn);
  case WP_TYPE_FUTURE:
  case WP_TYPE_STREAM: {
    if (!alloc_children(t, 1, false)) return false;
    bool has = t->kind == WP_TYPE_FUTURE ? wasmtime_component_future_type_ty(of->future, &child)
                                         : wasmtime_component_stream_type_ty(of->stream, &child);
    return !has || add_child(t, 0, &child, rn);
  }
  default: return true;
  }
}

/* The resource's name, when the plugin's reflection found one. */
static const char *resource_name(const struct wp_type *t, const wp_resource_names *rn) {
  const wasmtime_component_resource_type_t *r = t->kind == WP_TYPE_OWN ? t->raw.of.own
                                                                       : t->raw.of.borrow;
  for (size_t i = 0; rn && i < rn->n; i++)
    if (wasmtime_component_resource_type_equal(rn->types[i], r)) return rn->names[i];
  return NULL;
}

static void print_type(wp_buf *b, const struct wp_type *t, const wp_resource_names *rn);

static void print_child(wp_buf *b, const struct wp_type *c, const wp_resource_names *rn) {
  if (c) print_type(b, c, rn);
  else wp_buf_printf(b, "_");
}

static void print_type(wp_buf *b, const struct wp_type *t, const wp_resource_names *rn) {
  switch (t->kind) {
  case WP_TYPE_LIST:
  case WP_TYPE_OPTION:
  case WP_TYPE_FUTURE:
  case WP_TYPE_STREAM:
    wp_buf_printf(b, "%s", wp_type_kind_name(t->kind));
    if (t->children[0]) {
      wp_buf_printf(b, "<");
      print_type(b, t->children[0], rn);
      wp_buf_printf(b, ">");
    }
    return;
  case WP_TYPE_RESULT:
    wp_buf_printf(b, "result");
    if (!t->children[0] && !t->children[1]) return;
    wp_buf_printf(b, "<");
    print_child(b, t->children[0], rn);
    if (t->children[1]) {
      wp_buf_printf(b, ", ");
      print_type(b, t->children[1], rn);
    }
    wp_buf_printf(b, ">");
    return;
  case WP_TYPE_TUPLE:
  case WP_TYPE_MAP:
    wp_buf_printf(b, "%s<", wp_type_kind_name(t->kind));
    for (size_t i = 0; i < t->n; i++) {
      if (i) wp_buf_printf(b, ", ");
      print_child(b, t->children[i], rn);
    }
    wp_buf_printf(b, ">");
    return;
  case WP_TYPE_RECORD:
  case WP_TYPE_VARIANT:
  case WP_TYPE_ENUM:
  case WP_TYPE_FLAGS:
    wp_buf_printf(b, "%s { ", wp_type_kind_name(t->kind));
    for (size_t i = 0; i < t->n; i++) {
      wp_buf_printf(b, "%s%s", i ? ", " : "", t->names[i]);
      if (t->kind == WP_TYPE_RECORD) {
        wp_buf_printf(b, ": ");
        print_child(b, t->children[i], rn);
      } else if (t->kind == WP_TYPE_VARIANT && t->children[i]) {
        wp_buf_printf(b, "(");
        print_type(b, t->children[i], rn);
        wp_buf_printf(b, ")");
      }
    }
    wp_buf_printf(b, " }");
    return;
  case WP_TYPE_OWN:
  case WP_TYPE_BORROW: {
    const char *name = resource_name(t, rn);
    if (t->kind == WP_TYPE_OWN) wp_buf_printf(b, "%s", name ? name : "own<resource>");
    else wp_buf_printf(b, "borrow<%s>", name ? name : "resource");
    return;
  }
  default: wp_buf_printf(b, "%s", wp_type_kind_name(t->kind));
  }
}

struct wp_type *wp_type_from_wasmtime(wasmtime_component_valtype_t *raw,
                                      const wp_resource_names *rn) {
  struct wp_type *t = calloc(1, sizeof *t);
  if (!t) {
    wasmtime_component_valtype_delete(raw);
    return NULL;
  }
  t->raw = *raw;
  t->kind = from_wasmtime_kind(raw->kind);
  if (!build_children(t, rn)) goto fail;
  wp_buf b = {0};
  print_type(&b, t, rn);
  if (!(t->text = text_of(&b))) goto fail;
  return t;
fail:
  wp_type_free(t);
  return NULL;
}

void wp_type_free(struct wp_type *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n; i++) {
    if (t->children) wp_type_free(t->children[i]);
    if (t->names) free(t->names[i]);
  }
  free(t->children);
  free(t->names);
  free(t->text);
  wasmtime_component_valtype_delete(&t->raw);
  free(t);
}

struct wp_functype *wp_functype_from_wasmtime(const wasmtime_component_func_type_t *ft,
                                              const wp_resource_names *rn) {
  struct wp_functype *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  size_t n = wasmtime_component_func_type_param_count(ft);
  f->params = calloc(n ? n : 1, sizeof *f->params);
  f->param_names = calloc(n ? n : 1, sizeof *f->param_names);
  if (!f->params || !f->param_names) goto fail;
  wp_buf b = {0};
  wp_buf_printf(&b, "func(");
  for (size_t i = 0; i < n; i++) {
    const char *name;
    size_t len;
    wasmtime_component_valtype_t ty;
    wasmtime_component_func_type_param_nth(ft, i, &name, &len, &ty);
    f->nparams = i + 1;
    f->param_names[i] = wp_strdup_n(name, len);
    f->params[i] = wp_type_from_wasmtime(&ty, rn);
    if (!f->param_names[i] || !f->params[i]) {
      wp_buf_free(&b);
      goto fail;
    }
    wp_buf_printf(&b, "%s%s: %s", i ? ", " : "", f->param_names[i], f->params[i]->text);
  }
  wp_buf_printf(&b, ")");
  wasmtime_component_valtype_t rty;
  if (wasmtime_component_func_type_result(ft, &rty)) {
    if (!(f->result = wp_type_from_wasmtime(&rty, rn))) {
      wp_buf_free(&b);
      goto fail;
    }
    wp_buf_printf(&b, " -> %s", f->result->text);
  }
  if (!(f->text = text_of(&b))) goto fail;
  return f;
fail:
  wp_functype_free(f);
  return NULL;
}

void wp_functype_free(struct wp_functype *f) {
  if (!f) return;
  for (size_t i = 0; i < f->nparams; i++) {
    free(f->param_names[i]);
    wp_type_free(f->params[i]);
  }
  free(f->param_names);
  free(f->params);
  wp_type_free(f->result);
  free(f->text);
  free(f);
}

bool wp_type_is_u8_list(const struct wp_type *t) {
  return t->kind == WP_TYPE_LIST && t->n == 1 && t->children[0] &&
         t->children[0]->kind == WP_TYPE_U8;
}

int wp_type_find_name(const struct wp_type *t, const char *name) {
  for (size_t i = 0; t->names && i < t->n; i++)
    if (strcmp(t->names[i], name) == 0) return (int)i;
  return -1;
}

/* ---- public accessors --------------------------------------------------------- */

wp_type_kind wp_type_get_kind(const wp_type *t) { return t->kind; }
size_t wp_type_get_count(const wp_type *t) { return t->n; }
const wp_type *wp_type_get_child(const wp_type *t, size_t i) {
  return i < t->n ? t->children[i] : NULL;
}
const char *wp_type_get_name(const wp_type *t, size_t i) {
  return t->names && i < t->n ? t->names[i] : NULL;
}
const char *wp_type_to_string(const wp_type *t) { return t->text; }

size_t wp_functype_param_count(const wp_functype *f) { return f->nparams; }
const char *wp_functype_param_name(const wp_functype *f, size_t i) {
  return i < f->nparams ? f->param_names[i] : NULL;
}
const wp_type *wp_functype_param_type(const wp_functype *f, size_t i) {
  return i < f->nparams ? f->params[i] : NULL;
}
const wp_type *wp_functype_result(const wp_functype *f) { return f->result; }
const char *wp_functype_to_string(const wp_functype *f) { return f->text; }
