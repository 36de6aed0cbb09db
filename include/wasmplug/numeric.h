/*
 * wasmplug/numeric.h - numeric WebAssembly values (wp_val), as core-module
 * calls and numeric host functions pass them.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_NUMERIC_H
#define WASMPLUG_NUMERIC_H

#include "wasmplug/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** The numeric WebAssembly value types. */
typedef enum wp_valkind {
  WP_I32 = 0,
  WP_I64 = 1,
  WP_F32 = 2,
  WP_F64 = 3,
} wp_valkind;

/** A numeric value with its type. */
typedef struct wp_val {
  wp_valkind kind;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  } of;
} wp_val;

#define WP_VAL_I32(x) ((wp_val){.kind = WP_I32, .of.i32 = (x)})
#define WP_VAL_I64(x) ((wp_val){.kind = WP_I64, .of.i64 = (x)})
#define WP_VAL_F32(x) ((wp_val){.kind = WP_F32, .of.f32 = (x)})
#define WP_VAL_F64(x) ((wp_val){.kind = WP_F64, .of.f64 = (x)})

/** "i32", "i64", "f32" or "f64". */
const char *wp_valkind_name(wp_valkind kind);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_NUMERIC_H */
