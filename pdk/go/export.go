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
// dropped. [Handle] takes a Handler, or the same shape with strings.
type Handler func(in []byte) ([]byte, error)

// Data is what an export's input and output may be: []byte (no copy) or
// string (one copy), or a type defined on either.
type Data interface{ ~[]byte | ~string }

// Handle implements a bytes-ABI export (ptr, len) -> retptr around fn, so
// one //go:wasmexport function per export is all the glue a plugin needs:
//
//	//go:wasmexport greet
//	func greet(ptr, size uint32) uint32 { return pdk.Handle(ptr, size, Greet) }
//
//	func Greet(name string) (string, error) { return "Hello, " + name + "!", nil }
//
// fn takes and returns []byte or string, in any combination. A []byte input
// is an ordinary Go slice owned by fn (it may keep it); a returned []byte is
// used as is, without a copy, so fn must not change it afterwards. A non-nil
// error, or a panic in fn, fails the call with its message (the caller gets
// WP_ERR_PLUGIN).
//
// The output stays referenced until the next export call. A cabi_post_<name>
// export calling [Post] releases it as soon as the host has copied it; it is
// optional (docs/abi.md), worth adding only for large outputs on long-lived
// instances:
//
//	//go:wasmexport cabi_post_greet
//	func greetPost(ret uint32) { pdk.Post(ret) }
func Handle[In, Out Data](ptr, size uint32, fn func(In) (Out, error)) uint32 {
	dropAllocsExcept(ptr)
	pending = nil
	in := take(ptr, size)
	out, err := run(fn, in)
	if err != nil {
		hostError(errorMessage(err))
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

// run calls fn on in, converting the input and output between []byte and
// fn's types, and turns a panic into an error.
func run[In, Out Data](fn func(In) (Out, error), in []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	res, err := fn(In(in))
	if err != nil {
		return nil, err
	}
	return []byte(res), nil
}

// errorMessage is the text wasmplug.error gets for err, never empty.
func errorMessage(err error) string {
	if msg := err.Error(); msg != "" {
		return msg
	}
	return fmt.Sprintf("%T with an empty message", err)
}

// Post implements the optional cabi_post_<name> for an export made with
// [Handle]: it releases the output once the host has copied it out, rather
// than at the next export call.
func Post(ret uint32) {
	_ = ret // always &retArea
	pending = nil
	retArea = [2]uint32{}
}
