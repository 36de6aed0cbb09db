/*
 * wasmplug/dl.h - the built-in "dl" capability: wasi:dl, native shared
 * libraries called from components through libffi (docs/capabilities.md,
 * "dl"; the WIT is wit/wasi-dl/dl.wit, package wasi:dl@0.2.0-draft).
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone. It
 * declares no functions: wp_engine_new installs the capability; this header
 * says what plugins see of it and holds its limits.
 *
 * NATIVE CODE RUNS IN THE HOST'S PROCESS, OUTSIDE THE SANDBOX. A library a
 * plugin calls can crash the process, hang it, or corrupt its memory, and
 * none of the plugin's limits (timeout, fuel, memory) covers it. Grant only
 * libraries and symbols you would link into the host yourself, pin their
 * signatures, and run such plugins in their own process when a crash must
 * not take the host down.
 *
 * The manifest section. Denied by default: without it every open fails,
 * naming capabilities.dl; with it, only what it lists.
 *
 *   "capabilities": {"dl": {
 *     "libraries": {
 *       "libz.so.1": {"symbols": {
 *         "crc32": {"args": ["c-ulong", "pointer", "c-uint"], "ret": "c-ulong"},
 *         "zlibVersion": {"ret": "pointer"}}},
 *       "/opt/app/lib/libhello.so": {"symbols": {"hello": null}, "global": false}},
 *     "main": {"symbols": {"getpid": {"args": [], "ret": "c-int"}}}}}
 *
 *   - "libraries": the libraries a plugin may open, each under the name it
 *     opens it by: a file name that dlopen looks up (no "/"), or an
 *     absolute path. open's name must be that key, byte for byte.
 *   - "symbols": the symbols it may get from that library. A symbol's value
 *     pins its signature when it has "args" or "ret": "args" is a list of
 *     type names (absent: no parameters) and "ret" a type name (absent or
 *     null: void). null or {} allows any signature.
 *   - Type names are the WIT's primitive-type cases ("c-int", "uint64-t",
 *     "pointer", "c-double", ...); a struct is {"struct": [names...]}.
 *   - "global": true lets open use the global flag (RTLD_GLOBAL) for that
 *     library; without it the flag is refused.
 *   - "main": the main program and the libraries loaded with it (dlopen
 *     of NULL, open's name none), with its own "symbols"; absent, open of
 *     none is refused.
 *   - The section is checked when the plugin loads: a mistake (an unknown
 *     type name, a relative path, an unknown field) fails the load with
 *     WP_ERR_BAD_INPUT naming the field.
 *
 * Components import wasi:dl/ffi@0.2.0-draft and wasi:dl/dll@0.2.0-draft:
 *
 *   ffi: resource alloc: new (static), select, write-primitive,
 *        read-primitive, write-string, read-string, write-bytes, read-bytes,
 *        is-null, deref
 *   dll: resource library: open (static), get; resource symbol: function;
 *        resource function: call; extension, prefix, suffix
 *
 * Outcomes: whatever the manifest does not grant (the dl section, a
 * library, a symbol, a signature other than the pinned one, the global
 * flag), whatever fails natively (dlopen's and dlsym's messages), a bad FFI
 * type and a value not of its parameter's type are errors the plugin gets
 * as the err string of the function's result, each naming what it refused;
 * its instance goes on working. A call that starts after the plugin's call
 * deadline fails the plugin's call (WP_ERR_TIMEOUT); once started, a native
 * call cannot be interrupted or stopped at the deadline.
 *
 * Memory: a pointer is never a number to the plugin. Memory the plugin
 * allocates (alloc.new, write-string, write-bytes) lives in the host, is
 * zeroed, and is freed with the last handle that refers to it (an alloc
 * holding a pointer keeps what it points to). Memory native code returns
 * is reached through allocs too, read-only, and the library that returned
 * it stays open while an alloc refers to it; what native code frees
 * behind the plugin's back is the library's contract, not the host's.
 */
#ifndef WASMPLUG_DL_H
#define WASMPLUG_DL_H

#include "wasmplug/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Only macros here: the pragmas are for tests/headers, which wants them in every header. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** The longest string read-string returns; a longer one (no NUL within) is an error. */
#define WP_DL_MAX_STRING 65536u
/** The most bytes read-bytes reads, and write-string or write-bytes copies, in one call. */
#define WP_DL_MAX_BYTES (1u << 20)
/** The largest alloc (alloc.new, deref), in bytes. */
#define WP_DL_MAX_ALLOC (1u << 20)
/**
 * The most host memory one plugin's allocs hold at once, all its instances
 * together: the bytes allocated (alloc.new, write-string, write-bytes,
 * returned pointers and structs) and a small cost per handle. Past it the
 * call that would allocate is refused; dropping allocs frees it again.
 */
#define WP_DL_MAX_MEMORY (64u << 20)
/** The most parameters of a function, fields of a struct, and types given to alloc.new. */
#define WP_DL_MAX_ARGS 64u
#define WP_DL_MAX_FIELDS 64u
/** The most libraries one manifest grants, and symbols per library. */
#define WP_DL_MAX_LIBRARIES 64u
#define WP_DL_MAX_SYMBOLS 1024u
/** The longest library name or path, and symbol name, in bytes. */
#define WP_DL_MAX_LIBRARY_NAME 4096u
#define WP_DL_MAX_SYMBOL_NAME 256u

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_DL_H */
