/*
 * crypto.h - the crypto capability (docs/capabilities.md, and its public
 * summary and limits in wasmplug/crypto.h): SHA-2 hashes, HMAC, secure
 * random bytes, JWS signature verification (RS*, PS*, ES*, EdDSA) with keys
 * in PEM or JWK, signing with granted private keys, the public JWK of a
 * granted key, and constant-time comparison, offered to components as
 * wasmplug:crypto/crypto (pdk/wit/crypto.wit) and to core modules as
 * wasmplug.crypto_* bytes functions (host/common/frame.h).
 * Denied unless the manifest has a "crypto" section; the section's named
 * keys stay in the host and plugins use them by name.
 */
#ifndef WP_HOST_CRYPTO_CRYPTO_H
#define WP_HOST_CRYPTO_CRYPTO_H

#include "wasmplug.h"

/* Registers the capability "crypto" and its functions on `e`. */
wp_error *wp_host_crypto_install(wp_engine *e);

#endif
