/*
 * wasmplug/common.h - what every other header builds on: the version,
 * WP_PRINTF, the standard headers for bool, size_t and fixed-width integers,
 * the wp_instance handle (named by several headers), and wp_free.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 */
#ifndef WASMPLUG_COMMON_H
#define WASMPLUG_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#define WASMPLUG_VERSION "0.1.0"
#define WASMPLUG_VERSION_MAJOR 0
#define WASMPLUG_VERSION_MINOR 1
#define WASMPLUG_VERSION_PATCH 0

#if defined(__GNUC__) || defined(__clang__)
#define WP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define WP_PRINTF(f, a)
#endif

/* A sandbox made from a plugin (wasmplug/instance.h). Declared here because
   manifests (output callbacks) and host functions name it too. */
typedef struct wp_instance wp_instance;

/** Frees memory the library handed over (strings from wp_component_wit,
    wp_value_to_wave...). NULL is allowed. */
void wp_free(void *ptr);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_COMMON_H */
