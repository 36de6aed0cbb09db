/*
 * wasmplug/compose.h - composition: plug components into a component's
 * imports ahead of time and get one component (docs/compose.md). The other
 * way, linking at load time without a new file, is the manifest's "link"
 * (wp_manifest_set_link in wasmplug/manifest.h).
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_COMPOSE_H
#define WASMPLUG_COMPOSE_H

#include "wasmplug/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** A component to plug in: its bytes (a binary component, borrowed) and a
    name for messages (its file, say; may be NULL). */
typedef struct wp_plug {
  const char *name;
  const void *bytes;
  size_t len;
} wp_plug;

/**
 * Composes `main` with the plugs: each interface `main` imports (and each a
 * plug imports) is served by the first plug that exports it under the same
 * name (with the version), and the result is one component that exports what
 * `main` exports and imports whatever no plug served (WASI, host functions).
 * Sets *out (free with wp_free) and *out_len.
 *
 * Errors: WP_ERR_BAD_INPUT without plugs or arguments; WP_ERR_LOAD when a
 * component cannot be read; WP_ERR_LINK when a plug does not fit the import
 * it would serve (the message names the plug, the interface, the function
 * and the expected and found types) or serves none of the imports.
 * Composition decodes and validates every component and the result (no
 * compilation): tooling, not a hot path.
 */
wp_error *wp_compose(const void *main, size_t main_len, const wp_plug *plugs, size_t nplugs,
                     void **out, size_t *out_len);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMPLUG_COMPOSE_H */
