//go:build !wasm

package pdk

import "unsafe"

// Stand-ins for the keyvalue imports off wasm (see imports_other.go).

func importKVGet(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)       { panic(notWasm) }
func importKVSet(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)       { panic(notWasm) }
func importKVDelete(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)    { panic(notWasm) }
func importKVExists(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)    { panic(notWasm) }
func importKVKeys(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)      { panic(notWasm) }
func importKVIncrement(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer) { panic(notWasm) }
func importKVCAS(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)       { panic(notWasm) }
