/*
 * dl.h - the dl capability (docs/capabilities.md, and its public summary
 * and limits in wasmplug/dl.h): wasi:dl@0.2.0-draft (wit/wasi-dl/dl.wit)
 * for components, native shared libraries called through libffi. Denied
 * unless the manifest has a "dl" section, and then only what it lists.
 *
 *   grant.c   the manifest section
 *   types.c   FFI types (from the plugin's values, the manifest's names)
 *   mem.c     blocks of memory, allocs, numbers in memory
 *   ffi.c     wasi:dl/ffi: the alloc resource
 *   dll.c     wasi:dl/dll: library, symbol, function; calls through libffi
 *   dl.c      the capability, the resources, what ffi.c and dll.c share
 */
#ifndef WP_HOST_DL_DL_H
#define WP_HOST_DL_DL_H

#include "wasmplug.h"

/* Registers the capability "dl" and wasi:dl's functions on `e`. */
wp_error *wp_host_dl_install(wp_engine *e);

#endif
