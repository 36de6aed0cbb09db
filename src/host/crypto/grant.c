/*
 * grant.c - the manifest's "crypto" section (ops.h): its named keys, read
 * and checked when a plugin loads and kept, parsed, for the plugin's life.
 * A key may be private (a PEM private key, a JWK with "d"): only such keys
 * sign, and the texts that carried them are wiped once parsed.
 *
 *   "crypto": {"keys": {"NAME": {"pem": "..."} | {"pem_file": "/abs.pem"} | {"jwk": {...}}
 *                               | {"secret_hex": "..."} | {"secret_base64": "..."}}}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#include "ops.h"

#define MAX_KEYS WP_CRYPTO_MAX_KEYS
#define MAX_NAME WP_CRYPTO_MAX_KEY_NAME

/* "capabilities.crypto.keys.NAME.FIELD" messages; the prefix names the plugin. */
#define WHERE "plugin '%s': capabilities.crypto"

static bool name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MAX_NAME) return false;
  for (const char *c = s; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '_' || *c == '-' || *c == '.' || *c == ':'))
      return false;
  return true;
}

/* Reads a PEM file (absolute path, at most WP_CRYPTO_MAX_KEY_TEXT bytes). */
static wp_error *read_pem_file(const char *what, const char *path, char **text, size_t *len) {
  if (path[0] != '/')
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: '%.200s' is not an absolute path", what, path);
  FILE *f = fopen(path, "rb");
  if (!f)
    return wp_error_new(WP_ERR_IO, "%s: cannot open '%.200s': %s", what, path, strerror(errno));
  char *buf = malloc(WP_CRYPTO_MAX_KEY_TEXT + 1);
  size_t n = buf ? fread(buf, 1, WP_CRYPTO_MAX_KEY_TEXT + 1, f) : 0;
  bool bad = ferror(f);
  fclose(f);
  if (!buf) return wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
  if (bad || n > WP_CRYPTO_MAX_KEY_TEXT) {
    OPENSSL_clear_free(buf, n);
    return bad ? wp_error_new(WP_ERR_IO, "%s: reading '%.200s' failed", what, path)
               : wp_error_new(WP_ERR_BAD_INPUT, "%s: '%.200s' is over %u bytes", what, path,
                              WP_CRYPTO_MAX_KEY_TEXT);
  }
  *text = buf;
  *len = n;
  return NULL;
}

static const char *const sources[] = {"pem", "pem_file", "jwk", "secret_hex", "secret_base64"};

/* One entry of "keys": exactly one source. */
static wp_error *parse_key(const char *plugin, const cJSON *entry, wp_crypto_key *out) {
  char what[320];
  snprintf(what, sizeof what, WHERE ".keys.%s", plugin, entry->string);
  if (!cJSON_IsObject(entry))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: must be an object with one of \"pem\", \"pem_file\", \"jwk\", "
                        "\"secret_hex\", \"secret_base64\"",
                        what);
  const cJSON *src = NULL;
  for (const cJSON *m = entry->child; m; m = m->next) {
    size_t i = 0;
    while (i < 5 && strcmp(m->string, sources[i])) i++;
    if (i == 5)
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s: unknown field '%.64s' (a key has one of \"pem\", \"pem_file\", "
                          "\"jwk\", \"secret_hex\", \"secret_base64\")",
                          what, m->string);
    if (src)
      return wp_error_new(WP_ERR_BAD_INPUT, "%s: has both \"%s\" and \"%s\"; give one", what,
                          src->string, m->string);
    src = m;
  }
  if (!src)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: is empty; give one of \"pem\", \"pem_file\", \"jwk\", "
                        "\"secret_hex\", \"secret_base64\"",
                        what);
  size_t at = strlen(what);
  snprintf(what + at, sizeof what - at, ".%s", src->string);
  if (strcmp(src->string, "jwk") == 0) {
    if (!cJSON_IsObject(src))
      return wp_error_new(WP_ERR_BAD_INPUT, "%s: must be a JWK object", what);
    char *text = cJSON_PrintUnformatted(src);
    if (!text) return wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
    wp_error *err = wp_crypto_key_from_jwk(what, text, strlen(text), out);
    OPENSSL_cleanse(text, strlen(text));
    cJSON_free(text);
    return err;
  }
  if (!cJSON_IsString(src)) return wp_error_new(WP_ERR_BAD_INPUT, "%s: must be a string", what);
  const char *s = src->valuestring;
  if (strcmp(src->string, "pem") == 0) return wp_crypto_key_from_pem(what, s, strlen(s), out);
  if (strcmp(src->string, "pem_file") == 0) {
    char *text;
    size_t len;
    wp_error *err = read_pem_file(what, s, &text, &len);
    if (err) return err;
    err = wp_crypto_key_from_pem(what, text, len, out);
    OPENSSL_clear_free(text, len);
    return err;
  }
  return wp_crypto_key_from_secret(what, s, strcmp(src->string, "secret_base64") == 0, out);
}

static wp_error *parse_keys(const char *plugin, const cJSON *keys, wp_crypto_grant *g) {
  if (!cJSON_IsObject(keys))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WHERE ".keys: must be an object of named keys, e.g. {\"jwt\": {\"pem\": "
                              "\"-----BEGIN PUBLIC KEY-----...\"}}",
                        plugin);
  size_t n = (size_t)cJSON_GetArraySize(keys);
  if (n > MAX_KEYS)
    return wp_error_new(WP_ERR_BAD_INPUT, WHERE ".keys: %zu keys, over the limit of %d", plugin, n,
                        MAX_KEYS);
  if (n && !(g->keys = calloc(n, sizeof *g->keys)))
    return wp_error_new(WP_ERR_NO_MEMORY, WHERE ": out of memory", plugin);
  for (const cJSON *k = keys->child; k; k = k->next) {
    if (!name_ok(k->string))
      return wp_error_new(WP_ERR_BAD_INPUT,
                          WHERE ".keys: '%.64s' is not a key name (1 to %d of A-Z a-z 0-9 _ - . :)",
                          plugin, k->string, MAX_NAME);
    if (wp_crypto_grant_key(g, k->string))
      return wp_error_new(WP_ERR_BAD_INPUT, WHERE ".keys: key '%s' is named twice", plugin,
                          k->string);
    wp_crypto_named *slot = &g->keys[g->nkeys];
    wp_error *err = parse_key(plugin, k, &slot->key);
    if (err) return err;
    if (!(slot->name = strdup(k->string))) {
      wp_crypto_key_clear(&slot->key);
      return wp_error_new(WP_ERR_NO_MEMORY, WHERE ": out of memory", plugin);
    }
    g->nkeys++;
  }
  return NULL;
}

wp_error *wp_crypto_grant_parse(const char *plugin, const char *section, size_t len,
                                wp_crypto_grant **out) {
  cJSON *root = cJSON_ParseWithLength(section, len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return wp_error_new(WP_ERR_BAD_INPUT,
                        WHERE ": must be an object: {} for hashes, HMAC with raw keys, random and "
                              "verification with inline keys, or {\"keys\": {...}} for named keys",
                        plugin);
  }
  wp_crypto_grant *g = calloc(1, sizeof *g);
  wp_error *err = g ? NULL : wp_error_new(WP_ERR_NO_MEMORY, WHERE ": out of memory", plugin);
  for (const cJSON *m = root->child; !err && m; m = m->next) {
    if (strcmp(m->string, "keys") == 0) err = parse_keys(plugin, m, g);
    else
      err = wp_error_new(WP_ERR_BAD_INPUT, WHERE ": unknown field '%.64s' (known: \"keys\")",
                         plugin, m->string);
  }
  cJSON_Delete(root);
  if (err) {
    wp_crypto_grant_free(g);
    return err;
  }
  *out = g;
  return NULL;
}

void wp_crypto_grant_free(wp_crypto_grant *g) {
  if (!g) return;
  for (size_t i = 0; i < g->nkeys; i++) {
    free(g->keys[i].name);
    wp_crypto_key_clear(&g->keys[i].key);
  }
  free(g->keys);
  free(g);
}

const wp_crypto_key *wp_crypto_grant_key(const wp_crypto_grant *g, const char *name) {
  for (size_t i = 0; g && i < g->nkeys; i++)
    if (strcmp(g->keys[i].name, name) == 0) return &g->keys[i].key;
  return NULL;
}

const char *wp_crypto_grant_names(const wp_crypto_grant *g, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; g && i < g->nkeys && at < size; i++) {
    int w = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", g->keys[i].name);
    if (w < 0) break;
    at += (size_t)w;
  }
  return g && g->nkeys ? buf : "none";
}
