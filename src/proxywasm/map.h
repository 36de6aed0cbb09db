/*
 * map.h - a Proxy-Wasm header map (internal): ordered name/value pairs with
 * lower-case names, duplicates kept, and the ABI's serialized form.
 *
 * Serialized form (little-endian u32): count; then per pair the name length
 * and the value length; then per pair the name bytes, a NUL, the value
 * bytes, a NUL (lengths exclude the NULs). An empty map may be given as
 * zero bytes or as a single 0 byte. Bytes after the last pair are refused.
 *
 * Everything here may come from an untrusted filter: names must be HTTP
 * tokens (optionally after one leading ':' for pseudo-headers), values must
 * hold no CR, LF or NUL, and a map never grows past PW_MAP_MAX_PAIRS pairs
 * or PW_MAP_MAX_BYTES bytes of names and values.
 */
#ifndef WP_PROXYWASM_MAP_H
#define WP_PROXYWASM_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wasmplug.h"

#define PW_MAP_MAX_PAIRS 1024
#define PW_MAP_MAX_BYTES (1u << 20)

/* Outcome of a map operation (the host turns it into an ABI status). */
typedef enum pw_map_status {
  PW_MAP_OK = 0,
  PW_MAP_BAD,       /* invalid name or value, malformed serialized map */
  PW_MAP_TOO_BIG,   /* over PW_MAP_MAX_PAIRS / PW_MAP_MAX_BYTES */
  PW_MAP_NO_MEMORY,
} pw_map_status;

typedef struct pw_pair {
  char *name; /* lower-case, NUL-terminated (name_len excludes the NUL) */
  size_t name_len;
  uint8_t *value; /* NUL-terminated too */
  size_t value_len;
  bool in_block; /* its strings live in the map's block, not in an allocation of their own */
} pw_pair;

typedef struct pw_map {
  pw_pair *pairs;
  size_t n, cap;
  size_t bytes;          /* sum of name_len + value_len */
  wp_http_header *view;  /* pw_map_view's array, rebuilt after changes */
  size_t view_cap;
  bool view_valid;
  /* An arena for the pairs' strings: pw_map_set_all fills it, later pairs
     take what it has left, and clearing empties it without freeing it, so a
     map reused for the next request costs no allocation. */
  char *block;
  size_t block_used, block_cap;
} pw_map;

/* Bytes of arena a map kept for reuse may hold (more is freed on clear). */
#define PW_MAP_KEEP_BYTES (64u << 10)

/* A zeroed pw_map is an empty map; pw_map_free releases it (and leaves it
   empty); pw_map_clear empties it and keeps its arrays and its arena (up to
   PW_MAP_KEEP_BYTES) for reuse. */
void pw_map_free(pw_map *m);
void pw_map_clear(pw_map *m);

/* Replaces the whole map with n headers (names lower-cased, checked). On
   failure the map is unchanged. */
pw_map_status pw_map_set_all(pw_map *m, const wp_http_header *h, size_t n);

/* Adds a pair at the end (keeps existing ones of that name). */
pw_map_status pw_map_add(pw_map *m, const char *name, size_t name_len, const uint8_t *value,
                         size_t value_len);

/* Sets `name` to one value: the first pair of that name gets it, later ones
   are removed; added at the end if there was none. */
pw_map_status pw_map_replace(pw_map *m, const char *name, size_t name_len, const uint8_t *value,
                             size_t value_len);

/* Removes every pair of that name (not finding one is fine). */
void pw_map_remove(pw_map *m, const char *name, size_t name_len);

/* The first pair with that name (compared case-insensitively), or NULL. */
const pw_pair *pw_map_get(const pw_map *m, const char *name, size_t name_len);

/* Size of the serialized form. */
size_t pw_map_serialized_size(const pw_map *m);

/* Writes the serialized form into out (pw_map_serialized_size bytes). */
void pw_map_serialize(const pw_map *m, uint8_t *out);

/* Replaces the whole map with a serialized one (checked against len with
   overflow-safe arithmetic; names lower-cased and checked). On failure the
   map is unchanged. */
pw_map_status pw_map_deserialize(pw_map *m, const uint8_t *data, size_t len);

/* The map as wp_http_header entries (borrowed, valid until the next change). NULL
   only when out of memory with n > 0. */
const wp_http_header *pw_map_view(pw_map *m, size_t *n);

/* Whether name is a valid header name (token, optional leading ':'). */
bool pw_header_name_ok(const char *name, size_t len);
/* Whether value holds no CR, LF or NUL. */
bool pw_header_value_ok(const uint8_t *value, size_t len);

#endif
