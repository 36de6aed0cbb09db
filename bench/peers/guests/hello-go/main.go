// Command hello is the Extism counterpart of examples/hello/go, for the
// cached-load row of `make bench-peers`: the same language, toolchain and
// build mode, so the two files are of one size class (2-3 MB).
//
// It exports greet: input "world" gives "Hello, world!". It talks to
// Extism's kernel ("extism:host/env") directly, as Extism's Go PDK does.
//
// Build (in this directory):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
package main

import "fmt"

//go:wasmimport extism:host/env input_length
func inputLength() uint64

//go:wasmimport extism:host/env input_load_u8
func inputLoadU8(offset uint64) uint32

//go:wasmimport extism:host/env alloc
func alloc(n uint64) uint64

//go:wasmimport extism:host/env store_u8
func storeU8(offset uint64, b uint32)

//go:wasmimport extism:host/env output_set
func outputSet(offset, n uint64)

//go:wasmexport greet
func greet() int32 {
	in := make([]byte, inputLength())
	for i := range in {
		in[i] = byte(inputLoadU8(uint64(i)))
	}
	out := fmt.Sprintf("Hello, %s!", in)
	offset := alloc(uint64(len(out)))
	for i := 0; i < len(out); i++ {
		storeU8(offset+uint64(i), uint32(out[i]))
	}
	outputSet(offset, uint64(len(out)))
	return 0
}

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization, from _initialize.
func main() {}
