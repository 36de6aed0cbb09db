/*
 * manifest.c - wp_manifest: what a plugin may do, as plain owned data (see
 * manifest.h): the setters, copying and freeing, config lookup and the key
 * indexes behind them. Reading one from JSON is manifest_json.c.
 *
 * Nothing here keeps a pointer into the caller's strings.
 */
#include "plugin/manifest.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/hash.h"
#include "util/hex.h"
#include "util/utf8.h"

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/* A WP_ERR_BAD_INPUT error: "<label>: <message>". */
wp_error *wp_manifest_fail(const char *label, const char *fmt, ...) {
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return wp_error_new(WP_ERR_BAD_INPUT, "%s: %s", label, msg);
}

wp_error *wp_manifest_no_memory(void) {
  return wp_error_new(WP_ERR_NO_MEMORY, "manifest: out of memory");
}

/*
 * Quotes `len` bytes of `s` for a message, between `mark`s: "a value" as
 * JSON would, or 'raw JSON text' with only control bytes escaped. Control
 * bytes and bytes that are not UTF-8 are escaped (\xff) and long text is
 * cut (between characters) so that a hostile manifest cannot put newlines,
 * broken text or megabytes into a message.
 */
const char *wp_manifest_quote(wp_quoted *q, const char *s, size_t len, char mark) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, n = len < WP_MANIFEST_QUOTE_CHARS ? len : WP_MANIFEST_QUOTE_CHARS, seq;
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

const char *wp_manifest_quote_str(wp_quoted *q, const char *s) {
  return wp_manifest_quote(q, s, strlen(s), '"');
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

/* Keyed: whoever writes the manifest cannot pick keys that all land in one
   slot without knowing the key (util/hash.h). */
static void index_seed(wp_key_index *ix) { wp_hash_seed(ix->seed); }

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
  slot = index_slot(ix, list, key_at, key, len, wp_siphash13(ix->seed, key, len));
  return ix->slots[slot].pos ? ix->slots[slot].pos - 1 : n;
}

/* Files item `pos` of the list under its key, which is not in the index yet. */
static void index_put(wp_key_index *ix, const void *list, key_at_fn key_at, size_t pos) {
  const char *key = key_at(list, pos);
  size_t len = strlen(key);
  uint64_t hash = wp_siphash13(ix->seed, key, len);

  ix->slots[index_slot(ix, list, key_at, key, len, hash)] = (wp_key_slot){.pos = pos + 1,
                                                                          .hash = hash};
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

wp_kv_list wp_manifest_env_list(wp_manifest *m) {
  return (wp_kv_list){&m->env, &m->nenv, &m->env_cap, &m->env_index};
}

wp_kv_list wp_manifest_config_list(wp_manifest *m) {
  return (wp_kv_list){&m->config, &m->nconfig, &m->config_cap, &m->config_index};
}

wp_kv_list wp_manifest_caps_list(wp_manifest *m) {
  return (wp_kv_list){&m->caps, &m->ncaps, &m->caps_cap, &m->caps_index};
}

wp_kv_list wp_manifest_links_list(wp_manifest *m) {
  return (wp_kv_list){&m->links, &m->nlinks, &m->links_cap, &m->links_index};
}

/* The index of `key` in a key/value list, or *l.n when absent. */
size_t wp_kv_find(wp_kv_list l, const char *key, size_t key_len) {
  return index_find(l.index, *l.items, *l.n, kv_key_at, key, key_len);
}

/*
 * Appends `key`, which the list does not hold, with `value`. When memory
 * runs out the list is left as it was.
 */
bool wp_kv_add(wp_kv_list l, const char *key, const char *value) {
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
static bool kv_set(wp_kv_list l, const char *key, const char *value) {
  size_t i = wp_kv_find(l, key, strlen(key));
  char *v;

  if (i == *l.n) return wp_kv_add(l, key, value);
  if (!(v = strdup(value))) return false;
  free((*l.items)[i].value);
  (*l.items)[i].value = v;
  return true;
}

static void kv_free(wp_kv_list l) {
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
size_t wp_manifest_dir_find(const wp_manifest *m, const char *guest) {
  return index_find(&m->dirs_index, m->dirs, m->ndirs, dir_key_at, guest, strlen(guest));
}

/*
 * Grants `host` as `guest`; a later grant of the same guest path replaces
 * the earlier one, since the plugin can only see one directory there.
 */
bool wp_manifest_dir_set(wp_manifest *m, const char *host, const char *guest, bool writable) {
  char *h = strdup(host), *g = strdup(guest);
  size_t i = wp_manifest_dir_find(m, guest);
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

bool wp_manifest_valid_env_name(const char *key) { return *key && !strchr(key, '='); }

/*
 * Fails unless `s` is text a plugin can be given: WASI and the Component
 * Model carry names, paths, env, args and config as UTF-8, and Wasmtime
 * drops or refuses what is not. (A C string cannot hold a NUL; the JSON
 * reader refuses \u0000.) `what` names the string in the message.
 */
wp_error *wp_manifest_check_text(const char *label, const char *what, const char *s) {
  wp_quoted q;

  if (wp_utf8_valid((const uint8_t *)s, strlen(s))) return NULL;
  return wp_manifest_fail(label, "%s %s is not valid UTF-8: text given to a plugin must be UTF-8",
                          what, wp_manifest_quote_str(&q, s));
}

/* As wp_manifest_check_text for the value of `key`, a <what> ("config key"). */
static wp_error *check_value_text(const char *label, const char *what, const char *key,
                                  const char *value) {
  wp_quoted k, v;

  if (wp_utf8_valid((const uint8_t *)value, strlen(value))) return NULL;
  return wp_manifest_fail(label,
                          "the value of %s %s is not valid UTF-8 (%s): text given to a plugin "
                          "must be UTF-8",
                          what, wp_manifest_quote_str(&k, key), wp_manifest_quote_str(&v, value));
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
  free(m->timeout_origin);
  for (i = 0; i < m->ndirs; i++) {
    free(m->dirs[i].host);
    free(m->dirs[i].guest);
  }
  free(m->dirs);
  index_free(&m->dirs_index);
  kv_free(wp_manifest_env_list(m));
  for (i = 0; i < m->nargs; i++) free(m->args[i]);
  free(m->args);
  free(m->stdin_data);
  kv_free(wp_manifest_config_list(m));
  kv_free(wp_manifest_caps_list(m));
  kv_free(wp_manifest_links_list(m));
  free(m);
}

/* NULL resets the name to the default (derived from the source). */
wp_error *wp_manifest_set_name(wp_manifest *m, const char *name) {
  wp_error *err;
  char *copy;

  if (!m) return wp_manifest_fail("manifest", "wp_manifest_set_name: the manifest is NULL");
  if (name && !*name) return wp_manifest_fail("manifest", "the plugin name must not be empty");
  if (name && (err = wp_manifest_check_text("manifest", "the plugin name", name))) return err;
  if (!dup_opt(name, &copy)) return wp_manifest_no_memory();
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
  wp_quoted q;

  if (!m || !path)
    return wp_manifest_fail("manifest", "wp_manifest_set_source needs a manifest and a path");
  if (!*path) return wp_manifest_fail("manifest", "the source path must not be empty");
  if (sha256_hex && !wp_sha256_from_hex(sha256_hex, sha))
    return wp_manifest_fail("manifest", "sha256 must be 64 hex digits, got %s",
                            wp_manifest_quote_str(&q, sha256_hex));
  if (!(copy = strdup(path))) return wp_manifest_no_memory();
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
  wp_quoted q;

  if (!m || !sha256_hex)
    return wp_manifest_fail("manifest",
                            "wp_manifest_set_sha256 needs a manifest and 64 hex digits");
  if (!wp_sha256_from_hex(sha256_hex, sha))
    return wp_manifest_fail("manifest", "sha256 must be 64 hex digits, got %s",
                            wp_manifest_quote_str(&q, sha256_hex));
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
  if (!m) return;
  m->timeout_ms = ms;
  free(m->timeout_origin);
  m->timeout_origin = NULL;
}

wp_error *wp_manifest_set_timeout_origin(wp_manifest *m, const char *origin) {
  char *copy = NULL;

  if (!m) return wp_manifest_fail("manifest", "wp_manifest_set_timeout_origin needs a manifest");
  if (origin && !(copy = strdup(origin))) return wp_manifest_no_memory();
  free(m->timeout_origin);
  m->timeout_origin = copy;
  return NULL;
}

void wp_manifest_set_fuel(wp_manifest *m, uint64_t fuel) {
  if (m) m->fuel = fuel;
}

/* The host path is the host's business (any bytes a file name may hold);
   the guest path is text the plugin sees. */
wp_error *wp_manifest_allow_dir(wp_manifest *m, const char *host_path, const char *guest_path,
                                bool writable) {
  wp_error *err;
  wp_quoted q;

  if (!m || !host_path || !guest_path)
    return wp_manifest_fail("manifest",
                            "wp_manifest_allow_dir needs a manifest, a host path and a guest path");
  if (!*host_path) return wp_manifest_fail("manifest", "the host directory path must not be empty");
  if (guest_path[0] != '/')
    return wp_manifest_fail("manifest", "guest path %s must be absolute (start with '/')",
                            wp_manifest_quote_str(&q, guest_path));
  if ((err = wp_manifest_check_text("manifest", "guest path", guest_path))) return err;
  return wp_manifest_dir_set(m, host_path, guest_path, writable) ? NULL : wp_manifest_no_memory();
}

wp_error *wp_manifest_set_env(wp_manifest *m, const char *key, const char *value) {
  wp_error *err;
  wp_quoted q;

  if (!m || !key || !value)
    return wp_manifest_fail("manifest", "wp_manifest_set_env needs a manifest, a name and a value");
  if (!wp_manifest_valid_env_name(key))
    return wp_manifest_fail("manifest",
                            "environment variable name %s must be non-empty and contain no '='",
                            wp_manifest_quote_str(&q, key));
  if ((err = wp_manifest_check_text("manifest", "environment variable name", key)) ||
      (err = check_value_text("manifest", "environment variable", key, value)))
    return err;
  return kv_set(wp_manifest_env_list(m), key, value) ? NULL : wp_manifest_no_memory();
}

wp_error *wp_manifest_add_arg(wp_manifest *m, const char *arg) {
  char what[32];
  wp_error *err;

  if (!m || !arg)
    return wp_manifest_fail("manifest", "wp_manifest_add_arg needs a manifest and an argument");
  snprintf(what, sizeof what, "argument argv[%zu]", m->nargs);
  if ((err = wp_manifest_check_text("manifest", what, arg))) return err;
  return arg_push(m, arg) ? NULL : wp_manifest_no_memory();
}

wp_error *wp_manifest_set_stdin(wp_manifest *m, const void *data, size_t len) {
  uint8_t *copy;

  if (!m || (!data && len > 0))
    return wp_manifest_fail("manifest",
                            "wp_manifest_set_stdin needs a manifest and data (or length 0)");
  if (!(copy = bytes_dup(data, len))) return wp_manifest_no_memory();
  free(m->stdin_data);
  m->stdin_data = copy;
  m->stdin_len = len;
  m->has_stdin = true;
  return NULL;
}

void wp_manifest_set_stdout(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn, void *user_data) {
  if (m) m->out = (wp_stdio){.mode = mode, .fn = fn, .user_data = user_data};
}

void wp_manifest_set_stderr(wp_manifest *m, wp_stdio_mode mode, wp_output_fn fn, void *user_data) {
  if (m) m->err = (wp_stdio){.mode = mode, .fn = fn, .user_data = user_data};
}

wp_error *wp_manifest_set_config(wp_manifest *m, const char *key, const char *value) {
  wp_error *err;

  if (!m || !key || !value)
    return wp_manifest_fail("manifest",
                            "wp_manifest_set_config needs a manifest, a key and a value");
  if ((err = wp_manifest_check_text("manifest", "config key", key)) ||
      (err = check_value_text("manifest", "config key", key, value)))
    return err;
  return kv_set(wp_manifest_config_list(m), key, value) ? NULL : wp_manifest_no_memory();
}

/* namespace:package/interface[@version]: WIT names and a semver, nothing
   that needs quoting when messages show it. */
static bool iface_name_valid(const char *s) {
  if (!strchr(s, ':') || !strchr(s, '/')) return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr(":/@.+-_", *s)) return false;
  return true;
}

wp_error *wp_manifest_set_link(wp_manifest *m, const char *iface, const char *plug_path) {
  wp_quoted q;

  if (!m || !iface || !plug_path || !*iface || !*plug_path)
    return wp_manifest_fail("manifest", "wp_manifest_set_link needs a manifest, an interface "
                                        "name and the path of the plug component");
  if (!iface_name_valid(iface))
    return wp_manifest_fail("manifest",
                            "link: %s is not an interface name (namespace:package/interface, "
                            "e.g. \"wasi:keyvalue/store@0.2.0-draft\")",
                            wp_manifest_quote_str(&q, iface));
  return kv_set(wp_manifest_links_list(m), iface, plug_path) ? NULL : wp_manifest_no_memory();
}

size_t wp_manifest_link_count(const wp_manifest *m) { return m ? m->nlinks : 0; }

bool wp_manifest_link_at(const wp_manifest *m, size_t i, const char **iface, const char **path) {
  if (!m || i >= m->nlinks) return false;
  if (iface) *iface = m->links[i].key;
  if (path) *path = m->links[i].value;
  return true;
}

/* A capability's name: [a-z0-9_-]+, as wp_engine_add_capability wants. */
bool wp_capability_name_valid(const char *name) {
  if (!name || !*name) return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
      return false;
  return true;
}

wp_error *wp_manifest_set_capability(wp_manifest *m, const char *name, const char *json) {
  if (!m || !name)
    return wp_manifest_fail("manifest", "wp_manifest_set_capability needs a manifest and a name");
  if (!wp_capability_name_valid(name))
    return wp_manifest_fail("manifest",
                            "capability name '%.64s' is not valid (lower-case letters, digits, "
                            "'_' and '-')",
                            name);
  wp_kv_list l = wp_manifest_caps_list(m);
  size_t i = wp_kv_find(l, name, strlen(name));
  if (!json) { /* removes it, keeping the order of the others */
    if (i == m->ncaps) return NULL;
    free(m->caps[i].key);
    free(m->caps[i].value);
    memmove(&m->caps[i], &m->caps[i + 1], (m->ncaps - i - 1) * sizeof *m->caps);
    m->ncaps--;
    index_free(&m->caps_index);
    for (size_t k = 0; k < m->ncaps; k++) {
      if (!index_reserve(&m->caps_index, k)) return wp_manifest_no_memory();
      index_put(&m->caps_index, m->caps, kv_key_at, k);
    }
    return NULL;
  }
  cJSON *doc = cJSON_ParseWithOpts(json, NULL, true);
  if (!doc)
    return wp_manifest_fail("manifest", "capabilities.%s: the section is not valid JSON", name);
  char *text = cJSON_PrintUnformatted(doc); /* one canonical, compact form */
  cJSON_Delete(doc);
  if (!text) return wp_manifest_no_memory();
  bool ok = kv_set(l, name, text);
  cJSON_free(text);
  return ok ? NULL : wp_manifest_no_memory();
}

const char *wp_manifest_get_capability(const wp_manifest *m, const char *name) {
  if (!m || !name) return NULL;
  size_t i = index_find(&m->caps_index, m->caps, m->ncaps, kv_key_at, name, strlen(name));
  return i < m->ncaps ? m->caps[i].value : NULL;
}

size_t wp_manifest_capability_count(const wp_manifest *m) { return m ? m->ncaps : 0; }

const char *wp_manifest_capability_name(const wp_manifest *m, size_t i) {
  return m && i < m->ncaps ? m->caps[i].key : NULL;
}

const char *wp_manifest_get_config(const wp_manifest *m, const char *key) {
  return key ? wp_manifest_config_get(m, key, strlen(key)) : NULL;
}

size_t wp_manifest_config_count(const wp_manifest *m) { return m ? m->nconfig : 0; }

bool wp_manifest_config_at(const wp_manifest *m, size_t i, const char **key, const char **value) {
  if (!m || i >= m->nconfig) return false;
  if (key) *key = m->config[i].key;
  if (value) *value = m->config[i].value;
  return true;
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
static bool copy_kvs(wp_kv_list dst, const wp_kv *src, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    if (!wp_kv_add(dst, src[i].key, src[i].value)) return false;
  return true;
}

/* Everything that owns memory; the caller frees `c` if this fails. */
static bool copy_owned(wp_manifest *c, const wp_manifest *m) {
  size_t i;

  if (!dup_opt(m->name, &c->name) || !dup_opt(m->source_path, &c->source_path) ||
      !dup_opt(m->timeout_origin, &c->timeout_origin))
    return false;
  for (i = 0; i < m->ndirs; i++)
    if (!wp_manifest_dir_set(c, m->dirs[i].host, m->dirs[i].guest, m->dirs[i].writable))
      return false;
  for (i = 0; i < m->nargs; i++)
    if (!arg_push(c, m->args[i])) return false;
  if (!copy_kvs(wp_manifest_env_list(c), m->env, m->nenv)) return false;
  if (!copy_kvs(wp_manifest_config_list(c), m->config, m->nconfig)) return false;
  if (!copy_kvs(wp_manifest_caps_list(c), m->caps, m->ncaps)) return false;
  if (!copy_kvs(wp_manifest_links_list(c), m->links, m->nlinks)) return false;
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
  c->isolation = m->isolation;
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
    {"b", 1},           {"k", 1000},         {"kb", 1000},        {"kib", 1ULL << 10},
    {"m", 1000000},     {"mb", 1000000},     {"mib", 1ULL << 20}, {"g", 1000000000},
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

bool wp_sha256_from_hex(const char *hex, uint8_t out[32]) {
  uint8_t bytes[32];

  if (!hex || !out || !wp_unhex(hex, 32, bytes)) return false;
  if (hex[64] != '\0') return false;
  memcpy(out, bytes, sizeof bytes); /* only now: `out` is untouched on failure */
  return true;
}

void wp_manifest_set_trap_missing_imports(wp_manifest *m, bool trap) {
  if (m) m->trap_missing_imports = trap;
}

void wp_manifest_set_isolation(wp_manifest *m, wp_isolation isolation) {
  if (m && isolation <= WP_ISOLATION_PROCESS) m->isolation = isolation;
}

wp_isolation wp_manifest_get_isolation(const wp_manifest *m) {
  return m ? m->isolation : WP_ISOLATION_DEFAULT;
}
