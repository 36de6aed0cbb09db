/*
 * http.h - core modules as HTTP handlers (internal): the export `handle`
 * under the bytes ABI, with the request and response encoded as
 * docs/http-abi.md describes ("WPH1" in, "WPR1" out).
 */
#ifndef WP_CORE_HTTP_H
#define WP_CORE_HTTP_H

#include "instance/http.h"
#include "util/buf.h"

/* The export a core HTTP handler has, and the blocks' magic numbers. */
#define WP_CORE_HTTP_EXPORT "handle"
#define WP_CORE_HTTP_REQUEST_MAGIC "WPH1"
#define WP_CORE_HTTP_RESPONSE_MAGIC "WPR1"

/* Finds, once at load, whether the module exports a bytes-ABI `handle`. */
void wp_core_http_detect(wp_plugin *p);

/* The core kind's http_kind and http_handle (plugin/kind.h). */
wp_http_kind wp_core_http_kind(const wp_plugin *p);
wp_error *wp_core_http_handle(wp_instance *inst, const wp_http_request *req, size_t max_body,
                              wp_http_response *out);

/* Appends the WPH1 block of `req` to `out` (which the caller frees). False
   when out of memory, or when a length or the whole block passes 4 GiB. A
   NULL scheme or authority is encoded as "". */
bool wp_core_http_encode(const wp_http_request *req, wp_buf *out);

/*
 * Decodes a WPR1 block of `len` bytes into *out (zeroed first) through
 * instance/http.h's checked helpers. Every length is checked against what
 * remains, and the block must end exactly at `len`. Errors are WP_ERR_ABI
 * naming the plugin (or WP_ERR_NO_MEMORY); *out may then be half filled (the
 * caller clears it). Reads nothing of `inst` but inst->plugin->name, so a
 * fuzzer can pass a stub instance.
 */
wp_error *wp_core_http_decode(wp_instance *inst, const uint8_t *data, size_t len, size_t max_body,
                              wp_http_response *out);

#endif
