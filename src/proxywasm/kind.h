/*
 * kind.h - the Proxy-Wasm kind (internal): a core module that exports
 * proxy_abi_version_0_2_x, linked against the proxy's host functions
 * (hostcalls.c) and WASI preview 1, and what it keeps per plugin and per
 * instance.
 */
#ifndef WP_PROXYWASM_KIND_H
#define WP_PROXYWASM_KIND_H

#include "instance/instance.h"
#include "proxywasm/abi.h"

struct pw_vm;

/* What a Proxy-Wasm plugin keeps (wp_plugin.kind_data). */
typedef struct pw_module {
  wasmtime_module_t *module;
  wasmtime_instance_pre_t *pre;
  char abi[8];                  /* "0.2.0" or "0.2.1" */
  int32_t cb_export[PW_CB_COUNT]; /* export index of each callback, -1 if absent */
  int32_t memory_export;        /* "memory" */
  int32_t alloc_export;         /* proxy_on_memory_allocate, else malloc; -1 if neither */
  int32_t init_export, main_export, start_export; /* _initialize, main, _start */
} pw_module;

static inline const pw_module *pw_module_of(const wp_plugin *p) { return p->kind_data; }

/* What an instance (a VM) keeps (wp_instance.kind_data). */
typedef struct pw_instance {
  wasmtime_instance_t instance;
  wasmtime_memory_t memory;
  bool has_memory;
  wasmtime_func_t alloc;
  bool has_alloc;
  wasmtime_func_t cb[PW_CB_COUNT];
  bool has_cb[PW_CB_COUNT];
  struct pw_vm *vm; /* the VM driving it (vm.c); NULL when called raw */
} pw_instance;

static inline pw_instance *pw_inst(const wp_instance *inst) { return inst->kind_data; }

/* The instance's memory; NULL/0 without one (or before instantiation). */
static inline uint8_t *pw_memory(wp_instance *inst, size_t *size) {
  pw_instance *pi = pw_inst(inst);
  if (!pi || !pi->has_memory || !inst->ctx) {
    *size = 0;
    return NULL;
  }
  *size = wasmtime_memory_data_size(inst->ctx, &pi->memory);
  return wasmtime_memory_data(inst->ctx, &pi->memory);
}

/* Whether [ptr, ptr + len) lies in memory of `size` bytes (no overflow: 64-bit sums of 32-bit
 * values). */
static inline bool pw_in_bounds(uint32_t ptr, uint32_t len, size_t size) {
  return (uint64_t)ptr + len <= size;
}

extern const wp_kind wp_proxywasm_kind;

/* Defines the env.proxy_* host functions in a linker (hostcalls.c). */
wasmtime_error_t *pw_define_hostcalls(wasmtime_linker_t *linker);

/* Whether (module, name) is one of the host functions pw_define_hostcalls defines. */
bool pw_is_hostcall(const char *module, const char *name);

#endif
