package pdk

import (
	"runtime"
	"unsafe"
)

// BytesImport is the Go shape of a bytes host function's import, (ptr: i32,
// len: i32, retptr: i32) -> (). Go has no generic imports, so the plugin
// declares each one itself, with exactly this signature, and passes it to
// [CallBytes] or [CallString]:
//
//	//go:wasmimport plugin call_me
//	func callMe(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)
//
//	answer := pdk.CallString(callMe, "Nic")
type BytesImport func(ptr unsafe.Pointer, len uint32, retptr unsafe.Pointer)

// callRet is the 8-byte, 4-aligned return area for host function calls, at a
// fixed address the garbage collector never moves.
var callRet [2]uint32

// CallBytes calls a bytes host function with in and returns its output, an
// ordinary Go slice. If the host function fails, the plugin's whole call
// traps and CallBytes does not return.
func CallBytes(fn BytesImport, in []byte) []byte {
	callRet = [2]uint32{}
	var p unsafe.Pointer
	if len(in) > 0 {
		p = unsafe.Pointer(unsafe.SliceData(in))
	} else {
		p = unsafe.Pointer(&callRet) // empty input: any valid address
	}
	fn(p, uint32(len(in)), unsafe.Pointer(&callRet))
	runtime.KeepAlive(in)
	return take(callRet[0], callRet[1])
}

// CallString is [CallBytes] for strings.
func CallString(fn BytesImport, in string) string {
	return string(CallBytes(fn, []byte(in)))
}
