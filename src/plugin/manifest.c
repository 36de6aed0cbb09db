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

/*
 * There is no out-of-memory kind in wp_error_kind; WP_ERR_HOST ("the host
 * failed") is the closest. Kept in one place so it is easy to change.
 */
#define WP_ERR_NO_MEMORY WP_ERR_HOST

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
static const char *const LIMIT_KEYS[] = {"memory", "timeout_ms", "fuel", NULL};
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
 * bytes are escaped and long text is cut (at a UTF-8 boundary) so that a
 * hostile manifest cannot put newlines or megabytes into a message.
 */
static const char *quote(quoted *q, const char *s, size_t len, char mark) {
  char *o = q->s;
  size_t i, n = len < QUOTE_CHARS ? len : QUOTE_CHARS;

  while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  *o++ = mark;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (mark == '"' && (c == '"' || c == '\\')) {
      *o++ = '\\';
      *o++ = (char)c;
    } else if (c < 0x20 || c == 0x7f) {
      o += snprintf(o, 5, "\\x%02x", c);
    } else {
      *o++ = (char)c;
    }
  }
  *o++ = mark;
  if (n < len) o += snprintf(o, 4, "...");
  *o = '\0';
  return q->s;
}

static const char *quote_str(quoted *q, const char *s) {
  return quote(q, s, strlen(s), '"');
}

/* Appends `key` to `parent` ("" for the top level), control bytes as '?'. */
static const char *path_key(jpath *p, const char *parent, const char *key) {
  size_t n = (size_t)snprintf(p->s, sizeof p->s, "%s%s", parent, *parent ? "." : "");

  for (; n < sizeof p->s - 1 && *key; key++)
    p->s[n++] = ((unsigned char)*key < 0x20 || *key == 0x7f) ? '?' : *key;
  if (n >= sizeof p->s) n = sizeof p->s - 1;
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
  if (d > -1e19 && d < 1e19 && (double)(long long)d == d)
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

/* The index of `key` in a key/value list, or n when absent. */
static size_t kv_find(const wp_kv *list, size_t n, const char *key, size_t key_len) {
  size_t i;

  for (i = 0; i < n; i++)
    if (strncmp(list[i].key, key, key_len) == 0 && list[i].key[key_len] == '\0') return i;
  return n;
}

/*
 * Sets `key` to `value`, replacing an earlier value of the same key. When
 * memory runs out the list is left as it was.
 */
static bool kv_set(wp_kv **list, size_t *n, const char *key, const char *value) {
  size_t i = kv_find(*list, *n, key, strlen(key));
  char *v = strdup(value), *k;
  wp_kv *grown;

  if (!v) return false;
  if (i < *n) {
    free((*list)[i].value);
    (*list)[i].value = v;
    return true;
  }
  k = strdup(key);
  grown = k ? realloc(*list, (*n + 1) * sizeof **list) : NULL;
  if (!grown) {
    free(k);
    free(v);
    return false;
  }
  grown[*n].key = k;
  grown[*n].value = v;
  *list = grown;
  (*n)++;
  return true;
}

static void kv_free(wp_kv *list, size_t n) {
  size_t i;

  for (i = 0; i < n; i++) {
    free(list[i].key);
    free(list[i].value);
  }
  free(list);
}

static bool str_push(char ***list, size_t *n, const char *s) {
  char *copy = strdup(s);
  char **grown = copy ? realloc(*list, (*n + 1) * sizeof **list) : NULL;

  if (!grown) {
    free(copy);
    return false;
  }
  grown[(*n)++] = copy;
  *list = grown;
  return true;
}

/* The grant of `guest`, or a new empty one at the end; NULL when out of memory. */
static wp_dir_grant *dir_slot(wp_manifest *m, const char *guest) {
  wp_dir_grant *grown;
  size_t i;

  for (i = 0; i < m->ndirs; i++)
    if (strcmp(m->dirs[i].guest, guest) == 0) return &m->dirs[i];
  if (!(grown = realloc(m->dirs, (m->ndirs + 1) * sizeof *grown))) return NULL;
  m->dirs = grown;
  grown[m->ndirs] = (wp_dir_grant){.host = NULL, .guest = NULL, .writable = false};
  return &grown[m->ndirs++];
}

/*
 * Grants `host` as `guest`; a later grant of the same guest path replaces
 * the earlier one, since the plugin can only see one directory there.
 */
static bool dir_set(wp_manifest *m, const char *host, const char *guest, bool writable) {
  char *h = strdup(host), *g = strdup(guest);
  wp_dir_grant *d = h && g ? dir_slot(m, guest) : NULL;

  if (!d) {
    free(h);
    free(g);
    return false;
  }
  free(d->host);
  free(d->guest);
  *d = (wp_dir_grant){.host = h, .guest = g, .writable = writable};
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
  kv_free(m->env, m->nenv);
  for (i = 0; i < m->nargs; i++) free(m->args[i]);
  free(m->args);
  free(m->stdin_data);
  kv_free(m->config, m->nconfig);
  free(m);
}

/* NULL resets the name to the default (derived from the source). */
wp_error *wp_manifest_set_name(wp_manifest *m, const char *name) {
  char *copy;

  if (!m) return fail("manifest", "wp_manifest_set_name: the manifest is NULL");
  if (name && !*name) return fail("manifest", "the plugin name must not be empty");
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

void wp_manifest_set_timeout_ms(wp_manifest *m, uint32_t ms) {
  if (m) m->timeout_ms = ms;
}

void wp_manifest_set_fuel(wp_manifest *m, uint64_t fuel) {
  if (m) m->fuel = fuel;
}

wp_error *wp_manifest_allow_dir(wp_manifest *m, const char *host_path, const char *guest_path,
                                bool writable) {
  quoted q;

  if (!m || !host_path || !guest_path)
    return fail("manifest",
                "wp_manifest_allow_dir needs a manifest, a host path and a guest path");
  if (!*host_path) return fail("manifest", "the host directory path must not be empty");
  if (guest_path[0] != '/')
    return fail("manifest", "guest path %s must be absolute (start with '/')",
                quote_str(&q, guest_path));
  return dir_set(m, host_path, guest_path, writable) ? NULL : no_memory();
}

wp_error *wp_manifest_set_env(wp_manifest *m, const char *key, const char *value) {
  quoted q;

  if (!m || !key || !value)
    return fail("manifest", "wp_manifest_set_env needs a manifest, a name and a value");
  if (!valid_env_name(key))
    return fail("manifest",
                "environment variable name %s must be non-empty and contain no '='",
                quote_str(&q, key));
  return kv_set(&m->env, &m->nenv, key, value) ? NULL : no_memory();
}

wp_error *wp_manifest_add_arg(wp_manifest *m, const char *arg) {
  if (!m || !arg)
    return fail("manifest", "wp_manifest_add_arg needs a manifest and an argument");
  return str_push(&m->args, &m->nargs, arg) ? NULL : no_memory();
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
  if (!m || !key || !value)
    return fail("manifest", "wp_manifest_set_config needs a manifest, a key and a value");
  return kv_set(&m->config, &m->nconfig, key, value) ? NULL : no_memory();
}

const char *wp_manifest_config_get(const wp_manifest *m, const char *key, size_t key_len) {
  size_t i;

  if (!m || !key || memchr(key, '\0', key_len)) return NULL;
  i = kv_find(m->config, m->nconfig, key, key_len);
  return i < m->nconfig ? m->config[i].value : NULL;
}

/* ------------------------------------------------------------------------ */
/* Copying                                                                  */
/* ------------------------------------------------------------------------ */

static bool copy_kvs(wp_kv **dst, size_t *dst_n, const wp_kv *src, size_t n) {
  size_t i;

  for (i = 0; i < n; i++)
    if (!kv_set(dst, dst_n, src[i].key, src[i].value)) return false;
  return true;
}

/* Everything that owns memory; the caller frees `c` if this fails. */
static bool copy_owned(wp_manifest *c, const wp_manifest *m) {
  size_t i;

  if (!dup_opt(m->name, &c->name) || !dup_opt(m->source_path, &c->source_path)) return false;
  for (i = 0; i < m->ndirs; i++)
    if (!dir_set(c, m->dirs[i].host, m->dirs[i].guest, m->dirs[i].writable)) return false;
  for (i = 0; i < m->nargs; i++)
    if (!str_push(&c->args, &c->nargs, m->args[i])) return false;
  if (!copy_kvs(&c->env, &c->nenv, m->env, m->nenv)) return false;
  if (!copy_kvs(&c->config, &c->nconfig, m->config, m->nconfig)) return false;
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

static wp_error *parse_memory(const parser *p, const cJSON *v) {
  const char *path = "limits.memory";
  quoted q;

  if (cJSON_IsNumber(v)) return get_uint(p, v, path, UINT64_MAX, &p->m->max_memory);
  if (!cJSON_IsString(v))
    return fail(p->label, "'%s' must be a number of bytes or a size string such as "
                "\"16MiB\", got %s", path, type_name(v));
  if (!wp_parse_size(v->valuestring, &p->m->max_memory))
    return fail(p->label, "'%s' must be a whole number of bytes with an optional unit, such "
                "as \"65536\", \"64KiB\" or \"16 MiB\" (units: B; K/KB, M/MB, G/GB, powers "
                "of 1000; KiB, MiB, GiB, powers of 1024), got %s",
                path, quote_str(&q, v->valuestring));
  return NULL;
}

static wp_error *parse_limits(const parser *p, const cJSON *v) {
  const cJSON *memory = field(v, "memory"), *timeout = field(v, "timeout_ms");
  const cJSON *fuel = field(v, "fuel");
  uint64_t ms;
  wp_error *err;

  if ((err = expect(p, v, cJSON_Object, "limits", "an object")) ||
      (err = check_fields(p, v, "limits", LIMIT_KEYS)))
    return err;
  if (memory && (err = parse_memory(p, memory))) return err;
  if (timeout) {
    if ((err = get_uint(p, timeout, "limits.timeout_ms", UINT32_MAX, &ms))) return err;
    p->m->timeout_ms = (uint32_t)ms;
  }
  if (fuel && (err = get_uint(p, fuel, "limits.fuel", UINT64_MAX, &p->m->fuel))) return err;
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
  if (!*guest) *guest = *host;
  if ((*guest)[0] != '/')
    return fail(p->label, "'%s' must be an absolute path (start with '/'), got %s",
                path_key(&fp, path, "guest"), quote_str(&q, *guest));
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
  for (i = 0; i < p->m->ndirs; i++)
    if (strcmp(p->m->dirs[i].guest, guest) == 0)
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
    if ((err = expect(p, a, cJSON_String, path_index(&ap, "wasi.args", i), "a string")))
      return err;
    if ((err = wp_manifest_add_arg(p->m, a->valuestring))) return err;
  }
  return NULL;
}

/* wasi.env or config: an object of strings. */
static wp_error *parse_map(const parser *p, const cJSON *v, const char *path, bool env) {
  const cJSON *kv;
  wp_error *err;
  jpath kp;
  quoted q;

  if ((err = expect(p, v, cJSON_Object, path, "an object of strings"))) return err;
  for (kv = v->child; kv; kv = kv->next) {
    wp_kv *list = env ? p->m->env : p->m->config;
    size_t n = env ? p->m->nenv : p->m->nconfig;
    path_key(&kp, path, kv->string);
    if ((err = expect(p, kv, cJSON_String, kp.s, "a string"))) return err;
    if (env && !valid_env_name(kv->string))
      return fail(p->label, "'%s' has an invalid variable name %s: names must be non-empty "
                  "and contain no '='", path, quote_str(&q, kv->string));
    if (kv_find(list, n, kv->string, strlen(kv->string)) < n)
      return fail(p->label, "duplicate field '%s'", kp.s);
    err = env ? wp_manifest_set_env(p->m, kv->string, kv->valuestring)
              : wp_manifest_set_config(p->m, kv->string, kv->valuestring);
    if (err) return err;
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
  if (name && (err = wp_manifest_set_name(p->m, name))) return err;
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

void wp_manifest_set_trap_missing_imports(wp_manifest *m, bool trap) { m->trap_missing_imports = trap; }
