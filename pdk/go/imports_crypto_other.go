//go:build !wasm

package pdk

import "unsafe"

// Stand-ins for the crypto imports off wasm (see imports_other.go).

func hostCryptoHash(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)      { panic(notWasm) }
func hostCryptoHMAC(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)      { panic(notWasm) }
func hostCryptoRandom(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)    { panic(notWasm) }
func hostCryptoVerify(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)    { panic(notWasm) }
func hostCryptoSign(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)      { panic(notWasm) }
func hostCryptoPublicJWK(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer) { panic(notWasm) }
func hostCryptoEqual(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)     { panic(notWasm) }
