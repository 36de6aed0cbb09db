/*
 * manifest_json.c - reading a wp_manifest from JSON (wp_manifest_parse,
 * wp_manifest_load).
 *
 * The JSON reader is strict on purpose. A misspelt key ("timout_ms") that
 * was quietly ignored would leave a plugin without the limit its author
 * meant to give it, so every unknown key, wrong type, duplicate and
 * out-of-range number is an error that names the value's full path
 * ("wasi.dirs[0].mode") and says what would have been accepted.
 *
 * What it reads goes through manifest.c's checks and lists (manifest.h);
 * nothing keeps a pointer into the parsed JSON tree.
 */
#include "plugin/manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"
#include "util/utf8.h"

/*
 * JSON numbers are doubles, which read 2^53 + 1 as 2^53: from 2^53 on,
 * integers are refused rather than silently rounded.
 */
#define JSON_MAX_EXACT_INT 9007199254740991ULL /* 2^53 - 1 */

/* A manifest file this big is a mistake. */
#define MANIFEST_MAX_FILE (64u << 20)

/* Longest JSON path shown in an error message. */
#define PATH_LEN 256

static const char *const ROOT_KEYS[] = {"name",    "sources",      "limits", "wasi",      "config",
                                        "imports", "capabilities", "link",   "isolation", NULL};
static const char *const IMPORT_KEYS[] = {"missing", NULL};
static const char *const SOURCE_KEYS[] = {"path", "sha256", NULL};
static const char *const LIMIT_KEYS[] = {"memory",      "timeout_ms", "fuel",
                                         "module_size", "functions",  NULL};
static const char *const WASI_KEYS[] = {"dirs", "env", "args", "stdin", "stdout", "stderr", NULL};
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

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

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
  else snprintf(buf, 32, "%.15g", d);
  return buf;
}

/* "'path' must be <what>, got <type>" unless v has JSON type `type`. */
static wp_error *expect(const parser *p, const cJSON *v, int type, const char *path,
                        const char *what) {
  if ((v->type & 0xFF) == type) return NULL;
  return wp_manifest_fail(p->label, "'%s' must be %s, got %s", path, what, type_name(v));
}

/* ------------------------------------------------------------------------ */
/* Paths and text                                                           */
/* ------------------------------------------------------------------------ */

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

/* As wp_manifest_check_text for the JSON string at `path`. */
static wp_error *check_json_text(const char *label, const char *path, const char *s) {
  wp_quoted q;

  if (wp_utf8_valid((const uint8_t *)s, strlen(s))) return NULL;
  return wp_manifest_fail(label,
                          "'%s' is not valid UTF-8 (%s): text given to a plugin must be UTF-8",
                          path, wp_manifest_quote_str(&q, s));
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
    for (i = 0; known[i] && strcmp(known[i], f->string) != 0; i++) {}
    if (!known[i]) {
      for (i = 0; known[i] && n < sizeof list; i++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", known[i]);
      return wp_manifest_fail(p->label, "unknown field '%s' (known: %s)",
                              path_key(&fp, path, f->string), list);
    }
    for (g = obj->child; g != f; g = g->next)
      if (strcmp(g->string, f->string) == 0)
        return wp_manifest_fail(p->label, "duplicate field '%s'", path_key(&fp, path, f->string));
  }
  return NULL;
}

/* A string member that, when present, must not be empty; *out NULL if absent. */
static wp_error *get_string(const parser *p, const cJSON *obj, const char *parent, const char *key,
                            const char **out) {
  const cJSON *v = field(obj, key);
  wp_error *err;
  jpath path;

  *out = NULL;
  if (!v) return NULL;
  path_key(&path, parent, key);
  if ((err = expect(p, v, cJSON_String, path.s, "a string"))) return err;
  if (!*v->valuestring) return wp_manifest_fail(p->label, "'%s' must not be empty", path.s);
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
    return wp_manifest_fail(p->label, "'%s' must be a non-negative integer, got %s", path,
                            num(got, d));
  if (d > (double)max)
    return wp_manifest_fail(p->label, "'%s' is too large (at most %llu), got %s", path,
                            (unsigned long long)max, num(got, d));
  if ((double)(uint64_t)d != d)
    return wp_manifest_fail(p->label, "'%s' must be a non-negative integer, got %s", path,
                            num(got, d));
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
  wp_quoted q;

  if ((err = expect(p, src, cJSON_Object, path, "an object {\"path\", \"sha256\"}")) ||
      (err = check_fields(p, src, path, SOURCE_KEYS)) ||
      (err = get_string(p, src, path, "path", &file)) ||
      (err = get_string(p, src, path, "sha256", &sha_hex)))
    return err;
  if (!file) return wp_manifest_fail(p->label, "'%s' is missing", path_key(&sp, path, "path"));
  if (sha_hex && !wp_sha256_from_hex(sha_hex, sha))
    return wp_manifest_fail(p->label, "'%s' must be 64 hex digits (a sha256), got %s",
                            path_key(&sp, path, "sha256"), wp_manifest_quote_str(&q, sha_hex));
  if (!(p->m->source_path = resolve(p->base_dir, file))) return wp_manifest_no_memory();
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

  if ((err = expect(p, v, cJSON_Array, "sources", "an array of {\"path\", \"sha256\"} objects")))
    return err;
  for (s = v->child; s; s = s->next) n++;
  if (n == 0)
    return wp_manifest_fail(p->label, "'sources' is empty: give one source or leave it out");
  if (n > 1)
    return wp_manifest_fail(
        p->label, "'sources' has %zu entries, but only one source is supported for now", n);
  return parse_source(p, v->child, "sources[0]");
}

/*
 * A size: a number of bytes or a string with a unit ("16MiB"), at least
 * `min` bytes. A limit of 0 would read as "none" or "the engine's" depending
 * on who reads it, so it is refused and leaving the field out says that.
 */
static wp_error *parse_size_field(const parser *p, const cJSON *v, const char *path, uint64_t min,
                                  const char *min_text, uint64_t *out) {
  uint64_t n = 0;
  wp_error *err;
  wp_quoted q;

  if (cJSON_IsNumber(v)) {
    if ((err = get_uint(p, v, path, UINT64_MAX, &n))) return err;
  } else if (!cJSON_IsString(v)) {
    return wp_manifest_fail(p->label,
                            "'%s' must be a number of bytes or a size string such as "
                            "\"16MiB\", got %s",
                            path, type_name(v));
  } else if (!wp_parse_size(v->valuestring, &n)) {
    return wp_manifest_fail(
        p->label,
        "'%s' must be a whole number of bytes with an optional unit, such "
        "as \"65536\", \"64KiB\" or \"16 MiB\" (units: B; K/KB, M/MB, G/GB, powers "
        "of 1000; KiB, MiB, GiB, powers of 1024), got %s",
        path, wp_manifest_quote_str(&q, v->valuestring));
  }
  if (n < min)
    return wp_manifest_fail(p->label,
                            "'%s' must be at least %s, got %llu bytes; omit it to use the "
                            "engine's limit",
                            path, min_text, (unsigned long long)n);
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
    return wp_manifest_fail(
        p->label, "'%s' must be at least 1, got 0; omit it to use the engine's limit", path);
  *out = (uint32_t)n;
  return NULL;
}

/* The timeout's hint names the manifest it came from: "limits.timeout_ms in
   manifest 'm.json'", or "... in the manifest" for text without a file. */
static wp_error *set_timeout_origin(const parser *p) {
  bool file = strcmp(p->label, "manifest") != 0;
  size_t n = strlen(p->label) + sizeof "limits.timeout_ms in the ";
  char *origin = malloc(n);
  wp_error *err;

  if (!origin) return wp_manifest_no_memory();
  snprintf(origin, n, "limits.timeout_ms in %s%s", file ? "" : "the ", p->label);
  err = wp_manifest_set_timeout_origin(p->m, origin);
  free(origin);
  return err;
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
    if ((err = set_timeout_origin(p))) return err;
  }
  if (fuel && (err = get_uint(p, fuel, "limits.fuel", UINT64_MAX, &p->m->fuel))) return err;
  if (size &&
      (err = parse_size_field(p, size, "limits.module_size", 1, "1 byte", &p->m->max_module_size)))
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
static wp_error *dir_fields(const parser *p, const cJSON *d, const char *path, const char **host,
                            const char **guest, bool *writable) {
  const char *mode;
  wp_error *err;
  jpath fp;
  wp_quoted q;

  if ((err = expect(p, d, cJSON_Object, path, "an object {\"host\", \"guest\", \"mode\"}")) ||
      (err = check_fields(p, d, path, DIR_KEYS)) || (err = get_string(p, d, path, "host", host)) ||
      (err = get_string(p, d, path, "guest", guest)) ||
      (err = get_string(p, d, path, "mode", &mode)))
    return err;
  if (!*host) return wp_manifest_fail(p->label, "'%s' is missing", path_key(&fp, path, "host"));
  if (!*guest && (*host)[0] != '/')
    return wp_manifest_fail(p->label,
                            "'%s' is needed because 'host' (%s) is relative: give the absolute "
                            "path the plugin should see, e.g. \"/data\"",
                            path_key(&fp, path, "guest"), wp_manifest_quote_str(&q, *host));
  path_key(&fp, path, *guest ? "guest" : "host"); /* the guest path and where it is from */
  if (!*guest) *guest = *host;
  if ((*guest)[0] != '/')
    return wp_manifest_fail(p->label, "'%s' must be an absolute path (start with '/'), got %s",
                            path_key(&fp, path, "guest"), wp_manifest_quote_str(&q, *guest));
  if ((err = check_json_text(p->label, fp.s, *guest))) return err;
  if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
    return wp_manifest_fail(p->label, "'%s' must be \"ro\" or \"rw\", got %s",
                            path_key(&fp, path, "mode"), wp_manifest_quote_str(&q, mode));
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
  wp_quoted q;

  if ((err = dir_fields(p, d, path, &host, &guest, &writable))) return err;
  /* Grants are never replaced while parsing: position i is wasi.dirs[i]. */
  if ((i = wp_manifest_dir_find(p->m, guest)) < p->m->ndirs)
    return wp_manifest_fail(p->label,
                            "'%s' grants guest path %s again (already granted by 'wasi.dirs[%zu]')",
                            path, wp_manifest_quote_str(&q, guest), i);
  if (!(resolved = resolve(p->base_dir, host))) return wp_manifest_no_memory();
  ok = wp_manifest_dir_set(p->m, resolved, guest, writable);
  free(resolved);
  return ok ? NULL : wp_manifest_no_memory();
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
                                 wp_kv_list list) {
  const char *key = kv->string;
  char what[PATH_LEN + 8];
  wp_error *err;
  jpath kp;
  wp_quoted q;

  if (cJSON_IsString(kv) && (!env || wp_manifest_valid_env_name(key)) &&
      wp_utf8_valid((const uint8_t *)key, strlen(key)) &&
      wp_utf8_valid((const uint8_t *)kv->valuestring, strlen(kv->valuestring)) &&
      wp_kv_find(list, key, strlen(key)) == *list.n)
    return NULL;
  path_key(&kp, path, key);
  snprintf(what, sizeof what, "'%s' key", path);
  if ((err = expect(p, kv, cJSON_String, kp.s, "a string"))) return err;
  if (env && !wp_manifest_valid_env_name(key))
    return wp_manifest_fail(p->label,
                            "'%s' has an invalid variable name %s: names must be non-empty "
                            "and contain no '='",
                            path, wp_manifest_quote_str(&q, key));
  if ((err = wp_manifest_check_text(p->label, what, key)) ||
      (err = check_json_text(p->label, kp.s, kv->valuestring)))
    return err;
  return wp_manifest_fail(p->label, "duplicate field '%s'", kp.s);
}

/*
 * wasi.env or config: an object of strings. Duplicates are found through
 * the list's hash index, so reading stays linear in the number of keys
 * (a million keys take seconds, not hours).
 */
static wp_error *parse_map(const parser *p, const cJSON *v, const char *path, bool env) {
  wp_kv_list list = env ? wp_manifest_env_list(p->m) : wp_manifest_config_list(p->m);
  const cJSON *kv;
  wp_error *err;

  if ((err = expect(p, v, cJSON_Object, path, "an object of strings"))) return err;
  for (kv = v->child; kv; kv = kv->next) {
    if ((err = map_entry_error(p, kv, path, env, list))) return err;
    if (!wp_kv_add(list, kv->string, kv->valuestring)) return wp_manifest_no_memory();
  }
  return NULL;
}

static wp_error *parse_stdio(const parser *p, const cJSON *v, const char *path, wp_stdio *out) {
  static const char *const names[] = {"discard", "inherit", "capture"};
  static const wp_stdio_mode modes[] = {WP_STDIO_DISCARD, WP_STDIO_INHERIT, WP_STDIO_CAPTURE};
  size_t i;
  wp_quoted q;

  for (i = 0; cJSON_IsString(v) && i < 3; i++) {
    if (strcmp(v->valuestring, names[i]) == 0) {
      out->mode = modes[i];
      return NULL;
    }
  }
  return wp_manifest_fail(
      p->label, "'%s' must be \"inherit\", \"capture\" or \"discard\", got %s", path,
      cJSON_IsString(v) ? wp_manifest_quote_str(&q, v->valuestring) : type_name(v));
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
  if ((f = field(v, "stdout")) && (err = parse_stdio(p, f, "wasi.stdout", &p->m->out))) return err;
  if ((f = field(v, "stderr")) && (err = parse_stdio(p, f, "wasi.stderr", &p->m->err))) return err;
  return NULL;
}

/* "imports": {"missing": "error" | "trap"} */
static wp_error *parse_imports(const parser *p, const cJSON *v) {
  const cJSON *f;
  wp_error *err;
  wp_quoted q;

  if ((err = expect(p, v, cJSON_Object, "imports", "an object")) ||
      (err = check_fields(p, v, "imports", IMPORT_KEYS)))
    return err;
  if (!(f = field(v, "missing"))) return NULL;
  if (cJSON_IsString(f) &&
      (strcmp(f->valuestring, "error") == 0 || strcmp(f->valuestring, "trap") == 0)) {
    p->m->trap_missing_imports = strcmp(f->valuestring, "trap") == 0;
    return NULL;
  }
  return wp_manifest_fail(p->label, "'imports.missing' must be \"error\" or \"trap\", got %s",
                          cJSON_IsString(f) ? wp_manifest_quote_str(&q, f->valuestring)
                                            : type_name(f));
}

/*
 * "capabilities": {"NAME": SECTION, ...}: each section is kept as JSON text
 * for its capability, which checks it when the plugin loads (capability.h).
 */
static wp_error *parse_capabilities(const parser *p, const cJSON *v) {
  wp_error *err;
  wp_quoted q;

  if ((err = expect(p, v, cJSON_Object, "capabilities", "an object"))) return err;
  for (const cJSON *c = v->child; c; c = c->next) {
    if (!wp_capability_name_valid(c->string))
      return wp_manifest_fail(p->label,
                              "'capabilities': %s is not a capability name (lower-case letters, "
                              "digits, '_' and '-')",
                              wp_manifest_quote_str(&q, c->string));
    if (wp_manifest_get_capability(p->m, c->string))
      return wp_manifest_fail(p->label, "duplicate field 'capabilities.%s'", c->string);
    char *text = cJSON_PrintUnformatted(c);
    if (!text) return wp_manifest_no_memory();
    err = wp_manifest_set_capability(p->m, c->string, text);
    cJSON_free(text);
    if (err) return err;
  }
  return NULL;
}

/* "link": {"wasi:keyvalue/store@0.2.0-draft": "kv-memory.wasm"}: relative
   paths resolve like the source's. */
static wp_error *parse_links(const parser *p, const cJSON *v) {
  wp_error *err;
  jpath jp;

  if ((err = expect(p, v, cJSON_Object, "link",
                    "an object of interface names to plug component paths")))
    return err;
  for (const cJSON *kv = v->child; kv; kv = kv->next) {
    if ((err = expect(p, kv, cJSON_String, path_key(&jp, "link", kv->string), "a path (string)")))
      return err;
    char *path = resolve(p->base_dir, kv->valuestring);
    if (!path) return wp_manifest_no_memory();
    err = wp_manifest_set_link(p->m, kv->string, path);
    free(path);
    if (err) return err;
  }
  return NULL;
}

/* "isolation": "none" | "process" (wasmplug/isolation.h) */
static wp_error *parse_isolation(const parser *p, const cJSON *v) {
  wp_quoted q;

  if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0) {
    p->m->isolation = WP_ISOLATION_NONE;
    return NULL;
  }
  if (cJSON_IsString(v) && strcmp(v->valuestring, "process") == 0) {
    p->m->isolation = WP_ISOLATION_PROCESS;
    return NULL;
  }
  return wp_manifest_fail(p->label, "'isolation' must be \"none\" or \"process\", got %s",
                          cJSON_IsString(v) ? wp_manifest_quote_str(&q, v->valuestring)
                                            : type_name(v));
}

static wp_error *parse_root(const parser *p, const cJSON *root) {
  const cJSON *f;
  const char *name;
  wp_error *err;

  if (!cJSON_IsObject(root))
    return wp_manifest_fail(p->label, "the manifest must be a JSON object, got %s",
                            type_name(root));
  if ((err = check_fields(p, root, "", ROOT_KEYS)) ||
      (err = get_string(p, root, "", "name", &name)))
    return err;
  if (name &&
      ((err = check_json_text(p->label, "name", name)) || (err = wp_manifest_set_name(p->m, name))))
    return err;
  if ((f = field(root, "sources")) && (err = parse_sources(p, f))) return err;
  if ((f = field(root, "limits")) && (err = parse_limits(p, f))) return err;
  if ((f = field(root, "wasi")) && (err = parse_wasi(p, f))) return err;
  if ((f = field(root, "config")) && (err = parse_map(p, f, "config", false))) return err;
  if ((f = field(root, "imports")) && (err = parse_imports(p, f))) return err;
  if ((f = field(root, "capabilities")) && (err = parse_capabilities(p, f))) return err;
  if ((f = field(root, "link")) && (err = parse_links(p, f))) return err;
  if ((f = field(root, "isolation")) && (err = parse_isolation(p, f))) return err;
  return NULL;
}

/* ------------------------------------------------------------------------ */
/* JSON: text                                                               */
/* ------------------------------------------------------------------------ */

static bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/*
 * "at line L, column C, near '...'", both counted from 1, columns in bytes;
 * or "at the end of the text" when only blanks follow (cJSON points at the
 * last byte when the text stops short).
 */
static const char *where(char *buf, size_t size, const char *json, size_t len, size_t pos) {
  size_t i, line = 1, col = 1, n;
  wp_quoted q;

  for (i = pos; i < len && is_json_space(json[i]); i++) {}
  if (i == len) pos = len;
  for (i = 0; i < pos && i < len; i++) {
    if (json[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  for (n = 0; pos + n < len && n < 16 && json[pos + n] != '\n' && json[pos + n] != '\r'; n++) {}
  if (pos == len) snprintf(buf, size, "at the end of the text (line %zu, column %zu)", line, col);
  else
    snprintf(buf, size, "at line %zu, column %zu, near %s", line, col,
             wp_manifest_quote(&q, json + pos, n, '\''));
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

  for (i = 0; i < len && is_json_space(json[i]); i++) {}
  if (i == len) return wp_manifest_fail(p->label, "invalid JSON: the text is empty");
  /* cJSON would copy a raw NUL into a string and end it there. */
  if (nul)
    return wp_manifest_fail(p->label, "invalid JSON: NUL byte %s",
                            where(at, sizeof at, json, len, (size_t)(nul - json)));
  root = cJSON_ParseWithLengthOpts(json, len, &end, false);
  if (!root) /* also when cJSON ran out of memory: it cannot tell us */
    return wp_manifest_fail(p->label, "invalid JSON %s",
                            where(at, sizeof at, json, len, end ? (size_t)(end - json) : 0));
  for (i = (size_t)(end - json); i < len && is_json_space(json[i]); i++) {}
  if (i < len) {
    cJSON_Delete(root);
    return wp_manifest_fail(p->label,
                            "invalid JSON %s: unexpected text after the end of the manifest",
                            where(at, sizeof at, json, len, i));
  }
  if ((i = find_escaped_nul(json, len)) < len) {
    cJSON_Delete(root);
    return wp_manifest_fail(p->label, "strings must not contain \\u0000 (%s)",
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
    return wp_manifest_fail(label, "wp_manifest_parse needs JSON text and an out pointer");
  if ((err = parse_text(&p, json, len, &root))) return err;
  if (!(p.m = wp_manifest_new())) {
    cJSON_Delete(root);
    return wp_manifest_no_memory();
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

wp_error *wp_manifest_parse(const char *json, size_t len, const char *base_dir, wp_manifest **out) {
  return parse_labeled("manifest", json, len, base_dir, out);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Reads all of `path`; a missing file is WP_ERR_NOT_FOUND, one over
 * MANIFEST_MAX_FILE WP_ERR_BAD_INPUT, other failures WP_ERR_IO. A file of
 * MANIFEST_MAX_FILE bytes is already too big, as it always was.
 */
static wp_error *read_file(const char *path, const char *label, char **out, size_t *out_len) {
  uint64_t size;
  uint8_t *buf;
  int e = wp_file_read(path, MANIFEST_MAX_FILE - 1, &buf, out_len, &size);
  /* A manifest is the host's own file: a pipe (a shell's <(...)) is fine. */
  if (e == EINVAL) e = wp_file_read_stream(path, MANIFEST_MAX_FILE - 1, &buf, out_len);

  switch (e) {
  case 0: *out = (char *)buf; return NULL;
  case EFBIG:
    return wp_manifest_fail(label, "the file is %u MiB or more, too big for a manifest",
                            MANIFEST_MAX_FILE >> 20);
  case ENOMEM: return wp_manifest_no_memory();
  case EINVAL: return wp_error_new(WP_ERR_IO, "%s: not a regular file", label);
  case EISDIR: /* found by fstat before reading; worded as reading one always was */
  case EIO: return wp_error_new(WP_ERR_IO, "%s: cannot read: %s", label, strerror(e));
  default:
    return wp_error_new(e == ENOENT || e == ENOTDIR ? WP_ERR_NOT_FOUND : WP_ERR_IO,
                        "%s: cannot open: %s", label, strerror(e));
  }
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
    return wp_manifest_fail("manifest", "wp_manifest_load needs a path and an out pointer");
  label_len = strlen(path) + sizeof "manifest ''";
  if (!(label = malloc(label_len))) return wp_manifest_no_memory();
  snprintf(label, label_len, "manifest '%s'", path);
  err = read_file(path, label, &text, &len);
  if (!err && !(dir = dir_of(path))) err = wp_manifest_no_memory();
  if (!err) err = parse_labeled(label, text, len, dir, out);
  free(dir);
  free(text);
  free(label);
  return err;
}
