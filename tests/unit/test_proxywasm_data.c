/*
 * test_proxywasm_data.c - unit tests for the Proxy-Wasm host's data
 * structures: header maps and their serialized form (proxywasm/map.h),
 * buffers (proxywasm/buffer.h), shared data and metrics (proxywasm/shared.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxywasm/buffer.h"
#include "proxywasm/map.h"
#include "proxywasm/shared.h"
#include "util/buf.h"

/* ---- helpers ------------------------------------------------------------------ */

#define S(lit) (lit), (sizeof(lit) - 1)
#define V(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

static void put_u32(wp_buf *b, uint32_t v) {
  uint8_t d[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  assert_true(wp_buf_add(b, d, 4));
}

/* A serialized map written by hand, as an SDK would: n pairs of C strings. */
static void serialize_by_hand(wp_buf *b, const char *const *pairs, uint32_t n) {
  put_u32(b, n);
  for (uint32_t i = 0; i < n; i++) {
    put_u32(b, (uint32_t)strlen(pairs[2 * i]));
    put_u32(b, (uint32_t)strlen(pairs[2 * i + 1]));
  }
  for (uint32_t i = 0; i < 2 * n; i++) assert_true(wp_buf_add(b, pairs[i], strlen(pairs[i]) + 1));
}

/* The map's serialized form, malloc'ed. */
static uint8_t *serialize(const pw_map *m, size_t *len) {
  *len = pw_map_serialized_size(m);
  uint8_t *out = malloc(*len);
  assert_non_null(out);
  pw_map_serialize(m, out);
  return out;
}

static void assert_pair(const pw_map *m, size_t i, const char *name, const char *value) {
  assert_true(i < m->n);
  assert_string_equal(m->pairs[i].name, name);
  assert_int_equal(m->pairs[i].name_len, strlen(name));
  assert_string_equal((const char *)m->pairs[i].value, value);
  assert_int_equal(m->pairs[i].value_len, strlen(value));
}

/* ---- header names and values ---------------------------------------------------- */

static void test_header_name_value_ok(void **state) {
  (void)state;
  assert_true(pw_header_name_ok(S("x")));
  assert_true(pw_header_name_ok(S("Content-Type")));
  assert_true(pw_header_name_ok(S("!#$%&'*+-.^_`|~09az")));
  assert_true(pw_header_name_ok(S(":path")));
  assert_false(pw_header_name_ok(S("")));
  assert_false(pw_header_name_ok(NULL, 0));
  assert_false(pw_header_name_ok(S(":")));
  assert_false(pw_header_name_ok(S("::path")));
  assert_false(pw_header_name_ok(S("a:b")));
  assert_false(pw_header_name_ok(S("a b")));
  assert_false(pw_header_name_ok(S("a\"b")));
  assert_false(pw_header_name_ok("a\0b", 3));
  assert_false(pw_header_name_ok(S("caf\xc3\xa9")));
  assert_true(pw_header_value_ok(V("")));
  assert_true(pw_header_value_ok(NULL, 0));
  assert_true(pw_header_value_ok(V("a\tb \x80\xff")));
  assert_false(pw_header_value_ok(V("a\rb")));
  assert_false(pw_header_value_ok(V("a\nb")));
  assert_false(pw_header_value_ok((const uint8_t *)"a\0b", 3));
}

/* ---- maps: add, get, replace, remove ---------------------------------------------- */

static void test_map_add_get(void **state) {
  (void)state;
  pw_map m = {0};
  assert_int_equal(pw_map_add(&m, S("Content-Type"), V("text/plain")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S(":Path"), V("/x")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("content-type"), V("second")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("empty"), NULL, 0), PW_MAP_OK);
  assert_int_equal(m.n, 4);
  assert_pair(&m, 0, "content-type", "text/plain"); /* lower-cased on the way in */
  assert_pair(&m, 1, ":path", "/x");
  assert_pair(&m, 2, "content-type", "second"); /* duplicates kept, in order */
  assert_pair(&m, 3, "empty", "");
  assert_int_equal(m.bytes, 12 + 10 + 5 + 2 + 12 + 6 + 5);

  const pw_pair *p = pw_map_get(&m, S("CONTENT-type"));
  assert_non_null(p);
  assert_ptr_equal(p, &m.pairs[0]); /* the first of that name */
  assert_non_null(pw_map_get(&m, S(":PATH")));
  assert_null(pw_map_get(&m, S("content")));
  assert_null(pw_map_get(&m, S("content-type2")));
  assert_null(pw_map_get(&m, NULL, 0));

  /* Refused: the map stays as it was. */
  assert_int_equal(pw_map_add(&m, S("bad name"), V("v")), PW_MAP_BAD);
  assert_int_equal(pw_map_add(&m, S("::x"), V("v")), PW_MAP_BAD);
  assert_int_equal(pw_map_add(&m, S("ok"), V("bad\r\nvalue")), PW_MAP_BAD);
  assert_int_equal(pw_map_add(&m, S(""), V("v")), PW_MAP_BAD);
  assert_int_equal(m.n, 4);
  assert_int_equal(m.bytes, 52);

  pw_map_clear(&m);
  assert_int_equal(m.n, 0);
  assert_int_equal(m.bytes, 0);
  assert_null(pw_map_get(&m, S("empty")));
  assert_int_equal(pw_map_add(&m, S("a"), V("1")), PW_MAP_OK); /* usable after a clear */
  pw_map_free(&m);
  assert_null(m.pairs);
  assert_int_equal(m.n, 0);
  pw_map_free(&m); /* twice is fine: it left the map empty */
}

static void test_map_replace(void **state) {
  (void)state;
  pw_map m = {0};
  assert_int_equal(pw_map_add(&m, S("a"), V("1")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("b"), V("2")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("A"), V("3")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("c"), V("4")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("a"), V("5")), PW_MAP_OK);
  /* The first "a" takes the value where it stands; the later ones go. */
  assert_int_equal(pw_map_replace(&m, S("A"), V("new")), PW_MAP_OK);
  assert_int_equal(m.n, 3);
  assert_pair(&m, 0, "a", "new");
  assert_pair(&m, 1, "b", "2");
  assert_pair(&m, 2, "c", "4");
  assert_int_equal(m.bytes, 4 + 2 + 2);
  /* A name not there yet is added at the end. */
  assert_int_equal(pw_map_replace(&m, S("D"), V("x")), PW_MAP_OK);
  assert_int_equal(m.n, 4);
  assert_pair(&m, 3, "d", "x");
  /* Refused values and names change nothing. */
  assert_int_equal(pw_map_replace(&m, S("a"), V("x\ny")), PW_MAP_BAD);
  assert_int_equal(pw_map_replace(&m, S("a b"), V("x")), PW_MAP_BAD);
  assert_int_equal(m.n, 4);
  assert_pair(&m, 0, "a", "new");
  assert_int_equal(m.bytes, 10);
  pw_map_free(&m);
}

static void test_map_remove(void **state) {
  (void)state;
  pw_map m = {0};
  const char *names[] = {"x", "y", "X", "z", "x"};
  for (size_t i = 0; i < 5; i++) assert_int_equal(pw_map_add(&m, names[i], 1, V("v")), PW_MAP_OK);
  pw_map_remove(&m, S("X"));
  assert_int_equal(m.n, 2);
  assert_pair(&m, 0, "y", "v");
  assert_pair(&m, 1, "z", "v");
  assert_int_equal(m.bytes, 4);
  pw_map_remove(&m, S("missing")); /* fine */
  pw_map_remove(&m, S("bad name"));
  assert_int_equal(m.n, 2);
  pw_map_remove(&m, S("y"));
  pw_map_remove(&m, S("z"));
  assert_int_equal(m.n, 0);
  assert_int_equal(m.bytes, 0);
  pw_map_free(&m);
}

static void test_map_set_all_and_view(void **state) {
  (void)state;
  pw_map m = {0};
  size_t n = 99;
  const wp_http_header *v = pw_map_view(&m, &n);
  assert_non_null(v); /* empty, but not NULL */
  assert_int_equal(n, 0);

  wp_http_header h[] = {{S(":Method"), V("GET")}, {S("Host"), V("x")}, {S("host"), V("y")}};
  assert_int_equal(pw_map_set_all(&m, h, 3), PW_MAP_OK);
  v = pw_map_view(&m, &n);
  assert_int_equal(n, 3);
  assert_string_equal(v[0].name, ":method");
  assert_memory_equal(v[0].value, "GET", 3);
  assert_string_equal(v[1].name, "host");
  assert_memory_equal(v[2].value, "y", 1);
  assert_ptr_equal(pw_map_view(&m, &n), v); /* unchanged: the same array */

  assert_int_equal(pw_map_replace(&m, S("host"), V("z")), PW_MAP_OK);
  v = pw_map_view(&m, &n);
  assert_int_equal(n, 2);
  assert_string_equal(v[1].name, "host");
  assert_int_equal(v[1].value_len, 1);
  assert_memory_equal(v[1].value, "z", 1);

  /* A failing set_all leaves the map as it was. */
  wp_http_header bad[] = {{S("ok"), V("1")}, {S("no good"), V("2")}};
  assert_int_equal(pw_map_set_all(&m, bad, 2), PW_MAP_BAD);
  assert_int_equal(m.n, 2);
  assert_pair(&m, 0, ":method", "GET");
  assert_pair(&m, 1, "host", "z");

  assert_int_equal(pw_map_set_all(&m, NULL, 0), PW_MAP_OK);
  assert_int_equal(m.n, 0);
  v = pw_map_view(&m, &n);
  assert_non_null(v);
  assert_int_equal(n, 0);
  pw_map_free(&m);
}

/* The arena: reused after a clear, shared by later pairs, never read while
   it is rewritten (set_all from the map's own view), and not kept when big. */
static void test_map_arena(void **state) {
  (void)state;
  pw_map m = {0};
  wp_http_header h[] = {{S(":path"), V("/a")}, {S("Accept"), V("*/*")}};
  assert_int_equal(pw_map_set_all(&m, h, 2), PW_MAP_OK);
  char *block = m.block;
  assert_non_null(block);
  /* A pair added later takes room in the arena (no allocation of its own). */
  assert_int_equal(pw_map_add(&m, S("x-one"), V("1")), PW_MAP_OK);
  assert_true(m.pairs[2].in_block);
  assert_true((char *)m.pairs[2].name >= block && (char *)m.pairs[2].name < block + m.block_cap);
  /* One bigger than what is left: an allocation of its own, freed with the map. */
  char big[2048];
  memset(big, 'v', sizeof big);
  assert_int_equal(pw_map_add(&m, S("x-big"), (const uint8_t *)big, sizeof big), PW_MAP_OK);
  assert_false(m.pairs[3].in_block);

  /* set_all from the map's own view: the copy reads the old strings before
     it overwrites anything, and the pair with storage of its own is freed. */
  size_t n;
  const wp_http_header *v = pw_map_view(&m, &n);
  assert_int_equal(n, 4);
  assert_int_equal(pw_map_set_all(&m, v, n), PW_MAP_OK);
  assert_int_equal(m.n, 4);
  assert_pair(&m, 0, ":path", "/a");
  assert_pair(&m, 1, "accept", "*/*");
  assert_pair(&m, 2, "x-one", "1");
  assert_int_equal(m.pairs[3].value_len, sizeof big);
  assert_memory_equal(m.pairs[3].value, big, sizeof big);
  for (size_t i = 0; i < 4; i++) assert_true(m.pairs[i].in_block);

  /* Cleared, the arena stays for the next headers, which land at its start. */
  block = m.block;
  size_t cap = m.block_cap;
  pw_map_clear(&m);
  assert_int_equal(m.n, 0);
  assert_ptr_equal(m.block, block);
  assert_int_equal(pw_map_set_all(&m, h, 2), PW_MAP_OK);
  assert_ptr_equal(m.block, block);
  assert_int_equal(m.block_cap, cap);
  assert_ptr_equal(m.pairs[0].name, block);
  assert_pair(&m, 1, "accept", "*/*");
  /* Its own view again, small enough for the arena: a fresh arena is made
     instead of writing over what is being read. */
  v = pw_map_view(&m, &n);
  assert_int_equal(pw_map_set_all(&m, v, n), PW_MAP_OK);
  assert_ptr_not_equal(m.block, block);
  assert_pair(&m, 0, ":path", "/a");
  assert_pair(&m, 1, "accept", "*/*");

  /* A replace while the arena is full: the old value's room is not reused,
     the map still reads right. */
  for (int i = 0; i < 64; i++)
    assert_int_equal(pw_map_replace(&m, S("Accept"), V("text/html")), PW_MAP_OK);
  assert_int_equal(m.n, 2);
  assert_pair(&m, 1, "accept", "text/html");

  /* An arena over PW_MAP_KEEP_BYTES is let go on clear. */
  static char huge[PW_MAP_KEEP_BYTES + 1];
  memset(huge, 'h', sizeof huge);
  wp_http_header hh[] = {{S("x-huge"), (const uint8_t *)huge, sizeof huge}};
  assert_int_equal(pw_map_set_all(&m, hh, 1), PW_MAP_OK);
  assert_true(m.block_cap > PW_MAP_KEEP_BYTES);
  pw_map_clear(&m);
  assert_null(m.block);
  assert_int_equal(m.block_cap, 0);
  assert_int_equal(pw_map_set_all(&m, h, 2), PW_MAP_OK);
  assert_pair(&m, 0, ":path", "/a");
  pw_map_free(&m);
}

/* ---- maps: the serialized form ---------------------------------------------------- */

static void test_map_serialize_exact(void **state) {
  (void)state;
  pw_map m = {0};
  assert_int_equal(pw_map_add(&m, S(":path"), V("/")), PW_MAP_OK);
  assert_int_equal(pw_map_add(&m, S("a"), V("")), PW_MAP_OK);
  static const uint8_t want[] = {2, 0, 0, 0, 5,   0,   0,   0,   1,   0, 0,   0, 1,   0, 0, 0,
                                 0, 0, 0, 0, ':', 'p', 'a', 't', 'h', 0, '/', 0, 'a', 0, 0};
  size_t len;
  uint8_t *out = serialize(&m, &len);
  assert_int_equal(len, sizeof want);
  assert_memory_equal(out, want, sizeof want);
  free(out);

  pw_map_clear(&m);
  out = serialize(&m, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(out, "\0\0\0\0", 4);
  free(out);
  pw_map_free(&m);
}

static void test_map_round_trip(void **state) {
  (void)state;
  const char *const pairs[] = {":method", "POST", ":path", "/a?b=c", "X-Dup", "1",
                               "x-dup",   "2",    "e",     "",       "v",     "\t \x80\xff"};
  wp_buf in = {0};
  serialize_by_hand(&in, pairs, 6);
  pw_map m = {0};
  assert_int_equal(pw_map_deserialize(&m, in.data, in.len), PW_MAP_OK);
  assert_int_equal(m.n, 6);
  assert_pair(&m, 0, ":method", "POST");
  assert_pair(&m, 2, "x-dup", "1"); /* lower-cased, duplicates kept in order */
  assert_pair(&m, 3, "x-dup", "2");
  assert_pair(&m, 4, "e", "");
  assert_pair(&m, 5, "v", "\t \x80\xff");

  /* Written back byte for byte, but for the lower-cased name. */
  const char *const lowered[] = {":method", "POST", ":path", "/a?b=c", "x-dup", "1",
                                 "x-dup",   "2",    "e",     "",       "v",     "\t \x80\xff"};
  wp_buf want = {0};
  serialize_by_hand(&want, lowered, 6);
  size_t len;
  uint8_t *out = serialize(&m, &len);
  assert_int_equal(len, want.len);
  assert_memory_equal(out, want.data, len);
  wp_buf_free(&want);

  pw_map back = {0};
  assert_int_equal(pw_map_deserialize(&back, out, len), PW_MAP_OK);
  assert_int_equal(back.n, m.n);
  for (size_t i = 0; i < m.n; i++)
    assert_pair(&back, i, m.pairs[i].name, (const char *)m.pairs[i].value);
  free(out);
  wp_buf_free(&in);
  pw_map_free(&m);
  pw_map_free(&back);
}

static void test_map_deserialize_empty_forms(void **state) {
  (void)state;
  pw_map m = {0};
  static const uint8_t zero4[4] = {0};
  const uint8_t *forms[] = {NULL, zero4, zero4};
  size_t lens[] = {0, 1, 4};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(pw_map_add(&m, S("k"), V("v")), PW_MAP_OK);
    assert_int_equal(pw_map_deserialize(&m, forms[i], lens[i]), PW_MAP_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(m.bytes, 0);
  }
  /* Other short inputs are not maps. */
  assert_int_equal(pw_map_deserialize(&m, (const uint8_t *)"\x01", 1), PW_MAP_BAD);
  assert_int_equal(pw_map_deserialize(&m, zero4, 2), PW_MAP_BAD);
  assert_int_equal(pw_map_deserialize(&m, zero4, 3), PW_MAP_BAD);
  pw_map_free(&m);
}

/* Each case below is refused, and the map keeps what it held. */
static void assert_refused(const wp_buf *b, pw_map_status want) {
  pw_map m = {0};
  assert_int_equal(pw_map_add(&m, S("kept"), V("yes")), PW_MAP_OK);
  /* An exact-size copy, so that a read past the end is an ASan report. */
  uint8_t *copy = malloc(b->len ? b->len : 1);
  assert_non_null(copy);
  if (b->len) memcpy(copy, b->data, b->len);
  assert_int_equal(pw_map_deserialize(&m, copy, b->len), want);
  assert_int_equal(m.n, 1);
  assert_pair(&m, 0, "kept", "yes");
  free(copy);
  pw_map_free(&m);
}

static void test_map_deserialize_malformed(void **state) {
  (void)state;
  const char *const pairs[] = {"a", "1", "bb", "22"};
  wp_buf good = {0};
  serialize_by_hand(&good, pairs, 2);

  /* Every truncation (but the empty forms) and one byte too many. */
  for (size_t cut = 1; cut < good.len; cut++) {
    wp_buf t = {good.data, cut, cut, false};
    assert_refused(&t, PW_MAP_BAD);
  }
  wp_buf longer = {0};
  assert_true(wp_buf_add(&longer, good.data, good.len));
  assert_true(wp_buf_putc(&longer, 0));
  assert_refused(&longer, PW_MAP_BAD);

  /* A missing NUL after a name, after a value. */
  size_t names_at = 4 + 2 * 8;
  for (size_t nul = 0; nul < 4; nul++) {
    size_t at[] = {names_at + 1, names_at + 3, names_at + 6, names_at + 9};
    wp_buf t = {0};
    assert_true(wp_buf_add(&t, good.data, good.len));
    assert_int_equal(t.data[at[nul]], 0);
    t.data[at[nul]] = 'x';
    assert_refused(&t, PW_MAP_BAD);
    wp_buf_free(&t);
  }

  /* Counts the data cannot hold. */
  uint32_t counts[] = {3, 0x20000000, 0x40000000, 0xFFFFFFFF};
  for (size_t i = 0; i < 4; i++) {
    wp_buf t = {0};
    put_u32(&t, counts[i]);
    assert_true(wp_buf_add(&t, good.data + 4, good.len - 4));
    assert_refused(&t, PW_MAP_BAD);
    wp_buf_free(&t);
  }

  /* Lengths whose sums wrap in 32 bits, or overrun the data. */
  uint32_t lens[][2] = {{0xFFFFFFFF, 0xFFFFFFFF}, {0xFFFFFFFF, 1}, {1, 0xFFFFFFFE}, {2, 1}};
  for (size_t i = 0; i < 4; i++) {
    wp_buf t = {0};
    put_u32(&t, 1);
    put_u32(&t, lens[i][0]);
    put_u32(&t, lens[i][1]);
    assert_true(wp_buf_add(&t, "a\0001\0", 4));
    assert_refused(&t, PW_MAP_BAD);
    wp_buf_free(&t);
  }

  /* Well-formed, but not a header: the name or the value is refused. */
  const char *const bad_name[] = {"a b", "1"}, *const bad_value[] = {"a", "1\r2"};
  const char *const *bad[] = {bad_name, bad_value};
  for (size_t i = 0; i < 2; i++) {
    wp_buf t = {0};
    serialize_by_hand(&t, bad[i], 1);
    assert_refused(&t, PW_MAP_BAD);
    wp_buf_free(&t);
  }
  /* A NUL inside a value: its length says 3 but a NUL comes first. */
  wp_buf t = {0};
  put_u32(&t, 1);
  put_u32(&t, 1);
  put_u32(&t, 3);
  assert_true(wp_buf_add(&t, "a\0x\0y\0", 6));
  assert_refused(&t, PW_MAP_BAD);
  wp_buf_free(&t);
  wp_buf_free(&longer);
  wp_buf_free(&good);
}

/* ---- maps: caps ------------------------------------------------------------------- */

static void test_map_caps(void **state) {
  (void)state;
  pw_map m = {0};
  char name[16];
  for (int i = 0; i < PW_MAP_MAX_PAIRS; i++) {
    int n = snprintf(name, sizeof name, "h%d", i);
    assert_int_equal(pw_map_add(&m, name, (size_t)n, V("v")), PW_MAP_OK);
  }
  assert_int_equal(pw_map_add(&m, S("one-more"), V("v")), PW_MAP_TOO_BIG);
  /* replace of a name there keeps the count; of a new one would add */
  assert_int_equal(pw_map_replace(&m, S("h7"), V("w")), PW_MAP_OK);
  assert_int_equal(pw_map_replace(&m, S("new"), V("w")), PW_MAP_TOO_BIG);
  assert_int_equal(m.n, PW_MAP_MAX_PAIRS);

  /* Serialized with more pairs than the cap: well-formed, too big. */
  size_t len;
  uint8_t *out = serialize(&m, &len);
  assert_int_equal(pw_map_deserialize(&m, out, len), PW_MAP_OK);
  wp_buf over = {0};
  put_u32(&over, PW_MAP_MAX_PAIRS + 1);
  assert_true(wp_buf_add(&over, out + 4, PW_MAP_MAX_PAIRS * 8));
  put_u32(&over, 1);
  put_u32(&over, 0);
  assert_true(wp_buf_add(&over, out + 4 + PW_MAP_MAX_PAIRS * 8, len - 4 - PW_MAP_MAX_PAIRS * 8));
  assert_true(wp_buf_add(&over, "z\0\0", 3));
  assert_refused(&over, PW_MAP_TOO_BIG);
  wp_buf_free(&over);
  free(out);

  /* set_all over the cap: refused whole. */
  wp_http_header *h = calloc(PW_MAP_MAX_PAIRS + 1, sizeof *h);
  assert_non_null(h);
  for (size_t i = 0; i <= PW_MAP_MAX_PAIRS; i++) h[i] = (wp_http_header){S("x"), V("")};
  assert_int_equal(pw_map_set_all(&m, h, PW_MAP_MAX_PAIRS + 1), PW_MAP_TOO_BIG);
  assert_int_equal(m.n, PW_MAP_MAX_PAIRS);
  assert_int_equal(pw_map_set_all(&m, h, PW_MAP_MAX_PAIRS), PW_MAP_OK);
  free(h);

  /* Bytes: names and values count, exactly up to the cap. */
  pw_map_clear(&m);
  uint8_t *big = malloc(PW_MAP_MAX_BYTES);
  assert_non_null(big);
  memset(big, 'v', PW_MAP_MAX_BYTES);
  assert_int_equal(pw_map_add(&m, S("a"), big, PW_MAP_MAX_BYTES), PW_MAP_TOO_BIG);
  assert_int_equal(pw_map_add(&m, S("a"), big, PW_MAP_MAX_BYTES - 1), PW_MAP_OK);
  assert_int_equal(m.bytes, PW_MAP_MAX_BYTES);
  assert_int_equal(pw_map_add(&m, S("b"), NULL, 0), PW_MAP_TOO_BIG);
  /* Replacing the big value by another as big fits: the old one goes. */
  assert_int_equal(pw_map_replace(&m, S("a"), big, PW_MAP_MAX_BYTES - 1), PW_MAP_OK);
  assert_int_equal(pw_map_replace(&m, S("a"), big, PW_MAP_MAX_BYTES), PW_MAP_TOO_BIG);
  /* Lengths near SIZE_MAX are refused before anything is read. */
  pw_map_clear(&m);
  assert_int_equal(pw_map_add(&m, S("a"), big, SIZE_MAX), PW_MAP_TOO_BIG);
  assert_int_equal(pw_map_add(&m, "a", SIZE_MAX, big, 1), PW_MAP_TOO_BIG);
  assert_int_equal(pw_map_replace(&m, "a", SIZE_MAX - 1, big, 2), PW_MAP_TOO_BIG);
  assert_int_equal(m.n, 0);
  free(big);
  pw_map_free(&m);
}

/* ---- buffers ---------------------------------------------------------------------- */

static void assert_buffer(const pw_buffer *b, const char *want) {
  assert_int_equal(b->len, strlen(want));
  if (b->len) assert_memory_equal(b->data, want, b->len);
}

static void test_buffer_append_assign(void **state) {
  (void)state;
  pw_buffer b = {0};
  assert_int_equal(pw_buffer_append(&b, "abc", 3), PW_BUFFER_OK);
  assert_int_equal(pw_buffer_append(&b, NULL, 0), PW_BUFFER_OK);
  assert_int_equal(pw_buffer_append(&b, "de", 2), PW_BUFFER_OK);
  assert_buffer(&b, "abcde");
  assert_int_equal(pw_buffer_assign(&b, "xy", 2), PW_BUFFER_OK);
  assert_buffer(&b, "xy");
  assert_int_equal(pw_buffer_assign(&b, b.data + 1, 1), PW_BUFFER_OK); /* from itself */
  assert_buffer(&b, "y");
  pw_buffer_clear(&b);
  assert_buffer(&b, "");
  assert_non_null(b.data); /* memory kept */
  assert_int_equal(pw_buffer_append(&b, "z", 1), PW_BUFFER_OK);
  b.max = 7;
  pw_buffer_free(&b);
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_int_equal(b.cap, 0);
  assert_int_equal(b.max, 7); /* kept */
  pw_buffer_free(&b);
}

static void test_buffer_splice(void **state) {
  (void)state;
  pw_buffer b = {0};
  assert_int_equal(pw_buffer_splice(&b, 0, 0, "mid", 3), PW_BUFFER_OK); /* empty: appends */
  assert_buffer(&b, "mid");
  assert_int_equal(pw_buffer_splice(&b, 0, 0, "<<", 2), PW_BUFFER_OK); /* prepend */
  assert_buffer(&b, "<<mid");
  assert_int_equal(pw_buffer_splice(&b, 5, 0, ">>", 2), PW_BUFFER_OK); /* start == len */
  assert_buffer(&b, "<<mid>>");
  assert_int_equal(pw_buffer_splice(&b, 1000, 7, "!", 1), PW_BUFFER_OK); /* past the end */
  assert_buffer(&b, "<<mid>>!");
  assert_int_equal(pw_buffer_splice(&b, UINT32_MAX, UINT32_MAX, "?", 1), PW_BUFFER_OK);
  assert_buffer(&b, "<<mid>>!?");
  assert_int_equal(pw_buffer_splice(&b, 2, 3, "MIDDLE", 6), PW_BUFFER_OK); /* grows */
  assert_buffer(&b, "<<MIDDLE>>!?");
  assert_int_equal(pw_buffer_splice(&b, 2, 6, "m", 1), PW_BUFFER_OK); /* shrinks */
  assert_buffer(&b, "<<m>>!?");
  assert_int_equal(pw_buffer_splice(&b, 3, 2, NULL, 0), PW_BUFFER_OK); /* deletes */
  assert_buffer(&b, "<<m!?");
  assert_int_equal(pw_buffer_splice(&b, 3, UINT32_MAX, "..", 2), PW_BUFFER_OK); /* clamped */
  assert_buffer(&b, "<<m..");
  assert_int_equal(pw_buffer_splice(&b, 0, UINT32_MAX, "all", 3), PW_BUFFER_OK);
  assert_buffer(&b, "all");
  assert_int_equal(pw_buffer_splice(&b, 0, 3, NULL, 0), PW_BUFFER_OK);
  assert_buffer(&b, "");
  pw_buffer_free(&b);
}

static void test_buffer_slice(void **state) {
  (void)state;
  pw_buffer b = {0};
  const uint8_t *d = NULL;
  size_t len = 99;
  assert_true(pw_buffer_slice(&b, 0, UINT32_MAX, &d, &len)); /* never filled */
  assert_non_null(d);
  assert_int_equal(len, 0);
  assert_false(pw_buffer_slice(&b, 1, 1, &d, &len));

  assert_int_equal(pw_buffer_assign(&b, "0123456789", 10), PW_BUFFER_OK);
  assert_true(pw_buffer_slice(&b, 0, UINT32_MAX, &d, &len));
  assert_int_equal(len, 10);
  assert_memory_equal(d, "0123456789", 10);
  assert_true(pw_buffer_slice(&b, 3, 4, &d, &len));
  assert_int_equal(len, 4);
  assert_memory_equal(d, "3456", 4);
  assert_true(pw_buffer_slice(&b, 8, UINT32_MAX, &d, &len));
  assert_int_equal(len, 2);
  assert_memory_equal(d, "89", 2);
  assert_true(pw_buffer_slice(&b, 5, 0, &d, &len));
  assert_int_equal(len, 0);
  assert_true(pw_buffer_slice(&b, 10, UINT32_MAX, &d, &len)); /* start == len: empty */
  assert_int_equal(len, 0);
  assert_false(pw_buffer_slice(&b, 11, 1, &d, &len));
  assert_false(pw_buffer_slice(&b, UINT32_MAX, UINT32_MAX, &d, &len));
  pw_buffer_free(&b);
}

static void test_buffer_max(void **state) {
  (void)state;
  pw_buffer b = {.max = 10};
  assert_int_equal(pw_buffer_append(&b, "0123456789", 10), PW_BUFFER_OK);
  assert_int_equal(pw_buffer_append(&b, "x", 1), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_splice(&b, 100, 0, "x", 1), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_splice(&b, 0, 0, "x", 1), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_splice(&b, 2, 3, "abcd", 4), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_splice(&b, 2, 3, "abc", 3), PW_BUFFER_OK); /* same size */
  assert_int_equal(pw_buffer_splice(&b, 0, UINT32_MAX, "0123456789", 10), PW_BUFFER_OK);
  assert_buffer(&b, "0123456789");
  assert_int_equal(pw_buffer_assign(&b, "0123456789a", 11), PW_BUFFER_TOO_BIG);
  assert_buffer(&b, "0123456789"); /* refused: unchanged */
  /* Lengths near SIZE_MAX are refused before anything is read. */
  assert_int_equal(pw_buffer_append(&b, "", SIZE_MAX), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_splice(&b, 0, UINT32_MAX, "", SIZE_MAX), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_assign(&b, "", SIZE_MAX), PW_BUFFER_TOO_BIG);
  pw_buffer_free(&b);

  pw_buffer d = {0}; /* max 0: PW_BUFFER_DEFAULT_MAX */
  assert_int_equal(pw_buffer_append(&d, "x", 1), PW_BUFFER_OK);
  assert_int_equal(pw_buffer_append(&d, "", PW_BUFFER_DEFAULT_MAX), PW_BUFFER_TOO_BIG);
  assert_int_equal(pw_buffer_assign(&d, "", PW_BUFFER_DEFAULT_MAX + 1), PW_BUFFER_TOO_BIG);
  assert_buffer(&d, "x");
  pw_buffer_free(&d);
}

/* ---- shared data ------------------------------------------------------------------ */

static void test_shared_get_set(void **state) {
  (void)state;
  pw_shared *s = pw_shared_new();
  assert_non_null(s);
  uint8_t *v = NULL;
  size_t len = 0;
  uint32_t cas = 0;
  assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_NOT_FOUND);

  assert_int_equal(pw_shared_set(s, "vm", V("k"), V("one"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_int_equal(len, 3);
  assert_memory_equal(v, "one", 3);
  assert_int_not_equal(cas, 0);
  free(v);
  uint32_t first = cas;

  /* A stale cas loses; the current one wins and moves the cas on. */
  assert_int_equal(pw_shared_set(s, "vm", V("k"), V("two"), first), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", V("k"), V("lost"), first), PW_SHARED_CAS_MISMATCH);
  assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_memory_equal(v, "two", 3);
  assert_int_not_equal(cas, first);
  assert_int_not_equal(cas, 0);
  free(v);
  /* cas 0 writes whatever the current one is. */
  uint32_t second = cas;
  assert_int_equal(pw_shared_set(s, "vm", V("k"), NULL, 0, 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_null(v);
  assert_int_equal(len, 0);
  assert_int_not_equal(cas, second);
  assert_int_not_equal(cas, 0);

  /* A missing key never matches a nonzero cas, and stays missing. */
  assert_int_equal(pw_shared_set(s, "vm", V("new"), V("x"), 1), PW_SHARED_CAS_MISMATCH);
  assert_int_equal(pw_shared_set(s, "other", V("k"), V("x"), cas), PW_SHARED_CAS_MISMATCH);
  assert_int_equal(pw_shared_get(s, "vm", V("new"), &v, &len, &cas), PW_SHARED_NOT_FOUND);

  /* vm ids are separate key spaces; NULL is the vm id "". */
  assert_int_equal(pw_shared_set(s, "other", V("k"), V("theirs"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, NULL, V("k"), V("root"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_get(s, "other", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_memory_equal(v, "theirs", 6);
  free(v);
  assert_int_equal(pw_shared_get(s, "", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_memory_equal(v, "root", 4);
  free(v);
  assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_int_equal(len, 0);
  /* Keys are bytes: empty, with NULs, differing in case. */
  assert_int_equal(pw_shared_set(s, "vm", NULL, 0, V("e"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", (const uint8_t *)"a\0b", 3, V("n"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_get(s, "vm", (const uint8_t *)"a\0c", 3, &v, &len, &cas),
                   PW_SHARED_NOT_FOUND);
  assert_int_equal(pw_shared_get(s, "vm", V("K"), &v, &len, &cas), PW_SHARED_NOT_FOUND);
  assert_int_equal(pw_shared_get(s, "vm", NULL, 0, &v, &len, &cas), PW_SHARED_OK);
  assert_memory_equal(v, "e", 1);
  free(v);
  pw_shared_free(s);
  pw_shared_free(NULL);
}

/* Each write gives a new cas, never 0, and no earlier one matches again. */
static void test_shared_cas_sequence(void **state) {
  (void)state;
  pw_shared *s = pw_shared_new();
  assert_non_null(s);
  uint32_t prev = 0, cas = 0;
  uint8_t *v;
  size_t len;
  for (int i = 0; i < 1000; i++) {
    assert_int_equal(pw_shared_set(s, "vm", V("k"), V("x"), prev), PW_SHARED_OK);
    assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_OK);
    free(v);
    assert_int_not_equal(cas, 0);
    assert_int_not_equal(cas, prev);
    if (prev)
      assert_int_equal(pw_shared_set(s, "vm", V("k"), V("y"), prev), PW_SHARED_CAS_MISMATCH);
    prev = cas;
  }
  pw_shared_free(s);
}

static void test_shared_caps(void **state) {
  (void)state;
  pw_shared *s = pw_shared_new();
  assert_non_null(s);
  uint8_t *big = calloc(1, PW_SHARED_MAX_VALUE + 1);
  assert_non_null(big);
  assert_int_equal(pw_shared_set(s, "vm", big, PW_SHARED_MAX_KEY, V("v"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", big, PW_SHARED_MAX_KEY + 1, V("v"), 0),
                   PW_SHARED_TOO_BIG);
  assert_int_equal(pw_shared_set(s, "vm", V("k"), big, PW_SHARED_MAX_VALUE, 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", V("k"), big, PW_SHARED_MAX_VALUE + 1, 0),
                   PW_SHARED_TOO_BIG);
  assert_int_equal(pw_shared_set(s, "vm", V("k"), big, SIZE_MAX, 0), PW_SHARED_TOO_BIG);
  assert_int_equal(pw_shared_set(s, "vm", big, SIZE_MAX, V("v"), 0), PW_SHARED_TOO_BIG);
  uint8_t *v;
  size_t len;
  uint32_t cas;
  assert_int_equal(pw_shared_get(s, "vm", big, SIZE_MAX, &v, &len, &cas), PW_SHARED_NOT_FOUND);
  assert_int_equal(pw_shared_get(s, "vm", V("k"), &v, &len, &cas), PW_SHARED_OK);
  assert_int_equal(len, PW_SHARED_MAX_VALUE);
  free(v);
  free(big);

  /* Keys per vm id: two are set already; fill up to the cap. */
  char key[32];
  for (int i = 2; i < PW_SHARED_MAX_KEYS; i++) {
    int n = snprintf(key, sizeof key, "key-%d", i);
    assert_int_equal(pw_shared_set(s, "vm", (uint8_t *)key, (size_t)n, V("v"), 0), PW_SHARED_OK);
  }
  assert_int_equal(pw_shared_set(s, "vm", V("one-more"), V("v"), 0), PW_SHARED_TOO_BIG);
  assert_int_equal(pw_shared_get(s, "vm", V("one-more"), &v, &len, &cas), PW_SHARED_NOT_FOUND);
  assert_int_equal(pw_shared_set(s, "vm", V("key-77"), V("again"), 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "other-vm", V("one-more"), V("v"), 0), PW_SHARED_OK);
  /* Every key is still there, after the table grew many times. */
  for (int i = 2; i < PW_SHARED_MAX_KEYS; i += 997) {
    int n = snprintf(key, sizeof key, "key-%d", i);
    assert_int_equal(pw_shared_get(s, "vm", (uint8_t *)key, (size_t)n, &v, &len, &cas),
                     PW_SHARED_OK);
    free(v);
  }
  pw_shared_free(s);
}

/* Keys and values of one vm id add up to PW_SHARED_MAX_BYTES at most. */
static void test_shared_bytes_cap(void **state) {
  (void)state;
  pw_shared *s = pw_shared_new();
  assert_non_null(s);
  uint8_t *big = calloc(1, PW_SHARED_MAX_VALUE);
  assert_non_null(big);
  const size_t fit = PW_SHARED_MAX_BYTES / (PW_SHARED_MAX_VALUE + 2); /* keys "00".."99" */
  char key[8];
  for (size_t i = 0; i < fit; i++) {
    snprintf(key, sizeof key, "%02zu", i);
    assert_int_equal(pw_shared_set(s, "vm", (uint8_t *)key, 2, big, PW_SHARED_MAX_VALUE, 0),
                     PW_SHARED_OK);
  }
  snprintf(key, sizeof key, "%02zu", fit);
  assert_int_equal(pw_shared_set(s, "vm", (uint8_t *)key, 2, big, PW_SHARED_MAX_VALUE, 0),
                   PW_SHARED_TOO_BIG);
  uint8_t *v;
  size_t len;
  uint32_t cas;
  assert_int_equal(pw_shared_get(s, "vm", (uint8_t *)key, 2, &v, &len, &cas),
                   PW_SHARED_NOT_FOUND); /* no key left without a value */
  /* Rewriting a key counts its new value instead of the old one. */
  assert_int_equal(pw_shared_set(s, "vm", V("00"), big, PW_SHARED_MAX_VALUE, 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "other", V("00"), big, PW_SHARED_MAX_VALUE, 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", V("00"), NULL, 0, 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", (uint8_t *)key, 2, big, PW_SHARED_MAX_VALUE, 0),
                   PW_SHARED_OK);
  /* Now 63 MiB + 64 keys of 2 bytes: exactly up to the cap, not a byte more. */
  const size_t room = PW_SHARED_MAX_VALUE - 128;
  assert_int_equal(pw_shared_set(s, "vm", V("00"), big, room + 1, 0), PW_SHARED_TOO_BIG);
  assert_int_equal(pw_shared_set(s, "vm", V("00"), big, room, 0), PW_SHARED_OK);
  assert_int_equal(pw_shared_set(s, "vm", V("xy"), NULL, 0, 0), PW_SHARED_TOO_BIG);
  assert_int_equal(pw_shared_get(s, "vm", V("00"), &v, &len, &cas), PW_SHARED_OK);
  assert_int_equal(len, room);
  free(v);
  free(big);
  pw_shared_free(s);
}

/* ---- shared data and metrics from threads ------------------------------------------ */

#define THREADS 4
#define INCREMENTS 10000

typedef struct counter_job {
  pw_shared *s;
  pw_metrics *m;
  uint32_t metric;
  int index;
  int retries, zero_cas, errors;
} counter_job;

/* Read-modify-write with CAS until it sticks, as a filter's shared counter does;
   other keys are added meanwhile so the table grows under the readers. */
static void *count_up(void *arg) {
  counter_job *job = arg;
  for (int i = 0; i < INCREMENTS; i++) {
    for (;;) {
      uint8_t *v = NULL;
      size_t len = 0;
      uint32_t cas = 0, n;
      if (pw_shared_get(job->s, "vm", V("counter"), &v, &len, &cas) != PW_SHARED_OK || len != 4) {
        job->errors++;
        free(v);
        return NULL;
      }
      memcpy(&n, v, 4);
      free(v);
      if (cas == 0) job->zero_cas++;
      n++;
      pw_shared_status st = pw_shared_set(job->s, "vm", V("counter"), (uint8_t *)&n, 4, cas);
      if (st == PW_SHARED_OK) break;
      if (st != PW_SHARED_CAS_MISMATCH) job->errors++;
      job->retries++;
    }
    if (i % 10 == 0) {
      char key[32];
      int n = snprintf(key, sizeof key, "t%d-%d", job->index, i);
      if (pw_shared_set(job->s, "vm", (uint8_t *)key, (size_t)n, V("x"), 0) != PW_SHARED_OK)
        job->errors++;
    }
    if (pw_metrics_increment(job->m, job->metric, 1) != PW_METRIC_OK) job->errors++;
  }
  return NULL;
}

static void test_shared_cas_threads(void **state) {
  (void)state;
  pw_shared *s = pw_shared_new();
  pw_metrics *m = pw_metrics_new();
  assert_non_null(s);
  assert_non_null(m);
  uint32_t zero = 0, id = 0;
  assert_int_equal(pw_shared_set(s, "vm", V("counter"), (uint8_t *)&zero, 4, 0), PW_SHARED_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("requests"), &id), PW_METRIC_OK);
  counter_job jobs[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i] = (counter_job){.s = s, .m = m, .metric = id, .index = i};
    assert_int_equal(pthread_create(&t[i], NULL, count_up, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  int retries = 0;
  for (int i = 0; i < THREADS; i++) {
    assert_int_equal(jobs[i].errors, 0);
    assert_int_equal(jobs[i].zero_cas, 0);
    retries += jobs[i].retries;
  }
  uint8_t *v;
  size_t len;
  uint32_t cas, n;
  assert_int_equal(pw_shared_get(s, "vm", V("counter"), &v, &len, &cas), PW_SHARED_OK);
  assert_int_equal(len, 4);
  memcpy(&n, v, 4);
  free(v);
  assert_int_equal(n, THREADS * INCREMENTS); /* no update lost */
  int64_t requests = 0;
  assert_int_equal(pw_metrics_get(m, id, &requests), PW_METRIC_OK);
  assert_int_equal(requests, THREADS * INCREMENTS);
  print_message("CAS counter: %d increments, %d retries\n", THREADS * INCREMENTS, retries);
  pw_metrics_free(m);
  pw_shared_free(s);
}

/* ---- metrics ---------------------------------------------------------------------- */

static void test_metrics_define(void **state) {
  (void)state;
  pw_metrics *m = pw_metrics_new();
  assert_non_null(m);
  uint32_t a = 0, b = 0, again = 0, h = 0;
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("a.requests"), &a), PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_GAUGE, S("b.active"), &b), PW_METRIC_OK);
  assert_int_not_equal(a, 0);
  assert_int_not_equal(b, 0);
  assert_int_not_equal(a, b);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("a.requests"), &again), PW_METRIC_OK);
  assert_int_equal(again, a);
  again = 0;
  assert_int_equal(pw_metrics_define(m, WP_PW_HISTOGRAM, S("a.requests"), &again),
                   PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("b.active"), &again),
                   PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(again, 0);
  /* Names: 1 to 256 bytes of printable ASCII; types: the three. */
  char name[PW_METRIC_NAME_MAX + 1];
  memset(name, 'n', sizeof name);
  assert_int_equal(pw_metrics_define(m, WP_PW_HISTOGRAM, name, PW_METRIC_NAME_MAX, &h),
                   PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_HISTOGRAM, name, PW_METRIC_NAME_MAX + 1, &h),
                   PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S(""), &h), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, NULL, 0, &h), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("a\nb"), &h), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, "a\0b", 3, &h), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("caf\xc3\xa9"), &h),
                   PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, (wp_pw_metric_type)3, S("x"), &h), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, (wp_pw_metric_type)-1, S("x"), &h), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("with space = ok"), &h), PW_METRIC_OK);
  pw_metrics_free(m);
  pw_metrics_free(NULL);
}

static void test_metrics_values(void **state) {
  (void)state;
  pw_metrics *m = pw_metrics_new();
  assert_non_null(m);
  uint32_t c, g, h;
  int64_t v;
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("c"), &c), PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_GAUGE, S("g"), &g), PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_HISTOGRAM, S("h"), &h), PW_METRIC_OK);

  /* Counter: only up, by increment or record; saturates. */
  assert_int_equal(pw_metrics_increment(m, c, 5), PW_METRIC_OK);
  assert_int_equal(pw_metrics_increment(m, c, 0), PW_METRIC_OK);
  assert_int_equal(pw_metrics_increment(m, c, -1), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_record(m, c, 3), PW_METRIC_OK);
  assert_int_equal(pw_metrics_record(m, c, -3), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_get(m, c, &v), PW_METRIC_OK);
  assert_int_equal(v, 8);
  assert_int_equal(pw_metrics_increment(m, c, INT64_MAX), PW_METRIC_OK);
  assert_int_equal(pw_metrics_get(m, c, &v), PW_METRIC_OK);
  assert_true(v == INT64_MAX);

  /* Gauge: up, down, set; saturates both ways. */
  assert_int_equal(pw_metrics_increment(m, g, 5), PW_METRIC_OK);
  assert_int_equal(pw_metrics_increment(m, g, -10), PW_METRIC_OK);
  assert_int_equal(pw_metrics_get(m, g, &v), PW_METRIC_OK);
  assert_int_equal(v, -5);
  assert_int_equal(pw_metrics_record(m, g, 42), PW_METRIC_OK);
  assert_int_equal(pw_metrics_get(m, g, &v), PW_METRIC_OK);
  assert_int_equal(v, 42);
  assert_int_equal(pw_metrics_record(m, g, INT64_MIN + 1), PW_METRIC_OK);
  assert_int_equal(pw_metrics_increment(m, g, -2), PW_METRIC_OK);
  assert_int_equal(pw_metrics_get(m, g, &v), PW_METRIC_OK);
  assert_true(v == INT64_MIN);

  /* Histogram: records only; get gives the count. */
  assert_int_equal(pw_metrics_increment(m, h, 1), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_record(m, h, 10), PW_METRIC_OK);
  assert_int_equal(pw_metrics_record(m, h, 20), PW_METRIC_OK);
  assert_int_equal(pw_metrics_record(m, h, -1), PW_METRIC_BAD_ARGUMENT);
  assert_int_equal(pw_metrics_get(m, h, &v), PW_METRIC_OK);
  assert_int_equal(v, 2);

  /* Unknown ids. */
  uint32_t bad[] = {0, 4, UINT32_MAX};
  for (size_t i = 0; i < 3; i++) {
    assert_int_equal(pw_metrics_increment(m, bad[i], 1), PW_METRIC_NOT_FOUND);
    assert_int_equal(pw_metrics_record(m, bad[i], 1), PW_METRIC_NOT_FOUND);
    assert_int_equal(pw_metrics_get(m, bad[i], &v), PW_METRIC_NOT_FOUND);
  }
  pw_metrics_free(m);
}

typedef struct seen {
  wp_pw_metric items[8];
  char names[8][16];
  int n;
} seen;

static void collect(void *user, const wp_pw_metric *metric) {
  seen *s = user;
  if (s->n == 8) return;
  s->items[s->n] = *metric;
  snprintf(s->names[s->n], sizeof s->names[0], "%s", metric->name);
  s->n++;
}

static void test_metrics_foreach(void **state) {
  (void)state;
  pw_metrics *m = pw_metrics_new();
  assert_non_null(m);
  seen s = {0};
  pw_metrics_foreach(m, collect, &s);
  assert_int_equal(s.n, 0);
  uint32_t id[3];
  assert_int_equal(pw_metrics_define(m, WP_PW_HISTOGRAM, S("zeta"), &id[0]), PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("alpha"), &id[1]), PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_GAUGE, S("mid"), &id[2]), PW_METRIC_OK);
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("alpha"), &id[1]), PW_METRIC_OK);
  assert_int_equal(pw_metrics_record(m, id[0], 7), PW_METRIC_OK);
  assert_int_equal(pw_metrics_record(m, id[0], 5), PW_METRIC_OK);
  assert_int_equal(pw_metrics_increment(m, id[1], 3), PW_METRIC_OK);
  assert_int_equal(pw_metrics_increment(m, id[2], -4), PW_METRIC_OK);
  pw_metrics_foreach(m, collect, &s);
  assert_int_equal(s.n, 3); /* in definition order, each once */
  assert_string_equal(s.names[0], "zeta");
  assert_int_equal(s.items[0].type, WP_PW_HISTOGRAM);
  assert_int_equal(s.items[0].count, 2);
  assert_int_equal(s.items[0].sum, 12);
  assert_int_equal(s.items[0].value, 5); /* the last recorded */
  assert_string_equal(s.names[1], "alpha");
  assert_int_equal(s.items[1].type, WP_PW_COUNTER);
  assert_int_equal(s.items[1].value, 3);
  assert_string_equal(s.names[2], "mid");
  assert_int_equal(s.items[2].type, WP_PW_GAUGE);
  assert_int_equal(s.items[2].value, -4);
  pw_metrics_foreach(m, NULL, NULL); /* nothing to call: fine */
  pw_metrics_free(m);
}

static void test_metrics_too_many(void **state) {
  (void)state;
  pw_metrics *m = pw_metrics_new();
  assert_non_null(m);
  char name[32];
  uint32_t id;
  for (uint32_t i = 0; i < PW_METRICS_MAX; i++) {
    int n = snprintf(name, sizeof name, "m%u", i);
    assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, name, (size_t)n, &id), PW_METRIC_OK);
    assert_int_equal(id, i + 1);
  }
  assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, S("one-more"), &id), PW_METRIC_TOO_MANY);
  /* Those defined are still found by name, after the index grew. */
  for (uint32_t i = 0; i < PW_METRICS_MAX; i += 333) {
    int n = snprintf(name, sizeof name, "m%u", i);
    assert_int_equal(pw_metrics_define(m, WP_PW_COUNTER, name, (size_t)n, &id), PW_METRIC_OK);
    assert_int_equal(id, i + 1);
  }
  pw_metrics_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_name_value_ok),
      cmocka_unit_test(test_map_add_get),
      cmocka_unit_test(test_map_replace),
      cmocka_unit_test(test_map_remove),
      cmocka_unit_test(test_map_set_all_and_view),
      cmocka_unit_test(test_map_arena),
      cmocka_unit_test(test_map_serialize_exact),
      cmocka_unit_test(test_map_round_trip),
      cmocka_unit_test(test_map_deserialize_empty_forms),
      cmocka_unit_test(test_map_deserialize_malformed),
      cmocka_unit_test(test_map_caps),
      cmocka_unit_test(test_buffer_append_assign),
      cmocka_unit_test(test_buffer_splice),
      cmocka_unit_test(test_buffer_slice),
      cmocka_unit_test(test_buffer_max),
      cmocka_unit_test(test_shared_get_set),
      cmocka_unit_test(test_shared_cas_sequence),
      cmocka_unit_test(test_shared_caps),
      cmocka_unit_test(test_shared_bytes_cap),
      cmocka_unit_test(test_shared_cas_threads),
      cmocka_unit_test(test_metrics_define),
      cmocka_unit_test(test_metrics_values),
      cmocka_unit_test(test_metrics_foreach),
      cmocka_unit_test(test_metrics_too_many),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
