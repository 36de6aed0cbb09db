/*
 * crypto.c - the crypto capability (crypto.h): its grant, and its functions
 * for core modules (wasmplug.crypto_*, framed as host/common/frame.h says)
 * and for components (wasmplug:crypto/crypto, pdk/wit/crypto.wit).
 *
 * Outcomes, the same for both kinds: a plugin without the grant, an input
 * over a limit, or a malformed core input fails the call (the caller sees
 * it); a key that does not parse, fit the algorithm or exist among the
 * granted names is the plugin's to handle (a component's err, a core
 * ERROR frame). A wrong signature is not an error: verify answers false.
 * Signing takes a granted key's name only: a private key never crosses
 * into the plugin, and public-jwk gives out nothing but the public half.
 */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "host/common/frame.h"
#include "ops.h"

typedef struct crypto_state {
  const wp_capability *cap;
} crypto_state;

static const char IFACE[] = "wasmplug:crypto/crypto";

/* ---- the grant ------------------------------------------------------------------------ */

static wp_error *grant(void *data, const char *plugin, const char *section, size_t len,
                       void **out) {
  (void)data;
  *out = NULL;
  if (!section) return NULL;
  wp_crypto_grant *g;
  wp_error *err = wp_crypto_grant_parse(plugin, section, len, &g);
  if (!err) *out = g;
  return err;
}

static void grant_free(void *data, void *g) {
  (void)data;
  wp_crypto_grant_free(g);
}

static const wp_capability_methods methods = {
    .name = "crypto",
    .grant = grant,
    .grant_free = grant_free,
    .free = free,
};

/* The plugin's grant, or the error that fails its call. `fn` names the
   function; core calls pass "" (the core kind's message names it already). */
static wp_error *granted(const crypto_state *st, wp_host_call *call, const char *fn,
                         const wp_crypto_grant **out) {
  *out = wp_plugin_get_grant(wp_instance_get_plugin(wp_host_call_get_instance(call)), st->cap);
  if (*out) return NULL;
  return wp_error_new(WP_ERR_HOST,
                      "%s%scrypto is not granted to this plugin; add \"crypto\": {} to the "
                      "manifest's capabilities (capabilities.crypto), with \"keys\" for named keys",
                      fn, *fn ? ": " : "");
}

static wp_error *over_limit(const char *fn, const char *what, size_t len, size_t max) {
  return wp_error_new(WP_ERR_HOST, "%s: %s is %zu bytes, over the limit of %zu", fn, what, len,
                      max);
}

/* The plugin's error as printable ASCII (malloc'd; NULL when out of memory),
   freeing it: a message may quote a JWK member cut short, and the plugin
   gets UTF-8 only. */
static char *ascii_message(wp_error *soft) {
  char *msg = strdup(wp_error_get_message(soft));
  wp_error_free(soft);
  for (char *c = msg; c && *c; c++)
    if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
  return msg;
}

/* Answers a core call with ERROR and the plugin's error. */
static wp_error *core_refuse(wp_host_call *call, wp_error *soft) {
  char *msg = ascii_message(soft);
  if (!msg) return wp_error_new(WP_ERR_NO_MEMORY, "crypto capability: out of memory");
  wp_error *err = wp_frame_error(call, "%s", msg);
  free(msg);
  return err;
}

/* ---- the operations, shared by both kinds ----------------------------------------------
 * Each returns the error that fails the call, or NULL with *soft set to the
 * plugin's error (or NULL on success). */

/* len: the name's length, which a NUL inside it makes differ from strlen. */
static wp_error *key_by_name(const wp_crypto_grant *g, const char *name, size_t len,
                             const wp_crypto_key **k) {
  bool plain = len <= WP_CRYPTO_MAX_KEY_NAME && strlen(name) == len;
  *k = plain ? wp_crypto_grant_key(g, name) : NULL;
  if (*k) return NULL;
  char names[512];
  if (!plain)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "no key of that name is granted (capabilities.crypto.keys: %s)",
                        wp_crypto_grant_names(g, names, sizeof names));
  return wp_error_new(WP_ERR_BAD_INPUT, "key '%s' is not granted (capabilities.crypto.keys: %s)",
                      name, wp_crypto_grant_names(g, names, sizeof names));
}

/* Splits an error from ops.h: the key's or input's fault is the plugin's. */
static wp_error *soften(wp_error *err, wp_error **soft) {
  if (err && wp_error_get_kind(err) == WP_ERR_BAD_INPUT) {
    *soft = err;
    return NULL;
  }
  return err;
}

static wp_error *run_hash(const char *fn, wp_crypto_hash_alg alg, const uint8_t *data, size_t len,
                          uint8_t *out, size_t *out_len) {
  if (len > WP_CRYPTO_MAX_DATA) return over_limit(fn, "the data", len, WP_CRYPTO_MAX_DATA);
  return wp_crypto_hash(alg, data, len, out, out_len);
}

/* name: a granted secret's name, or NULL for the raw key. */
static wp_error *run_hmac(const wp_crypto_grant *g, const char *fn, wp_crypto_hash_alg alg,
                          const char *name, const uint8_t *key, size_t key_len, const uint8_t *data,
                          size_t len, uint8_t *out, size_t *out_len, wp_error **soft) {
  *soft = NULL;
  if (len > WP_CRYPTO_MAX_DATA) return over_limit(fn, "the data", len, WP_CRYPTO_MAX_DATA);
  if (key_len > WP_CRYPTO_MAX_KEY_TEXT)
    return over_limit(fn, "the key", key_len, WP_CRYPTO_MAX_KEY_TEXT);
  if (name) {
    const wp_crypto_key *k;
    if ((*soft = key_by_name(g, name, strlen(name), &k))) return NULL;
    if (!k->secret) {
      *soft = wp_error_new(WP_ERR_BAD_INPUT,
                           "key '%s' is a public key; hmac needs a secret (secret_hex, "
                           "secret_base64 or a JWK of kty \"oct\")",
                           name);
      return NULL;
    }
    key = k->secret;
    key_len = k->secret_len;
  }
  return soften(wp_crypto_hmac(alg, key, key_len, data, len, out, out_len), soft);
}

/* kind: "pem", "jwk" or "named"; key: its text or name. */
static wp_error *run_verify(const wp_crypto_grant *g, const char *fn, wp_crypto_sig_alg alg,
                            const char *kind, const char *key, size_t key_len, const uint8_t *msg,
                            size_t msg_len, const uint8_t *sig, size_t sig_len, bool *valid,
                            wp_error **soft) {
  *soft = NULL;
  *valid = false;
  if (msg_len > WP_CRYPTO_MAX_DATA)
    return over_limit(fn, "the message", msg_len, WP_CRYPTO_MAX_DATA);
  if (key_len > WP_CRYPTO_MAX_KEY_TEXT)
    return over_limit(fn, "the key", key_len, WP_CRYPTO_MAX_KEY_TEXT);
  wp_crypto_key inline_key = {0};
  const wp_crypto_key *k = &inline_key;
  char what[160];
  wp_error *err = NULL;
  if (strcmp(kind, "named") == 0) {
    if ((*soft = key_by_name(g, key, key_len, &k))) return NULL;
    snprintf(what, sizeof what, "key '%s'", key);
  } else {
    snprintf(what, sizeof what, "the %s key", kind);
    err = strcmp(kind, "pem") == 0 ? wp_crypto_key_from_pem(what, key, key_len, &inline_key)
                                   : wp_crypto_key_from_jwk(what, key, key_len, &inline_key);
    if ((err = soften(err, soft)) || *soft) return err;
  }
  if (!k->pkey) {
    *soft = wp_error_new(WP_ERR_BAD_INPUT,
                         "%s is a secret; verify needs a public key (use hmac and "
                         "constant-time-equal for secrets)",
                         what);
  } else if (sig_len <= WP_CRYPTO_MAX_SIGNATURE) { /* a longer one is no valid signature */
    err = soften(wp_crypto_verify(alg, what, k->pkey, msg, msg_len, sig, sig_len, valid), soft);
  }
  wp_crypto_key_clear(&inline_key);
  return err;
}

/* The granted key `name` if it can sign: *soft says why not otherwise. */
static void signing_key(const wp_crypto_grant *g, const char *name, size_t len,
                        const wp_crypto_key **k, wp_error **soft) {
  if ((*soft = key_by_name(g, name, len, k))) return;
  if (!(*k)->pkey)
    *soft = wp_error_new(WP_ERR_BAD_INPUT,
                         "key '%s' is a secret; sign needs a private key (RSA, EC or OKP) "
                         "(use hmac for secrets)",
                         name);
  else if (!(*k)->has_private)
    *soft = wp_error_new(WP_ERR_BAD_INPUT,
                         "key '%s' is a public key only; sign needs the private key (grant a PEM "
                         "private key, or a JWK with \"d\", in capabilities.crypto.keys)",
                         name);
}

/* name: a granted key's name (len bytes); sig holds WP_CRYPTO_MAX_SIGNATURE bytes. */
static wp_error *run_sign(const wp_crypto_grant *g, const char *fn, wp_crypto_sig_alg alg,
                          const char *name, size_t len, const uint8_t *msg, size_t msg_len,
                          uint8_t *sig, size_t *sig_len, wp_error **soft) {
  *soft = NULL;
  if (msg_len > WP_CRYPTO_MAX_DATA)
    return over_limit(fn, "the message", msg_len, WP_CRYPTO_MAX_DATA);
  const wp_crypto_key *k;
  signing_key(g, name, len, &k, soft);
  if (*soft) return NULL;
  char what[160];
  snprintf(what, sizeof what, "key '%s'", name);
  return soften(wp_crypto_sign(alg, what, k->pkey, msg, msg_len, sig, sig_len), soft);
}

/* *jwk: the public half of the granted key `name` (malloc'd JSON text). */
static wp_error *run_public_jwk(const wp_crypto_grant *g, const char *name, size_t len, char **jwk,
                                wp_error **soft) {
  *jwk = NULL;
  const wp_crypto_key *k;
  if ((*soft = key_by_name(g, name, len, &k))) return NULL;
  if (!k->pkey) {
    *soft = wp_error_new(WP_ERR_BAD_INPUT, "key '%s' is a secret; it has no public half", name);
    return NULL;
  }
  char what[160];
  snprintf(what, sizeof what, "key '%s'", name);
  return soften(wp_crypto_public_jwk(what, k->pkey, jwk), soft);
}

/* ---- core modules: wasmplug.crypto_* ------------------------------------------------- */

static wp_error *core_hash_alg(wp_frame_in *in, wp_crypto_hash_alg *alg) {
  char *name;
  wp_error *err = wp_frame_string(in, "the algorithm", &name);
  if (err) return err;
  if (!wp_crypto_hash_alg_from(name, alg))
    err = wp_error_new(WP_ERR_ABI, "wasmplug.%s: unknown hash algorithm '%.16s' (%s)", in->fn, name,
                       wp_crypto_hash_alg_list());
  free(name);
  return err;
}

static wp_error *core_sig_alg(wp_frame_in *in, char **name, wp_crypto_sig_alg *alg) {
  wp_error *err = wp_frame_string(in, "the algorithm", name);
  if (!err && !wp_crypto_sig_alg_from(*name, alg))
    err = wp_error_new(WP_ERR_ABI, "wasmplug.%s: unknown algorithm '%.16s' (%s)", in->fn, *name,
                       wp_crypto_sig_alg_list());
  return err;
}

/* input: alg, data. OK: digest. */
static wp_error *core_hash(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_hash", input, len);
  wp_crypto_hash_alg alg;
  const uint8_t *d;
  size_t n;
  if ((err = core_hash_alg(&in, &alg)) || (err = wp_frame_field(&in, "the data", &d, &n)) ||
      (err = wp_frame_end(&in)))
    return err;
  uint8_t digest[WP_CRYPTO_MAX_DIGEST];
  size_t dl;
  if ((err = run_hash("wasmplug.crypto_hash", alg, d, n, digest, &dl))) return err;
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put(&out, digest, dl);
  return wp_frame_send(call, &out);
}

/* input: alg, "raw" | "named", key bytes | name, data. OK: mac. */
static wp_error *core_hmac(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_hmac", input, len);
  wp_crypto_hash_alg alg;
  char *kind = NULL, *name = NULL;
  const uint8_t *key = NULL, *d;
  size_t key_len = 0, n;
  if (!(err = core_hash_alg(&in, &alg)) && !(err = wp_frame_string(&in, "the key kind", &kind))) {
    if (strcmp(kind, "named") == 0) err = wp_frame_string(&in, "the key name", &name);
    else if (strcmp(kind, "raw") == 0) err = wp_frame_field(&in, "the key", &key, &key_len);
    else err = wp_error_new(WP_ERR_ABI, "wasmplug.crypto_hmac: the key kind must be raw or named");
  }
  if (!err) err = wp_frame_field(&in, "the data", &d, &n);
  if (!err) err = wp_frame_end(&in);
  uint8_t mac[WP_CRYPTO_MAX_DIGEST];
  size_t ml = 0;
  wp_error *soft = NULL;
  if (!err)
    err = run_hmac(g, "wasmplug.crypto_hmac", alg, name, key, key_len, d, n, mac, &ml, &soft);
  free(kind), free(name);
  if (err) return err;
  if (soft) return core_refuse(call, soft);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put(&out, mac, ml);
  OPENSSL_cleanse(mac, sizeof mac);
  return wp_frame_send(call, &out);
}

/* input: length (u64). OK: that many random bytes. */
static wp_error *core_random(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_random", input, len);
  uint64_t n;
  if ((err = wp_frame_u64(&in, "the length", &n)) || (err = wp_frame_end(&in))) return err;
  if (n > WP_CRYPTO_MAX_RANDOM)
    return wp_error_new(WP_ERR_HOST,
                        "wasmplug.crypto_random: %llu bytes asked, over the limit of %u",
                        (unsigned long long)n, WP_CRYPTO_MAX_RANDOM);
  uint8_t *buf = malloc(n ? (size_t)n : 1);
  if (!buf) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug.crypto_random: out of memory");
  if (!(err = wp_crypto_random(buf, (size_t)n))) {
    wp_frame_out out;
    wp_frame_out_init(&out, WP_FRAME_OK);
    wp_frame_put(&out, buf, (size_t)n);
    err = wp_frame_send(call, &out);
  }
  free(buf);
  return err;
}

/* input: alg, "pem" | "jwk" | "named", key text | name, message, signature. OK: 1 byte, 1 valid. */
static wp_error *core_verify(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_verify", input, len);
  char *alg_name = NULL, *kind = NULL, *key = NULL;
  const uint8_t *msg = NULL, *sig = NULL;
  size_t msg_len = 0, sig_len = 0;
  wp_crypto_sig_alg alg = WP_CRYPTO_RS256;
  err = core_sig_alg(&in, &alg_name, &alg);
  if (!err && !(err = wp_frame_string(&in, "the key kind", &kind)) && strcmp(kind, "pem") &&
      strcmp(kind, "jwk") && strcmp(kind, "named"))
    err = wp_error_new(WP_ERR_ABI,
                       "wasmplug.crypto_verify: the key kind must be pem, jwk or named");
  if (!err) err = wp_frame_string(&in, "the key", &key);
  if (!err) err = wp_frame_field(&in, "the message", &msg, &msg_len);
  if (!err) err = wp_frame_field(&in, "the signature", &sig, &sig_len);
  if (!err) err = wp_frame_end(&in);
  bool valid = false;
  wp_error *soft = NULL;
  if (!err)
    err = run_verify(g, "wasmplug.crypto_verify", alg, kind, key, strlen(key), msg, msg_len, sig,
                     sig_len, &valid, &soft);
  free(alg_name), free(kind), free(key);
  if (err) return err;
  if (soft) return core_refuse(call, soft);
  uint8_t v = valid;
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put(&out, &v, 1);
  return wp_frame_send(call, &out);
}

/* input: alg, key name, message. OK: the signature. */
static wp_error *core_sign(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_sign", input, len);
  char *alg_name = NULL, *name = NULL;
  const uint8_t *msg = NULL;
  size_t msg_len = 0, sig_len = 0;
  wp_crypto_sig_alg alg = WP_CRYPTO_RS256;
  err = core_sig_alg(&in, &alg_name, &alg);
  if (!err) err = wp_frame_string(&in, "the key name", &name);
  if (!err) err = wp_frame_field(&in, "the message", &msg, &msg_len);
  if (!err) err = wp_frame_end(&in);
  uint8_t sig[WP_CRYPTO_MAX_SIGNATURE];
  wp_error *soft = NULL;
  if (!err)
    err = run_sign(g, "wasmplug.crypto_sign", alg, name, strlen(name), msg, msg_len, sig, &sig_len,
                   &soft);
  free(alg_name), free(name);
  if (err) return err;
  if (soft) return core_refuse(call, soft);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put(&out, sig, sig_len);
  return wp_frame_send(call, &out);
}

/* input: key name. OK: the public JWK, JSON text. */
static wp_error *core_public_jwk(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_public_jwk", input, len);
  char *name = NULL, *jwk = NULL;
  wp_error *soft = NULL;
  err = wp_frame_string(&in, "the key name", &name);
  if (!err) err = wp_frame_end(&in);
  if (!err) err = run_public_jwk(g, name, strlen(name), &jwk, &soft);
  free(name);
  if (!err && soft) err = core_refuse(call, soft);
  else if (!err) {
    wp_frame_out out;
    wp_frame_out_init(&out, WP_FRAME_OK);
    wp_frame_put(&out, jwk, strlen(jwk));
    err = wp_frame_send(call, &out);
  }
  free(jwk);
  return err;
}

/* input: a, b. OK: 1 byte, 1 when equal. */
static wp_error *core_equal(wp_host_call *call, const uint8_t *input, size_t len, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "", &g);
  if (err) return err;
  wp_frame_in in = wp_frame_in_new("crypto_equal", input, len);
  const uint8_t *a, *b;
  size_t al, bl;
  if ((err = wp_frame_field(&in, "a", &a, &al)) || (err = wp_frame_field(&in, "b", &b, &bl)) ||
      (err = wp_frame_end(&in)))
    return err;
  uint8_t v = wp_crypto_equal(a, al, b, bl);
  wp_frame_out out;
  wp_frame_out_init(&out, WP_FRAME_OK);
  wp_frame_put(&out, &v, 1);
  return wp_frame_send(call, &out);
}

/* ---- components: wasmplug:crypto/crypto ----------------------------------------------- */

/* The import's declared types are the plugin's: check every argument's shape. */
static wp_error *shape(const char *fn, const char *what) {
  return wp_error_new(WP_ERR_ABI,
                      "wasmplug:crypto/crypto#%s: %s is not of the type in "
                      "pdk/wit/crypto.wit",
                      fn, what);
}

/* A list<u8> argument copied out (malloc'd, at least 1 byte). */
static wp_error *arg_bytes(const char *fn, const wp_value *const *args, size_t nargs, size_t i,
                           const char *what, size_t max, uint8_t **out, size_t *len) {
  const wp_value *v = i < nargs ? args[i] : NULL;
  if (!v || wp_value_get_kind(v) != WP_TYPE_LIST) return shape(fn, what);
  size_t n = wp_value_get_count(v);
  if (n > max) {
    char where[96];
    snprintf(where, sizeof where, "wasmplug:crypto/crypto#%s", fn);
    return over_limit(where, what, n, max);
  }
  uint8_t *d = malloc(n ? n : 1);
  if (!d) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug:crypto/crypto#%s: out of memory", fn);
  for (size_t k = 0; k < n; k++) {
    const wp_value *item = wp_value_get_item(v, k);
    if (!item || wp_value_get_kind(item) != WP_TYPE_U8) {
      free(d);
      return shape(fn, what);
    }
    d[k] = (uint8_t)wp_value_get_uint(item);
  }
  *out = d;
  *len = n;
  return NULL;
}

static const char *arg_case(const wp_value *const *args, size_t nargs, size_t i,
                            wp_type_kind kind) {
  return i < nargs && wp_value_get_kind(args[i]) == kind ? wp_value_get_case(args[i]) : NULL;
}

static wp_error *comp_hash_alg(const char *fn, const wp_value *const *args, size_t nargs,
                               wp_crypto_hash_alg *alg) {
  if (!wp_crypto_hash_alg_from(arg_case(args, nargs, 0, WP_TYPE_ENUM), alg))
    return shape(fn, "the algorithm");
  return NULL;
}

static wp_value *err_value(wp_error *soft) {
  char *msg = ascii_message(soft);
  wp_value *v = msg ? wp_value_new_err(wp_value_new_string(msg)) : NULL;
  free(msg);
  return v;
}

static wp_value *out_of_memory(wp_value *v, wp_error **err) {
  if (!v) *err = wp_error_new(WP_ERR_NO_MEMORY, "wasmplug:crypto/crypto: out of memory");
  return v;
}

/* hash: func(alg: hash-alg, data: list<u8>) -> list<u8> */
static wp_error *comp_hash(wp_host_call *call, const wp_value *const *args, size_t nargs,
                           wp_value **result, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "wasmplug:crypto/crypto#hash", &g);
  wp_crypto_hash_alg alg;
  uint8_t *d = NULL, digest[WP_CRYPTO_MAX_DIGEST];
  size_t n, dl;
  if (!err) err = comp_hash_alg("hash", args, nargs, &alg);
  if (!err) err = arg_bytes("hash", args, nargs, 1, "the data", WP_CRYPTO_MAX_DATA, &d, &n);
  if (!err) err = run_hash("wasmplug:crypto/crypto#hash", alg, d, n, digest, &dl);
  if (!err) *result = out_of_memory(wp_value_new_bytes(digest, dl), &err);
  free(d);
  return err;
}

/* hmac: func(alg: hash-alg, key: secret, data: list<u8>) -> result<list<u8>, string> */
static wp_error *comp_hmac(wp_host_call *call, const wp_value *const *args, size_t nargs,
                           wp_value **result, void *data) {
  static const char fn[] = "wasmplug:crypto/crypto#hmac";
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, fn, &g);
  wp_crypto_hash_alg alg;
  uint8_t *key = NULL, *d = NULL, mac[WP_CRYPTO_MAX_DIGEST];
  size_t key_len = 0, n = 0, ml = 0;
  const char *name = NULL;
  if (!err) err = comp_hash_alg("hmac", args, nargs, &alg);
  if (!err) {
    const char *c = arg_case(args, nargs, 1, WP_TYPE_VARIANT);
    const wp_value *payload = c ? wp_value_get_payload(args[1]) : NULL;
    const wp_value *pl[1] = {payload};
    if (c && strcmp(c, "named") == 0 && payload && wp_value_get_kind(payload) == WP_TYPE_STRING)
      name = wp_value_get_string(payload, NULL);
    else if (c && strcmp(c, "raw") == 0 && payload)
      err = arg_bytes("hmac", pl, 1, 0, "the key", WP_CRYPTO_MAX_KEY_TEXT, &key, &key_len);
    else err = shape("hmac", "the key");
  }
  if (!err) err = arg_bytes("hmac", args, nargs, 2, "the data", WP_CRYPTO_MAX_DATA, &d, &n);
  wp_error *soft = NULL;
  if (!err) err = run_hmac(g, fn, alg, name, key, key_len, d, n, mac, &ml, &soft);
  if (!err)
    *result = out_of_memory(soft ? err_value(soft) : wp_value_new_ok(wp_value_new_bytes(mac, ml)),
                            &err);
  OPENSSL_cleanse(mac, sizeof mac);
  if (key) OPENSSL_clear_free(key, key_len);
  free(d);
  return err;
}

/* random-bytes: func(len: u32) -> list<u8> */
static wp_error *comp_random(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "wasmplug:crypto/crypto#random-bytes", &g);
  if (err) return err;
  if (nargs < 1 || wp_value_get_kind(args[0]) != WP_TYPE_U32) return shape("random-bytes", "len");
  uint64_t n = wp_value_get_uint(args[0]);
  if (n > WP_CRYPTO_MAX_RANDOM)
    return wp_error_new(WP_ERR_HOST,
                        "wasmplug:crypto/crypto#random-bytes: %llu bytes asked, over the limit "
                        "of %u",
                        (unsigned long long)n, WP_CRYPTO_MAX_RANDOM);
  uint8_t *buf = malloc(n ? (size_t)n : 1);
  if (!buf) return wp_error_new(WP_ERR_NO_MEMORY, "wasmplug:crypto/crypto: out of memory");
  if (!(err = wp_crypto_random(buf, (size_t)n)))
    *result = out_of_memory(wp_value_new_bytes(buf, (size_t)n), &err);
  free(buf);
  return err;
}

/* verify: func(alg: sig-alg, key: public-key, message: list<u8>, signature: list<u8>)
           -> result<bool, string> */
static wp_error *comp_verify(wp_host_call *call, const wp_value *const *args, size_t nargs,
                             wp_value **result, void *data) {
  static const char fn[] = "wasmplug:crypto/crypto#verify";
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, fn, &g);
  wp_crypto_sig_alg alg = WP_CRYPTO_RS256;
  const char *kind = NULL, *key = NULL;
  size_t key_len = 0, msg_len = 0, sig_len = 0;
  uint8_t *msg = NULL, *sig = NULL;
  if (!err && !wp_crypto_sig_alg_from(arg_case(args, nargs, 0, WP_TYPE_ENUM), &alg))
    err = shape("verify", "the algorithm");
  if (!err) {
    kind = arg_case(args, nargs, 1, WP_TYPE_VARIANT);
    const wp_value *payload = kind ? wp_value_get_payload(args[1]) : NULL;
    if (payload && wp_value_get_kind(payload) == WP_TYPE_STRING &&
        (!strcmp(kind, "pem") || !strcmp(kind, "jwk") || !strcmp(kind, "named")))
      key = wp_value_get_string(payload, &key_len);
    else err = shape("verify", "the key");
  }
  if (!err)
    err = arg_bytes("verify", args, nargs, 2, "the message", WP_CRYPTO_MAX_DATA, &msg, &msg_len);
  /* One byte past the limit is enough to know it is not a valid signature. */
  if (!err && nargs > 3 && wp_value_get_kind(args[3]) == WP_TYPE_LIST &&
      wp_value_get_count(args[3]) > WP_CRYPTO_MAX_SIGNATURE)
    sig_len = SIZE_MAX;
  else if (!err)
    err = arg_bytes("verify", args, nargs, 3, "the signature", WP_CRYPTO_MAX_SIGNATURE, &sig,
                    &sig_len);
  bool valid = false;
  wp_error *soft = NULL;
  if (!err)
    err = run_verify(g, fn, alg, kind, key, key_len, msg, msg_len, sig, sig_len, &valid, &soft);
  if (!err)
    *result = out_of_memory(soft ? err_value(soft) : wp_value_new_ok(wp_value_new_bool(valid)),
                            &err);
  free(msg), free(sig);
  return err;
}

/* A string argument (borrowed), or the shape error. */
static wp_error *arg_string(const char *fn, const wp_value *const *args, size_t nargs, size_t i,
                            const char *what, const char **s, size_t *len) {
  if (i >= nargs || wp_value_get_kind(args[i]) != WP_TYPE_STRING) return shape(fn, what);
  *s = wp_value_get_string(args[i], len);
  return NULL;
}

/* sign: func(alg: sig-alg, key: string, message: list<u8>) -> result<list<u8>, string> */
static wp_error *comp_sign(wp_host_call *call, const wp_value *const *args, size_t nargs,
                           wp_value **result, void *data) {
  static const char fn[] = "wasmplug:crypto/crypto#sign";
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, fn, &g);
  wp_crypto_sig_alg alg = WP_CRYPTO_RS256;
  const char *name = NULL;
  size_t name_len = 0, msg_len = 0, sig_len = 0;
  uint8_t *msg = NULL, sig[WP_CRYPTO_MAX_SIGNATURE];
  if (!err && !wp_crypto_sig_alg_from(arg_case(args, nargs, 0, WP_TYPE_ENUM), &alg))
    err = shape("sign", "the algorithm");
  if (!err) err = arg_string("sign", args, nargs, 1, "the key", &name, &name_len);
  if (!err)
    err = arg_bytes("sign", args, nargs, 2, "the message", WP_CRYPTO_MAX_DATA, &msg, &msg_len);
  wp_error *soft = NULL;
  if (!err) err = run_sign(g, fn, alg, name, name_len, msg, msg_len, sig, &sig_len, &soft);
  if (!err)
    *result = out_of_memory(
        soft ? err_value(soft) : wp_value_new_ok(wp_value_new_bytes(sig, sig_len)), &err);
  free(msg);
  return err;
}

/* public-jwk: func(key: string) -> result<string, string> */
static wp_error *comp_public_key(wp_host_call *call, const wp_value *const *args, size_t nargs,
                                 wp_value **result, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "wasmplug:crypto/crypto#public-jwk", &g);
  const char *name = NULL;
  size_t name_len = 0;
  char *jwk = NULL;
  wp_error *soft = NULL;
  if (!err) err = arg_string("public-jwk", args, nargs, 0, "the key", &name, &name_len);
  if (!err) err = run_public_jwk(g, name, name_len, &jwk, &soft);
  if (!err)
    *result = out_of_memory(soft ? err_value(soft) : wp_value_new_ok(wp_value_new_string(jwk)),
                            &err);
  free(jwk);
  return err;
}

/* constant-time-equal: func(a: list<u8>, b: list<u8>) -> bool */
static wp_error *comp_equal(wp_host_call *call, const wp_value *const *args, size_t nargs,
                            wp_value **result, void *data) {
  const wp_crypto_grant *g;
  wp_error *err = granted(data, call, "wasmplug:crypto/crypto#constant-time-equal", &g);
  uint8_t *a = NULL, *b = NULL;
  size_t al = 0, bl = 0;
  if (!err)
    err = arg_bytes("constant-time-equal", args, nargs, 0, "a", WP_CRYPTO_MAX_DATA, &a, &al);
  if (!err)
    err = arg_bytes("constant-time-equal", args, nargs, 1, "b", WP_CRYPTO_MAX_DATA, &b, &bl);
  if (!err) *result = out_of_memory(wp_value_new_bool(wp_crypto_equal(a, al, b, bl)), &err);
  free(a), free(b);
  return err;
}

/* ---- install -------------------------------------------------------------------------- */

wp_error *wp_host_crypto_install(wp_engine *e) {
  crypto_state *st = calloc(1, sizeof *st);
  if (!st) return wp_error_new(WP_ERR_NO_MEMORY, "crypto capability: out of memory");
  wp_error *err = wp_engine_add_capability(e, &methods, st, &st->cap);
  if (err) {
    free(st);
    return err;
  }
  /* From here the engine owns st (methods.free). */
  static const struct {
    const char *name;
    wp_host_bytes_fn fn;
  } core[] = {
      {"crypto_hash", core_hash},     {"crypto_hmac", core_hmac},
      {"crypto_random", core_random}, {"crypto_verify", core_verify},
      {"crypto_sign", core_sign},     {"crypto_public_jwk", core_public_jwk},
      {"crypto_equal", core_equal},
  };
  static const struct {
    const char *name;
    wp_component_fn fn;
  } comp[] = {{"hash", comp_hash},
              {"hmac", comp_hmac},
              {"random-bytes", comp_random},
              {"verify", comp_verify},
              {"sign", comp_sign},
              {"public-jwk", comp_public_key},
              {"constant-time-equal", comp_equal}};
  for (size_t i = 0; !err && i < sizeof core / sizeof *core; i++)
    err = wp_engine_define_bytes(e, "wasmplug", core[i].name, core[i].fn, st, NULL);
  for (size_t i = 0; !err && i < sizeof comp / sizeof *comp; i++)
    err = wp_engine_define_component_func(e, IFACE, comp[i].name, comp[i].fn, st, NULL);
  return err;
}
