/* ops.c - hashes, HMAC, random bytes, JWS verification and keys (ops.h), on libcrypto. */
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
  *out = (wp_crypto_key){.pkey = pkey};
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

/* An EVP_PKEY of `type` from parameters (public key selection). */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld) {
  OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
  EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
  EVP_PKEY *pkey = NULL;
  if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

static wp_error *jwk_rsa(const char *what, const cJSON *jwk, EVP_PKEY **out) {
  uint8_t *n = NULL, *e = NULL;
  size_t nl, el;
  wp_error *err = jwk_b64(what, jwk, "n", &n, &nl);
  if (!err) err = jwk_b64(what, jwk, "e", &e, &el);
  if (!err && (nl > 2048 || el > 8))
    err = wp_error_new(WP_ERR_BAD_INPUT, "%s: the RSA JWK's \"n\" or \"e\" is too long", what);
  if (err) {
    free(n), free(e);
    return err;
  }
  BIGNUM *bn = BN_bin2bn(n, (int)nl, NULL), *be = BN_bin2bn(e, (int)el, NULL);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  EVP_PKEY *pkey = NULL;
  if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
    pkey = from_params("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn), BN_free(be);
  free(n), free(e);
  char reason[160];
  if (!pkey)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the RSA JWK is not a valid key (%s)", what,
                        ossl_reason(reason, sizeof reason));
  *out = pkey;
  return NULL;
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
  if (!err && !point) err = wp_error_new(WP_ERR_HOST, "%s: out of memory", what);
  if (err) {
    free(x), free(y);
    return err;
  }
  point[0] = 4; /* uncompressed */
  memcpy(point + 1, x, xl);
  memcpy(point + 1 + xl, y, yl);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  EVP_PKEY *pkey = NULL;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curves[c].group, 0) &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + xl + yl))
    pkey = from_params("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  free(point), free(x), free(y);
  char reason[160];
  if (!pkey)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: the EC JWK is not a point on %s (%s)", what, crv,
                        ossl_reason(reason, sizeof reason));
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
  EVP_PKEY *pkey = xl == want ? EVP_PKEY_new_raw_public_key_ex(NULL, type, NULL, x, xl) : NULL;
  free(x);
  ERR_clear_error();
  if (!pkey)
    return wp_error_new(WP_ERR_BAD_INPUT, "%s: an %s public key \"x\" must be %zu bytes, got %zu",
                        what, crv, want, xl);
  *out = pkey;
  return NULL;
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
  *out = (wp_crypto_key){.pkey = pkey};
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
    if (bits < 2048 || bits > 16384)
      return wp_error_new(WP_ERR_BAD_INPUT,
                          "%s is a %d-bit RSA key; %s needs 2048 to 16384 bits (RFC 7518)", what,
                          bits, name);
    return NULL;
  }
  if (alg == WP_CRYPTO_EDDSA) {
    if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return NULL;
    return wp_error_new(WP_ERR_BAD_INPUT, "%s is not an Ed25519 or Ed448 key, which eddsa needs",
                        what);
  }
  static const char *const groups[] = {"prime256v1", "secp384r1", "secp521r1"};
  static const char *const crvs[] = {"P-256", "P-384", "P-521"};
  size_t i = (size_t)(alg - WP_CRYPTO_ES256);
  char group[64];
  size_t gl = 0;
  if (!EVP_PKEY_is_a(key, "EC") ||
      !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) ||
      strcmp(group, groups[i])) {
    ERR_clear_error();
    return wp_error_new(WP_ERR_BAD_INPUT, "%s is not an EC key on %s, which %s needs", what,
                        crvs[i], name);
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

wp_error *wp_crypto_verify(wp_crypto_sig_alg alg, const char *key_what, EVP_PKEY *key,
                           const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len,
                           bool *valid) {
  wp_error *err = key_fits(alg, key_what, key);
  if (err) return err;
  *valid = false;
  static const char *const mds[] = {"SHA256", "SHA384", "SHA512"};
  const char *md = alg == WP_CRYPTO_EDDSA ? NULL : mds[alg % 3];
  unsigned char *der = NULL;
  if (alg >= WP_CRYPTO_ES256 && alg <= WP_CRYPTO_ES512) {
    size_t half = ((size_t)EVP_PKEY_get_bits(key) + 7) / 8;
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
  EVP_PKEY_CTX *pctx = NULL;
  bool ready = ctx && EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL) == 1;
  if (ready && alg >= WP_CRYPTO_PS256 && alg <= WP_CRYPTO_PS512)
    ready = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
            EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) == 1;
  else if (ready && alg <= WP_CRYPTO_RS512)
    ready = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
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
