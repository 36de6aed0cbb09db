/*
 * reflect.h - describing a compiled core module (internal).
 */
#ifndef WP_PLUGIN_REFLECT_H
#define WP_PLUGIN_REFLECT_H

#include "plugin/plugin.h"

/* Fills p->imports / p->exports (and p->needs_wasi) from a compiled module. */
wp_error *wp_reflect_module(wp_plugin *p, const wasmtime_module_t *module);

/* Fills the type fields of `info` from a Wasmtime extern type. */
bool wp_reflect_describe(const wasm_externtype_t *et, wp_extern_info *info);

#endif
