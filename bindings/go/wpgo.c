/* wpgo.c - see wpgo.h. */
#include "wpgo.h"

#include "_cgo_export.h"

wp_error *wpgo_error(int kind, const char *msg, size_t len) {
  return wp_error_new((wp_error_kind)kind, "%.*s", (int)(len > 1000000 ? 1000000 : len), msg);
}

static void log_tramp(void *ud, wp_log_level level, const char *plugin, const char *msg,
                      size_t len) {
  wpgoLog((uintptr_t)ud, (int)level, (char *)plugin, (char *)msg, len);
}

void wpgo_config_set_log(wp_engine_config *cfg, uintptr_t id) {
  wp_engine_config_set_log(cfg, log_tramp, (void *)id);
}

static void free_tramp(void *ud) { wpgoRelease((uintptr_t)ud); }

static wp_error *func_tramp(wp_host_call *call, const wp_val *args, size_t nargs, wp_val *results,
                            size_t nresults, void *ud) {
  return wpgoHostFunc((uintptr_t)ud, call, (wp_val *)args, nargs, results, nresults);
}

wp_error *wpgo_define_func(wp_engine *e, const char *module, const char *name,
                           const wp_valkind *params, size_t nparams, const wp_valkind *results,
                           size_t nresults, uintptr_t id) {
  return wp_engine_define_func(e, module, name, params, nparams, results, nresults, func_tramp,
                               (void *)id, free_tramp);
}

static wp_error *bytes_tramp(wp_host_call *call, const uint8_t *in, size_t len, void *ud) {
  return wpgoHostBytes((uintptr_t)ud, call, (uint8_t *)in, len);
}

wp_error *wpgo_define_bytes(wp_engine *e, const char *module, const char *name, int is_string,
                            uintptr_t id) {
  if (is_string)
    return wp_engine_define_string(e, module, name, bytes_tramp, (void *)id, free_tramp);
  return wp_engine_define_bytes(e, module, name, bytes_tramp, (void *)id, free_tramp);
}

static wp_error *component_tramp(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                 wp_value **result, void *ud) {
  return wpgoHostComponent((uintptr_t)ud, call, (wp_value **)args, nargs, result);
}

wp_error *wpgo_define_component(wp_engine *e, const char *iface, const char *name, uintptr_t id) {
  return wp_engine_define_component_func(e, iface, name, component_tramp, (void *)id, free_tramp);
}

static void drop_tramp(void *object, void *ud) { wpgoResourceDrop((uintptr_t)object, (uintptr_t)ud); }

wp_error *wpgo_define_resource(wp_engine *e, const char *iface, const char *name, uintptr_t id,
                               const wp_resource_type **out) {
  return wp_engine_define_resource(e, iface, name, drop_tramp, (void *)id, free_tramp, out);
}

wp_value *wpgo_new_resource(wp_instance *inst, const wp_resource_type *type, uintptr_t object) {
  return wp_value_new_resource(inst, type, (void *)object);
}

wp_error *wpgo_get_resource(const wp_value *v, wp_instance *inst, const wp_resource_type *type,
                            uintptr_t *object) {
  void *obj = NULL;
  wp_error *err = wp_value_get_resource(v, inst, type, &obj);
  *object = (uintptr_t)obj;
  return err;
}
