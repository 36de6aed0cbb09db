/*
 * provider.h - the other side of a Pact JWT interaction, for the example and
 * its tests: Ed25519 keys and tokens made directly with OpenSSL, as the
 * provider under verification would make them (no plugin involved).
 */
#ifndef PACT_PROVIDER_H
#define PACT_PROVIDER_H

#include <openssl/evp.h>

/** A new Ed25519 key pair, or NULL. Free with EVP_PKEY_free. */
EVP_PKEY *provider_new_key(void);

/**
 * The manifest's "crypto" section granting `key` (its private half, as PEM)
 * under the name `name` ([A-Za-z0-9_.:-]): malloc'd JSON text, or NULL.
 */
char *provider_crypto_grant(EVP_PKEY *key, const char *name);

/** The header of the provider's tokens. */
#define PROVIDER_HEADER "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}"

/**
 * A compact JWS of `header_json` and `claims_json` signed by `key` with
 * Ed25519 (whatever the header says), or with an empty signature when `key`
 * is NULL: malloc'd, or NULL.
 */
char *provider_token(EVP_PKEY *key, const char *header_json, const char *claims_json);

#endif
