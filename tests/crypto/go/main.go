// Command crypto is the Go twin of tests/crypto/guest_core.c: the same
// exports, inputs and outputs, through the Go PDK's crypto helpers
// (pdk/go/crypto.go), for tests/crypto/test_crypto.c.
package main

import (
	"encoding/binary"
	"errors"
	"strconv"

	"wasmplug.dev/pdk"
)

// fields splits the test's input: each a u32 little-endian length, then the bytes.
func fields(in []byte) [][]byte {
	var out [][]byte
	for len(in) >= 4 {
		n := binary.LittleEndian.Uint32(in)
		if uint64(n) > uint64(len(in)-4) {
			panic("field runs past the end")
		}
		out = append(out, in[4:4+n])
		in = in[4+n:]
	}
	return out
}

func boolText(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

//go:wasmexport hash
func hash(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) {
		f := fields(in)
		return pdk.CryptoHash(pdk.HashAlg(f[0]), f[1]), nil
	})
}

//go:wasmexport hmac
func hmac(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) {
		f := fields(in)
		var mac []byte
		var err error
		if string(f[1]) == "named" {
			mac, err = pdk.CryptoHMACNamed(pdk.HashAlg(f[0]), string(f[2]), f[3])
		} else {
			mac, err = pdk.CryptoHMAC(pdk.HashAlg(f[0]), f[2], f[3])
		}
		if err != nil {
			return nil, errors.New("hmac refused: " + err.Error())
		}
		return mac, nil
	})
}

//go:wasmexport random
func random(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in string) ([]byte, error) {
		n, err := strconv.Atoi(in)
		if err != nil {
			return nil, err
		}
		return pdk.CryptoRandom(n), nil
	})
}

//go:wasmexport verify
func verify(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) (string, error) {
		f := fields(in)
		ok, err := pdk.CryptoVerify(pdk.SigAlg(f[0]), pdk.KeyKind(f[1]), string(f[2]), f[3], f[4])
		if err != nil {
			return "", errors.New("verify refused: " + err.Error())
		}
		return boolText(ok), nil
	})
}

//go:wasmexport sign
func sign(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) ([]byte, error) {
		f := fields(in)
		sig, err := pdk.CryptoSign(pdk.SigAlg(f[0]), string(f[1]), f[2])
		if err != nil {
			return nil, errors.New("sign refused: " + err.Error())
		}
		return sig, nil
	})
}

//go:wasmexport public_key
func publicKey(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in string) (string, error) {
		jwk, err := pdk.CryptoPublicJWK(in)
		if err != nil {
			return "", errors.New("public-key refused: " + err.Error())
		}
		return jwk, nil
	})
}

//go:wasmexport equal
func equal(ptr, size uint32) uint32 {
	return pdk.Handle(ptr, size, func(in []byte) (string, error) {
		f := fields(in)
		return boolText(pdk.CryptoEqual(f[0], f[1])), nil
	})
}

func main() {}
