package pdk

import "unsafe"

// allocs holds every buffer handed out by cabi_realloc that the plugin has not
// taken back yet, keyed by its address in linear memory. It keeps them alive
// against the garbage collector while only the host knows about them.
var allocs = map[uint32][]byte{}

// addr is the 32-bit linear-memory address of p (pointers fit in 32 bits on
// wasm; Go's uintptr is 64 bits wide there).
func addr(p unsafe.Pointer) uint32 { return uint32(uintptr(p)) }

// raw views n bytes of linear memory at address a that Go did not allocate.
func raw(a, n uint32) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(a))), n)
}

// alloc returns a zeroed buffer of size bytes (size 0 still gets a distinct,
// valid address) whose address is a multiple of align, and records it.
func alloc(size, align uint32) (uint32, []byte) {
	if align == 0 {
		align = 1
	}
	// Over-allocate so an aligned start always fits; a slice that points into
	// the middle of the array keeps the whole array alive.
	buf := make([]byte, uint64(size)+uint64(align))
	base := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	off := (uintptr(align) - base%uintptr(align)) % uintptr(align)
	data := buf[off : off+uintptr(size) : off+uintptr(size)]
	a := addr(unsafe.Pointer(unsafe.SliceData(buf[off:])))
	allocs[a] = data
	return a, data
}

// cabiRealloc is the canonical ABI allocator (see docs/abi.md): the host calls
// it as cabi_realloc(0, 0, 1, len) to place inputs and host-function outputs.
// It returns a fresh buffer (copying min(oldLen, newLen) bytes from oldPtr
// when reallocating) that stays alive until the plugin takes it back.
// Running out of memory makes the Go runtime abort, which the host sees as a
// trap, as the canonical ABI requires.
//
// The go:wasmexport directive works in any package, so importing pdk is all
// a plugin needs to export cabi_realloc; a plugin must not declare its own cabi_realloc (the link fails with
// "duplicated definition of symbol cabi_realloc").
//
//go:wasmexport cabi_realloc
func cabiRealloc(oldPtr, oldLen, align, newLen uint32) uint32 {
	a, data := alloc(newLen, align)
	if oldPtr != 0 {
		old, ok := allocs[oldPtr]
		if !ok {
			old = raw(oldPtr, oldLen)
		}
		copy(data, old[:min(uint32(len(old)), oldLen)])
		delete(allocs, oldPtr)
	}
	return a
}

// take hands the n-byte buffer at address a, which the host allocated with
// cabi_realloc, over to ordinary Go ownership. A buffer the pdk did not
// allocate (which the ABI does not allow) is copied out instead.
func take(a, n uint32) []byte {
	if data, ok := allocs[a]; ok {
		delete(allocs, a)
		if n > uint32(len(data)) { // the host claims more than it allocated
			n = uint32(len(data))
		}
		return data[:n:n]
	}
	if n == 0 {
		return []byte{}
	}
	return append([]byte(nil), raw(a, n)...)
}

// dropAllocsExcept forgets every recorded buffer except the one at keep: at
// the start of an export call nothing but its input can legitimately be
// outstanding, so anything else was orphaned by an earlier failed call.
func dropAllocsExcept(keep uint32) {
	if len(allocs) <= 1 {
		return
	}
	for a := range allocs {
		if a != keep {
			delete(allocs, a)
		}
	}
}
