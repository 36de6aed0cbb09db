/*
 * wasmplug_ext.h - wasmplug's Rust extensions of Wasmtime's C API.
 *
 * Implemented in deps/wasmtime/src/ (Rust, against Wasmtime's public crates)
 * and exported from the same library as the C API (libwasmplug_wasmtime.so /
 * .a), for the few things the C API cannot do. deps/wasmtime/build.sh
 * installs this header next to wasmtime.h.
 *
 * None of these functions unwinds into C: a Rust panic is caught and reported
 * as an error. All are thread-safe (no shared state).
 */
#ifndef WASMPLUG_EXT_H
#define WASMPLUG_EXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Decodes `bytes` (`len` bytes of a binary Component Model component) and
 * prints its world as WIT text, the same text `wasm-tools component wit`
 * prints: the component's own package (`package root:component;` with
 * `world root { import ...; export ...; }`) followed by every package it
 * refers to, each as a nested `package ns:name@version { ... }` block.
 * Doc comments embedded in the component are included.
 *
 * On success returns 0 and sets *out to a NUL-terminated string.
 * On failure returns -1 and sets *out to an error message (e.g. for a core
 * module, WAT text, truncated or otherwise invalid bytes, or `bytes` NULL),
 * or to NULL if `out` could not be filled (memory exhausted).
 * If `out` itself is NULL, returns -1 and does nothing.
 *
 * The string in *out (either case) is allocated with malloc; release it with
 * wasmplug_ext_string_free (plain free() works too).
 *
 * Cost: it decodes and validates the whole component (roughly the time of a
 * wasmparser validation pass, no compilation); meant for tooling and
 * diagnostics, not a hot path.
 */
int wasmplug_component_wit(const uint8_t *bytes, size_t len, char **out);

/*
 * Composes `main` with the plugs ahead of time (wasm-compose): each instance
 * import of `main` (and of the plugs) is served by the first plug exporting
 * an instance of that name; the result is one component exporting what
 * `main` exports and importing what nothing served. `plug_names` (may be NULL,
 * or hold NULLs) names the plugs in messages.
 *
 * On success returns 0 and sets *out (malloc'd, free()) and *out_len. On
 * failure returns -1 and sets *error to a malloc'd message naming the plug
 * and, when a plug does not fit an import, the interface, the function and
 * both types; a plug that serves no import is an error too. *error is NULL
 * when even that could not be allocated.
 */
int wasmplug_compose(const uint8_t *main, size_t main_len, const char *const *plug_names,
                     const uint8_t *const *plugs, const size_t *plug_lens, size_t nplugs,
                     uint8_t **out, size_t *out_len, char **error);

/*
 * Whether the plug's export of `iface` fits what `main` imports of it,
 * comparing their WIT: 0 when it does, 1 when it does not (*why names the
 * interface, the function or resource, and the expected and found types),
 * -1 when either cannot be read (*why says why). *why is malloc'd or NULL.
 */
int wasmplug_component_fit(const uint8_t *main, size_t main_len, const uint8_t *plug,
                           size_t plug_len, const char *iface, char **why);

/* Frees a string returned by a wasmplug_* extension function. NULL is a no-op. */
void wasmplug_ext_string_free(char *s);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMPLUG_EXT_H */
