// Command {{name}} is a wasmplug plugin in Go: a core module using the bytes ABI.
//
// It exports greet: input "world" gives "Hello, world!". The manifest's config
// key "greeting" replaces "Hello" (wasmplug call ... --config greeting=Howdy).
package main

import "wasmplug.dev/pdk"

func greet(name []byte) ([]byte, error) {
	greeting, ok := pdk.ConfigGet("greeting")
	if !ok {
		greeting = "Hello"
	}
	return []byte(greeting + ", " + string(name) + "!"), nil
}

//go:wasmexport greet
func greetExport(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, greet) }

//go:wasmexport cabi_post_greet
func greetPost(ret uint32) { pdk.Post(ret) }

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization.
func main() {}
