/*
 * wasmplug_pdk.h - everything a C plugin for wasmplug needs, in one header.
 *
 * Build a plugin (a WASI reactor) with:
 *
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Wall -Wextra -Werror -I pdk/c -o hello.wasm hello.c
 *
 * A complete plugin:
 *
 *   #include "wasmplug_pdk.h"
 *
 *   static void do_greet(const uint8_t *in, size_t len) {
 *     wp_log(WP_LOG_INFO, "greeting %.*s", (int)len, (const char *)in);
 *     wp_output(in, len);                       // echo the input back
 *   }
 *   WP_EXPORT_BYTES(greet, do_greet)            // exports "greet" + "cabi_post_greet"
 *
 * The header implements the guest side of docs/abi.md: it exports
 * `cabi_realloc`, wraps handlers in the bytes ABI, and declares the
 * `wasmplug` imports (log, config_get, error). It may be included in several
 * files of one plugin: the shared definitions are weak, so they link once.
 *
 * Memory: all buffers exchanged with the host come from malloc (through
 * cabi_realloc) and are released with free(). Nothing here needs WASI: a
 * plugin that uses only this header and libc's memory/string/printf functions
 * imports nothing from wasi_snapshot_preview1.
 */
#ifndef WASMPLUG_PDK_H
#define WASMPLUG_PDK_H

#if !defined(__wasm32__)
#error "wasmplug_pdk.h is for wasm32 plugins: compile with --target=wasm32-wasi"
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================== */
/* Internal helpers (names with a double underscore are not API)             */
/* ======================================================================== */

/** Marks a definition that may appear in several object files; one is kept. */
#define WP__WEAK __attribute__((weak))
/** printf-style format checking for the wp_* formatting functions. */
#define WP__PRINTF(f, a) __attribute__((format(printf, f, a)))
/** Declares an import from the host. */
#define WP__IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
/** Converts a 32-bit guest address read from a return area into a pointer. */
#define WP__PTR(u32) ((void *)(uintptr_t)(u32))
/** Converts a pointer into the 32-bit guest address the ABI uses. */
#define WP__U32(ptr) ((uint32_t)(uintptr_t)(ptr))

/* ======================================================================== */
/* cabi_realloc                                                             */
/* ======================================================================== */

void *cabi_realloc(void *old_ptr, size_t old_len, size_t align, size_t new_len);

/**
 * Canonical ABI allocator, exported as "cabi_realloc". The host calls it as
 * cabi_realloc(0, 0, 1, len) to place inputs and host-function outputs in the
 * plugin's memory. The result is always a non-NULL pointer that free() and
 * realloc() accept (also for new_len 0), aligned to `align`; when memory runs
 * out the plugin traps, as the canonical ABI requires.
 */
WP__WEAK __attribute__((export_name("cabi_realloc"))) void *
cabi_realloc(void *old_ptr, size_t old_len, size_t align, size_t new_len) {
  size_t size = new_len ? new_len : 1; /* never malloc(0): keep it non-NULL */
  void *p;
  if (align <= _Alignof(max_align_t)) {
    /* malloc's alignment covers it: let realloc grow in place when it can. */
    p = old_ptr ? realloc(old_ptr, size) : malloc(size);
  } else {
    /* Over-aligned: aligned_alloc wants a size that is a multiple of align. */
    size_t rounded = (size + align - 1) & ~(align - 1);
    p = rounded >= size ? aligned_alloc(align, rounded) : NULL;
    if (p && old_ptr) {
      memcpy(p, old_ptr, old_len < new_len ? old_len : new_len);
      free(old_ptr);
    }
  }
  if (!p) __builtin_trap();
  return p;
}

/* ======================================================================== */
/* Host imports: module "wasmplug"                                           */
/* ======================================================================== */

/** Log levels for wp_log: the `level` argument of wasmplug.log. */
enum {
  WP_LOG_TRACE = 0,
  WP_LOG_DEBUG = 1,
  WP_LOG_INFO = 2,
  WP_LOG_WARN = 3,
  WP_LOG_ERROR = 4,
};

/** Raw import wasmplug.log(level, ptr, len). Use wp_log / wp_log_str. */
WP__IMPORT("wasmplug", "log") void wp__host_log(int32_t level, const void *ptr, size_t len);

/** Raw import wasmplug.config_get(key_ptr, key_len, retptr). Use wp_config_get. */
WP__IMPORT("wasmplug", "config_get")
void wp__host_config_get(const void *key, size_t key_len, uint32_t *retptr);

/** Raw import wasmplug.error(ptr, len). Use wp_error / wp_error_str. */
WP__IMPORT("wasmplug", "error") void wp__host_error(const void *ptr, size_t len);

/**
 * Formats like vsnprintf into a malloc'ed buffer (or `stackbuf` when the text
 * fits) and passes it to `sink`. Output that cannot be formatted (vsnprintf
 * failing, memory exhausted) is replaced by the format string itself.
 */
static inline void wp__vformat(void (*sink)(int32_t, const void *, size_t), int32_t level,
                               const char *fmt, va_list ap) {
  char stackbuf[512];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(stackbuf, sizeof stackbuf, fmt, ap);
  if (n < 0) {
    sink(level, fmt, strlen(fmt));
  } else if ((size_t)n < sizeof stackbuf) {
    sink(level, stackbuf, (size_t)n);
  } else {
    char *heap = (char *)malloc((size_t)n + 1);
    if (heap && vsnprintf(heap, (size_t)n + 1, fmt, ap2) == n) {
      sink(level, heap, (size_t)n);
    } else {
      sink(level, fmt, strlen(fmt));
    }
    free(heap);
  }
  va_end(ap2);
}

/** Adapts wasmplug.error to wp__vformat's sink type. */
static inline void wp__error_sink(int32_t level, const void *ptr, size_t len) {
  (void)level;
  wp__host_error(ptr, len);
}

/**
 * Logs `len` bytes of UTF-8 text at `level` (WP_LOG_TRACE..WP_LOG_ERROR)
 * through the host's log callback. `msg` need not be NUL-terminated.
 */
static inline void wp_log_str(int level, const char *msg, size_t len) {
  wp__host_log((int32_t)level, msg, len);
}

/** Logs a printf-style message at `level` through the host (wasmplug.log). */
static inline WP__PRINTF(2, 3) void wp_log(int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wp__vformat(wp__host_log, (int32_t)level, fmt, ap);
  va_end(ap);
}

/**
 * Marks the current call as failed with a UTF-8 message of `len` bytes
 * (wasmplug.error). The handler still returns normally; the host then
 * discards the output and the caller gets WP_ERR_PLUGIN with this message.
 */
static inline void wp_error_str(const char *msg, size_t len) { wp__host_error(msg, len); }

/** As wp_error_str, with a printf-style message. */
static inline WP__PRINTF(1, 2) void wp_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  wp__vformat(wp__error_sink, 0, fmt, ap);
  va_end(ap);
}

/**
 * The value of config key `key` from the plugin's manifest, as a malloc'ed
 * NUL-terminated string the caller frees with free(), or NULL when the key is
 * not set (or memory ran out). Calls wasmplug.config_get, whose result is the
 * canonical ABI option<string>: a 12-byte return area with a tag byte at
 * offset 0 and, when the tag is 1, [ptr: u32 @4, len: u32 @8] of a buffer the
 * host allocated with cabi_realloc.
 */
static inline char *wp_config_get(const char *key) {
  uint32_t ret[3] = {0, 0, 0}; /* 12 bytes, 4-aligned */
  wp__host_config_get(key, strlen(key), ret);
  if (((const uint8_t *)ret)[0] == 0) return NULL; /* only the tag byte is defined */
  void *value = WP__PTR(ret[1]);
  size_t len = ret[2];
  /* The host's buffer is exactly len bytes: grow it by one for the NUL. */
  char *s = (char *)realloc(value, len + 1);
  if (!s) {
    free(value);
    return NULL;
  }
  s[len] = '\0';
  return s;
}

/* ======================================================================== */
/* Output of bytes exports                                                   */
/* ======================================================================== */

/** The output the running handler has set (owned; NULL when empty). */
extern uint8_t *wp__out_ptr;
extern size_t wp__out_len;
WP__WEAK uint8_t *wp__out_ptr = NULL;
WP__WEAK size_t wp__out_len = 0;

/** Drops the pending output, if any. */
static inline void wp__out_clear(void) {
  free(wp__out_ptr);
  wp__out_ptr = NULL;
  wp__out_len = 0;
}

/**
 * Sets the output of the running bytes export to a copy of `len` bytes at
 * `data`. A later call replaces it; no call at all means empty output. Traps
 * when memory runs out.
 */
static inline void wp_output(const void *data, size_t len) {
  wp__out_clear();
  if (len == 0) return;
  uint8_t *copy = (uint8_t *)malloc(len);
  if (!copy) __builtin_trap();
  memcpy(copy, data, len);
  wp__out_ptr = copy;
  wp__out_len = len;
}

/**
 * Sets the output of the running bytes export to `len` bytes at `malloced`,
 * which must come from malloc/realloc/cabi_realloc (or be NULL with len 0);
 * the plugin takes ownership and frees it after the host copied it out.
 */
static inline void wp_output_take(void *malloced, size_t len) {
  wp__out_clear();
  if (len == 0) {
    free(malloced);
    return;
  }
  wp__out_ptr = (uint8_t *)malloced;
  wp__out_len = len;
}

/** As wp_output with a NUL-terminated string (the NUL is not part of the output). */
static inline void wp_output_str(const char *s) { wp_output(s, strlen(s)); }

/**
 * Body of every bytes export: runs `handler` on the input, frees the input,
 * and fills the 8-byte return area `ret` with [out_ptr, out_len]. An output
 * the host never released (no cabi_post call) is freed first. Empty output
 * points at `ret` itself so the pointer is always valid and never freed.
 */
static inline uint32_t *wp__run_export(uint32_t *ret, void (*handler)(const uint8_t *, size_t),
                                       uint8_t *in, size_t len) {
  if (ret[1] != 0) free(WP__PTR(ret[0]));
  ret[0] = WP__U32(ret);
  ret[1] = 0;
  wp__out_clear();
  handler(in, len);
  free(in);
  if (wp__out_len != 0) {
    ret[0] = WP__U32(wp__out_ptr);
    ret[1] = (uint32_t)wp__out_len;
  }
  wp__out_ptr = NULL; /* now owned by the return area until cabi_post */
  wp__out_len = 0;
  return ret;
}

/** Body of every cabi_post_<name>: frees the output named by the return area. */
static inline void wp__run_post(uint32_t *ret) {
  if (ret[1] != 0) free(WP__PTR(ret[0]));
  ret[0] = 0;
  ret[1] = 0;
}

/**
 * Defines the bytes-ABI export `name` (an identifier: WP_EXPORT_BYTES(greet,
 * do_greet) exports "greet") and its "cabi_post_<name>", calling
 * `void handler(const uint8_t *input, size_t len)`. The input is valid only
 * during the handler (the wrapper frees it afterwards: copy what you keep).
 * The handler sets its result with wp_output / wp_output_take (default:
 * empty) and may call wp_error to fail the call. Use at file scope, once per
 * export. The C functions it defines are wp__export_<name> and wp__post_<name>.
 */
#define WP_EXPORT_BYTES(name, handler) \
  WP__EXPORT_BYTES(#name, wp__ret_##name, wp__export_##name, wp__post_##name, handler)

/**
 * As WP_EXPORT_BYTES, for an export name that is not a C identifier (WIT
 * style names such as "count-words"): `name_str` is a string literal and
 * `handler` must be an identifier (the name of the handler function):
 *
 *   WP_EXPORT_BYTES_AS("count-words", count_words)   // exports "count-words"
 *                                                    // and "cabi_post_count-words"
 *
 * The C functions it defines are wp__export_as_<handler> and
 * wp__post_as_<handler>: each handler can be exported once this way.
 */
#define WP_EXPORT_BYTES_AS(name_str, handler)                                                      \
  WP__EXPORT_BYTES(name_str, wp__ret_as_##handler, wp__export_as_##handler, wp__post_as_##handler, \
                   handler)

/**
 * What both export macros expand to: the return area `ret`, the export
 * `export_fn` named `name_str` and "cabi_post_" `name_str` (the host looks
 * the latter up by exactly that name, '-' and all; docs/abi.md).
 */
#define WP__EXPORT_BYTES(name_str, ret, export_fn, post_fn, handler)                            \
  static uint32_t ret[2] __attribute__((aligned(8)));                                           \
  uint32_t *export_fn(uint8_t *wp__in, size_t wp__len);                                         \
  void post_fn(uint32_t *wp__ret);                                                              \
  __attribute__((export_name(name_str))) uint32_t *export_fn(uint8_t *wp__in, size_t wp__len) { \
    return wp__run_export(ret, handler, wp__in, wp__len);                                       \
  }                                                                                             \
  __attribute__((export_name("cabi_post_" name_str))) void post_fn(uint32_t *wp__ret) {         \
    wp__run_post(wp__ret);                                                                      \
  }

/* ======================================================================== */
/* Bytes host functions of the embedder                                      */
/* ======================================================================== */

/**
 * Bytes returned by a host function: `len` bytes at `ptr`, owned by the
 * plugin; release with free(ptr) (or wp_bytes_free). `ptr` may be NULL only
 * when `len` is 0.
 */
typedef struct {
  uint8_t *ptr;
  size_t len;
} wp_bytes;

/** Frees the buffer of `b`. */
static inline void wp_bytes_free(wp_bytes b) { free(b.ptr); }

/**
 * Turns `b` into a malloc'ed NUL-terminated string, taking ownership of its
 * buffer (do not free `b` afterwards). Returns NULL if memory ran out (`b` is
 * freed then too). The text is cut at the first NUL byte, if any.
 */
static inline char *wp_bytes_to_cstr(wp_bytes b) {
  char *s = (char *)realloc(b.ptr, b.len + 1);
  if (!s) {
    free(b.ptr);
    return NULL;
  }
  s[b.len] = '\0';
  return s;
}

/**
 * Declares the bytes host function (`module_str`, `name_str`) registered by
 * the embedder with wp_engine_define_bytes / wp_engine_define_string, and
 * defines `static inline wp_bytes c_name(const void *in, size_t len)` that
 * calls it. The output is owned by the caller (free it with free()). If the
 * host function fails, the plugin's call traps and never returns here.
 * Example, at file scope:
 *
 *   WP_IMPORT_BYTES("plugin", "call_me", call_me)
 *   ...  wp_bytes r = call_me("Nic", 3);  ...  free(r.ptr);
 *
 * The raw import `(ptr: i32, len: i32, retptr: i32) -> ()` is declared as
 * wp__import_<c_name>.
 */
#define WP_IMPORT_BYTES(module_str, name_str, c_name)                                  \
  WP__IMPORT(module_str, name_str)                                                     \
  void wp__import_##c_name(const void *wp__ptr, size_t wp__len, uint32_t *wp__retptr); \
  static inline wp_bytes c_name(const void *wp__in, size_t wp__len) {                  \
    uint32_t wp__ret[2] = {0, 0}; /* 8 bytes, 4-aligned */                             \
    wp__import_##c_name(wp__in, wp__len, wp__ret);                                     \
    wp_bytes wp__out = {(uint8_t *)WP__PTR(wp__ret[0]), (size_t)wp__ret[1]};           \
    return wp__out;                                                                    \
  }

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_PDK_H */
