/*
 * wasmplug/wit.h - Component Model types: WIT types of values and functions,
 * and a component's world printed as WIT.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_WIT_H
#define WASMPLUG_WIT_H

#include "wasmplug/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** The kinds of WIT types, and of values (a value of kind OWN or BORROW is a
    resource handle). */
typedef enum wp_type_kind {
  WP_TYPE_BOOL = 0,
  WP_TYPE_S8,
  WP_TYPE_U8,
  WP_TYPE_S16,
  WP_TYPE_U16,
  WP_TYPE_S32,
  WP_TYPE_U32,
  WP_TYPE_S64,
  WP_TYPE_U64,
  WP_TYPE_F32,
  WP_TYPE_F64,
  WP_TYPE_CHAR,
  WP_TYPE_STRING,
  WP_TYPE_LIST,
  WP_TYPE_RECORD,
  WP_TYPE_TUPLE,
  WP_TYPE_VARIANT,
  WP_TYPE_ENUM,
  WP_TYPE_OPTION,
  WP_TYPE_RESULT,
  WP_TYPE_FLAGS,
  WP_TYPE_OWN,
  WP_TYPE_BORROW,
  /* Types wasmplug can describe but not pass (component-model async). */
  WP_TYPE_FUTURE,
  WP_TYPE_STREAM,
  WP_TYPE_ERROR_CONTEXT,
  WP_TYPE_MAP,
} wp_type_kind;

/** "bool", "u32", "list", "record", "own"... */
const char *wp_type_kind_name(wp_type_kind kind);

/**
 * A WIT type, borrowed from the plugin it came from (valid while the plugin
 * is). Compound types have children, reached by index:
 *
 *   kind      count  child(i)                  name(i)
 *   list      1      the element type          NULL
 *   option    1      the inner type            NULL
 *   result    2      ok type, err type         "ok", "err"   (child NULL: none)
 *   record    n      field types               field names
 *   tuple     n      element types             NULL
 *   variant   n      case payloads             case names    (child NULL: none)
 *   enum      n      NULL                      case names
 *   flags     n      NULL                      flag names
 *   map       2      key type, value type      NULL
 *   others    0
 */
typedef struct wp_type wp_type;

wp_type_kind wp_type_get_kind(const wp_type *type);
size_t wp_type_get_count(const wp_type *type);
const wp_type *wp_type_get_child(const wp_type *type, size_t i);
const char *wp_type_get_name(const wp_type *type, size_t i);

/** The type in WIT syntax, e.g. "list<option<u32>>" or, for a record,
    "record { x: s32, y: s32 }"; borrowed from the type. */
const char *wp_type_to_string(const wp_type *type);

/** A function's WIT type: named parameters and at most one result. Borrowed
    from the plugin. */
size_t wp_functype_param_count(const wp_functype *ft);
const char *wp_functype_param_name(const wp_functype *ft, size_t i);
const wp_type *wp_functype_param_type(const wp_functype *ft, size_t i);
/** The result type, or NULL for a function without a result. */
const wp_type *wp_functype_result(const wp_functype *ft);
/** The function type as WIT, e.g. "func(name: string) -> string"; borrowed. */
const char *wp_functype_to_string(const wp_functype *ft);

/**
 * Prints the world of a component (bytes of a .wasm component) as WIT text,
 * the way `wasm-tools component wit` does. `*out` is NUL-terminated and the
 * caller frees it with wp_free. WP_ERR_LOAD if the bytes are not a component.
 */
wp_error *wp_component_wit(const void *bytes, size_t len, char **out);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_WIT_H */
