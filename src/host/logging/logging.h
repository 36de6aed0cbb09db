/*
 * logging.h - the logging capability: wasi:logging/logging for components,
 * routed to the engine's log callback (wp_engine_config_set_log) as
 * wasmplug.log and wasmplug:plugin/host#log are. Logging needs no grant; an
 * optional manifest section sets the lowest level passed on:
 *
 *   "capabilities": {"logging": {"level": "warn"}}
 *
 * The public side: include/wasmplug/logging.h.
 */
#ifndef WP_HOST_LOGGING_H
#define WP_HOST_LOGGING_H

#include "wasmplug.h"

/* Registers the capability and defines wasi:logging/logging (every version). */
wp_error *wp_host_logging_install(wp_engine *e);

#endif
