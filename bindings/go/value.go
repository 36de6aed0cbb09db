package wasmplug

/*
#include "wpgo.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// ValKind is the type of a numeric WebAssembly value.
type ValKind int32

// The numeric types.
const (
	I32 ValKind = C.WP_I32
	I64 ValKind = C.WP_I64
	F32 ValKind = C.WP_F32
	F64 ValKind = C.WP_F64
)

// String is "i32", "i64", "f32" or "f64".
func (k ValKind) String() string {
	switch k {
	case I32, I64, F32, F64:
		return C.GoString(C.wp_valkind_name(C.wp_valkind(k)))
	}
	return fmt.Sprintf("valkind(%d)", int32(k))
}

// Value is a numeric WebAssembly value with its type, as core-module calls
// and numeric host functions pass them. Its layout is libwasmplug's wp_val,
// so slices of Values go to C without copying.
type Value struct {
	kind ValKind
	_    int32
	bits uint64
}

func init() {
	if unsafe.Sizeof(Value{}) != C.sizeof_wp_val {
		panic("wasmplug: Value does not match wp_val")
	}
}

// ValueI32 makes an i32.
func ValueI32(v int32) Value { return Value{kind: I32, bits: uint64(uint32(v))} }

// ValueI64 makes an i64.
func ValueI64(v int64) Value { return Value{kind: I64, bits: uint64(v)} }

// ValueF32 makes an f32.
func ValueF32(v float32) Value { return Value{kind: F32, bits: uint64(math.Float32bits(v))} }

// ValueF64 makes an f64.
func ValueF64(v float64) Value { return Value{kind: F64, bits: math.Float64bits(v)} }

// Kind is the value's type.
func (v Value) Kind() ValKind { return v.kind }

// I32 is the value as an i32 (0 for other kinds).
func (v Value) I32() int32 {
	if v.kind != I32 {
		return 0
	}
	return int32(uint32(v.bits))
}

// I64 is the value as an i64 (0 for other kinds).
func (v Value) I64() int64 {
	if v.kind != I64 {
		return 0
	}
	return int64(v.bits)
}

// F32 is the value as an f32 (0 for other kinds).
func (v Value) F32() float32 {
	if v.kind != F32 {
		return 0
	}
	return math.Float32frombits(uint32(v.bits))
}

// F64 is the value as an f64 (0 for other kinds).
func (v Value) F64() float64 {
	if v.kind != F64 {
		return 0
	}
	return math.Float64frombits(v.bits)
}

// Any is the value as a Go int32, int64, float32 or float64.
func (v Value) Any() any {
	switch v.kind {
	case I32:
		return v.I32()
	case I64:
		return v.I64()
	case F32:
		return v.F32()
	case F64:
		return v.F64()
	}
	return nil
}

func (v Value) String() string { return fmt.Sprintf("%v:%s", v.Any(), v.kind) }
