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

/* Frees a string returned by a wasmplug_* extension function. NULL is a no-op. */
void wasmplug_ext_string_free(char *s);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* WASMPLUG_EXT_H */
