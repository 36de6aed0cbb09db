/*
 * fuzz_pw_map.c - the Proxy-Wasm header map decoder (pw_map_deserialize,
 * src/proxywasm/map.h) on arbitrary bytes, as a filter passes them to
 * proxy_set_header_map_pairs or proxy_send_local_response.
 *
 * Input: the serialized map itself.
 *
 * Must hold: no crash, leak or undefined behaviour, no read past the input;
 * a refusal leaves the map as it was; an accepted map is within the caps,
 * its names are lower-case header names and its values hold no CR, LF or
 * NUL, both NUL-terminated; it serializes back to exactly the input (with
 * the names lower-cased; the empty forms as a zero count), and that
 * deserializes to the same map. Lookups find every name in any case, and
 * replacing and removing a name keep the map well-formed.
 */
#include <string.h>

#include "fuzz.h"
#include "proxywasm/map.h"

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }
static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

static void check_pairs(const pw_map *m) {
  size_t bytes = 0;
  FUZZ_CHECK(m->n <= PW_MAP_MAX_PAIRS, "%zu pairs accepted", m->n);
  for (size_t i = 0; i < m->n; i++) {
    const pw_pair *p = &m->pairs[i];
    FUZZ_CHECK(pw_header_name_ok(p->name, p->name_len), "pair %zu's name accepted", i);
    FUZZ_CHECK(pw_header_value_ok(p->value, p->value_len), "pair %zu's value accepted", i);
    for (size_t j = 0; j < p->name_len; j++)
      FUZZ_CHECK(p->name[j] == lower(p->name[j]), "pair %zu's name not lower-cased", i);
    FUZZ_CHECK(p->name[p->name_len] == 0 && p->value[p->value_len] == 0,
               "pair %zu not NUL-terminated", i);
    bytes += p->name_len + p->value_len;
  }
  FUZZ_CHECK(bytes == m->bytes && bytes <= PW_MAP_MAX_BYTES, "bytes %zu, counted %zu", m->bytes,
             bytes);
}

/* The input as the map should write it back: names lower-cased in place
   (the serialized form puts them at the same offsets). */
static uint8_t *expected(const pw_map *m, const uint8_t *data, size_t size, size_t *len) {
  static const uint8_t empty[4] = {0};
  if (m->n == 0) data = empty, size = 4;
  uint8_t *want = malloc(size);
  FUZZ_CHECK(want != NULL, "out of memory");
  memcpy(want, data, size);
  size_t at = 4 + 8 * m->n;
  for (size_t i = 0; i < m->n; i++) {
    for (size_t j = 0; j < m->pairs[i].name_len; j++)
      want[at + j] = (uint8_t)lower((char)want[at + j]);
    at += m->pairs[i].name_len + m->pairs[i].value_len + 2;
  }
  *len = size;
  return want;
}

static void check_round_trip(const pw_map *m, const uint8_t *data, size_t size) {
  size_t len = pw_map_serialized_size(m), want_len;
  uint8_t *out = malloc(len), *want = expected(m, data, size, &want_len);
  FUZZ_CHECK(out != NULL, "out of memory");
  pw_map_serialize(m, out);
  FUZZ_CHECK(len == want_len && memcmp(out, want, len) == 0,
             "%zu bytes serialize back to %zu other bytes", want_len, len);
  pw_map again = {0};
  FUZZ_CHECK(pw_map_deserialize(&again, out, len) == PW_MAP_OK, "its own output refused");
  FUZZ_CHECK(again.n == m->n && again.bytes == m->bytes, "read back differently");
  for (size_t i = 0; i < m->n; i++)
    FUZZ_CHECK(strcmp(again.pairs[i].name, m->pairs[i].name) == 0 &&
                   again.pairs[i].value_len == m->pairs[i].value_len &&
                   memcmp(again.pairs[i].value, m->pairs[i].value, m->pairs[i].value_len) == 0,
               "pair %zu read back differently", i);
  pw_map_free(&again);
  free(out);
  free(want);
}

/* Lookups in another case, the view, then replace and remove of the first name. */
static void check_edits(pw_map *m) {
  if (m->n == 0) return;
  char *name = malloc(m->pairs[0].name_len + 1);
  FUZZ_CHECK(name != NULL, "out of memory");
  size_t name_len = m->pairs[0].name_len;
  for (size_t j = 0; j <= name_len; j++) name[j] = upper(m->pairs[0].name[j]);
  FUZZ_CHECK(pw_map_get(m, name, name_len) == &m->pairs[0], "the first name not found");
  size_t n;
  const wp_http_header *v = pw_map_view(m, &n);
  FUZZ_CHECK(v && n == m->n && v[n - 1].name == m->pairs[n - 1].name, "a wrong view");
  pw_map_status st = pw_map_replace(m, name, name_len, (const uint8_t *)"v", 1);
  FUZZ_CHECK(st == PW_MAP_OK || st == PW_MAP_TOO_BIG, "replace: %d", (int)st);
  check_pairs(m);
  if (st == PW_MAP_OK) {
    const pw_pair *p = pw_map_get(m, name, name_len);
    FUZZ_CHECK(p == &m->pairs[0] && p->value_len == 1, "replace did not keep the first pair");
  }
  pw_map_remove(m, name, name_len);
  FUZZ_CHECK(pw_map_get(m, name, name_len) == NULL, "remove left a pair");
  check_pairs(m);
  free(name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A copy of exactly the input, so reading past it is an ASan report. */
  uint8_t *copy = malloc(size ? size : 1);
  FUZZ_CHECK(copy != NULL, "out of memory");
  if (size) memcpy(copy, data, size);
  pw_map m = {0};
  FUZZ_CHECK(pw_map_add(&m, "kept", 4, (const uint8_t *)"yes", 3) == PW_MAP_OK, "setup");
  pw_map_status st = pw_map_deserialize(&m, copy, size);
  if (st == PW_MAP_OK) {
    check_pairs(&m);
    check_round_trip(&m, copy, size);
    check_edits(&m);
  } else {
    FUZZ_CHECK(st == PW_MAP_BAD || st == PW_MAP_TOO_BIG, "status %d", (int)st);
    FUZZ_CHECK(m.n == 1 && strcmp(m.pairs[0].name, "kept") == 0, "a refused map changed it");
  }
  pw_map_free(&m);
  free(copy);
  return 0;
}
