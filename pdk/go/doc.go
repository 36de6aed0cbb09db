// Package pdk is the plugin development kit for writing wasmplug plugins in
// Go (GOOS=wasip1 GOARCH=wasm, built as a WASI reactor with
// -buildmode=c-shared). It implements the guest side of the wasmplug core
// ABI (docs/abi.md in the wasmplug repository):
//
//   - it exports cabi_realloc, the allocator the host uses to place inputs
//     and host-function outputs in the plugin's memory (importing this
//     package is enough: //go:wasmexport works in any package);
//   - [Handle] implements a bytes-ABI export around a function of []byte or
//     string, and [Post] the optional cabi_post_<name>;
//   - [Log], [Logf], [ConfigGet] and [Error] wrap the host's wasmplug.log,
//     wasmplug.config_get and wasmplug.error imports;
//   - [CallBytes] and [CallString] call a bytes host function that the
//     plugin declares with //go:wasmimport.
//
// A complete plugin (main.go):
//
//	package main
//
//	import "wasmplug.dev/pdk"
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }
//
//	func Greet(name string) (string, error) {
//		pdk.Logf(pdk.LevelInfo, "greeting %s", name)
//		return "Hello, " + name + "!", nil
//	}
//
//	func main() {}
//
// built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o greet.wasm .
//
// # Memory
//
// Go's garbage collector does not know about pointers held by the host, so
// every buffer cabi_realloc hands out is kept in a table until the plugin
// takes it back: [Handle] takes the input, [CallBytes] the host function's
// output, [ConfigGet] the config value. From then on they are ordinary Go
// slices. The output of a bytes export is kept alive until [Post] (when the
// plugin exports cabi_post_<name>) or the next export call. Buffers the host allocated but never handed over (a
// failed call) are released at the start of the next [Handle].
//
// The pdk is not safe for concurrent use from several goroutines while a
// host call is in progress; wasm plugins are single-threaded and exports
// run one at a time.
package pdk
