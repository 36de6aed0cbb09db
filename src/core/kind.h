/*
 * kind.h - the core-module kind (internal): what a core module keeps beside
 * the generic plugin (wp_plugin.kind_data), and its methods table.
 */
#ifndef WP_CORE_KIND_H
#define WP_CORE_KIND_H

#include "instance/instance.h"

/* What only a core module needs (wp_plugin.kind_data). */
typedef struct wp_core_plugin {
  wasmtime_module_t *module;
  wasmtime_instance_pre_t *pre;
  bool has_initialize;    /* exports _initialize */
  int32_t realloc_export; /* export index of cabi_realloc, -1 if none */
  int32_t memory_export;  /* export index of "memory", -1 if none */
  int32_t *post_export;   /* per export: index of cabi_post_<name>, or -1 */
} wp_core_plugin;

static inline const wp_core_plugin *wp_core_of(const wp_plugin *p) { return p->kind_data; }

extern const wp_kind wp_core_kind;

#endif
