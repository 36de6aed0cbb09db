/*
 * wasmplug.c - assembles the layers (as Lua's linit.c does): the kinds of
 * plugin an engine loads, the built-ins each kind offers, and the hooks the
 * low floors call back through. The only file that sees every floor.
 *
 * Floors, low to high: util, engine, plugin, instance, then the kinds (core,
 * component, proxywasm) side by side, then isolation (a kind over the
 * kinds: plugins in worker processes), then the capabilities (host/, on the
 * public API and util/ only), then this file. A floor includes only its own
 * headers and lower ones (tests/unit/test_floors checks it).
 */
#include "core/host.h"
#include "core/kind.h"
#include "component/kind.h"
#include "engine/engine.h"
#include "host/config/config.h"
#include "host/crypto/crypto.h"
#include "host/dl/dl.h"
#include "host/http/http.h"
#include "host/keyvalue/keyvalue.h"
#include "host/logging/logging.h"
#include "instance/instance.h"
#include "isolation/process.h"
#include "proxywasm/kind.h"

/* Tried in this order: the first that claims the bytes loads them (a
   Proxy-Wasm filter is a core module too, so it comes before the core kind). */
static const struct wp_kind *const kinds[] = {&wp_component_kind, &wp_proxywasm_kind, &wp_core_kind,
                                              NULL};

static const wp_engine_hooks hooks = {
    .kinds = kinds,
    .wasi_budget = wp_instance_wasi_budget,
    .wasi_scratch = wp_instance_wasi_scratch,
    .process_kind = &wp_process_kind,
};

/* The capabilities every engine offers (src/host/<name>/, on the public API
   only), each denied until a plugin's manifest grants it (capability.h). */
static wp_error *(*const capabilities[])(wp_engine *) = {
    wp_host_config_install,
    wp_host_logging_install,
    wp_host_http_install,
    wp_host_crypto_install,
    wp_host_keyvalue_install,
    wp_host_dl_install,
    NULL,
};

wp_error *wp_engine_new(const wp_engine_config *cfg, wp_engine **out) {
  if (!out) return wp_error_new(WP_ERR_BAD_INPUT, "wp_engine_new: out is required");
  wp_engine *e;
  wp_error *err = wp_engine_create(cfg, &hooks, &e);
  if (err) return err;
  err = wp_host_define_builtins(e);
  for (size_t i = 0; !err && capabilities[i]; i++) err = capabilities[i](e);
  if (err) {
    wp_engine_free(e);
    return err;
  }
  /* What an isolated plugin's worker has too (src/isolation/). */
  e->builtin_defs = e->defs;
  e->builtin_caps = e->ncaps;
  *out = e;
  return NULL;
}
