/*
 * bounds.h - what loading a plugin may cost, checked before Wasmtime sees
 * the bytes (internal).
 *
 * Compiling takes time and memory roughly in proportion to the number of
 * functions, and parsing in proportion to the size: a valid module with a
 * few hundred thousand empty functions takes seconds and gigabytes to
 * compile, outside every per-call limit. So a plugin's bytes are measured
 * first, and one over its caps is refused with a WP_ERR_LOAD that names the
 * cap, the value found and how to raise it.
 */
#ifndef WP_PLUGIN_BOUNDS_H
#define WP_PLUGIN_BOUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wasmtime.h>

#include "wasmplug.h"

struct wp_engine;
struct wp_plugin;

/* Components nested deeper than this are refused: the scanner recurses, and
   no real component comes near it. */
#define WP_BOUNDS_MAX_DEPTH 32

/* What the scanner found in a module or component. */
typedef struct wp_wasm_counts {
  uint64_t imported;   /* function imports of core modules */
  uint64_t defined;    /* functions defined by core modules */
  uint64_t canonical;  /* components: canonical ABI functions (canon lift, lower, ...) */
  uint64_t modules;    /* core modules, nested ones included */
  bool incomplete;     /* stopped at bytes it could not read: Wasmtime will judge them */
  bool too_deep;       /* components nested more than WP_BOUNDS_MAX_DEPTH deep */
} wp_wasm_counts;

/*
 * Counts the functions in a binary core module or component. Every length
 * and LEB128 number is checked against the bytes there are; at anything it
 * cannot read, the scan stops, keeping what it counted so far (a count can
 * only be too low, never too high, for bytes Wasmtime will refuse anyway).
 */
void wp_wasm_count(const uint8_t *bytes, size_t len, wp_wasm_counts *out);

/* The total wp_wasm_count found: what the function cap is compared with. */
uint64_t wp_wasm_counts_total(const wp_wasm_counts *c);

/*
 * Sets p->max_module_size and p->max_functions: the engine's caps, lowered
 * by the manifest's. WP_ERR_BAD_INPUT if the manifest asks for more than
 * the engine allows.
 */
wp_error *wp_bounds_apply(struct wp_plugin *p);

/* WP_ERR_LOAD if `len` bytes (.wat text when `text`) are over the size cap. */
wp_error *wp_bounds_check_size(const struct wp_plugin *p, size_t len, bool text);

/*
 * WP_ERR_LOAD if a plugin file of `size` bytes is over the size cap that
 * loading it with manifest `m` (may be NULL) would have: checked before the
 * file is read, so that a huge file is not read into memory first.
 */
wp_error *wp_bounds_check_file(const struct wp_engine *e, const wp_manifest *m, const char *name,
                               uint64_t size);

/* The size cap wp_bounds_check_file applies: the most bytes a plugin file
   loaded with manifest `m` (may be NULL) may have. */
uint64_t wp_bounds_file_cap(const struct wp_engine *e, const wp_manifest *m);

/* WP_ERR_LOAD if a binary has more functions than the cap, or components
   nested too deep. */
wp_error *wp_bounds_check_functions(const struct wp_plugin *p, const uint8_t *bytes, size_t len);

/*
 * The text of a .wat parse error: Wasmtime's first line and line:column,
 * with a short excerpt of the source around the column (cut with "...")
 * and a caret under it, instead of Wasmtime's copy of the whole source
 * line, which may be megabytes. malloc'ed; NULL when out of memory.
 */
char *wp_wat_error_text(const char *wasmtime_msg, const char *src, size_t len);

/* The WP_ERR_LOAD for a .wat parse error, with the text above; frees werr. */
wp_error *wp_wat_error(const char *name, wasmtime_error_t *werr, const char *src, size_t len);

#endif
