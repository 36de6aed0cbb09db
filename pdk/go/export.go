package pdk

import (
	"fmt"
	"unsafe"
)

// retArea is the return area of bytes exports: [out_ptr, out_len], 8 bytes,
// 4-aligned, at a fixed address. Exports run one at a time, so one suffices.
var retArea [2]uint32

// pending keeps the last export's output alive until the host has copied it
// out and called cabi_post_<name> (or until the next export call).
var pending []byte

// Handler computes a bytes export's output from its input. A non-nil error
// fails the call: its message goes to wasmplug.error and the output is
// dropped.
type Handler func(in []byte) ([]byte, error)

// Handle implements a bytes-ABI export (ptr, len) -> retptr around fn. Call
// it from a //go:wasmexport function and pair it with a cabi_post_<name>
// export that calls [Post]:
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, doGreet) }
//
//	//go:wasmexport cabi_post_greet
//	func greetPost(ret uint32) { pdk.Post(ret) }
//
// The input slice is an ordinary Go slice owned by fn (it may keep it). The
// returned slice is used as is, without a copy, so fn must not change it
// afterwards. A panic in fn is recovered and reported like an error.
func Handle(ptr, size uint32, fn Handler) uint32 {
	dropAllocsExcept(ptr)
	pending = nil
	in := take(ptr, size)
	out, err := run(fn, in)
	if err != nil {
		msg := err.Error()
		if msg == "" {
			msg = fmt.Sprintf("%T with an empty message", err)
		}
		hostError(msg)
		out = nil
	}
	if len(out) == 0 {
		// An empty output still needs an address inside memory: the return
		// area itself will do.
		retArea = [2]uint32{addr(unsafe.Pointer(&retArea)), 0}
	} else {
		pending = out
		retArea = [2]uint32{addr(unsafe.Pointer(unsafe.SliceData(out))), uint32(len(out))}
	}
	return addr(unsafe.Pointer(&retArea))
}

// run calls fn, turning a panic into an error.
func run(fn Handler, in []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(in)
}

// Post implements cabi_post_<name> for an export made with [Handle]: it
// releases the output once the host has copied it out.
func Post(ret uint32) {
	_ = ret // always &retArea
	pending = nil
	retArea = [2]uint32{}
}
