/*
 * guest_core.c - a core-module plugin that drives the crypto capability
 * through pdk/c/wasmplug_crypto.h, for tests/crypto/test_crypto.c.
 *
 * Each export takes the test's arguments as fields (u32 little-endian
 * length, then the bytes) and calls the matching helper. A refusal by the
 * host (an err) becomes wasmplug.error, so the test sees WP_ERR_PLUGIN with
 * the host's message.
 */
#include "wasmplug_crypto.h"

typedef struct {
  const uint8_t *at;
  size_t left;
} reader;

/* The next field, NUL-terminated in a malloc'd copy (freed by the caller). */
static char *next(reader *r, size_t *len) {
  if (r->left < 4) __builtin_trap();
  uint32_t n = (uint32_t)r->at[0] | (uint32_t)r->at[1] << 8 | (uint32_t)r->at[2] << 16 |
               (uint32_t)r->at[3] << 24;
  if (n > r->left - 4) __builtin_trap();
  char *s = malloc(n + 1);
  if (!s) __builtin_trap();
  memcpy(s, r->at + 4, n);
  s[n] = '\0';
  r->at += 4 + n;
  r->left -= 4 + n;
  if (len) *len = n;
  return s;
}

/* hash: alg, data -> digest */
static void do_hash(const uint8_t *in, size_t len) {
  reader r = {in, len};
  size_t n;
  char *alg = next(&r, NULL), *data = next(&r, &n);
  uint8_t out[WP_CRYPTO_MAX_DIGEST];
  wp_output(out, wp_crypto_hash(alg, data, n, out));
  free(alg), free(data);
}
WP_EXPORT_BYTES(hash, do_hash)

/* hmac: alg, "raw" | "named", key, data -> mac */
static void do_hmac(const uint8_t *in, size_t len) {
  reader r = {in, len};
  size_t kl, n;
  char *alg = next(&r, NULL), *kind = next(&r, NULL), *key = next(&r, &kl), *data = next(&r, &n);
  uint8_t out[WP_CRYPTO_MAX_DIGEST];
  char *err = NULL;
  size_t m = strcmp(kind, "named") == 0 ? wp_crypto_hmac_named(alg, key, data, n, out, &err)
                                        : wp_crypto_hmac(alg, key, kl, data, n, out, &err);
  if (m) wp_output(out, m);
  else wp_error("hmac refused: %s", err ? err : "?");
  free(err), free(alg), free(kind), free(key), free(data);
}
WP_EXPORT_BYTES(hmac, do_hmac)

/* random: decimal length -> that many bytes */
static void do_random(const uint8_t *in, size_t len) {
  char text[16] = {0};
  memcpy(text, in, len < 15 ? len : 15);
  size_t n = (size_t)strtoul(text, NULL, 10);
  uint8_t *buf = malloc(n ? n : 1);
  if (!buf) __builtin_trap();
  wp_crypto_random(buf, n);
  wp_output(buf, n);
  free(buf);
}
WP_EXPORT_BYTES(random, do_random)

/* verify: alg, key kind, key, message, signature -> "true" | "false" */
static void do_verify(const uint8_t *in, size_t len) {
  reader r = {in, len};
  size_t ml, sl;
  char *alg = next(&r, NULL), *kind = next(&r, NULL), *key = next(&r, NULL);
  char *msg = next(&r, &ml), *sig = next(&r, &sl);
  char *err = NULL;
  int v = wp_crypto_verify(alg, kind, key, msg, ml, sig, sl, &err);
  if (v < 0) wp_error("verify refused: %s", err ? err : "?");
  else wp_output_str(v ? "true" : "false");
  free(err), free(alg), free(kind), free(key), free(msg), free(sig);
}
WP_EXPORT_BYTES(verify, do_verify)

/* sign: alg, key name, message -> the signature */
static void do_sign(const uint8_t *in, size_t len) {
  reader r = {in, len};
  size_t ml;
  char *alg = next(&r, NULL), *key = next(&r, NULL), *msg = next(&r, &ml);
  uint8_t sig[WP_CRYPTO_MAX_SIGNATURE];
  char *err = NULL;
  size_t n = wp_crypto_sign(alg, key, msg, ml, sig, &err);
  if (n) wp_output(sig, n);
  else wp_error("sign refused: %s", err ? err : "?");
  free(err), free(alg), free(key), free(msg);
}
WP_EXPORT_BYTES(sign, do_sign)

/* public_key: key name -> the JWK text */
static void do_public_key(const uint8_t *in, size_t len) {
  char *name = malloc(len + 1), *err = NULL;
  if (!name) __builtin_trap();
  memcpy(name, in, len);
  name[len] = '\0';
  char *jwk = wp_crypto_public_jwk(name, &err);
  if (jwk) wp_output_str(jwk);
  else wp_error("public-key refused: %s", err ? err : "?");
  free(jwk), free(err), free(name);
}
WP_EXPORT_BYTES(public_key, do_public_key)

/* equal: a, b -> "true" | "false" */
static void do_equal(const uint8_t *in, size_t len) {
  reader r = {in, len};
  size_t al, bl;
  char *a = next(&r, &al), *b = next(&r, &bl);
  wp_output_str(wp_crypto_equal(a, al, b, bl) ? "true" : "false");
  free(a), free(b);
}
WP_EXPORT_BYTES(equal, do_equal)
