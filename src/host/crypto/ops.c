/* ops.c - hashes, HMAC, random bytes, JWS signatures and keys (ops.h), on libcrypto. */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "util/hex.h"

static const char *const hash_names[] = {"sha256", "sha384", "sha512"};
static const char *const hash_md[] = {"SHA256", "SHA384", "SHA512"};
static const char *const sig_names[] = {"rs256", "rs384", "rs512", "ps256", "ps384",
                                        "ps512", "es256", "es384", "es512", "eddsa"};
/* The JWS curves: OpenSSL's group names and the JWK's crv, for es256/384/512. */
static const char *const ec_groups[] = {"prime256v1", "secp384r1", "secp521r1"};
static const char *const ec_crvs[] = {"P-256", "P-384", "P-521"};

bool wp_crypto_hash_alg_from(const char *name, wp_crypto_hash_alg *out) {
  for (size_t i = 0; name && i < sizeof hash_names / sizeof *hash_names; i++)
    if (strcmp(name, hash_names[i]) == 0) {
      *out = (wp_crypto_hash_alg)i;
      return true;
    }
  return false;
}

bool wp_crypto_sig_alg_from(const char *name, wp_crypto_sig_alg *out) {
  for (size_t i = 0; name && i < sizeof sig_names / sizeof *sig_names; i++)
    if (strcmp(name, sig_names[i]) == 0) {
      *out = (wp_crypto_sig_alg)i;
      return true;
    }
  return false;
}

const char *wp_crypto_hash_alg_list(void) { return "sha256, sha384, sha512"; }
const char *wp_crypto_sig_alg_list(void) {
  return "rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, es512, eddsa";
}

/* OpenSSL's reason for the last failure (into buf), and an empty queue. */
static const char *ossl_reason(char *buf, size_t size) {
  unsigned long code = ERR_peek_last_error();
  const char *r = code ? ERR_reason_error_string(code) : NULL;
  snprintf(buf, size, "%s", r ? r : "no reason given");
  ERR_clear_error();
  return buf;
}

void wp_crypto_key_clear(wp_crypto_key *k) {
  EVP_PKEY_free(k->pkey);
  if (k->secret) OPENSSL_clear_free(k->secret, k->secret_len);
  *k = (wp_crypto_key){0};
}

/* ---- encodings ------------------------------------------------------------------------ */

static int b64_value(char c, bool url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

/* Decodes base64 (url: the base64url alphabet, no padding; else the standard
   one, padding optional) into a malloc'd buffer (at least 1 byte). */
static bool b64_decode(const char *s, size_t n, bool url, uint8_t **out, size_t *out_len) {
  if (!url)
    for (int pad = 0; pad < 2 && n && s[n - 1] == '='; pad++) n--;
  if (n % 4 == 1) return false;
  uint8_t *d = malloc(n * 3 / 4 + 1);
  if (!d) return false;
  size_t len = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64_value(s[i], url);
    if (v < 0) {
      free(d);
      return false;
    }
    acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      d[len++] = (uint8_t)(acc >> bits);
    }
  }
  if (bits && (acc & ((1u << bits) - 1))) { /* non-canonical: stray low bits */
    free(d);
    return false;
  }
  *out = d;
  *out_len = len;
  return true;
}

static bool hex_decode(const char *s, size_t n, uint8_t **out, size_t *out_len) {
  if (n % 2) return false;
  uint8_t *d = malloc(n / 2 + 1);
  if (!d) return false;
  if (!wp_unhex(s, n / 2, d)) {
    free(d);
    return false;
  }
  *out = d;
  *out_len = n / 2;
  return true;
}

/* ---- keys ----------------------------------------------------------------------------- */

/* Keys verify only: RSA, EC on the JWS curves, Ed25519, Ed448. */
static wp_error *check_supported(const char *what, EVP_PKEY *pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS") ||
      EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448"))
    return NULL;
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64];
    size_t gl = 0;
    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        &gl)) {
      ERR_clear_error();
      return wp_error_new(WP_ERR_BAD_INPUT, "%s: an EC key without a named curve", what);
    }
    if (strcmp(group, "prime256v1") && strcmp(group, "secp384r1") && strcmp(group, "secp521r1"))
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s: an EC key on curve '%s'; JWS uses P-256, P-384 and P-521", what,
                          group);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (!ok)
      return wp_error_new(WP_ERR_BAD_INPUT, "%s: the EC public key is not on its curve", what);
    return NULL;
  }
  const char *type = EVP_PKEY_get0_type_name(pkey);
  return wp_error_new(WP_ERR_BAD_INPUT,
                      "%s: a %s key; supported are RSA, EC (P-256, P-384, P-521), Ed25519 and "
                      "Ed448",
                      what, type ? type : "unknown");
}

/* Whether pkey holds its private half, so that it can sign. */
static bool has_private(EVP_PKEY *pkey) {
  bool found;
  if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448")) {
    size_t len = 0;
    found = EVP_PKEY_get_raw_private_key(pkey, NULL, &len) == 1 && len > 0;
  } else {
    BIGNUM *d = NULL;
    found = EVP_PKEY_get_bn_param(
                pkey, EVP_PKEY_is_a(pkey, "EC") ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_RSA_D,
                &d) == 1;
    BN_clear_free(d);
  }
  ERR_clear_error();
  return found;
}

/* Encrypted private keys are refused rather than prompting for a passphrase. */
static int no_passphrase(char *buf, size_t size, size_t *len, const OSSL_PARAM params[],
                         void *arg) {
  (void)buf, (void)size, (void)params, (void)arg;
  *len = 0;
  return 0;
}

static EVP_PKEY *pem_certificate_key(const char *text, size_t len) {
  BIO *bio = BIO_new_mem_buf(text, (int)len);
  X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  EVP_PKEY *pkey = cert ? X509_get_pubkey(cert) : NULL;
  X509_free(cert);
  BIO_free(bio);
  return pkey;
}

wp_error *wp_crypto_key_from_pem(const char *what, const char *text, size_t len,
                                 wp_crypto_key *out) {
  if (len == 0) return wp_error_new(WP_ERR_BAD_INPUT, "%s: the PEM text is empty", what);
  if (len > WP_CRYPTO_MAX_KEY_TEXT)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the PEM text is %zu bytes, over the limit of %u",
                        what, len, WP_CRYPTO_MAX_KEY_TEXT);
  EVP_PKEY *pkey = NULL;
  OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, 0, NULL, NULL);
  if (dctx) {
    OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL);
    const unsigned char *p = (const unsigned char *)text;
    size_t left = len;
    if (!OSSL_DECODER_from_data(dctx, &p, &left)) {
      EVP_PKEY_free(pkey);
      pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
  }
  if (!pkey) pkey = pem_certificate_key(text, len);
  char reason[160];
  if (!pkey)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: not a PEM public key, private key or certificate (%s); expected "
                        "\"-----BEGIN PUBLIC KEY-----\" ...",
                        what, ossl_reason(reason, sizeof reason));
  ERR_clear_error();
  wp_error *err = check_supported(what, pkey);
  if (err) {
    EVP_PKEY_free(pkey);
    return err;
  }
  *out = (wp_crypto_key){.pkey = pkey, .has_private = has_private(pkey)};
  return NULL;
}

/* A base64url member of a JWK, decoded (malloc'd). */
static wp_error *jwk_b64(const char *what, const cJSON *jwk, const char *member, uint8_t **out,
                         size_t *len) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, member);
  if (!cJSON_IsString(v))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the JWK has no \"%s\" string", what, member);
  if (!b64_decode(v->valuestring, strlen(v->valuestring), true, out, len))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: JWK member \"%s\" is not base64url (unpadded)", what,
                        member);
  if (*len == 0) {
    free(*out);
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: JWK member \"%s\" is empty", what, member);
  }
  return NULL;
}

static bool has_member(const cJSON *jwk, const char *member) {
  return cJSON_GetObjectItemCaseSensitive(jwk, member) != NULL;
}

/* An EVP_PKEY of `type` from parameters; selection EVP_PKEY_PUBLIC_KEY or
   EVP_PKEY_KEYPAIR. Numbers pushed as secure BIGNUMs (push_bn) go to the
   parameters' secure block, which OSSL_PARAM_free wipes. */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld, int selection) {
  OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
  EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
  EVP_PKEY *pkey = NULL;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1)
    pkey = NULL;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

/* The numbers a JWK's members became, kept until the key is built
   (OSSL_PARAM_BLD_push_BN keeps a pointer), then wiped. */
typedef struct {
  BIGNUM *bn[8];
  size_t n;
} bn_list;

static void bn_list_clear(bn_list *l) {
  for (size_t i = 0; i < l->n; i++) BN_clear_free(l->bn[i]);
  l->n = 0;
}

/* JWK member `member`, an unsigned big-endian number of at most `max`
   bytes, pushed to bld as `param`. */
static wp_error *push_bn(const char *what, const cJSON *jwk, const char *member, size_t max,
                         const char *param, OSSL_PARAM_BLD *bld, bn_list *l) {
  uint8_t *b;
  size_t len;
  wp_error *err = jwk_b64(what, jwk, member, &b, &len);
  if (err) return err;
  BIGNUM *bn = len <= max ? BN_secure_new() : NULL;
  if (bn && !BN_bin2bn(b, (int)len, bn)) BN_clear_free(bn), bn = NULL;
  OPENSSL_clear_free(b, len);
  if (len > max)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: JWK member \"%s\" is %zu bytes, over %zu", what,
                        member, len, max);
  if (!bn || !OSSL_PARAM_BLD_push_BN(bld, param, bn)) {
    BN_free(bn);
    return wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
  }
  l->bn[l->n++] = bn;
  return NULL;
}

/* Whether d undoes e: 2^(e*d) = 2 mod n. libcrypto checks every CRT result
   against e and falls back to d, so d is what a signature depends on. */
static bool rsa_d_fits(const BIGNUM *n, const BIGNUM *e, const BIGNUM *d) {
  BN_CTX *ctx = BN_CTX_new();
  BIGNUM *m = BN_new(), *c = BN_new(), *back = BN_new();
  bool ok = ctx && m && c && back && BN_set_word(m, 2) && BN_mod_exp(c, m, e, n, ctx) &&
            BN_mod_exp(back, c, d, n, ctx) && BN_cmp(back, m) == 0;
  BN_free(m), BN_free(c), BN_free(back);
  BN_CTX_free(ctx);
  return ok;
}

/* RFC 7518 6.3: n, e; private keys add d, and p, q, dp, dq, qi all or none. */
static wp_error *jwk_rsa(const char *what, const cJSON *jwk, EVP_PKEY **out) {
  static const char *const crt[] = {"p", "q", "dp", "dq", "qi"};
  static const char *const crt_params[] = {
      OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
      OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  bool priv = has_member(jwk, "d");
  size_t ncrt = 0;
  for (size_t i = 0; i < 5; i++) ncrt += has_member(jwk, crt[i]);
  if (has_member(jwk, "oth"))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: multi-prime RSA JWKs (\"oth\") are not supported",
                        what);
  if (ncrt && (!priv || ncrt != 5))
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: a private RSA JWK has \"d\" and either all or none of p, q, dp, dq, "
                        "qi (RFC 7518 6.3.2)",
                        what);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  bn_list l = {0};
  wp_error *err = bld ? NULL : wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
  if (!err) err = push_bn(what, jwk, "n", 2048, OSSL_PKEY_PARAM_RSA_N, bld, &l);
  if (!err) err = push_bn(what, jwk, "e", 8, OSSL_PKEY_PARAM_RSA_E, bld, &l);
  if (!err && priv) err = push_bn(what, jwk, "d", 2048, OSSL_PKEY_PARAM_RSA_D, bld, &l);
  for (size_t i = 0; !err && i < ncrt; i++)
    err = push_bn(what, jwk, crt[i], 2048, crt_params[i], bld, &l);
  EVP_PKEY *pkey = err ? NULL
                       : from_params("RSA", bld, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  char reason[160];
  if (!err && !pkey)
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s: the RSA JWK is not a valid key (%s)", what,
                       ossl_reason(reason, sizeof reason));
  if (!err && priv && !rsa_d_fits(l.bn[0], l.bn[1], l.bn[2]))
    err = wp_error_new(WP_ERR_BAD_INPUT,
                       "%s: the RSA JWK's \"d\" does not match its \"n\" and \"e\"", what);
  ERR_clear_error();
  OSSL_PARAM_BLD_free(bld);
  bn_list_clear(&l);
  if (err) {
    EVP_PKEY_free(pkey);
    return err;
  }
  *out = pkey;
  return NULL;
}

/* Whether a key built from a JWK's private and public members is one pair. */
static bool pair_matches(EVP_PKEY *pkey) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
  bool ok = ctx && EVP_PKEY_pairwise_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

static wp_error *jwk_ec(const char *what, const cJSON *jwk, const char *crv, EVP_PKEY **out) {
  static const struct {
    const char *crv, *group;
    size_t size;
  } curves[] = {
      {"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};
  size_t c = 0;
  while (c < 3 && strcmp(crv, curves[c].crv)) c++;
  if (c == 3)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: EC JWK curve \"%.32s\" is not supported (P-256, P-384, P-521)", what,
                        crv);
  uint8_t *x = NULL, *y = NULL;
  size_t xl, yl;
  wp_error *err = jwk_b64(what, jwk, "x", &x, &xl);
  if (!err) err = jwk_b64(what, jwk, "y", &y, &yl);
  if (!err && (xl != curves[c].size || yl != curves[c].size))
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s: %s coordinates \"x\" and \"y\" must be %zu bytes",
                       what, crv, curves[c].size);
  uint8_t *point = err ? NULL : malloc(1 + 2 * curves[c].size);
  if (!err && !point) err = wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
  if (err) {
    free(x), free(y);
    return err;
  }
  point[0] = 4; /* uncompressed */
  memcpy(point + 1, x, xl);
  memcpy(point + 1 + xl, y, yl);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  EVP_PKEY *pkey = NULL;
  bn_list d = {0};
  bool priv = has_member(jwk, "d");
  if (!bld) err = wp_error_new(WP_ERR_NO_MEMORY, "%s: out of memory", what);
  else if (priv) err = push_bn(what, jwk, "d", curves[c].size, OSSL_PKEY_PARAM_PRIV_KEY, bld, &d);
  if (!err &&
      OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curves[c].group, 0) &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + xl + yl))
    pkey = from_params("EC", bld, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY);
  OSSL_PARAM_BLD_free(bld);
  bn_list_clear(&d);
  free(point), free(x), free(y);
  char reason[160];
  if (!err && !pkey)
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s: the EC JWK is not a point on %s (%s)", what, crv,
                       ossl_reason(reason, sizeof reason));
  if (!err && priv && !pair_matches(pkey))
    err = wp_error_new(WP_ERR_BAD_INPUT,
                       "%s: the EC JWK's \"d\" does not match its \"x\" and \"y\"", what);
  if (err) {
    EVP_PKEY_free(pkey);
    return err;
  }
  *out = pkey;
  return NULL;
}

/* An OKP key from its private "d"; the public key it derives must be "x". */
static wp_error *okp_private(const char *what, const cJSON *jwk, const char *crv, const char *type,
                             const uint8_t *x, size_t size, EVP_PKEY **out) {
  uint8_t *d, pub[57];
  size_t dl, pl = sizeof pub;
  wp_error *err = jwk_b64(what, jwk, "d", &d, &dl);
  if (err) return err;
  EVP_PKEY *pkey = dl == size ? EVP_PKEY_new_raw_private_key_ex(NULL, type, NULL, d, dl) : NULL;
  OPENSSL_clear_free(d, dl);
  if (!pkey)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: an %s private key \"d\" must be %zu bytes, got %zu",
                        what, crv, size, dl);
  if (EVP_PKEY_get_raw_public_key(pkey, pub, &pl) != 1 || pl != size || memcmp(pub, x, size)) {
    EVP_PKEY_free(pkey);
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the %s JWK's \"d\" does not match its \"x\"", what,
                        crv);
  }
  *out = pkey;
  return NULL;
}

static wp_error *jwk_okp(const char *what, const cJSON *jwk, const char *crv, EVP_PKEY **out) {
  const char *type = strcmp(crv, "Ed25519") == 0 ? "ED25519"
                     : strcmp(crv, "Ed448") == 0 ? "ED448"
                                                 : NULL;
  if (!type)
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: OKP JWK curve \"%.32s\" is not supported (Ed25519, Ed448)", what, crv);
  uint8_t *x = NULL;
  size_t xl;
  wp_error *err = jwk_b64(what, jwk, "x", &x, &xl);
  if (err) return err;
  size_t want = type[2] == '2' ? 32 : 57;
  EVP_PKEY *pkey = NULL;
  if (xl != want)
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s: an %s public key \"x\" must be %zu bytes, got %zu",
                       what, crv, want, xl);
  else if (has_member(jwk, "d")) err = okp_private(what, jwk, crv, type, x, want, &pkey);
  else if (!(pkey = EVP_PKEY_new_raw_public_key_ex(NULL, type, NULL, x, xl)))
    err = wp_error_new(WP_ERR_HOST, "%s: building the %s key failed", what, crv);
  free(x);
  ERR_clear_error();
  if (!err) *out = pkey;
  return err;
}

static wp_error *jwk_parsed(const char *what, const cJSON *jwk, wp_crypto_key *out) {
  if (!cJSON_IsObject(jwk))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: a JWK is a JSON object", what);
  const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
  if (!cJSON_IsString(kty))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the JWK has no \"kty\" string", what);
  const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
  const char *curve = cJSON_IsString(crv) ? crv->valuestring : "";
  EVP_PKEY *pkey = NULL;
  wp_error *err;
  if (strcmp(kty->valuestring, "RSA") == 0) {
    err = jwk_rsa(what, jwk, &pkey);
  } else if (strcmp(kty->valuestring, "EC") == 0) {
    err = jwk_ec(what, jwk, curve, &pkey);
  } else if (strcmp(kty->valuestring, "OKP") == 0) {
    err = jwk_okp(what, jwk, curve, &pkey);
  } else if (strcmp(kty->valuestring, "oct") == 0) {
    uint8_t *k;
    size_t kl;
    err = jwk_b64(what, jwk, "k", &k, &kl);
    if (!err && kl > WP_CRYPTO_MAX_KEY_TEXT) {
      OPENSSL_clear_free(k, kl);
      err = wp_error_new(WP_ERR_BAD_INPUT, "%s: the secret is over %u bytes", what,
                         WP_CRYPTO_MAX_KEY_TEXT);
    }
    if (!err) *out = (wp_crypto_key){.secret = k, .secret_len = kl};
    return err;
  } else {
    return wp_error_new(WP_ERR_BAD_INPUT,
                        "%s: JWK \"kty\" \"%.32s\" is not supported (RSA, EC, OKP, oct)", what,
                        kty->valuestring);
  }
  if (!err) err = check_supported(what, pkey);
  if (err) {
    EVP_PKEY_free(pkey);
    return err;
  }
  *out = (wp_crypto_key){.pkey = pkey, .has_private = has_private(pkey)};
  return NULL;
}

wp_error *wp_crypto_key_from_jwk(const char *what, const char *text, size_t len,
                                 wp_crypto_key *out) {
  if (len > WP_CRYPTO_MAX_KEY_TEXT)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the JWK is %zu bytes, over the limit of %u", what,
                        len, WP_CRYPTO_MAX_KEY_TEXT);
  cJSON *jwk = cJSON_ParseWithLength(text, len);
  if (!jwk) return wp_error_new(WP_ERR_BAD_INPUT, "%s: the JWK is not valid JSON", what);
  wp_error *err = jwk_parsed(what, jwk, out);
  cJSON_Delete(jwk);
  return err;
}

wp_error *wp_crypto_key_from_secret(const char *what, const char *text, bool base64,
                                    wp_crypto_key *out) {
  size_t n = strlen(text);
  uint8_t *d = NULL;
  size_t len = 0;
  if (n > 2 * (size_t)WP_CRYPTO_MAX_KEY_TEXT)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the secret is over %u bytes", what,
                        WP_CRYPTO_MAX_KEY_TEXT);
  if (!(base64 ? b64_decode(text, n, false, &d, &len) : hex_decode(text, n, &d, &len)))
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: not %s", what,
                        base64 ? "base64 (A-Z a-z 0-9 + /, '=' padding)"
                               : "hex (an even number of 0-9 a-f digits)");
  if (len == 0) {
    free(d);
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the secret is empty", what);
  }
  *out = (wp_crypto_key){.secret = d, .secret_len = len};
  return NULL;
}

/* ---- operations ----------------------------------------------------------------------- */

wp_error *wp_crypto_hash(wp_crypto_hash_alg alg, const uint8_t *data, size_t len, uint8_t *out,
                         size_t *out_len) {
  unsigned int n = 0;
  EVP_MD *md = EVP_MD_fetch(NULL, hash_md[alg], NULL);
  int ok = md && EVP_Digest(data, len, out, &n, md, NULL) == 1;
  EVP_MD_free(md);
  char reason[160];
  if (!ok)
    return wp_error_new(WP_ERR_HOST, "crypto: %s failed (%s)", hash_names[alg],
                        ossl_reason(reason, sizeof reason));
  *out_len = n;
  return NULL;
}

wp_error *wp_crypto_hmac(wp_crypto_hash_alg alg, const uint8_t *key, size_t key_len,
                         const uint8_t *data, size_t len, uint8_t *out, size_t *out_len) {
  if (key_len == 0) return wp_error_new(WP_ERR_BAD_INPUT, "the HMAC key is empty");
  size_t n = 0;
  if (!EVP_Q_mac(NULL, "HMAC", NULL, hash_md[alg], NULL, key, key_len, data, len, out,
                 WP_CRYPTO_MAX_DIGEST, &n)) {
    char reason[160];
    return wp_error_new(WP_ERR_HOST, "crypto: HMAC-%s failed (%s)", hash_names[alg],
                        ossl_reason(reason, sizeof reason));
  }
  *out_len = n;
  return NULL;
}

wp_error *wp_crypto_random(uint8_t *out, size_t len) {
  if (len && RAND_bytes(out, (int)len) != 1) {
    char reason[160];
    return wp_error_new(WP_ERR_HOST, "crypto: the random generator failed (%s)",
                        ossl_reason(reason, sizeof reason));
  }
  return NULL;
}

bool wp_crypto_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len) {
  return a_len == b_len && (a_len == 0 || CRYPTO_memcmp(a, b, a_len) == 0);
}

/* Whether `key` fits `alg`; NULL if so. */
static wp_error *key_fits(wp_crypto_sig_alg alg, const char *what, EVP_PKEY *key) {
  const char *name = sig_names[alg];
  if (alg <= WP_CRYPTO_PS512) {
    bool pss = alg >= WP_CRYPTO_PS256;
    if (!EVP_PKEY_is_a(key, "RSA") && !(pss && EVP_PKEY_is_a(key, "RSA-PSS")))
      return wp_error_new(WP_ERR_BAD_INPUT, "%s is not an RSA key, which %s needs", what, name);
    int bits = EVP_PKEY_get_bits(key);
    if (bits < WP_CRYPTO_RSA_MIN_BITS || bits > WP_CRYPTO_RSA_MAX_BITS)
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s is a %d-bit RSA key; %s needs %d to %d bits (RFC 7518)", what, bits,
                          name, WP_CRYPTO_RSA_MIN_BITS, WP_CRYPTO_RSA_MAX_BITS);
    return NULL;
  }
  if (alg == WP_CRYPTO_EDDSA) {
    if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return NULL;
    return wp_error_new(WP_ERR_BAD_INPUT, "%s is not an Ed25519 or Ed448 key, which eddsa needs",
                        what);
  }
  size_t i = (size_t)(alg - WP_CRYPTO_ES256);
  char group[64];
  size_t gl = 0;
  if (!EVP_PKEY_is_a(key, "EC") ||
      !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) ||
      strcmp(group, ec_groups[i])) {
    ERR_clear_error();
    return wp_error_new(WP_ERR_BAD_INPUT, "%s is not an EC key on %s, which %s needs", what,
                        ec_crvs[i], name);
  }
  return NULL;
}

/* A JWS ECDSA signature (r || s, each `half` bytes) as DER (OPENSSL_free it). */
static int ecdsa_der(const uint8_t *sig, size_t half, unsigned char **der) {
  ECDSA_SIG *s = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *sv = BN_bin2bn(sig + half, (int)half, NULL);
  int len = -1;
  if (s && r && sv && ECDSA_SIG_set0(s, r, sv)) {
    r = sv = NULL; /* owned by s now */
    *der = NULL;
    len = i2d_ECDSA_SIG(s, der);
  }
  BN_free(r), BN_free(sv);
  ECDSA_SIG_free(s);
  return len;
}

/* Readies ctx to sign or verify with alg: the hash, and RSA's padding
   (PS*: the salt as long as the hash, MGF1 with the same hash). */
static bool init_sig(EVP_MD_CTX *ctx, wp_crypto_sig_alg alg, EVP_PKEY *key, bool sign) {
  static const char *const mds[] = {"SHA256", "SHA384", "SHA512"};
  const char *md = alg == WP_CRYPTO_EDDSA ? NULL : mds[alg % 3];
  EVP_PKEY_CTX *pctx = NULL;
  bool ok = (sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL)
                  : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL)) == 1;
  if (ok && alg >= WP_CRYPTO_PS256 && alg <= WP_CRYPTO_PS512)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) == 1;
  else if (ok && alg <= WP_CRYPTO_RS512)
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
  return ok;
}

static bool is_ecdsa(wp_crypto_sig_alg alg) {
  return alg >= WP_CRYPTO_ES256 && alg <= WP_CRYPTO_ES512;
}

/* The byte length of r and s on key's curve (66 for P-521). */
static size_t ecdsa_half(EVP_PKEY *key) { return ((size_t)EVP_PKEY_get_bits(key) + 7) / 8; }

wp_error *wp_crypto_verify(wp_crypto_sig_alg alg, const char *key_what, EVP_PKEY *key,
                           const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
                           bool *valid) {
  wp_error *err = key_fits(alg, key_what, key);
  if (err) return err;
  *valid = false;
  unsigned char *der = NULL;
  if (is_ecdsa(alg)) {
    size_t half = ecdsa_half(key);
    if (sig_len != 2 * half) return NULL; /* not r || s of this curve: not a valid signature */
    int n = ecdsa_der(sig, half, &der);
    if (n <= 0) {
      ERR_clear_error();
      return wp_error_new(WP_ERR_HOST, "crypto: converting the %s signature failed",
                          sig_names[alg]);
    }
    sig = der;
    sig_len = (size_t)n;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  bool ready = ctx && init_sig(ctx, alg, key, false);
  if (ready) *valid = EVP_DigestVerify(ctx, sig, sig_len, msg, msg_len) == 1;
  char reason[160];
  if (!ready)
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s cannot verify %s (%s)", key_what, sig_names[alg],
                       ossl_reason(reason, sizeof reason));
  ERR_clear_error();
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  return err;
}

/* Rewrites the DER ECDSA signature in sig as r || s, each `half` bytes, as
   JWS has it. */
static bool ecdsa_raw(uint8_t *sig, size_t *len, size_t half) {
  const unsigned char *p = sig;
  ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)*len);
  bool ok = s && BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, (int)half) == (int)half &&
            BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + half, (int)half) == (int)half;
  ECDSA_SIG_free(s);
  if (ok) *len = 2 * half;
  return ok;
}

wp_error *wp_crypto_sign(wp_crypto_sig_alg alg, const char *key_what, EVP_PKEY *key,
                         const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len) {
  wp_error *err = key_fits(alg, key_what, key);
  if (err) return err;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = 0;
  bool ready = ctx && init_sig(ctx, alg, key, true);
  /* A NULL buffer asks for the largest signature: it must fit sig. */
  bool ok = ready && EVP_DigestSign(ctx, NULL, &n, msg, msg_len) == 1 &&
            n <= WP_CRYPTO_MAX_SIGNATURE && EVP_DigestSign(ctx, sig, &n, msg, msg_len) == 1 &&
            (!is_ecdsa(alg) || ecdsa_raw(sig, &n, ecdsa_half(key)));
  char reason[160];
  if (!ready)
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s cannot sign %s (%s)", key_what, sig_names[alg],
                       ossl_reason(reason, sizeof reason));
  else if (!ok)
    err = wp_error_new(WP_ERR_HOST, "crypto: %s signing with %s failed (%s)", sig_names[alg],
                       key_what, ossl_reason(reason, sizeof reason));
  ERR_clear_error();
  EVP_MD_CTX_free(ctx);
  if (!err) *sig_len = n;
  return err;
}

/* ---- public JWKs ---------------------------------------------------------------------- */

/* Base64url without padding (RFC 7515 2), malloc'd. */
static char *b64url_encode(const uint8_t *d, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char *out = malloc(n / 3 * 4 + 4), *o = out;
  if (!out) return NULL;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
                 (i + 2 < n ? d[i + 2] : 0);
    size_t chars = n - i >= 3 ? 4 : n - i + 1;
    for (size_t k = 0; k < chars; k++) *o++ = abc[(v >> (18 - 6 * k)) & 63];
  }
  *o = '\0';
  return out;
}

static bool add_b64(cJSON *o, const char *member, const uint8_t *d, size_t n) {
  char *s = b64url_encode(d, n);
  bool ok = s && cJSON_AddStringToObject(o, member, s);
  free(s);
  return ok;
}

/* A number member, unsigned big-endian in `pad` bytes (0: as few as it takes). */
static bool add_bn(cJSON *o, const char *member, EVP_PKEY *key, const char *param, size_t pad) {
  BIGNUM *bn = NULL;
  if (EVP_PKEY_get_bn_param(key, param, &bn) != 1) return false;
  int n = pad ? (int)pad : BN_num_bytes(bn);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  bool ok = buf && BN_bn2binpad(bn, buf, n) == n && add_b64(o, member, buf, (size_t)n);
  free(buf);
  BN_free(bn);
  return ok;
}

static bool add_ec(cJSON *o, EVP_PKEY *key) {
  char group[64];
  size_t gl = 0, c = 0;
  if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl))
    return false;
  while (c < 3 && strcmp(group, ec_groups[c])) c++;
  size_t half = ecdsa_half(key);
  return c < 3 && cJSON_AddStringToObject(o, "kty", "EC") &&
         cJSON_AddStringToObject(o, "crv", ec_crvs[c]) &&
         add_bn(o, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, half) &&
         add_bn(o, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, half);
}

static bool add_okp(cJSON *o, EVP_PKEY *key) {
  uint8_t x[57];
  size_t xl = sizeof x;
  return EVP_PKEY_get_raw_public_key(key, x, &xl) == 1 &&
         cJSON_AddStringToObject(o, "kty", "OKP") &&
         cJSON_AddStringToObject(o, "crv", EVP_PKEY_is_a(key, "ED25519") ? "Ed25519" : "Ed448") &&
         add_b64(o, "x", x, xl);
}

wp_error *wp_crypto_public_jwk(const char *key_what, EVP_PKEY *key, char **out) {
  cJSON *o = cJSON_CreateObject();
  bool ok = o != NULL;
  if (ok && (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")))
    ok = cJSON_AddStringToObject(o, "kty", "RSA") &&
         add_bn(o, "n", key, OSSL_PKEY_PARAM_RSA_N, 0) &&
         add_bn(o, "e", key, OSSL_PKEY_PARAM_RSA_E, 0);
  else if (ok && EVP_PKEY_is_a(key, "EC")) ok = add_ec(o, key);
  else if (ok) ok = add_okp(o, key);
  char *printed = ok ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  ERR_clear_error();
  /* A copy, so that the caller frees it with free() whatever cJSON's hooks. */
  *out = printed ? strdup(printed) : NULL;
  cJSON_free(printed);
  if (!*out) return wp_error_new(WP_ERR_HOST, "crypto: writing the JWK of %s failed", key_what);
  return NULL;
}
