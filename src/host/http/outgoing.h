/*
 * outgoing.h - components' wasi:http/outgoing-handler requests, answered by
 * the http capability (internal to src/host/http/). The Rust extension's
 * wasi:http (deps/wasmtime/src/http.rs) hands every request to the hooks
 * set here (wasmplug_http_set_outgoing, process-wide): they find the
 * calling plugin's grant among the engines' http capabilities and send the
 * request with fetch.h, so a component gets the same allowlist, redirect
 * checks, size limit and timeout as a core module.
 */
#ifndef WP_HOST_HTTP_OUTGOING_H
#define WP_HOST_HTTP_OUTGOING_H

#include "wasmplug.h"

/* Adds an engine's http capability to those asked (and sets the hooks). */
wp_error *wp_httpout_outgoing_register(const wp_capability *cap);
/* Removes it (the engine goes). */
void wp_httpout_outgoing_forget(const wp_capability *cap);

#endif
