/* wpgo.h - the C side of the Go binding: trampolines with the exact
 * signatures libwasmplug calls, forwarding to exported Go functions with a
 * registry id (an integer, never a Go pointer) as user data. */
#ifndef WPGO_H
#define WPGO_H
#include <stdint.h>
#include <stdlib.h>
#include <wasmplug.h>

wp_error *wpgo_error(int kind, const char *msg, size_t len);
void wpgo_config_set_log(wp_engine_config *cfg, uintptr_t id);
wp_error *wpgo_define_func(wp_engine *e, const char *module, const char *name,
                           const wp_valkind *params, size_t nparams, const wp_valkind *results,
                           size_t nresults, uintptr_t id);
wp_error *wpgo_define_bytes(wp_engine *e, const char *module, const char *name, int is_string,
                            uintptr_t id);
wp_error *wpgo_define_component(wp_engine *e, const char *iface, const char *name, uintptr_t id);
wp_error *wpgo_define_resource(wp_engine *e, const char *iface, const char *name, uintptr_t id,
                               const wp_resource_type **out);
wp_value *wpgo_new_resource(wp_instance *inst, const wp_resource_type *type, uintptr_t object);
wp_error *wpgo_get_resource(const wp_value *v, wp_instance *inst, const wp_resource_type *type,
                            uintptr_t *object);

/* Per-instance C memory for a call's numeric arguments and results and a
 * bytes call's output pointer, so that no Go stack memory reaches C (a host
 * function calling back into Go may move the goroutine's stack). */
#define WPGO_SCRATCH_VALS 16
typedef struct wpgo_scratch {
  wp_val vals[2 * WPGO_SCRATCH_VALS];
  const uint8_t *out;
  size_t out_len;
} wpgo_scratch;
#endif
