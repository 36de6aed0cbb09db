/*
 * http.h - components as HTTP handlers (internal): which of the two worlds a
 * component exports, found once at load, and one request through it
 * (wp_instance_handle_http) with the Rust extension (wasmplug_http.h).
 */
#ifndef WP_COMPONENT_HTTP_H
#define WP_COMPONENT_HTTP_H

#include <wasmplug_http.h>

#include "component/component.h"
#include "instance/http.h"

/* True for an import of wasi:http (any interface, any version): such a
   component gets the extension's wasi:http in its linker. */
bool wp_component_is_wasi_http(const char *iface);

/* Finds the handler among the component's exports (`handle` in
   wasi:http/incoming-handler@0.2.* or wasmplug:http/handler@0.1.0), and
   records it in the component's kind data. Called once, at load. */
void wp_component_http_detect(wp_plugin *p);

/* The kind's methods (plugin/kind.h). */
wp_http_kind wp_component_http_kind(const wp_plugin *p);
wp_error *wp_component_http_handle(wp_instance *inst, const wp_http_request *req, size_t max_body,
                                   wp_http_response *out);

#endif
