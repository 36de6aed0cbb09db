//go:build wasm

package pdk

// The imports of module "wasmplug" (docs/abi.md). A string parameter of a
// go:wasmimport function is lowered to (ptr: i32, len: i32).

//go:wasmimport wasmplug log
func hostLog(level int32, msg string)

//go:wasmimport wasmplug config_get
func hostConfigGet(key string, retptr *[3]uint32)

//go:wasmimport wasmplug error
func hostError(msg string)
