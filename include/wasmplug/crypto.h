/*
 * wasmplug/crypto.h - the built-in "crypto" capability: SHA-2 hashes, HMAC,
 * secure random bytes, JWS signatures (verify and sign) and constant-time
 * comparison, computed by the host with OpenSSL 3's libcrypto
 * (docs/capabilities.md, "crypto"). WASI has no cryptography; this gives
 * plugins what a JWT or webhook needs without shipping a crypto library in
 * every plugin, and without handing them keys.
 *
 * Part of the public API of libwasmplug. Include <wasmplug.h> for all of it
 * (it describes the objects and the conventions), or this header alone. It
 * declares no functions: wp_engine_new installs the capability; this header
 * says what plugins see of it and holds its limits.
 *
 * The manifest section. Denied by default: a plugin may call the crypto
 * functions only when its manifest has the section.
 *
 *   "capabilities": {"crypto": {"keys": {
 *     "hook":    {"secret_hex": "4a656665"},
 *     "session": {"secret_base64": "CwsLCwsLCwsLCwsLCwsLCwsLCws="},
 *     "idp":     {"jwk": {"kty": "RSA", "n": "ofgWCuLj...", "e": "AQAB"}},
 *     "issuer":  {"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qY...", "d": "nWGx..."}},
 *     "app":     {"pem": "-----BEGIN PRIVATE KEY-----\n..."},
 *     "partner": {"pem_file": "/etc/wasmplug/keys/partner.pem"}}}}
 *
 *   - "crypto": {} grants the keyless functions (hashes, HMAC and verify with
 *     keys the plugin passes, random bytes, comparison).
 *   - "keys" names keys that stay in the host; a plugin uses them by name and
 *     no function returns a secret or a private key. Each has one source:
 *     pem (a public key, a private key or an X.509 certificate), pem_file (an
 *     absolute path), jwk (kty RSA, EC on P-256/P-384/P-521, OKP Ed25519 or
 *     Ed448, public or with its private members: "d", and for RSA optionally
 *     p, q, dp, dq, qi; or oct for a secret), secret_hex, secret_base64.
 *     A private JWK whose private and public members do not match is refused.
 *   - Only a granted private key signs; public-jwk (core: crypto_public_jwk)
 *     gives the public half of a granted key as a JWK.
 *   - The section is checked when the plugin loads; a mistake fails the load
 *     with WP_ERR_BAD_INPUT (WP_ERR_IO for an unreadable pem_file) naming the
 *     field, e.g. capabilities.crypto.keys.idp.jwk.
 *
 * Components import wasmplug:crypto/crypto@0.1.0 (pdk/wit/crypto.wit):
 *
 *   hash: func(alg: hash-alg, data: list<u8>) -> list<u8>;
 *   hmac: func(alg: hash-alg, key: secret, data: list<u8>) -> result<list<u8>, string>;
 *   random-bytes: func(len: u32) -> list<u8>;
 *   verify: func(alg: sig-alg, key: public-key, message: list<u8>, signature: list<u8>)
 *     -> result<bool, string>;
 *   sign: func(alg: sig-alg, key: string, message: list<u8>) -> result<list<u8>, string>;
 *   public-jwk: func(key: string) -> result<string, string>;
 *   constant-time-equal: func(a: list<u8>, b: list<u8>) -> bool;
 *
 * Core modules import bytes functions (docs/abi.md) from the module
 * "wasmplug". Input = fields, each a u32 little-endian length then its
 * bytes; output = a status byte, then for 0 (OK) the result fields, for 2
 * (ERROR) a UTF-8 message, unframed. Names are the WIT case names ("sha256",
 * "rs256" ... "es512", "eddsa"; "raw", "named", "pem", "jwk").
 *
 *   crypto_hash        alg, data                               OK: digest
 *   crypto_hmac        alg, "raw"|"named", key|name, data      OK: mac, or ERROR
 *   crypto_random      length (u64 LE, 8 bytes)                OK: the bytes
 *   crypto_verify      alg, "pem"|"jwk"|"named", key, message, signature
 *                                                              OK: 1 byte (1 valid), or ERROR
 *   crypto_sign        alg, key name, message                  OK: signature, or ERROR
 *   crypto_public_jwk  key name                                OK: JWK text, or ERROR
 *   crypto_equal       a, b                                    OK: 1 byte (1 equal)
 *
 * Signatures are JWS signatures (RFC 7518 3.1, RFC 8037) of the JWS signing
 * input: RS* RSASSA-PKCS1-v1_5, PS* RSASSA-PSS (MGF1 with the same hash, a
 * salt as long as the hash), ES* r || s (64, 96 or 132 bytes), EdDSA
 * Ed25519 or Ed448. The C PDK's pdk/c/wasmplug_crypto.h and the Go PDK's
 * pdk/go/crypto.go wrap the core functions.
 *
 * Outcomes: without the grant, over a limit below, or with a malformed core
 * input, the plugin's call fails (WP_ERR_HOST; WP_ERR_ABI for the input). A
 * key that does not parse, does not fit the algorithm, is not granted, or is
 * of the wrong sort (a secret to verify or sign with, a public key to sign
 * with) is the plugin's to handle: a component's err, a core ERROR. A wrong
 * signature is not an error: verify answers false.
 */
#ifndef WASMPLUG_CRYPTO_H
#define WASMPLUG_CRYPTO_H

#include "wasmplug/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Only macros here: the pragmas are for tests/headers, which wants them in every header. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

/** The most bytes to hash or MAC, or message bytes to verify or sign, in one call. */
#define WP_CRYPTO_MAX_DATA (4u << 20)
/** The most bytes one random call returns. */
#define WP_CRYPTO_MAX_RANDOM 65536u
/** The longest PEM or JWK text, and the longest secret. */
#define WP_CRYPTO_MAX_KEY_TEXT 65536u
/** The longest signature: RSA-16384. A longer one never verifies. */
#define WP_CRYPTO_MAX_SIGNATURE 2048u
/** The longest digest or MAC (SHA-512). */
#define WP_CRYPTO_MAX_DIGEST 64u
/** RSA key sizes, in bits, that sign and verify (RFC 7518 3.3 sets the floor). */
#define WP_CRYPTO_RSA_MIN_BITS 2048
#define WP_CRYPTO_RSA_MAX_BITS 16384
/** The most named keys in one manifest, and the longest name (A-Z a-z 0-9 _ - . :). */
#define WP_CRYPTO_MAX_KEYS 256
#define WP_CRYPTO_MAX_KEY_NAME 128

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* WASMPLUG_CRYPTO_H */
