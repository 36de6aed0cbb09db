/*
 * kind.c - the component kind (plugin/kind.h): Component Model components,
 * loaded by load.c, instantiated by call.c, with host objects released by
 * host.c, handling HTTP requests in http.c.
 */
#include "component/kind.h"

#include <stdlib.h>

#include "component/component.h"
#include "component/http.h"
#include "engine/error.h"

static void free_component(wp_plugin *p) { wp_component_free(p->kind_data); }

static const char *call_name(const wp_plugin *p, size_t i) {
  return wp_comp(p)->exports[i].qualified;
}

static wp_error *instantiate(wp_instance *inst) {
  if (!inst->kind_data) {
    wp_component_instance *ci = calloc(1, sizeof *ci);
    /* Handles of exported functions, resolved lazily per instance. */
    if (ci) ci->funcs = calloc(inst->plugin->nexports + 1, sizeof *ci->funcs);
    if (!ci || !ci->funcs) {
      free(ci);
      return wp_error_no_memory();
    }
    inst->kind_data = ci;
  }
  return wp_component_instantiate(inst);
}

static void release(wp_instance *inst) {
  if (wp_cinst(inst) && wp_cinst(inst)->objects) wp_component_release_objects(inst);
  wp_component_free_link_state(inst);
}

static void instance_free(wp_instance *inst) {
  wp_component_instance *ci = wp_cinst(inst);
  if (!ci) return;
  wp_component_free_link_state(inst);
  free(ci->funcs);
  free(ci);
  inst->kind_data = NULL;
}

const wp_kind wp_component_kind = {
    .name = "component",
    .isolable = true,
    .claims = wp_is_component_binary,
    .load = wp_component_load,
    .free = free_component,
    .call_name = call_name,
    .instantiate = instantiate,
    .release = release,
    .instance_free = instance_free,
    .is_bytes_func = wp_component_is_bytes_func,
    .call_bytes = wp_component_call_bytes,
    .http_kind = wp_component_http_kind,
    .http_handle = wp_component_http_handle,
};
