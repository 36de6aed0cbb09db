//go:build wasm

package pdk

import "unsafe"

// The crypto capability's imports of module "wasmplug" (docs/capabilities.md),
// bytes ABI functions with framed inputs and outputs; see crypto.go.

//go:wasmimport wasmplug crypto_hash
func hostCryptoHash(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug crypto_hmac
func hostCryptoHMAC(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug crypto_random
func hostCryptoRandom(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug crypto_verify
func hostCryptoVerify(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug crypto_sign
func hostCryptoSign(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug crypto_public_jwk
func hostCryptoPublicJWK(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug crypto_equal
func hostCryptoEqual(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)
