/*
 * wasmplug/keyvalue.h - the keyvalue capability: buckets of keys and byte
 * values that plugins share, granted by name in the manifest and kept in
 * memory, in a SQLite file or in Redis. wp_engine_new registers it on
 * every engine (wasmplug/capability.h says how capabilities work).
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone.
 *
 * The manifest section, checked when a plugin loads (a mistake fails the
 * load with WP_ERR_BAD_INPUT naming the field):
 *
 *   "capabilities": {"keyvalue": {"buckets": {
 *     "cache":    {"backend": "memory"},
 *     "sessions": {"backend": "sqlite", "path": "/var/lib/app/kv.db"},
 *     "shared":   {"backend": "redis", "url": "redis://127.0.0.1:6379/0",
 *                  "prefix": "app1:", "max_value_size": "64KiB", "max_keys": 100000},
 *     "counter":  {}}}}
 *
 * Deny by default: a plugin reaches only the buckets its manifest names
 * (names: 1 to WP_KV_MAX_BUCKET_NAME of A-Z a-z 0-9 _ - . :). Per bucket:
 *
 *   backend         "memory": per engine, shared by every plugin granted a
 *                   bucket of the same prefix + name; gone with the engine.
 *                   "sqlite": table wasmplug_kv of the file `path` (created
 *                   0600 if missing, never through a symlink; WAL; a 5 s busy
 *                   timeout, shortened to the time left in the plugin's call).
 *                   A relative path is resolved against the process's
 *                   working directory when the plugin loads.
 *                   "redis": one Redis hash per bucket, named prefix + name,
 *                   on the server at `url`:
 *                     redis://[[user]:password@]host[:port][/db]
 *                     unix:/path/redis.sock[?db=N]
 *                   Connected on first use; while the server is down calls
 *                   fail with an error and the first call after it is back
 *                   reconnects. Each wait (connect, a command) lasts at most
 *                   2 s, or the time left in the plugin's call if less.
 *                   Absent: the engine's default bucket spec
 *                   (wp_engine_set_keyvalue_default; `wasmplug serve` sets
 *                   one, docs/serve.md); an engine without one refuses the
 *                   bucket. Such a bucket may not give `path` or `url` (the
 *                   store is the embedder's choice), only the fields below.
 *   prefix          namespaces the bucket in its store (at most
 *                   WP_KV_MAX_PREFIX bytes; default "" for memory and
 *                   sqlite, "wasmplug:kv:" for redis).
 *   max_value_size  the largest value a set accepts: bytes, or a size such
 *                   as "64KiB" (default WP_KV_DEFAULT_MAX_VALUE_SIZE, at
 *                   most WP_KV_MAX_VALUE_SIZE).
 *   max_keys        keys the bucket may hold (default WP_KV_DEFAULT_MAX_KEYS;
 *                   0: no limit); a set or increment that would add one
 *                   more fails.
 *
 * Keys are UTF-8 without NUL, 1 to WP_KV_MAX_KEY bytes. Increments store
 * decimal text ("42"), as Redis's HINCRBY does, in 64-bit signed integers.
 * A page of keys holds at most WP_KV_PAGE keys.
 *
 * Components import the standard interfaces, at two drafts:
 *
 *   wasi:keyvalue/store@0.2.0-draft2    open; bucket.get, set, delete,
 *   wasi:keyvalue/atomics@0.2.0-draft2    exists, list-keys (string cursor);
 *   wasi:keyvalue/batch@0.2.0-draft2      increment (s64); cas.new,
 *                                         cas.current, swap; get-many,
 *                                         set-many, delete-many (as Spin 3)
 *   wasi:keyvalue/store@0.2.0-draft     the same without the cas resource
 *   wasi:keyvalue/atomics@0.2.0-draft     and swap; list-keys takes a u64
 *   wasi:keyvalue/batch@0.2.0-draft       cursor, increment a u64 (as wasmCloud)
 *
 * `open` of a bucket the manifest does not grant answers access-denied (the
 * engine's log callback gets a warning naming the missing grant); other
 * failures answer other(message).
 *
 * Core modules import bytes functions (wasmplug/host.h's ABI) from module
 * "wasmplug". Their input is fields, each a u32 little-endian length then
 * its bytes; their output is a status byte: 0 OK then the result fields,
 * 1 NONE, 2 ERROR then a UTF-8 message (unframed):
 *
 *   kv_get(bucket, key)                    OK value | NONE
 *   kv_set(bucket, key, value)             OK
 *   kv_delete(bucket, key)                 OK (also when there was no key)
 *   kv_exists(bucket, key)                 OK u8 (1: there is one)
 *   kv_keys(bucket[, cursor])              OK next-cursor key...  (an empty
 *                                          next-cursor: no more; no or an
 *                                          empty cursor: the first page)
 *   kv_increment(bucket, key, delta)       OK i64 (the new value); delta and
 *                                          result are 8 bytes, little-endian
 *   kv_cas(bucket, key, expected, value)   OK u8 (1: swapped, 0: the key
 *                                          held something else); expected is
 *                                          the byte 0 (the key must be absent)
 *                                          or the byte 1 then the bytes it
 *                                          must hold
 *
 * pdk/c/wasmplug_kv.h and pdk/go/kv.go do the framing. A failure the plugin
 * can handle (a bucket not granted, a limit, the backend down or slow) is an
 * ERROR answer; a malformed input fails the plugin's call with WP_ERR_ABI.
 *
 * Time: the plugin's limits.timeout_ms covers the time its keyvalue calls
 * take. A backend never waits past the call's deadline: when the deadline
 * comes first, the plugin's call fails with WP_ERR_TIMEOUT saying so (from
 * both the core functions and wasi:keyvalue), and a call interrupted by
 * wp_instance_interrupt fails with WP_ERR_INTERRUPTED. A Redis command
 * that timed out may still be carried out by the server later.
 */
#ifndef WASMPLUG_KEYVALUE_H
#define WASMPLUG_KEYVALUE_H

#include "wasmplug/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is exported from libwasmplug.so; the library's
   internals are built hidden. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** The longest key, in bytes. */
#define WP_KV_MAX_KEY 4096
/** The most keys one page of kv_keys / list-keys holds. */
#define WP_KV_PAGE 1000
/** The longest bucket name, in bytes. */
#define WP_KV_MAX_BUCKET_NAME 128
/** The longest prefix, in bytes. */
#define WP_KV_MAX_PREFIX 256
/** max_value_size when a bucket does not give it: 1 MiB. */
#define WP_KV_DEFAULT_MAX_VALUE_SIZE (1u << 20)
/** The largest max_value_size a bucket may give: 64 MiB. */
#define WP_KV_MAX_VALUE_SIZE (64u << 20)
/** max_keys when a bucket does not give it. */
#define WP_KV_DEFAULT_MAX_KEYS 10000u

/**
 * Sets the bucket spec that buckets without a "backend" use: a JSON object
 * such as {"backend": "sqlite", "path": "/var/lib/app/kv.db"} or
 * {"backend": "redis", "url": "redis://127.0.0.1:6379/0"}, with the fields
 * of a bucket in a manifest (backend is required; prefix, max_value_size and
 * max_keys are the defaults a bucket's own fields override). `spec_json` is
 * checked as a manifest's bucket is (WP_ERR_BAD_INPUT naming what is wrong,
 * and the default stays as it was); no store is opened until a plugin is
 * granted a bucket on it. A relative sqlite path is resolved against the
 * working directory now; the sqlite file's directory is created (mode 0700,
 * with missing parents) when a plugin first needs it. NULL clears the
 * default: buckets without "backend" are refused again.
 *
 * The default applies to plugins loaded afterwards; plugins already loaded
 * keep the stores they were given. Thread-safe: a plugin loading at the
 * same time gets the old or the new default, whole.
 */
wp_error *wp_engine_set_keyvalue_default(wp_engine *engine, const char *spec_json);

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_KEYVALUE_H */
