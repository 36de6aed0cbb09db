/*
 * wasmplug_crypto.h - the crypto capability for C core-module plugins: the
 * guest side of the wasmplug.crypto_* functions (docs/capabilities.md), on
 * top of wasmplug_pdk.h. The plugin's manifest must grant it:
 *
 *   "capabilities": {"crypto": {"keys": {"hook": {"secret_hex": "..."}}}}
 *
 * Without the grant, every function here makes the plugin's call fail (the
 * caller sees an error naming capabilities.crypto). Example:
 *
 *   #include "wasmplug_crypto.h"
 *
 *   static void check(const uint8_t *in, size_t len) {
 *     uint8_t mac[WP_CRYPTO_MAX_DIGEST];
 *     char *err = NULL;
 *     size_t n = wp_crypto_hmac_named(WP_SHA256, "hook", in, len, mac, &err);
 *     if (!n) { wp_error("hmac: %s", err); free(err); return; }
 *     wp_output(mac, n);
 *   }
 *   WP_EXPORT_BYTES(check, check)
 *
 * Algorithms and key kinds are the case names of pdk/wit/crypto.wit. An
 * unknown one, or an input over the host's limits (4 MiB of data, 65536
 * random bytes), fails the plugin's call. Key problems (a PEM or JWK that
 * does not parse, a name the manifest does not grant) come back as an error
 * message the plugin handles; a wrong signature is not an error (0).
 *
 * Signing uses a private key the manifest grants by name; the plugin never
 * holds it, and can publish its public half with wp_crypto_public_jwk:
 *
 *   "capabilities": {"crypto": {"keys": {"issuer": {"pem_file": "/etc/keys/issuer.pem"}}}}
 *
 *   uint8_t sig[WP_CRYPTO_MAX_SIGNATURE];
 *   char *err = NULL;
 *   size_t n = wp_crypto_sign(WP_ES256, "issuer", input, len, sig, &err);   // 64 bytes
 *   if (!n) { wp_error("sign: %s", err); free(err); return; }
 */
#ifndef WASMPLUG_PDK_CRYPTO_H
#define WASMPLUG_PDK_CRYPTO_H

#include "wasmplug_pdk.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The largest digest or MAC (SHA-512): size output buffers with it. */
#define WP_CRYPTO_MAX_DIGEST 64
/** The largest signature (RSA-16384): size wp_crypto_sign's buffer with it. */
#define WP_CRYPTO_MAX_SIGNATURE 2048

/* Hash algorithms (hash, hmac). */
#define WP_SHA256 "sha256"
#define WP_SHA384 "sha384"
#define WP_SHA512 "sha512"

/* JWS signature algorithms (verify, sign). ECDSA signatures are r || s, as in JWS. */
#define WP_RS256 "rs256"
#define WP_RS384 "rs384"
#define WP_RS512 "rs512"
#define WP_PS256 "ps256"
#define WP_PS384 "ps384"
#define WP_PS512 "ps512"
#define WP_ES256 "es256"
#define WP_ES384 "es384"
#define WP_ES512 "es512"
#define WP_EDDSA "eddsa"

/* How verify's key is given: PEM text, JWK JSON text, or a granted key's name. */
#define WP_KEY_PEM "pem"
#define WP_KEY_JWK "jwk"
#define WP_KEY_NAMED "named"

WP_IMPORT_BYTES("wasmplug", "crypto_hash", wp__crypto_hash)
WP_IMPORT_BYTES("wasmplug", "crypto_hmac", wp__crypto_hmac)
WP_IMPORT_BYTES("wasmplug", "crypto_random", wp__crypto_random)
WP_IMPORT_BYTES("wasmplug", "crypto_verify", wp__crypto_verify)
WP_IMPORT_BYTES("wasmplug", "crypto_sign", wp__crypto_sign)
WP_IMPORT_BYTES("wasmplug", "crypto_public_jwk", wp__crypto_public_jwk)
WP_IMPORT_BYTES("wasmplug", "crypto_equal", wp__crypto_equal)

/** One input field of the framing: u32 little-endian length, then the bytes. */
typedef struct {
  const void *ptr;
  size_t len;
} wp__crypto_field;

/** Frames `n` fields, calls `fn` with them and returns its output. */
static inline wp_bytes wp__crypto_call(wp_bytes (*fn)(const void *, size_t),
                                       const wp__crypto_field *f, size_t n) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++) total += 4 + f[i].len;
  uint8_t *buf = (uint8_t *)malloc(total ? total : 1);
  if (!buf) __builtin_trap();
  uint8_t *p = buf;
  for (size_t i = 0; i < n; i++) {
    uint32_t l = (uint32_t)f[i].len;
    p[0] = (uint8_t)l, p[1] = (uint8_t)(l >> 8), p[2] = (uint8_t)(l >> 16),
    p[3] = (uint8_t)(l >> 24);
    if (f[i].len) memcpy(p + 4, f[i].ptr, f[i].len);
    p += 4 + f[i].len;
  }
  wp_bytes r = fn(buf, total);
  free(buf);
  return r;
}

/**
 * Reads an output: for status 0 (OK), its first field into *field / *len
 * (pointing into r); for status 2 (ERROR), the message into *err (malloc'd,
 * NUL-terminated; NULL if memory ran out). Returns the status. A malformed
 * output (the host's bug) traps.
 */
static inline int wp__crypto_result(wp_bytes r, const uint8_t **field, size_t *len, char **err) {
  if (r.len < 1) __builtin_trap();
  if (r.ptr[0] == 2) {
    if (err) {
      *err = (char *)malloc(r.len);
      if (*err) {
        memcpy(*err, r.ptr + 1, r.len - 1);
        (*err)[r.len - 1] = '\0';
      }
    }
    return 2;
  }
  if (r.ptr[0] != 0 || r.len < 5) __builtin_trap();
  uint32_t l = (uint32_t)r.ptr[1] | (uint32_t)r.ptr[2] << 8 | (uint32_t)r.ptr[3] << 16 |
               (uint32_t)r.ptr[4] << 24;
  if (l > r.len - 5) __builtin_trap();
  *field = r.ptr + 5;
  *len = l;
  return 0;
}

/**
 * The digest of `len` bytes at `data` with `alg` (WP_SHA256...), written to
 * `out` (WP_CRYPTO_MAX_DIGEST bytes); returns its length.
 */
static inline size_t wp_crypto_hash(const char *alg, const void *data, size_t len, uint8_t *out) {
  wp__crypto_field f[2] = {{alg, strlen(alg)}, {data, len}};
  wp_bytes r = wp__crypto_call(wp__crypto_hash, f, 2);
  const uint8_t *d;
  size_t n;
  if (wp__crypto_result(r, &d, &n, NULL) != 0 || n > WP_CRYPTO_MAX_DIGEST) __builtin_trap();
  memcpy(out, d, n);
  wp_bytes_free(r);
  return n;
}

static inline size_t wp__crypto_hmac_kind(const char *alg, const char *kind, const void *key,
                                          size_t key_len, const void *data, size_t len,
                                          uint8_t *out, char **err) {
  wp__crypto_field f[4] = {{alg, strlen(alg)}, {kind, strlen(kind)}, {key, key_len}, {data, len}};
  wp_bytes r = wp__crypto_call(wp__crypto_hmac, f, 4);
  const uint8_t *d = NULL;
  size_t n = 0;
  if (wp__crypto_result(r, &d, &n, err) == 0) {
    if (n == 0 || n > WP_CRYPTO_MAX_DIGEST) __builtin_trap();
    memcpy(out, d, n);
  }
  wp_bytes_free(r);
  return n;
}

/**
 * The HMAC of `data` with `alg` under the raw key `key`, written to `out`
 * (WP_CRYPTO_MAX_DIGEST bytes). Returns its length, or 0 with *err set to a
 * malloc'd message (free it) when the host refused (an empty key).
 */
static inline size_t wp_crypto_hmac(const char *alg, const void *key, size_t key_len,
                                    const void *data, size_t len, uint8_t *out, char **err) {
  return wp__crypto_hmac_kind(alg, "raw", key, key_len, data, len, out, err);
}

/**
 * As wp_crypto_hmac, under the secret the manifest grants as `name`
 * (capabilities.crypto.keys): the plugin never sees the secret itself.
 */
static inline size_t wp_crypto_hmac_named(const char *alg, const char *name, const void *data,
                                          size_t len, uint8_t *out, char **err) {
  return wp__crypto_hmac_kind(alg, "named", name, strlen(name), data, len, out, err);
}

/** Fills `len` bytes at `out` (at most 65536) from the host's CSPRNG. */
static inline void wp_crypto_random(void *out, size_t len) {
  uint8_t n8[8];
  uint64_t n = len;
  for (int i = 0; i < 8; i++) n8[i] = (uint8_t)(n >> (8 * i));
  wp__crypto_field f[1] = {{n8, 8}};
  wp_bytes r = wp__crypto_call(wp__crypto_random, f, 1);
  const uint8_t *d;
  size_t got;
  if (wp__crypto_result(r, &d, &got, NULL) != 0 || got != len) __builtin_trap();
  if (len) memcpy(out, d, len);
  wp_bytes_free(r);
}

/**
 * Whether `sig` is a valid `alg` (WP_RS256...) signature of `msg`, with the
 * key `key` given as `key_kind` (WP_KEY_PEM, WP_KEY_JWK: its text; WP_KEY_NAMED:
 * a granted key's name). Returns 1 valid, 0 not valid, -1 when the key does
 * not parse, fit `alg` or exist, with *err set to a malloc'd message.
 */
static inline int wp_crypto_verify(const char *alg, const char *key_kind, const char *key,
                                   const void *msg, size_t msg_len, const void *sig, size_t sig_len,
                                   char **err) {
  wp__crypto_field f[5] = {{alg, strlen(alg)},
                           {key_kind, strlen(key_kind)},
                           {key, strlen(key)},
                           {msg, msg_len},
                           {sig, sig_len}};
  wp_bytes r = wp__crypto_call(wp__crypto_verify, f, 5);
  const uint8_t *d = NULL;
  size_t n = 0;
  int v = -1;
  if (wp__crypto_result(r, &d, &n, err) == 0) {
    if (n != 1) __builtin_trap();
    v = d[0] == 1;
  }
  wp_bytes_free(r);
  return v;
}

/**
 * The `alg` (WP_RS256...) JWS signature of `msg` under the private key the
 * manifest grants as `key_name`, written to `sig` (WP_CRYPTO_MAX_SIGNATURE
 * bytes; ECDSA as r || s). Returns its length, or 0 with *err set to a
 * malloc'd message (free it) when the key is not granted, is a secret or a
 * public key only, or does not fit `alg`.
 */
static inline size_t wp_crypto_sign(const char *alg, const char *key_name, const void *msg,
                                    size_t msg_len, uint8_t *sig, char **err) {
  wp__crypto_field f[3] = {{alg, strlen(alg)}, {key_name, strlen(key_name)}, {msg, msg_len}};
  wp_bytes r = wp__crypto_call(wp__crypto_sign, f, 3);
  const uint8_t *d = NULL;
  size_t n = 0;
  if (wp__crypto_result(r, &d, &n, err) == 0) {
    if (n == 0 || n > WP_CRYPTO_MAX_SIGNATURE) __builtin_trap();
    memcpy(sig, d, n);
  }
  wp_bytes_free(r);
  return n;
}

/**
 * The public half of the key the manifest grants as `key_name`, as a JWK
 * (JSON text: kty and the public members only), malloc'd and NUL-terminated
 * (free it). NULL with *err set to a malloc'd message when the key is not
 * granted or is a secret.
 */
static inline char *wp_crypto_public_jwk(const char *key_name, char **err) {
  wp__crypto_field f[1] = {{key_name, strlen(key_name)}};
  wp_bytes r = wp__crypto_call(wp__crypto_public_jwk, f, 1);
  const uint8_t *d = NULL;
  size_t n = 0;
  char *jwk = NULL;
  if (wp__crypto_result(r, &d, &n, err) == 0) {
    jwk = (char *)malloc(n + 1);
    if (!jwk) __builtin_trap();
    memcpy(jwk, d, n);
    jwk[n] = '\0';
  }
  wp_bytes_free(r);
  return jwk;
}

/** 1 when the two byte strings are equal, compared in constant time by the host. */
static inline int wp_crypto_equal(const void *a, size_t a_len, const void *b, size_t b_len) {
  wp__crypto_field f[2] = {{a, a_len}, {b, b_len}};
  wp_bytes r = wp__crypto_call(wp__crypto_equal, f, 2);
  const uint8_t *d;
  size_t n;
  if (wp__crypto_result(r, &d, &n, NULL) != 0 || n != 1) __builtin_trap();
  int v = d[0] == 1;
  wp_bytes_free(r);
  return v;
}

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_PDK_CRYPTO_H */
