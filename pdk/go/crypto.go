package pdk

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The crypto capability (docs/capabilities.md): SHA-2 hashes, HMAC, random
// bytes, JWS signatures (verify, and sign with a granted private key) and
// constant-time comparison, done by the host with OpenSSL. The plugin's manifest must grant it
// ("capabilities": {"crypto": {}}); without the grant, or with an input over
// the host's limits (4 MiB of data, 65536 random bytes), the plugin's whole
// call fails and these functions do not return. Key problems (a PEM or JWK
// that does not parse or fit the algorithm, a name the manifest does not
// grant) come back as errors; a wrong signature is not an error but false.

// HashAlg names a hash for [CryptoHash] and [CryptoHMAC].
type HashAlg string

// The hashes, as pdk/wit/crypto.wit names them.
const (
	SHA256 HashAlg = "sha256"
	SHA384 HashAlg = "sha384"
	SHA512 HashAlg = "sha512"
)

// SigAlg names a JWS signature algorithm for [CryptoVerify] and [CryptoSign].
type SigAlg string

// The JWS algorithms. ECDSA signatures are r || s, as JWS encodes them.
const (
	RS256 SigAlg = "rs256"
	RS384 SigAlg = "rs384"
	RS512 SigAlg = "rs512"
	PS256 SigAlg = "ps256"
	PS384 SigAlg = "ps384"
	PS512 SigAlg = "ps512"
	ES256 SigAlg = "es256"
	ES384 SigAlg = "es384"
	ES512 SigAlg = "es512"
	EdDSA SigAlg = "eddsa"
)

// KeyKind says how [CryptoVerify]'s key is given.
type KeyKind string

const (
	KeyPEM   KeyKind = "pem"   // PEM text: a public key, a private key or a certificate
	KeyJWK   KeyKind = "jwk"   // a JWK as JSON text (kty RSA, EC or OKP)
	KeyNamed KeyKind = "named" // the name of a key the manifest grants (capabilities.crypto.keys)
)

// cryptoFrame encodes the fields of a crypto call's input: each a u32
// little-endian length, then its bytes.
func cryptoFrame(fields ...[]byte) []byte {
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range fields {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// cryptoResult decodes a crypto call's output: the first field of an OK
// (status 0), or the host's message of an ERROR (status 2) as an error.
// Anything else is the host's bug, reported as a panic (which [Handle]
// turns into the call's error).
func cryptoResult(out []byte) ([]byte, error) {
	if len(out) >= 1 && out[0] == 2 {
		return nil, errors.New(string(out[1:]))
	}
	if len(out) < 5 || out[0] != 0 {
		panic(fmt.Sprintf("wasmplug crypto: malformed host output (%d bytes)", len(out)))
	}
	n := binary.LittleEndian.Uint32(out[1:5])
	if uint64(n) > uint64(len(out)-5) {
		panic("wasmplug crypto: host output field runs past the end")
	}
	return out[5 : 5+n], nil
}

func cryptoMust(out []byte) []byte {
	field, err := cryptoResult(out)
	if err != nil {
		panic("wasmplug crypto: " + err.Error())
	}
	return field
}

// CryptoHash returns the digest of data.
func CryptoHash(alg HashAlg, data []byte) []byte {
	return cryptoMust(CallBytes(hostCryptoHash, cryptoFrame([]byte(alg), data)))
}

// CryptoHMAC returns the HMAC of data under key.
func CryptoHMAC(alg HashAlg, key, data []byte) ([]byte, error) {
	return cryptoResult(CallBytes(hostCryptoHMAC,
		cryptoFrame([]byte(alg), []byte("raw"), key, data)))
}

// CryptoHMACNamed returns the HMAC of data under the secret the manifest
// grants as name; the secret itself never reaches the plugin.
func CryptoHMACNamed(alg HashAlg, name string, data []byte) ([]byte, error) {
	return cryptoResult(CallBytes(hostCryptoHMAC,
		cryptoFrame([]byte(alg), []byte("named"), []byte(name), data)))
}

// CryptoRandom returns n bytes (at most 65536) from the host's CSPRNG.
func CryptoRandom(n int) []byte {
	return cryptoMust(CallBytes(hostCryptoRandom,
		cryptoFrame(binary.LittleEndian.AppendUint64(nil, uint64(n)))))
}

// CryptoVerify reports whether signature is a valid alg signature of message
// (the JWS signing input) under key, given as kind.
func CryptoVerify(alg SigAlg, kind KeyKind, key string, message, signature []byte) (bool, error) {
	field, err := cryptoResult(CallBytes(hostCryptoVerify,
		cryptoFrame([]byte(alg), []byte(kind), []byte(key), message, signature)))
	if err != nil {
		return false, err
	}
	if len(field) != 1 {
		panic("wasmplug crypto: verify answered a field that is not 1 byte")
	}
	return field[0] == 1, nil
}

// CryptoSign returns the alg signature of message (the JWS signing input)
// under the private key the manifest grants as key (capabilities.crypto.keys);
// the key itself never reaches the plugin. ECDSA signatures are r || s. The
// error says why the host refused: the key is not granted, is a secret or a
// public key only, or does not fit alg.
func CryptoSign(alg SigAlg, key string, message []byte) ([]byte, error) {
	return cryptoResult(CallBytes(hostCryptoSign, cryptoFrame([]byte(alg), []byte(key), message)))
}

// CryptoPublicJWK returns the public half of the key the manifest grants as
// key, as a JWK (JSON text with kty and the public members only), for
// whoever verifies the plugin's signatures. An error when the key is not
// granted or is a secret.
func CryptoPublicJWK(key string) (string, error) {
	jwk, err := cryptoResult(CallBytes(hostCryptoPublicJWK, cryptoFrame([]byte(key))))
	return string(jwk), err
}

// CryptoEqual reports whether a and b are equal, compared by the host in
// time that does not depend on where they differ.
func CryptoEqual(a, b []byte) bool {
	field := cryptoMust(CallBytes(hostCryptoEqual, cryptoFrame(a, b)))
	return len(field) == 1 && field[0] == 1
}
