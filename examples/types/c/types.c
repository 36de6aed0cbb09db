/*
 * types.c - the `types` world (examples/types/wit/types.wit) in C, on
 * wit-bindgen's C bindings: an echo function per WIT type, calls to the host
 * with every type, and resources in both directions. Tests use it to check
 * that every type survives a trip through wasmplug unchanged.
 *
 * Ownership (wit-bindgen C): an export owns its arguments, and its results
 * are freed after the call by the generated post-return functions. So an
 * echo moves its argument into its result, which frees it exactly once.
 */
#include <stdlib.h>
#include <string.h>

#include "types.h"

/* ---- echoes: scalars come back as they are ---------------------------------------- */

bool exports_example_types_echo_echo_bool(bool x) { return x; }
int8_t exports_example_types_echo_echo_s8(int8_t x) { return x; }
uint8_t exports_example_types_echo_echo_u8(uint8_t x) { return x; }
int16_t exports_example_types_echo_echo_s16(int16_t x) { return x; }
uint16_t exports_example_types_echo_echo_u16(uint16_t x) { return x; }
int32_t exports_example_types_echo_echo_s32(int32_t x) { return x; }
uint32_t exports_example_types_echo_echo_u32(uint32_t x) { return x; }
int64_t exports_example_types_echo_echo_s64(int64_t x) { return x; }
uint64_t exports_example_types_echo_echo_u64(uint64_t x) { return x; }
float exports_example_types_echo_echo_f32(float x) { return x; }
double exports_example_types_echo_echo_f64(double x) { return x; }
uint32_t exports_example_types_echo_echo_char(uint32_t x) { return x; }
exports_example_types_echo_color_t exports_example_types_echo_echo_color(exports_example_types_echo_color_t x) { return x; }
exports_example_types_echo_perms_t exports_example_types_echo_echo_flags(exports_example_types_echo_perms_t x) { return x; }

/* ---- echoes: owned values move from argument to result ------------------------------- */

void exports_example_types_echo_echo_string(types_string_t *x, types_string_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_bytes(types_list_u8_t *x, types_list_u8_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_list(types_list_u32_t *x, types_list_u32_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_strings(types_list_string_t *x, types_list_string_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_point(exports_example_types_echo_point_t *x,
                                           exports_example_types_echo_point_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_label(exports_example_types_echo_label_t *x,
                                           exports_example_types_echo_label_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_tuple(types_tuple3_u8_string_f64_t *x, types_tuple3_u8_string_f64_t *ret) {
  *ret = *x;
}
void exports_example_types_echo_echo_shape(exports_example_types_echo_shape_t *x,
                                           exports_example_types_echo_shape_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_shapes(exports_example_types_echo_list_shape_t *x,
                                            exports_example_types_echo_list_shape_t *ret) { *ret = *x; }
void exports_example_types_echo_echo_everything(exports_example_types_echo_everything_t *x,
                                                exports_example_types_echo_everything_t *ret) { *ret = *x; }

bool exports_example_types_echo_echo_option(types_string_t *maybe_x, types_string_t *ret) {
  if (!maybe_x) return false;
  *ret = *maybe_x;
  return true;
}

bool exports_example_types_echo_echo_result(exports_example_types_echo_result_u32_string_t *x, uint32_t *ret,
                                            types_string_t *err) {
  if (x->is_err) {
    *err = x->val.err;
    return false;
  }
  *ret = x->val.ok;
  return true;
}

bool exports_example_types_echo_echo_option_result(exports_example_types_echo_result_string_color_t *maybe_x,
                                                   exports_example_types_echo_result_string_color_t *ret) {
  if (!maybe_x) return false;
  *ret = *maybe_x;
  return true;
}

void exports_example_types_echo_echo_many(uint8_t a, types_string_t *b, exports_example_types_echo_list_point_t *c,
                                          exports_example_types_echo_tuple3_u8_string_list_point_t *ret) {
  ret->f0 = a;
  ret->f1 = *b;
  ret->f2 = *c;
}

/* ---- the world's own exports ------------------------------------------------------ */

/* The host borrows x for the import; the result it returns is ours to return. */
void exports_types_call_host(types_everything_t *x, types_everything_t *ret) {
  example_types_host_round_trip(x, ret);
  example_types_defs_everything_free(x);
}

void exports_types_nop(void) {}

uint64_t exports_types_spin(uint64_t n) {
  volatile uint64_t acc = 0;
  for (uint64_t i = 0; i != n; i++) acc += i ^ (acc >> 3);
  return acc;
}

void exports_types_crash(void) { __builtin_trap(); }

/* Held on purpose: a memory bomb for limit tests. */
static void *hogged[4096];
static uint32_t nhogged;

uint32_t exports_types_hog(uint32_t mib) {
  for (uint32_t i = 0; i < mib && nhogged < sizeof hogged / sizeof *hogged; i++) {
    char *p = malloc(1u << 20);
    if (!p) break;
    memset(p, 1, 1u << 20);
    hogged[nhogged++] = p;
  }
  return nhogged;
}

void exports_types_say(types_string_t *message) {
  wasmplug_plugin_host_log(WASMPLUG_PLUGIN_HOST_LEVEL_INFO, message);
  types_string_free(message);
}

/* ---- resources ------------------------------------------------------------------- */

struct exports_example_types_resources_blob_t {
  uint8_t *data;
  size_t len;
};

exports_example_types_resources_own_blob_t exports_example_types_resources_constructor_blob(types_list_u8_t *data) {
  exports_example_types_resources_blob_t *b = malloc(sizeof *b);
  if (!b) __builtin_trap();
  /* Taken: we own the argument. An empty list's ptr is not from malloc
   * (cabi_realloc returns the alignment for size 0): never free it. */
  b->data = data->len ? data->ptr : NULL;
  b->len = data->len;
  return exports_example_types_resources_blob_new(b);
}

uint32_t exports_example_types_resources_method_blob_size(exports_example_types_resources_borrow_blob_t self) {
  return (uint32_t)self->len;
}

void exports_example_types_resources_method_blob_append(exports_example_types_resources_borrow_blob_t self,
                                                        types_list_u8_t *more) {
  uint8_t *n = realloc(self->data, self->len + more->len);
  if (!n && self->len + more->len) __builtin_trap();
  if (more->len) memcpy(n + self->len, more->ptr, more->len);
  self->data = n;
  self->len += more->len;
  types_list_u8_free(more);
}

void exports_example_types_resources_blob_destructor(exports_example_types_resources_blob_t *rep) {
  free(rep->data);
  free(rep);
}

uint32_t exports_example_types_resources_blob_size(exports_example_types_resources_borrow_blob_t b) {
  return (uint32_t)b->len;
}

uint32_t exports_example_types_resources_count_with_host(uint32_t start, uint32_t times) {
  example_types_host_own_counter_t c = example_types_host_constructor_counter(start);
  uint32_t last = start;
  for (uint32_t i = 0; i < times; i++)
    last = example_types_host_method_counter_increment(example_types_host_borrow_counter(c));
  example_types_host_counter_drop_own(c);
  return last;
}

/* A borrowed handle of an imported resource must be dropped before returning. */
uint32_t exports_example_types_resources_bump(exports_example_types_resources_borrow_counter_t c) {
  uint32_t v = example_types_host_method_counter_increment(c);
  example_types_host_counter_drop_borrow(c);
  return v;
}

uint32_t exports_example_types_resources_consume(exports_example_types_resources_own_counter_t c) {
  uint32_t v = example_types_host_method_counter_increment(example_types_host_borrow_counter(c));
  example_types_host_counter_drop_own(c);
  return v;
}
