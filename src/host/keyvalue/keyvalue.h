/*
 * keyvalue.h - the keyvalue capability: buckets of keys and byte values
 * that plugins share, granted by name in the manifest and kept in memory,
 * in a SQLite file or in Redis.
 *
 *   "capabilities": {"keyvalue": {"buckets": {
 *     "cache":    {"backend": "memory"},
 *     "sessions": {"backend": "sqlite", "path": "/var/lib/app/kv.db"},
 *     "shared":   {"backend": "redis", "url": "redis://127.0.0.1:6379/0",
 *                  "prefix": "app1:", "max_value_size": "64KiB", "max_keys": 100000}}}}
 *
 * Deny by default: a plugin reaches only the buckets its manifest names.
 * Per bucket:
 *   backend         "memory": per engine, shared by every plugin granted a
 *                   bucket of the same prefix + name; gone with the engine.
 *                   "sqlite": table wasmplug_kv of the file `path` (created
 *                   0600 if missing; WAL; 5 s busy timeout). A relative path
 *                   is resolved against the process's working directory when
 *                   the plugin loads: the capability does not know where the
 *                   manifest file was.
 *                   "redis": one Redis hash per bucket, named prefix + name,
 *                   on the server at `url` ("redis://[:password@]host[:port][/db]"
 *                   or "unix:/path/redis.sock[?db=N]"). Connected on first use;
 *                   while the server is down calls fail with an error and the
 *                   first call after it is back reconnects.
 *   prefix          namespaces the bucket in its store (default: "" for
 *                   memory and sqlite, "wasmplug:kv:" for redis).
 *   max_value_size  largest value a set accepts (default 1MiB, at most 64MiB).
 *   max_keys        keys the bucket may hold (default 10000; 0: no limit);
 *                   a set that would add one more fails.
 * Keys are UTF-8 without NUL, 1 to 4096 bytes. Increments store decimal text
 * ("42"), as Redis's HINCRBY does.
 *
 * Plugins reach buckets through wasi:keyvalue (store, atomics, batch at
 * 0.2.0-draft2, as Spin 3 imports it, and 0.2.0-draft, as wasmCloud does)
 * and through the core-module functions kv_* of the `wasmplug` import
 * module (pdk/c/wasmplug_kv.h, pdk/go/kv.go).
 */
#ifndef WP_HOST_KEYVALUE_H
#define WP_HOST_KEYVALUE_H

#include "wasmplug.h"

/* Registers the capability and its host functions on `e` (wp_engine_new). */
wp_error *wp_host_keyvalue_install(wp_engine *e);

#endif
