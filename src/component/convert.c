/*
 * convert.c - wp_value <-> wasmtime_component_val_t.
 *
 * Wasmtime's values hold Rust-allocated vectors and names that are not
 * NUL-terminated; ours are C allocations with NUL-terminated strings. Values
 * are converted at the call boundary; Wasmtime-side memory is only ever
 * allocated and freed through the C API's own vector functions.
 */
#include <stdlib.h>
#include <string.h>

#include "component/value.h"
#include "util/zalloc.h"
#include "util/str.h"

/* wp_type_kind BOOL..FLAGS share Wasmtime's value kind numbers. */
_Static_assert(WP_TYPE_FLAGS == WASMTIME_COMPONENT_FLAGS &&
                   WP_TYPE_STRING == WASMTIME_COMPONENT_STRING &&
                   WP_TYPE_RESULT == WASMTIME_COMPONENT_RESULT,
               "value kinds must line up");

static void set_name(wasm_name_t *out, const char *s, size_t len) {
  wasm_byte_vec_new(out, len, s);
}

/* Moves a converted payload onto a Wasmtime heap cell. */
static wasmtime_component_val_t *boxed(const wp_value *v, const struct wp_type *t) {
  if (!v) return NULL;
  wasmtime_component_val_t tmp;
  wp_value_to_wasmtime(v, t, &tmp);
  return wasmtime_component_val_new(&tmp);
}

/* Child i of type t, or NULL when converting without a type. */
static const struct wp_type *sub(const struct wp_type *t, size_t i) {
  return t && i < t->n ? t->children[i] : NULL;
}

bool wp_value_to_wasmtime(const wp_value *v, const struct wp_type *t,
                          wasmtime_component_val_t *out) {
  memset(out, 0, sizeof *out);
  if (v->compact) {
    out->kind = WASMTIME_COMPONENT_LIST;
    wasmtime_component_vallist_new_uninit(&out->of.list, v->of.bytes.len);
    for (size_t i = 0; i < v->of.bytes.len; i++) {
      wasmtime_component_val_t *e = &out->of.list.data[i];
      memset(e, 0, sizeof *e);
      e->kind = WASMTIME_COMPONENT_U8;
      e->of.u8 = v->of.bytes.data[i];
    }
    return true;
  }
  switch (v->kind) {
  case WP_TYPE_BOOL:
    out->kind = WASMTIME_COMPONENT_BOOL;
    out->of.boolean = v->of.b;
    break;
  case WP_TYPE_S8:
    out->kind = WASMTIME_COMPONENT_S8;
    out->of.s8 = (int8_t)v->of.s;
    break;
  case WP_TYPE_U8:
    out->kind = WASMTIME_COMPONENT_U8;
    out->of.u8 = (uint8_t)v->of.u;
    break;
  case WP_TYPE_S16:
    out->kind = WASMTIME_COMPONENT_S16;
    out->of.s16 = (int16_t)v->of.s;
    break;
  case WP_TYPE_U16:
    out->kind = WASMTIME_COMPONENT_U16;
    out->of.u16 = (uint16_t)v->of.u;
    break;
  case WP_TYPE_S32:
    out->kind = WASMTIME_COMPONENT_S32;
    out->of.s32 = (int32_t)v->of.s;
    break;
  case WP_TYPE_U32:
    out->kind = WASMTIME_COMPONENT_U32;
    out->of.u32 = (uint32_t)v->of.u;
    break;
  case WP_TYPE_S64:
    out->kind = WASMTIME_COMPONENT_S64;
    out->of.s64 = v->of.s;
    break;
  case WP_TYPE_U64:
    out->kind = WASMTIME_COMPONENT_U64;
    out->of.u64 = v->of.u;
    break;
  case WP_TYPE_F32:
    out->kind = WASMTIME_COMPONENT_F32;
    out->of.f32 = v->of.f32;
    break;
  case WP_TYPE_F64:
    out->kind = WASMTIME_COMPONENT_F64;
    out->of.f64 = v->of.f64;
    break;
  case WP_TYPE_CHAR:
    out->kind = WASMTIME_COMPONENT_CHAR;
    out->of.character = v->of.ch;
    break;
  case WP_TYPE_STRING:
    out->kind = WASMTIME_COMPONENT_STRING;
    set_name(&out->of.string, v->of.str.data, v->of.str.len);
    break;
  case WP_TYPE_ENUM:
    out->kind = WASMTIME_COMPONENT_ENUM;
    set_name(&out->of.enumeration, v->of.str.data, v->of.str.len);
    break;
  case WP_TYPE_LIST:
  case WP_TYPE_TUPLE: {
    size_t n = v->of.agg.n;
    wasmtime_component_val_t *data;
    if (v->kind == WP_TYPE_LIST) {
      out->kind = WASMTIME_COMPONENT_LIST;
      wasmtime_component_vallist_new_uninit(&out->of.list, n);
      data = out->of.list.data;
    } else {
      out->kind = WASMTIME_COMPONENT_TUPLE;
      wasmtime_component_valtuple_new_uninit(&out->of.tuple, n);
      data = out->of.tuple.data;
    }
    for (size_t i = 0; i < n; i++)
      wp_value_to_wasmtime(&v->of.agg.items[i], v->kind == WP_TYPE_LIST ? sub(t, 0) : sub(t, i),
                           &data[i]);
    break;
  }
  case WP_TYPE_RECORD: {
    size_t n = v->of.agg.n;
    out->kind = WASMTIME_COMPONENT_RECORD;
    wasmtime_component_valrecord_new_uninit(&out->of.record, n);
    for (size_t i = 0; i < n; i++) {
      wasmtime_component_valrecord_entry_t *e = &out->of.record.data[i];
      /* Records go to Wasmtime in type order. */
      size_t k = t ? wp_value_field_index(v, t->names[i], i) : i;
      if (k == SIZE_MAX) k = i;
      set_name(&e->name, v->of.agg.names[k], strlen(v->of.agg.names[k]));
      wp_value_to_wasmtime(&v->of.agg.items[k], sub(t, i), &e->val);
    }
    break;
  }
  case WP_TYPE_FLAGS: {
    size_t n = v->of.agg.n;
    out->kind = WASMTIME_COMPONENT_FLAGS;
    wasmtime_component_valflags_new_uninit(&out->of.flags, n);
    for (size_t i = 0; i < n; i++)
      set_name(&out->of.flags.data[i], v->of.agg.names[i], strlen(v->of.agg.names[i]));
    break;
  }
  case WP_TYPE_VARIANT:
    out->kind = WASMTIME_COMPONENT_VARIANT;
    set_name(&out->of.variant.discriminant, v->of.var.name, strlen(v->of.var.name));
    /* A case that is not found gives index -1, out of range: sub() gives NULL. */
    out->of.variant.val = boxed(v->of.var.payload,
                                t ? sub(t, (size_t)wp_type_find_name(t, v->of.var.name)) : NULL);
    break;
  case WP_TYPE_OPTION:
    out->kind = WASMTIME_COMPONENT_OPTION;
    out->of.option = v->of.var.flag ? boxed(v->of.var.payload, sub(t, 0)) : NULL;
    break;
  case WP_TYPE_RESULT:
    out->kind = WASMTIME_COMPONENT_RESULT;
    out->of.result.is_ok = v->of.var.flag;
    out->of.result.val = boxed(v->of.var.payload, sub(t, v->of.var.flag ? 0 : 1));
    break;
  case WP_TYPE_OWN:
  case WP_TYPE_BORROW:
    out->kind = WASMTIME_COMPONENT_RESOURCE;
    out->of.resource = wasmtime_component_resource_any_clone(v->of.res);
    break;
  default: return false; /* never reached: wp_value_check refuses other kinds */
  }
  return true;
}

/* ---- from Wasmtime --------------------------------------------------------- */

static char *dup_name(const wasm_name_t *n) { return wp_strdup_n(n->data, n->size); }

/* A list of u8 is kept as one buffer (value.h). */
static bool from_u8_items(wp_value *out, const wasmtime_component_val_t *items, size_t n) {
  uint8_t *data = malloc(n);
  if (!data) return false;
  for (size_t i = 0; i < n; i++) data[i] = items[i].of.u8;
  wp_value_set_bytes(out, data, n);
  return true;
}

static bool from_items(wp_value *out, const wasmtime_component_val_t *items, size_t n,
                       uint64_t life) {
  if (out->kind == WP_TYPE_LIST && n && items[0].kind == WASMTIME_COMPONENT_U8)
    return from_u8_items(out, items, n);
  out->of.agg.n = n;
  if (!n) return true;
  out->of.agg.items = wp_zalloc(n, sizeof *out->of.agg.items);
  if (!out->of.agg.items) {
    out->of.agg.n = 0;
    return false;
  }
  for (size_t i = 0; i < n; i++)
    if (!wp_value_from_wasmtime(&items[i], life, &out->of.agg.items[i])) return false;
  return true;
}

static wp_value *boxed_from(const wasmtime_component_val_t *v, uint64_t life, bool *ok) {
  if (!v) return NULL;
  wp_value *p = wp_zalloc(1, sizeof *p);
  if (!p || !wp_value_from_wasmtime(v, life, p)) {
    wp_value_free(p);
    *ok = false;
    return NULL;
  }
  return p;
}

bool wp_value_from_wasmtime(const wasmtime_component_val_t *v, uint64_t life, wp_value *out) {
  memset(out, 0, sizeof *out);
  bool ok = true;
  switch (v->kind) {
  case WASMTIME_COMPONENT_BOOL:
    out->kind = WP_TYPE_BOOL;
    out->of.b = v->of.boolean;
    break;
  case WASMTIME_COMPONENT_S8:
    out->kind = WP_TYPE_S8;
    out->of.s = v->of.s8;
    break;
  case WASMTIME_COMPONENT_U8:
    out->kind = WP_TYPE_U8;
    out->of.u = v->of.u8;
    break;
  case WASMTIME_COMPONENT_S16:
    out->kind = WP_TYPE_S16;
    out->of.s = v->of.s16;
    break;
  case WASMTIME_COMPONENT_U16:
    out->kind = WP_TYPE_U16;
    out->of.u = v->of.u16;
    break;
  case WASMTIME_COMPONENT_S32:
    out->kind = WP_TYPE_S32;
    out->of.s = v->of.s32;
    break;
  case WASMTIME_COMPONENT_U32:
    out->kind = WP_TYPE_U32;
    out->of.u = v->of.u32;
    break;
  case WASMTIME_COMPONENT_S64:
    out->kind = WP_TYPE_S64;
    out->of.s = v->of.s64;
    break;
  case WASMTIME_COMPONENT_U64:
    out->kind = WP_TYPE_U64;
    out->of.u = v->of.u64;
    break;
  case WASMTIME_COMPONENT_F32:
    out->kind = WP_TYPE_F32;
    out->of.f32 = v->of.f32;
    break;
  case WASMTIME_COMPONENT_F64:
    out->kind = WP_TYPE_F64;
    out->of.f64 = v->of.f64;
    break;
  case WASMTIME_COMPONENT_CHAR:
    out->kind = WP_TYPE_CHAR;
    out->of.ch = v->of.character;
    break;
  case WASMTIME_COMPONENT_STRING:
  case WASMTIME_COMPONENT_ENUM: {
    const wasm_name_t *n = v->kind == WASMTIME_COMPONENT_STRING ? &v->of.string
                                                                : &v->of.enumeration;
    out->kind = v->kind == WASMTIME_COMPONENT_STRING ? WP_TYPE_STRING : WP_TYPE_ENUM;
    out->of.str.data = dup_name(n);
    out->of.str.len = n->size;
    ok = out->of.str.data != NULL;
    break;
  }
  case WASMTIME_COMPONENT_LIST:
    out->kind = WP_TYPE_LIST;
    ok = from_items(out, v->of.list.data, v->of.list.size, life);
    break;
  case WASMTIME_COMPONENT_TUPLE:
    out->kind = WP_TYPE_TUPLE;
    ok = from_items(out, v->of.tuple.data, v->of.tuple.size, life);
    break;
  case WASMTIME_COMPONENT_RECORD: {
    size_t n = v->of.record.size;
    out->kind = WP_TYPE_RECORD;
    out->of.agg.names = wp_zalloc(n ? n : 1, sizeof(char *));
    out->of.agg.items = wp_zalloc(n ? n : 1, sizeof(wp_value));
    if (!out->of.agg.names || !out->of.agg.items) {
      ok = false;
      break;
    }
    out->of.agg.n = n;
    for (size_t i = 0; i < n && ok; i++) {
      out->of.agg.names[i] = dup_name(&v->of.record.data[i].name);
      ok = out->of.agg.names[i] &&
           wp_value_from_wasmtime(&v->of.record.data[i].val, life, &out->of.agg.items[i]);
    }
    break;
  }
  case WASMTIME_COMPONENT_FLAGS: {
    size_t n = v->of.flags.size;
    out->kind = WP_TYPE_FLAGS;
    out->of.agg.names = wp_zalloc(n ? n : 1, sizeof(char *));
    if (!out->of.agg.names) {
      ok = false;
      break;
    }
    out->of.agg.n = n;
    for (size_t i = 0; i < n && ok; i++)
      ok = (out->of.agg.names[i] = dup_name(&v->of.flags.data[i])) != NULL;
    break;
  }
  case WASMTIME_COMPONENT_VARIANT:
    out->kind = WP_TYPE_VARIANT;
    out->of.var.name = dup_name(&v->of.variant.discriminant);
    ok = out->of.var.name != NULL;
    if (ok) out->of.var.payload = boxed_from(v->of.variant.val, life, &ok);
    break;
  case WASMTIME_COMPONENT_OPTION:
    out->kind = WP_TYPE_OPTION;
    out->of.var.flag = v->of.option != NULL;
    out->of.var.payload = boxed_from(v->of.option, life, &ok);
    break;
  case WASMTIME_COMPONENT_RESULT:
    out->kind = WP_TYPE_RESULT;
    out->of.var.flag = v->of.result.is_ok;
    out->of.var.payload = boxed_from(v->of.result.val, life, &ok);
    break;
  case WASMTIME_COMPONENT_RESOURCE:
    out->kind = wasmtime_component_resource_any_owned(v->of.resource) ? WP_TYPE_OWN
                                                                      : WP_TYPE_BORROW;
    out->of.res = wasmtime_component_resource_any_clone(v->of.resource);
    out->of.life = life;
    ok = out->of.res != NULL;
    break;
  default:
    /* maps and fixed-length lists do not occur in the types wasmplug accepts */
    out->kind = WP_TYPE_ERROR_CONTEXT;
    break;
  }
  if (!ok) wp_value_clear(out);
  return ok;
}
