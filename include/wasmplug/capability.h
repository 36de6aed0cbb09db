/*
 * wasmplug/capability.h - capabilities: services an engine offers plugins
 * (keyvalue, outbound HTTP, crypto, config, logging) through host
 * functions, each denied unless a plugin's manifest grants it.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 *
 * A capability is registered once per engine with a methods table. Its
 * grants live in the manifest's "capabilities" object, one section per
 * capability, which the capability reads itself:
 *
 *   "capabilities": {
 *     "keyvalue": {"buckets": {"cache": {"backend": "memory"}}},
 *     "http": {"allowed_hosts": ["https://api.example.com"]}
 *   }
 *
 * When a plugin loads, every capability of the engine is asked for the
 * plugin's grant (its `grant` method gets the section, or NULL when the
 * manifest has none: the plugin is granted nothing) and the grant is kept
 * with the plugin for its life. A section the capability refuses, or a
 * section for a capability the engine does not have, fails the load with
 * WP_ERR_BAD_INPUT naming it. The capability's host functions look the
 * grant up (wp_plugin_get_grant) on every call and refuse what it does not
 * allow, with an error that names the missing grant.
 *
 * wp_engine_new registers the built-in capabilities (keyvalue, http,
 * crypto, logging, dl; wasi:config/store answers from the manifest's config
 * and needs no section): see their headers, wasmplug/keyvalue.h,
 * wasmplug/outbound_http.h, wasmplug/crypto.h, wasmplug/logging.h,
 * wasmplug/dl.h and wasmplug/config_store.h. An embedder can add its own
 * the same way.
 */
#ifndef WASMPLUG_CAPABILITY_H
#define WASMPLUG_CAPABILITY_H

#include "wasmplug/engine.h"
#include "wasmplug/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** A capability registered on an engine. Owned by the engine. */
typedef struct wp_capability wp_capability;

/**
 * What a capability does when plugins load and when the engine goes. Every
 * method may run on any thread, several at once (plugins load in parallel).
 */
typedef struct wp_capability_methods {
  /** Its section in the manifest's "capabilities" object: [a-z0-9_-]+. */
  const char *name;
  /**
   * Checks the section of the plugin named `plugin_name` and makes its
   * grant. `section` is the section's JSON text (NUL-terminated, `len`
   * bytes), or NULL when the manifest has none. Set `*grant` to the
   * capability's own object (NULL: nothing granted) and return NULL, or
   * return an error (WP_ERR_BAD_INPUT, naming what is wrong in the section)
   * to fail the load. Required.
   */
  wp_error *(*grant)(void *data, const char *plugin_name, const char *section, size_t len,
                     void **grant);
  /** Frees a grant `grant` made (never called with NULL). May be NULL. */
  void (*grant_free)(void *data, void *grant);
  /** Frees `data` when the engine goes. May be NULL. */
  void (*free)(void *data);
  /**
   * The capability's engine-wide settings (not a plugin's grant: e.g. the
   * keyvalue default backend) as malloc'd JSON text, or NULL when it has
   * none. A plugin isolated in a worker process (wasmplug/isolation.h)
   * gets them in the worker's engine through `settings_apply` of the
   * capability of the same name there. Only the built-in capabilities
   * reach a worker. May be NULL.
   */
  char *(*settings_get)(void *data);
  /** Applies text `settings_get` returned (in another process). May be NULL. */
  wp_error *(*settings_apply)(void *data, const char *json);
} wp_capability_methods;

/**
 * Registers a capability on `engine`: plugins loaded afterwards get grants
 * from it. `methods` must outlive the engine (a static table); `data` is
 * handed to every method. `*out` (may be NULL) is the handle host functions
 * look grants up with. WP_ERR_BAD_INPUT if the name is taken or not of the
 * form above. Thread-safe; register capabilities before loading plugins.
 */
wp_error *wp_engine_add_capability(wp_engine *engine, const wp_capability_methods *methods,
                                   void *data, const wp_capability **out);

/** The capability named `name` on `engine` (borrowed), or NULL. */
const wp_capability *wp_engine_get_capability(const wp_engine *engine, const char *name);

/** The `data` a capability was registered with. */
void *wp_capability_get_data(const wp_capability *cap);

/**
 * The grant `cap` made for `plugin` when it loaded (borrowed; it lives as
 * long as the plugin), or NULL: nothing granted (also for a capability
 * registered after the plugin loaded).
 */
void *wp_plugin_get_grant(const wp_plugin *plugin, const wp_capability *cap);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_CAPABILITY_H */
