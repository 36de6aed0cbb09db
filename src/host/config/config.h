/*
 * config.h - the config capability: wasi:config/store for components,
 * answering from the manifest's "config" object (as wasmplug.config_get and
 * wasmplug:plugin/host#config-get do). The values are the plugin's by
 * definition, so there is nothing further to grant. The public side:
 * include/wasmplug/config_store.h.
 */
#ifndef WP_HOST_CONFIG_H
#define WP_HOST_CONFIG_H

#include "wasmplug.h"

/* Defines wasi:config/store (every version) on the engine. */
wp_error *wp_host_config_install(wp_engine *e);

#endif
