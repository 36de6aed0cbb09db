/*
 * http.h - the outbound HTTP capability ("http"): plugins make HTTP(S)
 * requests to the hosts their manifest's "capabilities.http.allowed_hosts"
 * lists (allow.h gives the section's form), nothing else.
 *
 * Core modules import `wasmplug.http_request` (bytes ABI, framed as in
 * host/common/frame.h):
 *   input  = method, url, u64 header count, (name, value) * count, body
 *   output = OK: u64 status, u64 header count, (name, value) * count, body
 *            ERROR: why (not granted, host not allowed, redirect refused,
 *            response too big, timeout, connection failed)
 * (pdk/c/wasmplug_http_out.h and pdk/go/httpout.go wrap it.)
 *
 * Components import `wasi:http/outgoing-handler`: Wasmtime's wasi:http
 * (deps/wasmtime/src/http.rs) hands each request to this capability
 * (wasmplug_http_set_outgoing), which sends it the same way, so the same
 * allowlist, redirects, size limit and timeout apply.
 */
#ifndef WP_HOST_HTTP_HTTP_H
#define WP_HOST_HTTP_HTTP_H

#include "wasmplug.h"

/* Registers the "http" capability and its host functions on `e`. */
wp_error *wp_host_http_install(wp_engine *e);

#endif
