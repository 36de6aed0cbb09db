// Command callback is a wasmplug plugin in Go that calls back into its host.
//
// It exports callback (bytes ABI): it calls the embedder's bytes host
// function call_me(name) -> string, imported from module "plugin", with its
// input ("Nic" when the input is empty) and returns the answer unchanged.
//
// Build (in this directory):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o callback.wasm .
package main

import (
	"unsafe"

	"wasmplug.dev/pdk"
)

// callMe is the host function: bytes ABI import (ptr, len, retptr) -> ().
// Its signature must be exactly pdk.BytesImport's.
//
//go:wasmimport plugin call_me
func callMe(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmexport callback
func callback(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Callback) }

// Callback is the export's handler: bytes in and out.
func Callback(name []byte) ([]byte, error) {
	if len(name) == 0 {
		name = []byte("Nic")
	}
	return pdk.CallBytes(callMe, name), nil
}

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization, from _initialize.
func main() {}
