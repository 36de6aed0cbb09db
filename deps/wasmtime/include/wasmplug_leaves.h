/*
 * wasmplug_leaves.h - wasmplug's Rust extension for calls of component
 * exports whose parameters and result are built from scalars (bool, s8..u64,
 * f32, f64, char), `string` and `list<u8>`, nested in records and tuples
 * (src/leaves.rs). The values cross as a depth-first list of leaves and
 * each is lowered by Wasmtime's typed code for the type the export declares,
 * skipping the C API's per-call value conversions and type checks. Runs in
 * the embedder's store (its limiter, epoch deadline and fuel apply).
 * deps/wasmtime/build.sh installs this header next to wasmtime.h.
 *
 * No function unwinds into C: a Rust panic is reported as an error.
 */
#ifndef WASMPLUG_LEAVES_EXT_H
#define WASMPLUG_LEAVES_EXT_H

#include <stddef.h>
#include <stdint.h>

#include <wasmplug_bytes.h>
#include <wasmtime.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One leaf: the fields of records and tuples in declaration order, depth
 * first. A scalar is `bits`: an integer sign- or zero-extended to 64 bits, a
 * float's bit pattern, bool 0 or 1, a char's code point. A string or
 * list<u8> is `len` bytes at `data` (a string's are UTF-8).
 */
typedef struct wasmplug_leaf {
  uint64_t bits;
  const uint8_t *data;
  size_t len;
} wasmplug_leaf;

/* Where the export's result goes, from its type's canonical ABI. */
enum {
  WASMPLUG_LEAVES_RESULT_NONE = 0,   /* no result */
  WASMPLUG_LEAVES_RESULT_FLAT = 1,   /* one core value: one scalar leaf */
  WASMPLUG_LEAVES_RESULT_MEMORY = 2, /* more: returned through memory */
};

/*
 * Calls `func` (resolved in the instance living in `context`'s store) with
 * `nparams` leaves, which must lower to at most 16 core values, and writes
 * its result's `nresults` leaves to `results`: a string's or list<u8>'s bytes
 * go to the room `alloc(alloc_data, len)` gives (`data` is that room; the
 * caller frees it, also when the call fails after some were given).
 * `result_mode` must be the one the export's type has: the caller checks the
 * type once, and the call lowers and lifts each leaf by the export's own
 * types (a leaf list that does not fit them fails the call, never misreads).
 * Returns the WASMPLUG_BYTES_* codes: _OK, _CALL_FAILED (trap, timeout, a
 * result the guest got wrong, leaves that do not fit: *error says why; free
 * it with wasmtime_error_delete), _BAD_INPUT (NULL pointers, a result count
 * other than the result's), _NO_MEMORY (`alloc` returned NULL).
 */
int wasmplug_component_call_leaves(wasmtime_context_t *context,
                                   const wasmtime_component_func_t *func,
                                   const wasmplug_leaf *params, size_t nparams,
                                   uint32_t result_mode, wasmplug_leaf *results, size_t nresults,
                                   wasmplug_bytes_alloc_fn alloc, void *alloc_data,
                                   wasmtime_error_t **error);

#ifdef __cplusplus
}
#endif

#endif
