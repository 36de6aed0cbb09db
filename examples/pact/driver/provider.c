/*
 * provider.c - Ed25519 JWTs made with OpenSSL (provider.h).
 */
#include "provider.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

EVP_PKEY *provider_new_key(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"); }

/* The private key as PEM (PKCS#8), malloc'd, or NULL. */
static char *key_pem(EVP_PKEY *key) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *pem = NULL, *data;
  if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0 && (pem = malloc((size_t)n + 1))) {
      memcpy(pem, data, (size_t)n);
      pem[n] = '\0';
    }
  }
  BIO_free(bio);
  return pem;
}

char *provider_crypto_grant(EVP_PKEY *key, const char *name) {
  char *pem = key_pem(key);
  /* PEM is base64 lines: only its newlines need escaping in JSON. */
  char *section = pem ? malloc(strlen(pem) * 2 + strlen(name) + 64) : NULL, *p = section;
  if (section) {
    p += sprintf(p, "{\"keys\": {\"%s\": {\"pem\": \"", name);
    for (const char *c = pem; *c; c++) p += *c == '\n' ? sprintf(p, "\\n") : sprintf(p, "%c", *c);
    sprintf(p, "\"}}}");
  }
  free(pem);
  return section;
}

/* base64url without padding (RFC 7515 2) of `len` bytes, appended at `out`. */
static char *b64url(char *out, const unsigned char *in, size_t len) {
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  for (int i = 0; i < n; i++)
    if (out[i] == '+') out[i] = '-';
    else if (out[i] == '/') out[i] = '_';
  while (n > 0 && out[n - 1] == '=') n--;
  out[n] = '\0';
  return out + n;
}

char *provider_token(EVP_PKEY *key, const char *header_json, const char *claims_json) {
  size_t hlen = strlen(header_json), clen = strlen(claims_json);
  char *tok = malloc((hlen + clen + 64) * 4 / 3 + 16);
  if (!tok) return NULL;
  char *p = b64url(tok, (const unsigned char *)header_json, hlen);
  *p++ = '.';
  p = b64url(p, (const unsigned char *)claims_json, clen);
  unsigned char sig[64];
  size_t sig_len = 0;
  if (!key) {
    *p++ = '.';
    *p = '\0';
    return tok;
  }
  sig_len = sizeof sig;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  /* Ed25519 signs the message itself: no digest. */
  bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
            EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)tok, (size_t)(p - tok)) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    free(tok);
    return NULL;
  }
  *p++ = '.';
  b64url(p, sig, sig_len);
  return tok;
}
