/*
 * keyvalue.h - the keyvalue capability: buckets of keys and byte values
 * that plugins share, granted by name in the manifest and kept in memory,
 * in a SQLite file or in Redis. What plugins and embedders see (the
 * manifest section, the interfaces, the limits, the default backend) is
 * documented in the public header, include/wasmplug/keyvalue.h; kv.h has
 * the insides.
 */
#ifndef WP_HOST_KEYVALUE_H
#define WP_HOST_KEYVALUE_H

#include "wasmplug.h"

/* Registers the capability and its host functions on `e` (wp_engine_new). */
wp_error *wp_host_keyvalue_install(wp_engine *e);

#endif
