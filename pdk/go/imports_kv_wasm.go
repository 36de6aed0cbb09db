//go:build wasm

package pdk

import "unsafe"

// The keyvalue functions of module "wasmplug" (bytes ABI: ptr, len, retptr).

//go:wasmimport wasmplug kv_get
func importKVGet(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug kv_set
func importKVSet(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug kv_delete
func importKVDelete(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug kv_exists
func importKVExists(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug kv_keys
func importKVKeys(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug kv_increment
func importKVIncrement(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

//go:wasmimport wasmplug kv_cas
func importKVCAS(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)
