/*
 * manifest.c - wp_manifest: what a plugin may do, built by hand or from JSON.
 *
 * The JSON reader is strict on purpose. A misspelt key ("timout_ms") that
 * was quietly ignored would leave a plugin without the limit its author
 * meant to give it, so every unknown key, wrong type, duplicate and
 * out-of-range number is an error that names the value's full path
 * ("wasi.dirs[0].mode") and says what would have been accepted.
 *
 * A manifest is plain owned data (see manifest.h); nothing here keeps a
 * pointer into the caller's strings or into the parsed JSON tree.
 */
#include "plugin/manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "util/utf8.h"

/*
 * JSON numbers are doubles, which read 2^53 + 1 as 2^53: from 2^53 on,
 * integers are refused rather than silently rounded.
 */
#define JSON_MAX_EXACT_INT 9007199254740991ULL /* 2^53 - 1 */

/* A manifest file this big is a mistake (or /dev/zero). */
#define MANIFEST_MAX_FILE (64u << 20)

/* Longest JSON path and quoted value shown in an error message. */
#define PATH_LEN 256
#define QUOTE_CHARS 48

static const char *const ROOT_KEYS[] = {"name", "sources", "limits", "wasi", "config", "imports", NULL};
static const char *const IMPORT_KEYS[] = {"missing", NULL};
static const char *const SOURCE_KEYS[] = {"path", "sha256", NULL};
static const char *const LIMIT_KEYS[] = {"memory",      "timeout_ms", "fuel",
                                         "module_size", "functions",  NULL};
static const char *const WASI_KEYS[] = {"dirs",  "env",    "args",
                                        "stdin", "stdout", "stderr", NULL};
static const char *const DIR_KEYS[] = {"host", "guest", "mode", NULL};

/* One JSON parse: where messages come from and where relative paths go. */
typedef struct parser {
  const char *label;    /* "manifest" or "manifest 'path/to/file.json'" */
  const char *base_dir; /* NULL: relative paths are kept as they are */
  wp_manifest *m;       /* being filled; freed by the caller on error */
} parser;

/* A JSON path such as "wasi.dirs[0].host", cut to PATH_LEN. */
typedef struct jpath {
  char s[PATH_LEN];
} jpath;

/* A value quoted for a message: escaped and cut to QUOTE_CHARS. */
typedef struct quoted {
  char s[QUOTE_CHARS * 4 + 8];
} quoted;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static wp_error *fail(const char *label, const char *fmt, ...) WP_PRINTF(2, 3);

/* A WP_ERR_BAD_INPUT error: "<label>: <message>". */
static wp_error *fail(const char *label, const char *fmt, ...) {
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return wp_error_new(WP_ERR_BAD_INPUT, "%s: %s", label, msg);
}

static wp_error *no_memory(void) {
  return wp_error_new(WP_ERR_NO_MEMORY, "manifest: out of memory");
}

/*
 * Quotes `len` bytes of `s` for a message, between `mark`s: "a value" as
 * JSON would, or 'raw JSON text' with only control bytes escaped. Control
 * bytes and bytes that are not UTF-8 are escaped (\xff) and long text is
 * cut (between characters) so that a hostile manifest cannot put newlines,
 * broken text or megabytes into a message.
 */
static const char *quote(quoted *q, const char *s, size_t len, char mark) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, n = len < QUOTE_CHARS ? len : QUOTE_CHARS, seq;
  char *o = q->s;

  *o++ = mark;
  while (i < n) {
    seq = wp_utf8_seq(u + i, len - i);
    if (seq > 1 && i + seq > n) break; /* a character that would not fit whole */
    if (seq == 0 || u[i] < 0x20 || u[i] == 0x7f) {
      o += snprintf(o, 5, "\\x%02x", u[i]);
      i++;
      continue;
    }
    if (mark == '"' && (u[i] == '"' || u[i] == '\\')) *o++ = '\\';
    memcpy(o, s + i, seq);
    o += seq;
    i += seq;
  }
  *o++ = mark;
  if (i < len) o += snprintf(o, 4, "...");
  *o = '\0';
  return q->s;
}

static const char *quote_str(quoted *q, const char *s) {
  return quote(q, s, strlen(s), '"');
}

/*
 * Appends `key` to `parent` ("" for the top level); control bytes and bytes
 * that are not UTF-8 become '?', so that a key cannot break the message.
 */
static const char *path_key(jpath *p, const char *parent, const char *key) {
  const unsigned char *u = (const unsigned char *)key;
  size_t n = (size_t)snprintf(p->s, sizeof p->s, "%s%s", parent, *parent ? "." : "");
  size_t i = 0, len = strlen(key), seq;

  if (n >= sizeof p->s) n = sizeof p->s - 1;
  while (i < len && n < sizeof p->s - 1) {
    seq = wp_utf8_seq(u + i, len - i);
    if (seq == 0 || u[i] < 0x20 || u[i] == 0x7f) {
      p->s[n++] = '?';
      i++;
      continue;
    }
    if (n + seq > sizeof p->s - 1) break;
    memcpy(p->s + n, key + i, seq);
    n += seq;
    i += seq;
  }
  p->s[n] = '\0';
  return p->s;
}

static const char *path_index(jpath *p, const char *parent, size_t i) {
  snprintf(p->s, sizeof p->s, "%s[%zu]", parent, i);
  return p->s;
}

/* The JSON type of a value, as the messages name it. */
static const char *type_name(const cJSON *v) {
  if (cJSON_IsNull(v)) return "null";
  if (cJSON_IsBool(v)) return "boolean";
  if (cJSON_IsNumber(v)) return "number";
  if (cJSON_IsString(v)) return "string";
  if (cJSON_IsArray(v)) return "array";
  if (cJSON_IsObject(v)) return "object";
  return "unknown";
}

/* A JSON number for a message: integers in full, others in %g style. */
static const char *num(char buf[32], double d) {
  /* Converting a double outside long long's range is undefined behaviour:
     bound it first (2^63 is exactly representable). */
  if (d > -9223372036854775808.0 && d < 9223372036854775808.0 && (double)(long long)d == d)
    snprintf(buf, 32, "%lld", (long long)d);
  else
    snprintf(buf, 32, "%.15g", d);
  return buf;
}

/* "'path' must be <what>, got <type>" unless v has JSON type `type`. */
static wp_error *expect(const parser *p, const cJSON *v, int type, const char *path,
                        const char *what) {
  if ((v->type & 0xFF) == type) return NULL;
  return fail(p->label, "'%s' must be %s, got %s", path, what, type_name(v));
}

/* ------------------------------------------------------------------------ */
/* Small owned-data helpers                                                 */
/* ------------------------------------------------------------------------ */

/* strdup that lets NULL through: NULL in gives NULL out, and is no error. */
static bool dup_opt(const char *s, char **out) {
  *out = s ? strdup(s) : NULL;
  return !s || *out;
}

/*
 * A copy of `len` bytes with a NUL after them, so that text can be used as
 * a C string; NULL when out of memory.
 */
static uint8_t *bytes_dup(const void *data, size_t len) {
  uint8_t *copy = len < SIZE_MAX ? malloc(len + 1) : NULL;

  if (!copy) return NULL;
  if (len > 0) memcpy(copy, data, len);
  copy[len] = '\0';
  return copy;
}

/* ------------------------------------------------------------------------ */
/* Key indexes (see wp_key_index in manifest.h)                             */
/* ------------------------------------------------------------------------ */

static uint64_t rotl(uint64_t x, int b) { return x << b | x >> (64 - b); }

static void sip_round(uint64_t v[4]) {
  v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
  v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
  v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
  v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

/*
 * SipHash-1-3 of `len` bytes under `key`: a keyed hash, so that whoever
 * writes the manifest cannot pick keys that all land in one slot without
 * knowing the key.
 */
static uint64_t siphash13(const uint64_t key[2], const char *s, size_t len) {
  uint64_t v[4] = {key[0] ^ 0x736f6d6570736575ULL, key[1] ^ 0x646f72616e646f6dULL,
                   key[0] ^ 0x6c7967656e657261ULL, key[1] ^ 0x7465646279746573ULL};
  const unsigned char *u = (const unsigned char *)s;
  uint64_t m;
  size_t i, j;

  for (i = 0; i + 8 <= len; i += 8) {
    for (m = 0, j = 0; j < 8; j++) m |= (uint64_t)u[i + j] << (8 * j);
    v[3] ^= m, sip_round(v), v[0] ^= m;
  }
  for (m = (uint64_t)len << 56, j = 0; i + j < len; j++) m |= (uint64_t)u[i + j] << (8 * j);
  v[3] ^= m, sip_round(v), v[0] ^= m;
  v[2] ^= 0xff;
  sip_round(v), sip_round(v), sip_round(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/*
 * A fresh random hash key. Without the kernel's randomness (a very old
 * kernel), the clock and addresses still vary between processes, which is
 * all that is needed against keys prepared in advance.
 */
static void index_seed(wp_key_index *ix) {
  struct timespec ts;

  if (getrandom(ix->seed, sizeof ix->seed, GRND_NONBLOCK) == (ssize_t)sizeof ix->seed) return;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ix->seed[0] = (uint64_t)(uintptr_t)ix ^ (uint64_t)ts.tv_nsec << 21;
  ix->seed[1] = (uint64_t)ts.tv_sec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)&ts;
}

/* The key of item i of a list (env, config or dirs). */
typedef const char *(*key_at_fn)(const void *list, size_t i);

static const char *kv_key_at(const void *list, size_t i) { return ((const wp_kv *)list)[i].key; }

static const char *dir_key_at(const void *list, size_t i) {
  return ((const wp_dir_grant *)list)[i].guest;
}

/*
 * The slot that holds `key` (len bytes, hashing to `hash`), or the empty
 * slot where it would go.
 */
static size_t index_slot(const wp_key_index *ix, const void *list, key_at_fn key_at,
                         const char *key, size_t len, uint64_t hash) {
  size_t mask = ix->nslots - 1, i = (size_t)hash & mask;
  const char *k;

  for (;; i = (i + 1) & mask) {
    if (!ix->slots[i].pos) return i;
    if (ix->slots[i].hash != hash) continue;
    k = key_at(list, ix->slots[i].pos - 1);
    if (strncmp(k, key, len) == 0 && k[len] == '\0') return i;
  }
}

/* The position of `key` in a list of n items, or n when it is absent. */
static size_t index_find(const wp_key_index *ix, const void *list, size_t n, key_at_fn key_at,
                         const char *key, size_t len) {
  size_t slot;

  if (!ix->nslots) return n;
  slot = index_slot(ix, list, key_at, key, len, siphash13(ix->seed, key, len));
  return ix->slots[slot].pos ? ix->slots[slot].pos - 1 : n;
}

/* Files item `pos` of the list under its key, which is not in the index yet. */
static void index_put(wp_key_index *ix, const void *list, key_at_fn key_at, size_t pos) {
  const char *key = key_at(list, pos);
  size_t len = strlen(key);
  uint64_t hash = siphash13(ix->seed, key, len);

  ix->slots[index_slot(ix, list, key_at, key, len, hash)] =
      (wp_key_slot){.pos = pos + 1, .hash = hash};
}

/* Moves a filed slot into a new table; its key is known to be new there. */
static void index_move(wp_key_index *ix, wp_key_slot slot) {
  size_t mask = ix->nslots - 1, i = (size_t)slot.hash & mask;

  while (ix->slots[i].pos) i = (i + 1) & mask;
  ix->slots[i] = slot;
}

/*
 * Makes room for one more key after the n the list holds: doubling the
 * table keeps each insert O(1) on average, and the stored hashes make the
 * move cheap.
 */
static bool index_reserve(wp_key_index *ix, size_t n) {
  size_t nslots = ix->nslots ? ix->nslots : 16, i;
  wp_key_index grown = *ix;

  if ((n + 1) * 2 <= ix->nslots) return true;
  while (nslots < (n + 1) * 2) {
    if (nslots > SIZE_MAX / 2 / sizeof *ix->slots) return false;
    nslots *= 2;
  }
  if (!(grown.slots = calloc(nslots, sizeof *grown.slots))) return false;
  grown.nslots = nslots;
  if (!ix->nslots) index_seed(&grown);
  for (i = 0; i < ix->nslots; i++)
    if (ix->slots[i].pos) index_move(&grown, ix->slots[i]);
  free(ix->slots);
  *ix = grown;
  return true;
}

static void index_free(wp_key_index *ix) {
  free(ix->slots);
  *ix = (wp_key_index){.slots = NULL, .nslots = 0, .seed = {0, 0}};
}

/* ------------------------------------------------------------------------ */
/* Lists                                                                    */
/* ------------------------------------------------------------------------ */

/* Room for `want` items of `size` bytes, doubling: appending stays O(1). */
static bool grow(void **items, size_t *cap, size_t want, size_t size) {
  size_t ncap = *cap ? *cap : 8;
  void *grown;

  if (want <= *cap) return true;
  while (ncap < want) {
    if (ncap > SIZE_MAX / 2 / size) return false;
    ncap *= 2;
  }
  if (!(grown = realloc(*items, ncap * size))) return false;
  *items = grown;
  *cap = ncap;
  return true;
}

/* A key/value list of a manifest (env or config) with its length and index. */
typedef struct kv_list {
  wp_kv **items;
  size_t *n, *cap;
  wp_key_index *index;
} kv_list;

static kv_list env_list(wp_manifest *m) {
  return (kv_list){&m->env, &m->nenv, &m->env_cap, &m->env_index};
}

static kv_list config_list(wp_manifest *m) {
  return (kv_list){&m->config, &m->nconfig, &m->config_cap, &m->config_index};
}

/* The index of `key` in a key/value list, or *l.n when absent. */
static size_t kv_find(kv_list l, const char *key, size_t key_len) {
  return index_find(l.index, *l.items, *l.n, kv_key_at, key, key_len);
}

/*
 * Appends `key`, which the list does not hold, with `value`. When memory
 * runs out the list is left as it was.
 */
static bool kv_add(kv_list l, const char *key, const char *value) {
  char *k = strdup(key), *v = strdup(value);

  if (!k || !v || !grow((void **)l.items, l.cap, *l.n + 1, sizeof **l.items) ||
      !index_reserve(l.index, *l.n)) {
    free(k);
    free(v);
    return false;
  }
  (*l.items)[*l.n] = (wp_kv){.key = k, .value = v};
  index_put(l.index, *l.items, kv_key_at, (*l.n)++);
  return true;
}

/* Sets `key` to `value`, replacing an earlier value of the same key. */
static bool kv_set(kv_list l, const char *key, const char *value) {
  size_t i = kv_find(l, key, strlen(key));
  char *v;

  if (i == *l.n) return kv_add(l, key, value);
  if (!(v = strdup(value))) return false;
  free((*l.items)[i].value);
  (*l.items)[i].value = v;
  return true;
}

static void kv_free(kv_list l) {
  size_t i;

  for (i = 0; i < *l.n; i++) {
    free((*l.items)[i].key);
    free((*l.items)[i].value);
  }
  free(*l.items);
  index_free(l.index);
}

static bool arg_push(wp_manifest *m, const char *s) {
  char *copy = strdup(s);

  if (!copy || !grow((void **)&m->args, &m->args_cap, m->nargs + 1, sizeof *m->args)) {
    free(copy);
    return false;
  }
  m->args[m->nargs++] = copy;
  return true;
}

/* The position of the grant of guest path `guest`, or m->ndirs. */
static size_t dir_find(const wp_manifest *m, const char *guest) {
  return index_find(&m->dirs_index, m->dirs, m->ndirs, dir_key_at, guest, strlen(guest));
}

/*
 * Grants `host` as `guest`; a later grant of the same guest path replaces
 * the earlier one, since the plugin can only see one directory there.
 */
static bool dir_set(wp_manifest *m, const char *host, const char *guest, bool writable) {
  char *h = strdup(host), *g = strdup(guest);
  size_t i = dir_find(m, guest);
  bool added = i == m->ndirs;

  if (!h || !g ||
      (added && (!grow((void **)&m->dirs, &m->dirs_cap, m->ndirs + 1, sizeof *m->dirs) ||
                 !index_reserve(&m->dirs_index, m->ndirs)))) {
    free(h);
    free(g);
    return false;
  }
  if (!added) {
    free(m->dirs[i].host);
    free(m->dirs[i].guest);
  }
  m->dirs[i] = (wp_dir_grant){.host = h, .guest = g, .writable = writable};
  if (added) index_put(&m->dirs_index, m->dirs, dir_key_at, m->ndirs++);
  return true;
}

/* base_dir/path, or a copy of path when it is absolute or there is no base. */
static char *resolve(const char *base_dir, const char *path) {
  size_t blen, plen;
  char *joined;

  if (!base_dir || !*base_dir || path[0] == '/') return strdup(path);
  blen = strlen(base_dir);
  plen = strlen(path);
  joined = malloc(blen + plen + 2);
  if (!joined) return NULL;
  memcpy(joined, base_dir, blen);
  if (base_dir[blen - 1] != '/') joined[blen++] = '/';
  memcpy(joined + blen, path, plen + 1);
  return joined;
}

static bool valid_env_name(const char *key) {
  return *key && !strchr(key, '=');
}

/*
 * Fails unless `s` is text a plugin can be given: WASI and the Component
 * Model carry names, paths, env, args and config as UTF-8, and Wasmtime
 * drops or refuses what is not. (A C string cannot hold a NUL; the JSON
 * reader refuses \u0000.) `what` names the string in the message.
 */
static wp_error *check_text(const char *label, const char *what, const char *s) {
  quoted q;

  if (wp_utf8_valid((const uint8_t *)s, strlen(s))) return NULL;
  return fail(label, "%s %s is not valid UTF-8: text given to a plugin must be UTF-8", what,
              quote_str(&q, s));
}

/* As check_text for the JSON string at `path`. */
static wp_error *check_json_text(const char *label, const char *path, const char *s) {
  quoted q;

  if (wp_utf8_valid((const uint8_t *)s, strlen(s))) return NULL;
  return fail(label, "'%s' is not valid UTF-8 (%s): text given to a plugin must be UTF-8", path,
              quote_str(&q, s));
}

/* As check_text for the value of `key`, a <what> ("config key"). */
static wp_error *check_value_text(const char *label, const char *what, const char *key,
                                  const char *value) {
  quoted k, v;

  if (wp_utf8_valid((const uint8_t *)value, strlen(value))) return NULL;
  return fail(label, "the value of %s %s is not valid UTF-8 (%s): text given to a plugin "
              "must be UTF-8", what, quote_str(&k, key), quote_str(&v, value));
}

/* ------------------------------------------------------------------------ */
/* Building a manifest                                                      */
/* ------------------------------------------------------------------------ */

wp_manifest *wp_manifest_new(void) {
  /* All zero is the documented default: nothing granted, engine limits,
     stdout and stderr discarded (WP_STDIO_DISCARD is 0). */
  return calloc(1, sizeof(wp_manifest));
}

void wp_manifest_free(wp_manifest *m) {
  size_t i;

  if (!m) return;
  free(m->name);
  free(m->source_path);
  for (i = 0; i < m->ndirs; i++) {
    free(m->dirs[i].host);
    free(m->dirs[i].guest);
  }
  free(m->dirs);
  index_free(&m->dirs_index);
  kv_free(env_list(m));
  for (i = 0; i < m->nargs; i++) free(m->args[i]);
  free(m->args);
  free(m->stdin_data);
  kv_free(config_list(m));
  free(m);
}

/* NULL resets the name to the default (derived from the source). */
wp_error *wp_manifest_set_name(wp_manifest *m, const char *name) {
  wp_error *err;
  char *copy;

  if (!m) return fail("manifest", "wp_manifest_set_name: the manifest is NULL");
  if (name && !*name) return fail("manifest", "the plugin name must not be empty");
  if (name && (err = check_text("manifest", "the plugin name", name))) return err;
  if (!dup_opt(name, &copy)) return no_memory();
  free(m->name);
  m->name = copy;
  return NULL;
}

/*
 * A NULL sha256_hex keeps an earlier pin rather than dropping it: losing a
 * pin silently would weaken the check, while a stale one fails loudly.
 */
wp_error *wp_manifest_set_source(wp_manifest *m, const char *path, const char *sha256_hex) {
  uint8_t sha[32];
  char *copy;
  quoted q;

  if (!m || !path)
    return fail("manifest", "wp_manifest_set_source needs a manifest and a path");
  if (!*path) return fail("manifest", "the source path must not be empty");
  if (sha256_hex && !wp_sha256_from_hex(sha256_hex, sha))
    return fail("manifest", "sha256 must be 64 hex digits, got %s",
                quote_str(&q, sha256_hex));
  if (!(copy = strdup(path))) return no_memory();
  free(m->source_path);
  m->source_path = copy;
  if (sha256_hex) {
    memcpy(m->sha256, sha, sizeof sha);
    m->has_sha256 = true;
  }
  return NULL;
}

wp_error *wp_manifest_set_sha256(wp_manifest *m, const char *sha256_hex) {
  uint8_t sha[32];
  quoted q;

  if (!m || !sha256_hex)
    return fail("manifest", "wp_manifest_set_sha256 needs a manifest and 64 hex digits");
  if (!wp_sha256_from_hex(sha256_hex, sha))
    return fail("manifest", "sha256 must be 64 hex digits, got %s",
                quote_str(&q, sha256_hex));
  memcpy(m->sha256, sha, sizeof sha);
  m->has_sha256 = true;
  return NULL;
}

/* Kept in bytes: rounding to pages is the instance's business, and rounding
   here would turn a tiny limit into 0, which means "the engine's". */
void wp_manifest_set_max_memory(wp_manifest *m, uint64_t bytes) {
  if (m) m->max_memory = bytes;
}

/* 0 is "the engine's cap", as for memory; the plugin layer refuses a cap
   above the engine's (src/plugin/bounds.c). */
void wp_manifest_set_max_module_size(wp_manifest *m, uint64_t bytes) {
  if (m) m->max_module_size = bytes;
}

void wp_manifest_set_max_functions(wp_manifest *m, uint32_t n) {
  if (m) m->max_functions = n;
}

void wp_manifest_set_timeout_ms(wp_manifest *m, uint32_t ms) {
  if (m) m->timeout_ms = ms;
}

void wp_manifest_set_fuel(wp_manifest *m, uint64_t fuel) {
  if (m) m->fuel = fuel;
}

/* The host path is the host's business (any bytes a file name may hold);
   the guest path is text the plugin sees. */
wp_error *wp_manifest_allow_dir(wp_manifest *m, const char *host_path, const char *guest_path,
                                bool writable) {
  wp_error *err;
  quoted q;

  if (!m || !host_path || !guest_path)
    return fail("manifest",
                "wp_manifest_allow_dir needs a manifest, a host path and a guest path");
  if (!*host_path) return fail("manifest", "the host directory path must not be empty");
  if (guest_path[0] != '/')
    return fail("manifest", "guest path %s must be absolute (start with '/')",
                quote_str(&q, guest_path));
  if ((err = check_text("manifest", "guest path", guest_path))) return err;
  return dir_set(m, host_path, guest_path, writable) ? NULL : no_memory();
}

wp_error *wp_manifest_set_env(wp_manifest *m, const char *key, const char *value) {
  wp_error *err;
  quoted q;

  if (!m || !key || !value)
    return fail("manifest", "wp_manifest_set_env needs a manifest, a name and a value");
  if (!valid_env_name(key))
    return fail("manifest",
                "environment variable name %s must be non-empty and contain no '='",
                quote_str(&q, key));
  if ((err = check_text("manifest", "environment variable name", key)) ||
      (err = check_value_text("manifest", "environment variable", key, value)))
    return err;
  return kv_set(env_list(m), key, value) ? NULL : no_memory();
}

wp_error *wp_manifest_add_arg(wp_manifest *m, const char *arg) {
  char what[32];
  wp_error *err;

  if (!m || !arg)
    return fail("manifest", "wp_manifest_add_arg needs a manifest and an argument");
  snprintf(what, sizeof what, "argument argv[%zu]", m->nargs);
  if ((err = check_text("manifest", what, arg))) return err;
  return arg_push(m, arg) ? NULL : no_memory();
}

wp_error *wp_manifest_set_stdin(wp_manifest *m, const void *data, size_t len) {
  uint8_t *copy;

  if (!m || (!data && len > 0))
    return fail("manifest", "wp_manifest_set_stdin needs a manifest and data (or length 0)");
  if (!(copy = bytes_dup(data, len))) return no_memory();
  free(m->stdin_data);
  m->stdin_data = copy;
  m->stdin_len = len;
  m->has_stdin = true;
  return NULL;
}

void wp_manifest_set_stdout(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn,
                            void *user_data) {
  if (m) m->out = (wp_stdio){.mode = mode, .fn = fn, .user_data = user_data};
}

void wp_manifest_set_stderr(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn,
                            void *user_data) {
  if (m) m->err = (wp_stdio){.mode = mode, .fn = fn, .user_data = user_data};
}

wp_error *wp_manifest_set_config(wp_manifest *m, const char *key, const char *value) {
  wp_error *err;

  if (!m || !key || !value)
    return fail("manifest", "wp_manifest_set_config needs a manifest, a key and a value");
  if ((err = check_text("manifest", "config key", key)) ||
      (err = check_value_text("manifest", "config key", key, value)))
    return err;
  return kv_set(config_list(m), key, value) ? NULL : no_memory();
}

const char *wp_manifest_config_get(const wp_manifest *m, const char *key, size_t key_len) {
  size_t i;

  if (!m || !key || memchr(key, '\0', key_len)) return NULL;
  i = index_find(&m->config_index, m->config, m->nconfig, kv_key_at, key, key_len);
  return i < m->nconfig ? m->config[i].value : NULL;
}

/* ------------------------------------------------------------------------ */
/* Copying                                                                  */
/* ------------------------------------------------------------------------ */

/* The keys of `src` are distinct, so they are added without lookups. */
static bool copy_kvs(kv_list dst, const wp_kv *src, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    if (!kv_add(dst, src[i].key, src[i].value)) return false;
  return true;
}

/* Everything that owns memory; the caller frees `c` if this fails. */
static bool copy_owned(wp_manifest *c, const wp_manifest *m) {
  size_t i;

  if (!dup_opt(m->name, &c->name) || !dup_opt(m->source_path, &c->source_path)) return false;
  for (i = 0; i < m->ndirs; i++)
    if (!dir_set(c, m->dirs[i].host, m->dirs[i].guest, m->dirs[i].writable)) return false;
  for (i = 0; i < m->nargs; i++)
    if (!arg_push(c, m->args[i])) return false;
  if (!copy_kvs(env_list(c), m->env, m->nenv)) return false;
  if (!copy_kvs(config_list(c), m->config, m->nconfig)) return false;
  if (m->has_stdin && !(c->stdin_data = bytes_dup(m->stdin_data, m->stdin_len))) return false;
  return true;
}

wp_manifest *wp_manifest_copy(const wp_manifest *m) {
  wp_manifest *c = wp_manifest_new();

  if (!c || !m) return c;
  c->has_sha256 = m->has_sha256;
  c->has_stdin = m->has_stdin;
  c->stdin_len = m->stdin_len;
  memcpy(c->sha256, m->sha256, sizeof c->sha256);
  c->max_memory = m->max_memory;
  c->timeout_ms = m->timeout_ms;
  c->fuel = m->fuel;
  c->max_module_size = m->max_module_size;
  c->max_functions = m->max_functions;
  c->trap_missing_imports = m->trap_missing_imports;
  c->out = m->out;
  c->err = m->err;
  if (!copy_owned(c, m)) {
    wp_manifest_free(c);
    return NULL;
  }
  return c;
}

/* ------------------------------------------------------------------------ */
/* Sizes and hashes                                                         */
/* ------------------------------------------------------------------------ */

static const struct {
  const char *name; /* lower case; matched case-insensitively */
  uint64_t scale;
} SIZE_UNITS[] = {
    {"b", 1},           {"k", 1000},        {"kb", 1000},       {"kib", 1ULL << 10},
    {"m", 1000000},     {"mb", 1000000},    {"mib", 1ULL << 20}, {"g", 1000000000},
    {"gb", 1000000000}, {"gib", 1ULL << 30},
};

/* ASCII-only, so that the current locale cannot change what is accepted. */
static bool unit_scale(const char *unit, uint64_t *scale) {
  size_t i, j;

  for (i = 0; i < sizeof SIZE_UNITS / sizeof SIZE_UNITS[0]; i++) {
    const char *name = SIZE_UNITS[i].name;
    for (j = 0; name[j]; j++) {
      char c = unit[j];
      if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
      if (c != name[j]) break;
    }
    if (!name[j] && !unit[j]) {
      *scale = SIZE_UNITS[i].scale;
      return true;
    }
  }
  return false;
}

bool wp_parse_size(const char *text, uint64_t *out) {
  const char *s = text;
  uint64_t n = 0, scale = 1;

  if (!text || !out || *s < '0' || *s > '9') return false;
  for (; *s >= '0' && *s <= '9'; s++) {
    unsigned d = (unsigned)(*s - '0');
    if (n > (UINT64_MAX - d) / 10) return false;
    n = n * 10 + d;
  }
  if (*s == ' ') s++; /* "16 MiB"; but "16 " has nothing after the space */
  if ((*s || s[-1] == ' ') && !unit_scale(s, &scale)) return false;
  if (n > UINT64_MAX / scale) return false;
  *out = n * scale;
  return true;
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool wp_sha256_from_hex(const char *hex, uint8_t out[32]) {
  uint8_t bytes[32];
  size_t i;

  if (!hex || !out) return false;
  for (i = 0; i < 32; i++) {
    int hi = hex_digit(hex[2 * i]), lo;
    if (hi < 0) return false; /* also stops at the NUL of a short string */
    lo = hex_digit(hex[2 * i + 1]);
    if (lo < 0) return false;
    bytes[i] = (uint8_t)(hi << 4 | lo);
  }
  if (hex[64] != '\0') return false;
  memcpy(out, bytes, sizeof bytes); /* only now: `out` is untouched on failure */
  return true;
}

/* ------------------------------------------------------------------------ */
/* JSON: values                                                             */
/* ------------------------------------------------------------------------ */

/* A member of an object; case matters ("Name" is not "name"). */
static const cJSON *field(const cJSON *obj, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(obj, key);
}

/*
 * Fails on members not in `known` (NULL-terminated) and on members given
 * twice: cJSON keeps both copies of a duplicate, and which one won would be
 * an accident of this code.
 */
static wp_error *check_fields(const parser *p, const cJSON *obj, const char *path,
                              const char *const *known) {
  const cJSON *f, *g;
  char list[256];
  size_t i, n = 0;
  jpath fp;

  for (f = obj->child; f; f = f->next) {
    for (i = 0; known[i] && strcmp(known[i], f->string) != 0; i++) {
    }
    if (!known[i]) {
      for (i = 0; known[i] && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", known[i]);
      return fail(p->label, "unknown field '%s' (known: %s)", path_key(&fp, path, f->string),
                  list);
    }
    for (g = obj->child; g != f; g = g->next)
      if (strcmp(g->string, f->string) == 0)
        return fail(p->label, "duplicate field '%s'", path_key(&fp, path, f->string));
  }
  return NULL;
}

/* A string member that, when present, must not be empty; *out NULL if absent. */
static wp_error *get_string(const parser *p, const cJSON *obj, const char *parent,
                            const char *key, const char **out) {
  const cJSON *v = field(obj, key);
  wp_error *err;
  jpath path;

  *out = NULL;
  if (!v) return NULL;
  path_key(&path, parent, key);
  if ((err = expect(p, v, cJSON_String, path.s, "a string"))) return err;
  if (!*v->valuestring) return fail(p->label, "'%s' must not be empty", path.s);
  *out = v->valuestring;
  return NULL;
}

/* A non-negative integer no larger than `max` (nor 2^53 - 1; see above). */
static wp_error *get_uint(const parser *p, const cJSON *v, const char *path, uint64_t max,
                          uint64_t *out) {
  char got[32];
  wp_error *err;
  double d;

  if ((err = expect(p, v, cJSON_Number, path, "a non-negative integer"))) return err;
  d = v->valuedouble;
  if (max > JSON_MAX_EXACT_INT) max = JSON_MAX_EXACT_INT;
  if (!(d >= 0))
    return fail(p->label, "'%s' must be a non-negative integer, got %s", path, num(got, d));
  if (d > (double)max)
    return fail(p->label, "'%s' is too large (at most %llu), got %s", path,
                (unsigned long long)max, num(got, d));
  if ((double)(uint64_t)d != d)
    return fail(p->label, "'%s' must be a non-negative integer, got %s", path, num(got, d));
  *out = (uint64_t)d;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* JSON: sections                                                           */
/* ------------------------------------------------------------------------ */

static wp_error *parse_source(const parser *p, const cJSON *src, const char *path) {
  const char *file, *sha_hex;
  uint8_t sha[32];
  wp_error *err;
  jpath sp;
  quoted q;

  if ((err = expect(p, src, cJSON_Object, path, "an object {\"path\", \"sha256\"}")) ||
      (err = check_fields(p, src, path, SOURCE_KEYS)) ||
      (err = get_string(p, src, path, "path", &file)) ||
      (err = get_string(p, src, path, "sha256", &sha_hex)))
    return err;
  if (!file) return fail(p->label, "'%s' is missing", path_key(&sp, path, "path"));
  if (sha_hex && !wp_sha256_from_hex(sha_hex, sha))
    return fail(p->label, "'%s' must be 64 hex digits (a sha256), got %s",
                path_key(&sp, path, "sha256"), quote_str(&q, sha_hex));
  if (!(p->m->source_path = resolve(p->base_dir, file))) return no_memory();
  if (sha_hex) {
    memcpy(p->m->sha256, sha, sizeof sha);
    p->m->has_sha256 = true;
  }
  return NULL;
}

static wp_error *parse_sources(const parser *p, const cJSON *v) {
  wp_error *err;
  size_t n = 0;
  const cJSON *s;

  if ((err = expect(p, v, cJSON_Array, "sources",
                    "an array of {\"path\", \"sha256\"} objects")))
    return err;
  for (s = v->child; s; s = s->next) n++;
  if (n == 0) return fail(p->label, "'sources' is empty: give one source or leave it out");
  if (n > 1)
    return fail(p->label,
                "'sources' has %zu entries, but only one source is supported for now", n);
  return parse_source(p, v->child, "sources[0]");
}

/*
 * A size: a number of bytes or a string with a unit ("16MiB"), at least
 * `min` bytes. A limit of 0 would read as "none" or "the engine's" depending
 * on who reads it, so it is refused and leaving the field out says that.
 */
static wp_error *parse_size_field(const parser *p, const cJSON *v, const char *path,
                                  uint64_t min, const char *min_text, uint64_t *out) {
  uint64_t n = 0;
  wp_error *err;
  quoted q;

  if (cJSON_IsNumber(v)) {
    if ((err = get_uint(p, v, path, UINT64_MAX, &n))) return err;
  } else if (!cJSON_IsString(v)) {
    return fail(p->label, "'%s' must be a number of bytes or a size string such as "
                "\"16MiB\", got %s", path, type_name(v));
  } else if (!wp_parse_size(v->valuestring, &n)) {
    return fail(p->label, "'%s' must be a whole number of bytes with an optional unit, such "
                "as \"65536\", \"64KiB\" or \"16 MiB\" (units: B; K/KB, M/MB, G/GB, powers "
                "of 1000; KiB, MiB, GiB, powers of 1024), got %s",
                path, quote_str(&q, v->valuestring));
  }
  if (n < min)
    return fail(p->label, "'%s' must be at least %s, got %llu bytes; omit it to use the "
                "engine's limit", path, min_text, (unsigned long long)n);
  *out = n;
  return NULL;
}

/* A count limit from 1 to UINT32_MAX; 0 is refused as in parse_size_field. */
static wp_error *parse_count_field(const parser *p, const cJSON *v, const char *path,
                                   uint32_t *out) {
  uint64_t n;
  wp_error *err;

  if ((err = get_uint(p, v, path, UINT32_MAX, &n))) return err;
  if (n == 0)
    return fail(p->label, "'%s' must be at least 1, got 0; omit it to use the engine's limit",
                path);
  *out = (uint32_t)n;
  return NULL;
}

static wp_error *parse_limits(const parser *p, const cJSON *v) {
  const cJSON *memory = field(v, "memory"), *timeout = field(v, "timeout_ms");
  const cJSON *fuel = field(v, "fuel"), *size = field(v, "module_size");
  const cJSON *functions = field(v, "functions");
  uint64_t ms;
  wp_error *err;

  if ((err = expect(p, v, cJSON_Object, "limits", "an object")) ||
      (err = check_fields(p, v, "limits", LIMIT_KEYS)))
    return err;
  /* Below one 64 KiB page a limit allows no linear memory at all. */
  if (memory && (err = parse_size_field(p, memory, "limits.memory", 65536, "64 KiB (one page)",
                                        &p->m->max_memory)))
    return err;
  if (timeout) {
    if ((err = get_uint(p, timeout, "limits.timeout_ms", UINT32_MAX, &ms))) return err;
    p->m->timeout_ms = (uint32_t)ms;
  }
  if (fuel && (err = get_uint(p, fuel, "limits.fuel", UINT64_MAX, &p->m->fuel))) return err;
  if (size && (err = parse_size_field(p, size, "limits.module_size", 1, "1 byte",
                                      &p->m->max_module_size)))
    return err;
  if (functions &&
      (err = parse_count_field(p, functions, "limits.functions", &p->m->max_functions)))
    return err;
  return NULL;
}

/*
 * The fields of one directory grant. The guest path defaults to the host
 * path as written, which only works when that is absolute: a relative one
 * would make the plugin's view depend on where the manifest happens to be.
 */
static wp_error *dir_fields(const parser *p, const cJSON *d, const char *path,
                            const char **host, const char **guest, bool *writable) {
  const char *mode;
  wp_error *err;
  jpath fp;
  quoted q;

  if ((err = expect(p, d, cJSON_Object, path, "an object {\"host\", \"guest\", \"mode\"}")) ||
      (err = check_fields(p, d, path, DIR_KEYS)) ||
      (err = get_string(p, d, path, "host", host)) ||
      (err = get_string(p, d, path, "guest", guest)) ||
      (err = get_string(p, d, path, "mode", &mode)))
    return err;
  if (!*host) return fail(p->label, "'%s' is missing", path_key(&fp, path, "host"));
  if (!*guest && (*host)[0] != '/')
    return fail(p->label, "'%s' is needed because 'host' (%s) is relative: give the absolute "
                "path the plugin should see, e.g. \"/data\"",
                path_key(&fp, path, "guest"), quote_str(&q, *host));
  path_key(&fp, path, *guest ? "guest" : "host"); /* the guest path and where it is from */
  if (!*guest) *guest = *host;
  if ((*guest)[0] != '/')
    return fail(p->label, "'%s' must be an absolute path (start with '/'), got %s",
                path_key(&fp, path, "guest"), quote_str(&q, *guest));
  if ((err = check_json_text(p->label, fp.s, *guest))) return err;
  if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
    return fail(p->label, "'%s' must be \"ro\" or \"rw\", got %s", path_key(&fp, path, "mode"),
                quote_str(&q, mode));
  *writable = mode && strcmp(mode, "rw") == 0;
  return NULL;
}

/*
 * One directory grant. The API lets a later grant of a guest path replace
 * an earlier one; in a file, granting one path twice is a mistake.
 */
static wp_error *parse_dir(const parser *p, const cJSON *d, const char *path) {
  const char *host, *guest;
  bool writable = false, ok;
  char *resolved;
  wp_error *err;
  size_t i;
  quoted q;

  if ((err = dir_fields(p, d, path, &host, &guest, &writable))) return err;
  /* Grants are never replaced while parsing: position i is wasi.dirs[i]. */
  if ((i = dir_find(p->m, guest)) < p->m->ndirs)
    return fail(p->label,
                "'%s' grants guest path %s again (already granted by 'wasi.dirs[%zu]')",
                path, quote_str(&q, guest), i);
  if (!(resolved = resolve(p->base_dir, host))) return no_memory();
  ok = dir_set(p->m, resolved, guest, writable);
  free(resolved);
  return ok ? NULL : no_memory();
}

static wp_error *parse_dirs(const parser *p, const cJSON *v) {
  const cJSON *d;
  wp_error *err;
  size_t i = 0;
  jpath dp;

  if ((err = expect(p, v, cJSON_Array, "wasi.dirs",
                    "an array of {\"host\", \"guest\", \"mode\"} objects")))
    return err;
  for (d = v->child; d; d = d->next, i++)
    if ((err = parse_dir(p, d, path_index(&dp, "wasi.dirs", i)))) return err;
  return NULL;
}

static wp_error *parse_args(const parser *p, const cJSON *v) {
  const cJSON *a;
  wp_error *err;
  size_t i = 0;
  jpath ap;

  if ((err = expect(p, v, cJSON_Array, "wasi.args", "an array of strings"))) return err;
  for (a = v->child; a; a = a->next, i++) {
    if ((err = expect(p, a, cJSON_String, path_index(&ap, "wasi.args", i), "a string")) ||
        (err = check_json_text(p->label, ap.s, a->valuestring)) ||
        (err = wp_manifest_add_arg(p->m, a->valuestring)))
      return err;
  }
  return NULL;
}

/*
 * Why entry `kv` of wasi.env or config (`path`) cannot be taken; NULL if it
 * can. The checks are cheap ones first; the path for the message is only
 * built for an entry that fails.
 */
static wp_error *map_entry_error(const parser *p, const cJSON *kv, const char *path, bool env,
                                 kv_list list) {
  const char *key = kv->string;
  char what[PATH_LEN + 8];
  wp_error *err;
  jpath kp;
  quoted q;

  if (cJSON_IsString(kv) && (!env || valid_env_name(key)) &&
      wp_utf8_valid((const uint8_t *)key, strlen(key)) &&
      wp_utf8_valid((const uint8_t *)kv->valuestring, strlen(kv->valuestring)) &&
      kv_find(list, key, strlen(key)) == *list.n)
    return NULL;
  path_key(&kp, path, key);
  snprintf(what, sizeof what, "'%s' key", path);
  if ((err = expect(p, kv, cJSON_String, kp.s, "a string"))) return err;
  if (env && !valid_env_name(key))
    return fail(p->label, "'%s' has an invalid variable name %s: names must be non-empty "
                "and contain no '='", path, quote_str(&q, key));
  if ((err = check_text(p->label, what, key)) ||
      (err = check_json_text(p->label, kp.s, kv->valuestring)))
    return err;
  return fail(p->label, "duplicate field '%s'", kp.s);
}

/*
 * wasi.env or config: an object of strings. Duplicates are found through
 * the list's hash index, so reading stays linear in the number of keys
 * (a million keys take seconds, not hours).
 */
static wp_error *parse_map(const parser *p, const cJSON *v, const char *path, bool env) {
  kv_list list = env ? env_list(p->m) : config_list(p->m);
  const cJSON *kv;
  wp_error *err;

  if ((err = expect(p, v, cJSON_Object, path, "an object of strings"))) return err;
  for (kv = v->child; kv; kv = kv->next) {
    if ((err = map_entry_error(p, kv, path, env, list))) return err;
    if (!kv_add(list, kv->string, kv->valuestring)) return no_memory();
  }
  return NULL;
}

static wp_error *parse_stdio(const parser *p, const cJSON *v, const char *path,
                             wp_stdio *out) {
  static const char *const names[] = {"discard", "inherit", "capture"};
  static const wp_stdio_mode modes[] = {WP_STDIO_DISCARD, WP_STDIO_INHERIT, WP_STDIO_CAPTURE};
  size_t i;
  quoted q;

  for (i = 0; cJSON_IsString(v) && i < 3; i++) {
    if (strcmp(v->valuestring, names[i]) == 0) {
      out->mode = modes[i];
      return NULL;
    }
  }
  return fail(p->label, "'%s' must be \"inherit\", \"capture\" or \"discard\", got %s", path,
              cJSON_IsString(v) ? quote_str(&q, v->valuestring) : type_name(v));
}

static wp_error *parse_wasi(const parser *p, const cJSON *v) {
  const cJSON *f;
  wp_error *err;

  if ((err = expect(p, v, cJSON_Object, "wasi", "an object")) ||
      (err = check_fields(p, v, "wasi", WASI_KEYS)))
    return err;
  if ((f = field(v, "dirs")) && (err = parse_dirs(p, f))) return err;
  if ((f = field(v, "env")) && (err = parse_map(p, f, "wasi.env", true))) return err;
  if ((f = field(v, "args")) && (err = parse_args(p, f))) return err;
  if ((f = field(v, "stdin"))) {
    if ((err = expect(p, f, cJSON_String, "wasi.stdin", "a string"))) return err;
    err = wp_manifest_set_stdin(p->m, f->valuestring, strlen(f->valuestring));
    if (err) return err;
  }
  if ((f = field(v, "stdout")) && (err = parse_stdio(p, f, "wasi.stdout", &p->m->out)))
    return err;
  if ((f = field(v, "stderr")) && (err = parse_stdio(p, f, "wasi.stderr", &p->m->err)))
    return err;
  return NULL;
}

/* "imports": {"missing": "error" | "trap"} */
static wp_error *parse_imports(const parser *p, const cJSON *v) {
  const cJSON *f;
  wp_error *err;
  quoted q;

  if ((err = expect(p, v, cJSON_Object, "imports", "an object")) ||
      (err = check_fields(p, v, "imports", IMPORT_KEYS)))
    return err;
  if (!(f = field(v, "missing"))) return NULL;
  if (cJSON_IsString(f) && (strcmp(f->valuestring, "error") == 0 || strcmp(f->valuestring, "trap") == 0)) {
    p->m->trap_missing_imports = strcmp(f->valuestring, "trap") == 0;
    return NULL;
  }
  return fail(p->label, "'imports.missing' must be \"error\" or \"trap\", got %s",
              cJSON_IsString(f) ? quote_str(&q, f->valuestring) : type_name(f));
}

static wp_error *parse_root(const parser *p, const cJSON *root) {
  const cJSON *f;
  const char *name;
  wp_error *err;

  if (!cJSON_IsObject(root))
    return fail(p->label, "the manifest must be a JSON object, got %s", type_name(root));
  if ((err = check_fields(p, root, "", ROOT_KEYS)) ||
      (err = get_string(p, root, "", "name", &name)))
    return err;
  if (name && ((err = check_json_text(p->label, "name", name)) ||
               (err = wp_manifest_set_name(p->m, name))))
    return err;
  if ((f = field(root, "sources")) && (err = parse_sources(p, f))) return err;
  if ((f = field(root, "limits")) && (err = parse_limits(p, f))) return err;
  if ((f = field(root, "wasi")) && (err = parse_wasi(p, f))) return err;
  if ((f = field(root, "config")) && (err = parse_map(p, f, "config", false))) return err;
  if ((f = field(root, "imports")) && (err = parse_imports(p, f))) return err;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* JSON: text                                                               */
/* ------------------------------------------------------------------------ */

static bool is_json_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * "at line L, column C, near '...'", both counted from 1, columns in bytes;
 * or "at the end of the text" when only blanks follow (cJSON points at the
 * last byte when the text stops short).
 */
static const char *where(char *buf, size_t size, const char *json, size_t len, size_t pos) {
  size_t i, line = 1, col = 1, n;
  quoted q;

  for (i = pos; i < len && is_json_space(json[i]); i++) {
  }
  if (i == len) pos = len;
  for (i = 0; i < pos && i < len; i++) {
    if (json[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  for (n = 0; pos + n < len && n < 16 && json[pos + n] != '\n' && json[pos + n] != '\r'; n++) {
  }
  if (pos == len)
    snprintf(buf, size, "at the end of the text (line %zu, column %zu)", line, col);
  else
    snprintf(buf, size, "at line %zu, column %zu, near %s", line, col,
             quote(&q, json + pos, n, '\''));
  return buf;
}

/*
 * cJSON turns "\u0000" into a NUL byte that silently ends the C string, so
 * "evil.wasm\u0000.txt" would become "evil.wasm". Finds such an escape in
 * valid JSON (where every backslash is in a string); returns len if none.
 */
static size_t find_escaped_nul(const char *json, size_t len) {
  size_t i;

  for (i = 0; i + 1 < len; i++) {
    if (json[i] != '\\') continue;
    if (json[i + 1] == 'u' && i + 5 < len && memcmp(json + i + 2, "0000", 4) == 0) return i;
    i++; /* skip the escaped character, which may be a backslash itself */
  }
  return len;
}

/* Parses `json` into a tree, or explains where and why it is not JSON. */
static wp_error *parse_text(const parser *p, const char *json, size_t len, cJSON **out) {
  const char *end = NULL, *nul = memchr(json, '\0', len);
  char at[128];
  size_t i;
  cJSON *root;

  for (i = 0; i < len && is_json_space(json[i]); i++) {
  }
  if (i == len) return fail(p->label, "invalid JSON: the text is empty");
  /* cJSON would copy a raw NUL into a string and end it there. */
  if (nul)
    return fail(p->label, "invalid JSON: NUL byte %s",
                where(at, sizeof at, json, len, (size_t)(nul - json)));
  root = cJSON_ParseWithLengthOpts(json, len, &end, false);
  if (!root) /* also when cJSON ran out of memory: it cannot tell us */
    return fail(p->label, "invalid JSON %s",
                where(at, sizeof at, json, len, end ? (size_t)(end - json) : 0));
  for (i = (size_t)(end - json); i < len && is_json_space(json[i]); i++) {
  }
  if (i < len) {
    cJSON_Delete(root);
    return fail(p->label, "invalid JSON %s: unexpected text after the end of the manifest",
                where(at, sizeof at, json, len, i));
  }
  if ((i = find_escaped_nul(json, len)) < len) {
    cJSON_Delete(root);
    return fail(p->label, "strings must not contain \\u0000 (%s)",
                where(at, sizeof at, json, len, i));
  }
  *out = root;
  return NULL;
}

static wp_error *parse_labeled(const char *label, const char *json, size_t len,
                               const char *base_dir, wp_manifest **out) {
  parser p = {.label = label, .base_dir = base_dir, .m = NULL};
  cJSON *root = NULL;
  wp_error *err;

  if (!json || !out)
    return fail(label, "wp_manifest_parse needs JSON text and an out pointer");
  if ((err = parse_text(&p, json, len, &root))) return err;
  if (!(p.m = wp_manifest_new())) {
    cJSON_Delete(root);
    return no_memory();
  }
  err = parse_root(&p, root);
  cJSON_Delete(root);
  if (err) {
    wp_manifest_free(p.m);
    return err;
  }
  *out = p.m;
  return NULL;
}

wp_error *wp_manifest_parse(const char *json, size_t len, const char *base_dir,
                            wp_manifest **out) {
  return parse_labeled("manifest", json, len, base_dir, out);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/* Reads all of `path`; a missing file is WP_ERR_NOT_FOUND, other failures WP_ERR_IO. */
static wp_error *read_file(const char *path, const char *label, char **out, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  int e = errno; /* before anything else can change it */
  size_t len = 0, cap = 4096, got;
  char *buf = NULL, *grown;
  wp_error *err = NULL;

  if (!f)
    return wp_error_new(e == ENOENT || e == ENOTDIR ? WP_ERR_NOT_FOUND : WP_ERR_IO,
                        "%s: cannot open: %s", label, strerror(e));
  for (;;) {
    if (!(grown = realloc(buf, cap))) {
      err = no_memory();
      break;
    }
    buf = grown;
    len += got = fread(buf + len, 1, cap - len, f);
    if (got == 0 || len < cap) {
      if (ferror(f))
        err = wp_error_new(WP_ERR_IO, "%s: cannot read: %s", label, strerror(errno));
      break;
    }
    if (cap >= MANIFEST_MAX_FILE) {
      err = fail(label, "the file is %u MiB or more, too big for a manifest",
                 MANIFEST_MAX_FILE >> 20);
      break;
    }
    cap *= 2;
  }
  fclose(f);
  if (err) {
    free(buf);
    return err;
  }
  *out = buf;
  *out_len = len;
  return NULL;
}

/* The directory part of a file path: "." for "m.json", "/" for "/m.json". */
static char *dir_of(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
  char *dir;

  if (!slash) return strdup(".");
  if (!(dir = malloc(n + 1))) return NULL;
  memcpy(dir, path, n);
  dir[n] = '\0';
  return dir;
}

wp_error *wp_manifest_load(const char *path, wp_manifest **out) {
  char *label = NULL, *text = NULL, *dir = NULL;
  size_t len = 0, label_len;
  wp_error *err;

  if (!path || !out)
    return fail("manifest", "wp_manifest_load needs a path and an out pointer");
  label_len = strlen(path) + sizeof "manifest ''";
  if (!(label = malloc(label_len))) return no_memory();
  snprintf(label, label_len, "manifest '%s'", path);
  err = read_file(path, label, &text, &len);
  if (!err && !(dir = dir_of(path))) err = no_memory();
  if (!err) err = parse_labeled(label, text, len, dir, out);
  free(dir);
  free(text);
  free(label);
  return err;
}

void wp_manifest_set_trap_missing_imports(wp_manifest *m, bool trap) {
  if (m) m->trap_missing_imports = trap;
}
