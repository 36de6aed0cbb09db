/*
 * http.h - the outbound HTTP capability ("http"): plugins make HTTP(S)
 * requests to the hosts their manifest's "capabilities.http.allowed_hosts"
 * lists, nothing else. What plugins see (the manifest section, its
 * defaults and limits, `wasmplug.http_request` and its framing, the
 * error-codes of `wasi:http/outgoing-handler`) is documented in the public
 * include/wasmplug/outbound_http.h.
 *
 * Core modules import `wasmplug.http_request` (http.c, framed as in
 * host/common/frame.h). Components import `wasi:http/outgoing-handler`:
 * Wasmtime's wasi:http (deps/wasmtime/src/http.rs) hands each request to
 * this capability (outgoing.c), which sends it the same way (fetch.c), so
 * the same allowlist (allow.c), redirects, size limit and timeout apply.
 */
#ifndef WP_HOST_HTTP_HTTP_H
#define WP_HOST_HTTP_HTTP_H

#include "wasmplug.h"

/* Registers the "http" capability and its host functions on `e`. */
wp_error *wp_host_http_install(wp_engine *e);

#endif
