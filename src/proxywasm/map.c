/* map.c - a Proxy-Wasm header map (map.h). */
#include "proxywasm/map.h"

#include <stdlib.h>
#include <string.h>

#include "instance/http.h"

/* The lower-case form of an ASCII letter (names are tokens: no locale). */
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

bool pw_header_name_ok(const char *name, size_t len) {
  /* A pseudo-header (":path") is one ':' before a token; "::x" or ":" is not. */
  if (name && len > 0 && name[0] == ':') return wp_http_header_name_valid(name + 1, len - 1);
  return wp_http_header_name_valid(name, len);
}

bool pw_header_value_ok(const uint8_t *value, size_t len) {
  return wp_http_header_value_valid(value, len);
}

/* Whether a stored (lower-case) name equals `name` in any case. */
static bool name_eq(const pw_pair *p, const char *name, size_t len) {
  if (p->name_len != len) return false;
  for (size_t i = 0; i < len; i++)
    if (p->name[i] != lower(name[i])) return false;
  return true;
}

/* Frees a pair's storage: one allocation for the name and the value, or
   none when they live in the map's arena. */
static void pair_free(pw_pair *p) {
  if (!p->in_block) free(p->name);
}

/* Room for a pair's strings: from the arena while it has some, else malloc. */
static char *pair_storage(pw_map *m, size_t size, bool *in_block) {
  *in_block = m->block && size <= m->block_cap - m->block_used;
  if (!*in_block) return malloc(size);
  char *s = m->block + m->block_used;
  m->block_used += size;
  return s;
}

/*
 * Checks a header as set_all takes it, in one pass over its bytes: the name a
 * token (after one ':' for a pseudo-header), the value free of CR, LF and NUL.
 * -1 if not; else whether the name has upper-case letters to lower.
 */
static int check_header(const wp_http_header *h) {
  const unsigned char *name = (const unsigned char *)h->name;
  size_t len = h->name_len, i = 0;
  if (!name || !len) return -1;
  if (name[0] == ':' && ++i == len) return -1;
  unsigned upper = 0;
  for (; i < len; i++) {
    if (!wp_http_tchar[name[i]]) return -1;
    upper |= (unsigned)(name[i] - 'A') < 26u;
  }
  if (h->value_len && !h->value) return -1;
  unsigned bad = 0;
  for (i = 0; i < h->value_len; i++) {
    uint8_t c = h->value[i];
    bad |= (c == '\r') | (c == '\n') | (c == 0);
  }
  return bad ? -1 : (int)upper;
}

/* "name\0value\0", the name lower-cased, at s. */
static void pair_write(pw_pair *p, char *s, const char *name, size_t name_len, const uint8_t *value,
                       size_t value_len, bool in_block) {
  for (size_t i = 0; i < name_len; i++) s[i] = lower(name[i]);
  s[name_len] = '\0';
  if (value_len) memcpy(s + name_len + 1, value, value_len);
  s[name_len + 1 + value_len] = '\0';
  *p = (pw_pair){s, name_len, (uint8_t *)s + name_len + 1, value_len, in_block};
}

/* A checked pair. The caller has checked the caps. */
static pw_map_status pair_make(pw_map *m, pw_pair *p, const char *name, size_t name_len,
                               const uint8_t *value, size_t value_len) {
  if (!pw_header_name_ok(name, name_len) || !pw_header_value_ok(value, value_len))
    return PW_MAP_BAD;
  bool in_block;
  char *s = pair_storage(m, name_len + value_len + 2, &in_block); /* under the caps: no wrap */
  if (!s) return PW_MAP_NO_MEMORY;
  pair_write(p, s, name, name_len, value, value_len, in_block);
  return PW_MAP_OK;
}

/* Whether a map of n pairs and `bytes` bytes may take a pair of these lengths. */
static bool fits(size_t n, size_t bytes, size_t name_len, size_t value_len) {
  if (n >= PW_MAP_MAX_PAIRS || bytes > PW_MAP_MAX_BYTES) return false;
  size_t room = PW_MAP_MAX_BYTES - bytes;
  return name_len <= room && value_len <= room - name_len;
}

static bool grow(pw_map *m) {
  if (m->n < m->cap) return true;
  size_t cap = m->cap ? m->cap * 2 : 16; /* n < PW_MAP_MAX_PAIRS: no wrap */
  pw_pair *p = realloc(m->pairs, cap * sizeof *p);
  if (!p) return false;
  m->pairs = p;
  m->cap = cap;
  return true;
}

void pw_map_clear(pw_map *m) {
  for (size_t i = 0; i < m->n; i++) pair_free(&m->pairs[i]);
  if (m->block_cap > PW_MAP_KEEP_BYTES) {
    free(m->block);
    m->block = NULL;
    m->block_cap = 0;
  }
  m->block_used = 0;
  m->n = 0;
  m->bytes = 0;
  m->view_valid = false;
}

void pw_map_free(pw_map *m) {
  pw_map_clear(m);
  free(m->pairs);
  free(m->view);
  free(m->block);
  *m = (pw_map){0};
}

pw_map_status pw_map_add(pw_map *m, const char *name, size_t name_len, const uint8_t *value,
                         size_t value_len) {
  /* The caps first: they cost nothing, while checking a huge value would. */
  if (!fits(m->n, m->bytes, name_len, value_len)) return PW_MAP_TOO_BIG;
  if (!grow(m)) return PW_MAP_NO_MEMORY;
  pw_map_status st = pair_make(m, &m->pairs[m->n], name, name_len, value, value_len);
  if (st != PW_MAP_OK) return st;
  m->n++;
  m->bytes += name_len + value_len;
  m->view_valid = false;
  return PW_MAP_OK;
}

/* Whether any of the n headers points into [b, b + len). */
static bool points_into(const wp_http_header *h, size_t n, const char *b, size_t len) {
  uintptr_t lo = (uintptr_t)b, hi = lo + len;
  for (size_t i = 0; i < n; i++) {
    uintptr_t a = (uintptr_t)h[i].name, v = (uintptr_t)h[i].value;
    if ((a >= lo && a < hi) || (v >= lo && v < hi)) return true;
  }
  return false;
}

/* Slack left in a fresh arena for the pairs filters add to the headers. */
#define PW_MAP_SLACK 512

/*
 * The whole map at once, as a request's or response's headers arrive: every
 * pair checked first (so a refusal leaves the map as it was), then their
 * strings copied into the arena, which is reused when big enough and not
 * what the headers are read from (they may be this map's own view). This
 * runs for every stream: in the steady state it allocates nothing.
 */
pw_map_status pw_map_set_all(pw_map *m, const wp_http_header *h, size_t n) {
  size_t bytes = 0, total = 0;
  int upper = 0;
  for (size_t i = 0; i < n; i++) {
    if (!fits(i, bytes, h[i].name_len, h[i].value_len)) return PW_MAP_TOO_BIG;
    int c = check_header(&h[i]);
    if (c < 0) return PW_MAP_BAD;
    upper |= c;
    bytes += h[i].name_len + h[i].value_len;
    total += h[i].name_len + h[i].value_len + 2;
  }
  bool reuse = total <= m->block_cap && !points_into(h, n, m->block, m->block_cap);
  size_t block_cap = reuse ? m->block_cap : total + PW_MAP_SLACK;
  char *block = reuse ? m->block : malloc(block_cap);
  pw_pair *pairs = n > m->cap ? malloc(n * sizeof *pairs) : m->pairs;
  if ((!reuse && !block) || (n && !pairs)) {
    if (!reuse) free(block);
    if (pairs != m->pairs) free(pairs);
    return PW_MAP_NO_MEMORY;
  }
  /* The strings first: the old pairs may be what they are read from. */
  char *at = block;
  for (size_t i = 0; i < n; i++) {
    size_t nl = h[i].name_len, vl = h[i].value_len;
    if (upper) {
      for (size_t k = 0; k < nl; k++) at[k] = lower(h[i].name[k]);
    } else {
      memcpy(at, h[i].name, nl); /* lower-case already, as servers pass them */
    }
    at[nl] = '\0';
    if (vl) memcpy(at + nl + 1, h[i].value, vl);
    at[nl + 1 + vl] = '\0';
    at += nl + vl + 2;
  }
  for (size_t i = 0; i < m->n; i++) pair_free(&m->pairs[i]);
  if (!reuse) free(m->block);
  if (pairs != m->pairs) {
    free(m->pairs);
    m->pairs = pairs;
    m->cap = n;
  }
  m->block = block;
  m->block_cap = block_cap;
  at = block;
  for (size_t i = 0; i < n; i++) {
    size_t nl = h[i].name_len, vl = h[i].value_len;
    m->pairs[i] = (pw_pair){at, nl, (uint8_t *)at + nl + 1, vl, true};
    at += nl + vl + 2;
  }
  m->block_used = (size_t)(at - block);
  m->n = n;
  m->bytes = bytes;
  m->view_valid = false;
  return PW_MAP_OK;
}

/* Removes every pair of that name after index `from`; returns how many. */
static size_t remove_from(pw_map *m, size_t from, const char *name, size_t name_len) {
  size_t kept = from;
  for (size_t i = from; i < m->n; i++) {
    pw_pair *p = &m->pairs[i];
    if (name_eq(p, name, name_len)) {
      m->bytes -= p->name_len + p->value_len;
      pair_free(p);
    } else {
      m->pairs[kept++] = *p;
    }
  }
  size_t removed = m->n - kept;
  m->n = kept;
  if (removed) m->view_valid = false;
  return removed;
}

void pw_map_remove(pw_map *m, const char *name, size_t name_len) {
  remove_from(m, 0, name, name_len);
}

pw_map_status pw_map_replace(pw_map *m, const char *name, size_t name_len, const uint8_t *value,
                             size_t value_len) {
  /* The caps apply to the map as it will be: without the pairs replaced. */
  size_t first = m->n, same = 0, same_bytes = 0;
  for (size_t i = 0; i < m->n; i++) {
    if (!name_eq(&m->pairs[i], name, name_len)) continue;
    if (first == m->n) first = i;
    same++;
    same_bytes += m->pairs[i].name_len + m->pairs[i].value_len;
  }
  if (first == m->n) return pw_map_add(m, name, name_len, value, value_len);
  if (!fits(m->n - same, m->bytes - same_bytes, name_len, value_len)) return PW_MAP_TOO_BIG;
  pw_pair p;
  pw_map_status st = pair_make(m, &p, name, name_len, value, value_len);
  if (st != PW_MAP_OK) return st;
  pw_pair *old = &m->pairs[first];
  m->bytes = m->bytes - old->name_len - old->value_len + name_len + value_len;
  pair_free(old);
  *old = p;
  remove_from(m, first + 1, name, name_len);
  m->view_valid = false;
  return PW_MAP_OK;
}

const pw_pair *pw_map_get(const pw_map *m, const char *name, size_t name_len) {
  for (size_t i = 0; i < m->n; i++)
    if (name_eq(&m->pairs[i], name, name_len)) return &m->pairs[i];
  return NULL;
}

size_t pw_map_serialized_size(const pw_map *m) {
  /* The caps keep this far below SIZE_MAX and UINT32_MAX. */
  return 4 + m->n * 10 + m->bytes;
}

static uint8_t *put_u32(uint8_t *out, size_t v) {
  out[0] = (uint8_t)v, out[1] = (uint8_t)(v >> 8), out[2] = (uint8_t)(v >> 16);
  out[3] = (uint8_t)(v >> 24);
  return out + 4;
}

static uint32_t get_u32(const uint8_t *d) {
  return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

void pw_map_serialize(const pw_map *m, uint8_t *out) {
  out = put_u32(out, m->n);
  for (size_t i = 0; i < m->n; i++) {
    out = put_u32(out, m->pairs[i].name_len);
    out = put_u32(out, m->pairs[i].value_len);
  }
  for (size_t i = 0; i < m->n; i++) {
    const pw_pair *p = &m->pairs[i];
    memcpy(out, p->name, p->name_len + 1);
    out += p->name_len + 1;
    if (p->value_len) memcpy(out, p->value, p->value_len);
    out[p->value_len] = 0;
    out += p->value_len + 1;
  }
}

/*
 * Reads the pairs of a serialized map whose count and length table were
 * checked to fit in data[0..len). Each pair's bytes are checked against what
 * is left, in 64-bit arithmetic (two u32 lengths plus two NULs cannot wrap).
 */
static pw_map_status read_pairs(pw_map *m, const uint8_t *data, size_t len, uint32_t count) {
  size_t at = 4 + (size_t)count * 8;
  for (uint32_t i = 0; i < count; i++) {
    uint64_t nl = get_u32(data + 4 + (size_t)i * 8), vl = get_u32(data + 8 + (size_t)i * 8);
    if (nl + vl + 2 > (uint64_t)(len - at)) return PW_MAP_BAD;
    const uint8_t *name = data + at, *value = name + nl + 1;
    if (name[nl] != 0 || value[vl] != 0) return PW_MAP_BAD;
    pw_map_status st = pw_map_add(m, (const char *)name, nl, value, vl);
    if (st != PW_MAP_OK) return st;
    at += nl + vl + 2;
  }
  /* Bytes after the last pair: not a map this host wrote, nor any SDK. */
  return at == len ? PW_MAP_OK : PW_MAP_BAD;
}

pw_map_status pw_map_deserialize(pw_map *m, const uint8_t *data, size_t len) {
  if (len == 0 || (len == 1 && data[0] == 0)) {
    pw_map_clear(m);
    return PW_MAP_OK;
  }
  if (len < 4) return PW_MAP_BAD;
  uint32_t count = get_u32(data);
  /* Does the length table fit? Then, is the count within the cap? */
  if ((uint64_t)count * 8 > (uint64_t)(len - 4)) return PW_MAP_BAD;
  if (count > PW_MAP_MAX_PAIRS) return PW_MAP_TOO_BIG;
  pw_map fresh = {0};
  pw_map_status st = read_pairs(&fresh, data, len, count);
  if (st != PW_MAP_OK) {
    pw_map_free(&fresh);
    return st;
  }
  pw_map_free(m);
  *m = fresh;
  return PW_MAP_OK;
}

const wp_http_header *pw_map_view(pw_map *m, size_t *n) {
  static const wp_http_header none[1];
  *n = m->n;
  if (m->n == 0) return none;
  if (m->view_valid) return m->view;
  wp_http_header *v = m->view;
  if (m->n > m->view_cap) {
    if (!(v = realloc(m->view, m->n * sizeof *v))) return NULL;
    m->view_cap = m->n;
  }
  for (size_t i = 0; i < m->n; i++) {
    const pw_pair *p = &m->pairs[i];
    v[i] = (wp_http_header){p->name, p->name_len, p->value, p->value_len};
  }
  m->view = v;
  m->view_valid = true;
  return v;
}
