// Command hello is the smallest useful wasmplug plugin in Go.
//
// It exports greet (bytes ABI): input "world" gives "Hello, world!". The
// manifest's config key "greeting" replaces "Hello" (greeting=Howdy gives
// "Howdy, world!"). It logs "greeting <input>" at info level.
//
// Build (in this directory):
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o hello.wasm .
package main

import "wasmplug.dev/pdk"

//go:wasmexport greet
func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }

// Greet is the export's handler: strings in and out (pdk.Handle converts).
func Greet(name string) (string, error) {
	pdk.Logf(pdk.LevelInfo, "greeting %s", name)
	greeting, ok := pdk.ConfigGet("greeting")
	if !ok {
		greeting = "Hello"
	}
	return greeting + ", " + name + "!", nil
}

// main is required but never runs: a c-shared (reactor) build only runs
// package initialization, from _initialize.
func main() {}
