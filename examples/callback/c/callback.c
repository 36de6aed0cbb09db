/*
 * callback: a wasmplug plugin in C that calls back into its host.
 *
 * Exports `callback` (bytes ABI): calls the embedder's bytes host function
 * `call_me(name) -> string`, imported from module "plugin", with its input
 * ("Nic" when the input is empty) and returns the host's answer unchanged.
 *
 * Build (from the repository root):
 *   clang-19 --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
 *       -Wall -Wextra -Werror -I pdk/c -o callback.wasm examples/callback/c/callback.c
 */
#include "wasmplug_pdk.h"

/* Declares the import and defines: wp_bytes call_me(const void *in, size_t len). */
WP_IMPORT_BYTES("plugin", "call_me", call_me)

static void do_callback(const uint8_t *name, size_t len) {
  if (len == 0) {
    name = (const uint8_t *)"Nic";
    len = 3;
  }
  wp_bytes answer = call_me(name, len);  /* owned by us */
  wp_output_take(answer.ptr, answer.len); /* handed on, freed after the call */
}

WP_EXPORT_BYTES(callback, do_callback)
