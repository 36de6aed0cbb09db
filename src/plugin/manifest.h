/*
 * manifest.h - the in-memory form of a wp_manifest (internal).
 *
 * A manifest is plain data: the plugin layer copies it into each wp_plugin
 * (wp_manifest_copy) so that later changes by the caller do not reach loaded
 * plugins. All strings are owned, NUL-terminated, malloc'ed, and every
 * string that reaches WASI or the plugin (name, guest paths, env, args,
 * config) is valid UTF-8: the setters and the JSON reader refuse the rest.
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

/*
 * A hash index over the keys of a list kept in insertion order (env and
 * config by key, dirs by guest path), so that finding a key costs the same
 * with a million keys as with ten and building a manifest stays linear.
 * The hash is keyed with random bytes per index: keys crafted to collide
 * under one seed do not collide under another.
 */
typedef struct wp_key_slot {
  size_t pos;    /* 1 + the key's position in the list; 0 = empty */
  uint64_t hash; /* the key's hash: most probes end here, without reading the key */
} wp_key_slot;

typedef struct wp_key_index {
  wp_key_slot *slots;
  size_t nslots;    /* 0 or a power of two, kept at most half full */
  uint64_t seed[2]; /* SipHash key, drawn when the table is first made */
} wp_key_index;

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
  /* where timeout_ms was set, named by the timeout's hint ("--timeout-ms", "limits.timeout_ms
     in manifest 'm.json'"); NULL: in code, by wp_manifest_set_timeout_ms */
  char *timeout_origin;
  uint64_t fuel;         /* 0 = unmetered */
  uint64_t max_module_size; /* bytes of the plugin file, 0 = engine's cap */
  uint32_t max_functions;   /* 0 = engine's cap */
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
  wp_isolation isolation;    /* where instances run; DEFAULT: the engine's choice */
  /* "capabilities": name -> the section's JSON text, in the order given */
  wp_kv *caps;
  size_t ncaps;
  /* "link": interface name -> path of the plug component serving it */
  wp_kv *links;
  size_t nlinks;
  /* Allocated lengths of the lists above, and their key indexes. */
  size_t dirs_cap, env_cap, args_cap, config_cap, caps_cap, links_cap;
  wp_key_index dirs_index, env_index, config_index, caps_index, links_index;
};

/* A deep copy of `m` (NULL gives an empty manifest); NULL only when out of memory. */
wp_manifest *wp_manifest_copy(const wp_manifest *m);

/* The config value for `key`, or NULL. Borrowed. O(1) on average: a
   plugin may call it on every request. */
const char *wp_manifest_config_get(const wp_manifest *m, const char *key, size_t key_len);

/* Parses 64 hex digits into 32 bytes; false on anything else. */
bool wp_sha256_from_hex(const char *hex, uint8_t out[32]);

/*
 * Shared by manifest.c (the representation) and manifest_json.c (the JSON
 * reader): the reader fills a manifest through the same lists and checks
 * as the setters, so both refuse the same things in the same words.
 */

/* Longest value quoted in an error message, in characters. */
#define WP_MANIFEST_QUOTE_CHARS 48

/* A value quoted for a message: escaped and cut to WP_MANIFEST_QUOTE_CHARS. */
typedef struct wp_quoted {
  char s[WP_MANIFEST_QUOTE_CHARS * 4 + 8];
} wp_quoted;

/* A WP_ERR_BAD_INPUT error: "<label>: <message>". */
wp_error *wp_manifest_fail(const char *label, const char *fmt, ...) WP_PRINTF(2, 3);

/* WP_ERR_NO_MEMORY, "manifest: out of memory". */
wp_error *wp_manifest_no_memory(void);

/* `len` bytes of `s` between `mark`s, escaped and cut for a message
   (manifest.c says how); "..." for JSON strings, '...' for raw JSON. */
const char *wp_manifest_quote(wp_quoted *q, const char *s, size_t len, char mark);
const char *wp_manifest_quote_str(wp_quoted *q, const char *s);

/* Fails unless `s` (a <what>, for the message) is UTF-8. */
wp_error *wp_manifest_check_text(const char *label, const char *what, const char *s);

/* Non-empty and without '='. */
bool wp_manifest_valid_env_name(const char *key);

/* A key/value list of a manifest (env or config) with its length and index. */
typedef struct wp_kv_list {
  wp_kv **items;
  size_t *n, *cap;
  wp_key_index *index;
} wp_kv_list;

wp_kv_list wp_manifest_env_list(wp_manifest *m);
wp_kv_list wp_manifest_config_list(wp_manifest *m);
wp_kv_list wp_manifest_caps_list(wp_manifest *m);
wp_kv_list wp_manifest_links_list(wp_manifest *m);

/* A capability's name: [a-z0-9_-]+. */
bool wp_capability_name_valid(const char *name);

/* The position of `key` in the list, or *l.n when absent. */
size_t wp_kv_find(wp_kv_list l, const char *key, size_t key_len);

/* Appends `key`, which the list does not hold; false (list unchanged) when
   out of memory. */
bool wp_kv_add(wp_kv_list l, const char *key, const char *value);

/* The position of the grant of guest path `guest`, or m->ndirs. */
size_t wp_manifest_dir_find(const wp_manifest *m, const char *guest);

/* Grants `host` as `guest`, replacing an earlier grant of `guest`; false
   when out of memory. */
bool wp_manifest_dir_set(wp_manifest *m, const char *host, const char *guest, bool writable);

#endif
