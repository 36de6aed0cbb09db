/*
 * ops.h - the crypto capability's operations on plain bytes and keys,
 * shared by its core-module and component functions (internal to
 * src/host/crypto/; the limits are the public ones of wasmplug/crypto.h).
 * Errors are WP_ERR_BAD_INPUT with a message that says what is wrong with
 * the key or the input; OpenSSL's error queue is left empty.
 */
#ifndef WP_HOST_CRYPTO_OPS_H
#define WP_HOST_CRYPTO_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "wasmplug.h"
#include "wasmplug/crypto.h" /* the limits (WP_CRYPTO_MAX_*) */

typedef enum { WP_CRYPTO_SHA256, WP_CRYPTO_SHA384, WP_CRYPTO_SHA512 } wp_crypto_hash_alg;

/* The JWS algorithms (RFC 7518 3.1, RFC 8037), in the WIT enum's order. */
typedef enum {
  WP_CRYPTO_RS256,
  WP_CRYPTO_RS384,
  WP_CRYPTO_RS512,
  WP_CRYPTO_PS256,
  WP_CRYPTO_PS384,
  WP_CRYPTO_PS512,
  WP_CRYPTO_ES256,
  WP_CRYPTO_ES384,
  WP_CRYPTO_ES512,
  WP_CRYPTO_EDDSA,
} wp_crypto_sig_alg;

/* Names as in the WIT ("sha256", "rs256", ...) and back; false if unknown. */
bool wp_crypto_hash_alg_from(const char *name, wp_crypto_hash_alg *out);
bool wp_crypto_sig_alg_from(const char *name, wp_crypto_sig_alg *out);
const char *wp_crypto_hash_alg_list(void); /* "sha256, sha384, sha512" */
const char *wp_crypto_sig_alg_list(void);

/* A key: a public or private key (pkey; has_private when it can sign), or
   an HMAC secret. */
typedef struct wp_crypto_key {
  EVP_PKEY *pkey;
  bool has_private;
  uint8_t *secret;
  size_t secret_len;
} wp_crypto_key;

void wp_crypto_key_clear(wp_crypto_key *k);

/* `what` names the key in messages ("capabilities.crypto.keys.k1.pem", "the pem key"). */
wp_error *wp_crypto_key_from_pem(const char *what, const char *text, size_t len,
                                 wp_crypto_key *out);
wp_error *wp_crypto_key_from_jwk(const char *what, const char *text, size_t len,
                                 wp_crypto_key *out);
/* `base64` selects standard base64 (padding optional) instead of hex. */
wp_error *wp_crypto_key_from_secret(const char *what, const char *text, bool base64,
                                    wp_crypto_key *out);

/* out holds WP_CRYPTO_MAX_DIGEST bytes. */
wp_error *wp_crypto_hash(wp_crypto_hash_alg alg, const uint8_t *data, size_t len, uint8_t *out,
                         size_t *out_len);
wp_error *wp_crypto_hmac(wp_crypto_hash_alg alg, const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t len, uint8_t *out, size_t *out_len);
wp_error *wp_crypto_random(uint8_t *out, size_t len);
/* *valid says whether `sig` is a valid JWS signature of `msg`; an error
   means the key does not fit the algorithm (or the host failed). */
wp_error *wp_crypto_verify(wp_crypto_sig_alg alg, const char *key_what, EVP_PKEY *key,
                           const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
                           bool *valid);
/* The JWS signature of `msg` under `key`, which holds a private key, into
   sig (WP_CRYPTO_MAX_SIGNATURE bytes); ECDSA as r || s. An error means the
   key does not fit the algorithm (or the host failed). */
wp_error *wp_crypto_sign(wp_crypto_sig_alg alg, const char *key_what, EVP_PKEY *key,
                         const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len);
/* The public half of `key` as a compact JWK: kty and the public members
   (RSA n, e; EC crv, x, y; OKP crv, x), malloc'd JSON text. */
wp_error *wp_crypto_public_jwk(const char *key_what, EVP_PKEY *key, char **out);
/* Constant time in the length of a (lengths are not secret). */
bool wp_crypto_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* The grant: the named keys of a plugin's "crypto" section. */
typedef struct wp_crypto_named {
  char *name;
  wp_crypto_key key;
} wp_crypto_named;

typedef struct wp_crypto_grant {
  wp_crypto_named *keys;
  size_t nkeys;
} wp_crypto_grant;

wp_error *wp_crypto_grant_parse(const char *plugin, const char *section, size_t len,
                                wp_crypto_grant **out);
void wp_crypto_grant_free(wp_crypto_grant *g);
/* The key named `name`, or NULL. */
const wp_crypto_key *wp_crypto_grant_key(const wp_crypto_grant *g, const char *name);
/* "a, b, c" (or "none") into buf, for messages. */
const char *wp_crypto_grant_names(const wp_crypto_grant *g, char *buf, size_t size);

#endif
