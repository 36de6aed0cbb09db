/*
 * manifest.h - the in-memory form of a wp_manifest (internal).
 *
 * A manifest is plain data: the plugin layer copies it into each wp_plugin
 * (wp_manifest_copy) so that later changes by the caller do not reach loaded
 * plugins. All strings are owned, NUL-terminated, malloc'ed.
 */
#ifndef WP_PLUGIN_MANIFEST_H
#define WP_PLUGIN_MANIFEST_H

#include "wasmplug.h"

typedef struct wp_dir_grant {
  char *host;    /* host path as given (resolved against base_dir if relative) */
  char *guest;   /* path the plugin sees */
  bool writable;
} wp_dir_grant;

typedef struct wp_kv {
  char *key;
  char *value;
} wp_kv;

typedef struct wp_stdio {
  wp_stdio_mode mode;
  wp_output_fn fn;
  void *user_data;
} wp_stdio;

struct wp_manifest {
  char *name;            /* NULL: derive from the source */
  char *source_path;     /* NULL: bytes are given to wp_plugin_load_bytes */
  bool has_sha256;
  uint8_t sha256[32];    /* pin, valid when has_sha256 */
  uint64_t max_memory;   /* bytes, 0 = engine default */
  uint32_t timeout_ms;   /* 0 = none */
  uint64_t fuel;         /* 0 = unmetered */
  wp_dir_grant *dirs;
  size_t ndirs;
  wp_kv *env;
  size_t nenv;
  char **args;
  size_t nargs;
  uint8_t *stdin_data;
  size_t stdin_len;
  bool has_stdin;
  wp_stdio out, err;
  wp_kv *config;
  size_t nconfig;
  bool trap_missing_imports; /* components: missing imports trap when called */
};

/* A deep copy of `m` (NULL gives an empty manifest); NULL only when out of memory. */
wp_manifest *wp_manifest_copy(const wp_manifest *m);

/* The config value for `key`, or NULL. Borrowed. */
const char *wp_manifest_config_get(const wp_manifest *m, const char *key, size_t key_len);

/* Parses 64 hex digits into 32 bytes; false on anything else. */
bool wp_sha256_from_hex(const char *hex, uint8_t out[32]);

#endif
